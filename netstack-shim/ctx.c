#include "netstack-shim/ctx.h"

#include <stdarg.h>
#include <stdio.h>

int net_deputy_enter(struct net_ctx *ctx, unsigned flags, uint64_t vouched_caps)
{
  struct net_caller me;
  int r = ctx->ops->identify(ctx, &me);
  if (r < 0)
    return r;
  me.creds.cap_eff |= vouched_caps;
  return deputy_enter(&me.creds, flags);
}

void net_note_dest(struct net_ctx *ctx, const char *fmt, ...)
{
  char text[NET_NOTE_DEST_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  ctx->ops->note(ctx, NET_NOTE_DEST, text);
}

void net_note_rule(struct net_ctx *ctx, const char *fmt, ...)
{
  char text[NET_NOTE_RULE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  ctx->ops->note(ctx, NET_NOTE_RULE, text);
}
