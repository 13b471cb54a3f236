#!/usr/bin/python3
"""userns_run.py UIDBASE COUNT -- PROGRAM ARGS...: PROGRAM natively as root of
a new user namespace mapping ids 0..COUNT-1 to UIDBASE.. (uids and gids),
with every capability there: the kernel's own answer for what a container
with those maps may do (test_oci.sh compares usbox's with it). Run as root."""
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000


def main():
    base, count = int(sys.argv[1]), int(sys.argv[2])
    argv = sys.argv[4:] if sys.argv[3] == "--" else sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    moved_r, moved_w = os.pipe()
    mapped_r, mapped_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        if libc.unshare(CLONE_NEWUSER) != 0:
            os._exit(125)
        os.write(moved_w, b"m")
        if os.read(mapped_r, 1) != b"k":
            os._exit(125)
        os.setgroups([])
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        os.execvp(argv[0], argv)
    if os.read(moved_r, 1) != b"m":
        sys.exit(125)
    for f in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{f}", "w") as m:
            m.write(f"0 {base} {count}\n")
    os.write(mapped_w, b"k")
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
