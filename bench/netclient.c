/* bench/netcheck's client: connect to HOST:PORT (resolved by the sandbox's
 * resolver), send an HTTP/1 request naming HOST, read until the server
 * closes; print the bytes read and the milliseconds from connect to the
 * last byte. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: netclient HOST PORT\n");
    return 2;
  }
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
  if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
    fprintf(stderr, "netclient: %s does not resolve\n", argv[1]);
    return 1;
  }
  int s = socket(ai->ai_family, SOCK_STREAM, 0);
  double t0 = now_ms();
  if (s < 0 || connect(s, ai->ai_addr, ai->ai_addrlen) < 0) {
    perror("netclient: connect");
    return 1;
  }
  char req[512];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", argv[1]);
  if (write(s, req, (size_t)n) != n) {
    perror("netclient: write");
    return 1;
  }
  static char buf[1 << 20];
  long long total = 0;
  for (;;) {
    ssize_t got = read(s, buf, sizeof buf);
    if (got < 0) {
      perror("netclient: read");
      return 1;
    }
    if (got == 0)
      break;
    total += got;
  }
  printf("%lld %.3f\n", total, now_ms() - t0);
  return 0;
}
