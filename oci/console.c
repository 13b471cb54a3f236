/* runc's --console-socket (oci/runtime.h). */
#include "oci/runtime.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"

/* runc's console socket: the pty master, with its name as the message. */
int oci_console_connect(const char *path, usbox_err_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path)
    return usbox_err_set(err, ENAMETOOLONG, "console socket %s", path);
  strcpy(addr.sun_path, path);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    usbox_err_set(err, errno, "connecting to the console socket %s", path);
    if (sock >= 0)
      close(sock);
    return -1;
  }
  return sock;
}

int oci_console_send(int sock, int master, const char *path, usbox_err_t *err)
{
  char name[] = "/dev/ptmx";
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name - 1};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, master);
  if (fdpass_sendmsg(sock, &hdr) < 0)
    return usbox_err_set(err, errno, "sending the terminal to %s", path);
  return 0;
}

int oci_send_console(const char *path, int master, usbox_err_t *err)
{
  cleanup_close int sock = oci_console_connect(path, err);
  return sock < 0 ? -1 : oci_console_send(sock, master, path, err);
}
