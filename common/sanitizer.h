/* Whether this build runs under AddressSanitizer (gcc's macro, clang's
 * feature test): USBOX_UNDER_ASAN is 1 or 0. Where usbox behaves
 * differently for it: vfork becomes fork (its interceptor allocates in
 * the child, sentry/launch.c's run_init), and tear-down still frees
 * memory (common/log.h). */
#ifndef USBOX_COMMON_SANITIZER_H
#define USBOX_COMMON_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define USBOX_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USBOX_UNDER_ASAN 1
#endif
#endif
#ifndef USBOX_UNDER_ASAN
#define USBOX_UNDER_ASAN 0
#endif

#endif
