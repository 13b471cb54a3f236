#include "netstack-shim/ctx.h"

#include <stdarg.h>
#include <stdio.h>

int net_deputy_enter(struct net_ctx *ctx, unsigned flags, uint64_t vouched_caps,
                     bool writable_place)
{
  struct net_caller me;
  int r = ctx->ops->identify(ctx, &me);
  if (r < 0)
    return r;
  deputy_scope(&me.creds, writable_place, true);
  me.creds.cap_eff |= vouched_caps;
  return deputy_enter(&me.creds, flags);
}

__attribute__((format(printf, 3, 0))) static void note(struct net_ctx *ctx, enum net_note what,
                                                      const char *fmt, va_list ap)
{
  char text[NET_NOTE_RULE_MAX > NET_NOTE_DEST_MAX ? NET_NOTE_RULE_MAX : NET_NOTE_DEST_MAX];
  vsnprintf(text, what == NET_NOTE_DEST ? NET_NOTE_DEST_MAX : NET_NOTE_RULE_MAX, fmt, ap);
  ctx->ops->note(ctx, what, text);
}

void net_note_dest(struct net_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note(ctx, NET_NOTE_DEST, fmt, ap);
  va_end(ap);
}

void net_note_rule(struct net_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note(ctx, NET_NOTE_RULE, fmt, ap);
  va_end(ap);
}

void net_note_refusal(struct net_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note(ctx, NET_NOTE_REFUSAL, fmt, ap);
  va_end(ap);
}
