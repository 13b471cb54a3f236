/* firstinsn: print CLOCK_REALTIME in ns as the first thing main() does.
 * Built static (bench/CMakeLists.txt), so what runs before main is the
 * kernel's exec and a few microseconds of libc start-up, no dynamic loader.
 * timeit --ttfi compares it with the time it launched the sandbox: the time
 * to first instruction. CLOCK_REALTIME because gVisor's CLOCK_MONOTONIC
 * starts at its own boot, while its CLOCK_REALTIME is the host's.
 *
 *   firstinsn          print the timestamp and exit
 *   firstinsn --hold   print it, then wait for end of file on stdin (so the
 *                      caller can look at the sandbox's memory meanwhile)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char line[64];
  int n = snprintf(line, sizeof line, "%lld\n",
                   (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec);
  if (write(1, line, (size_t)n) != n)
    return 1;
  if (argc > 1 && strcmp(argv[1], "--hold") == 0) {
    char buf[256];
    while (read(0, buf, sizeof buf) > 0)
      ;
  }
  return 0;
}
