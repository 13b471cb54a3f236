#!/usr/bin/env python3
"""A stand-in for an AI agent: it looks around the project, runs a tool,
writes a report and tries a few things an injected prompt might ask for.
Run it under usbox to see what the sandbox lets through (docs/cli.md)."""
import os
import subprocess
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
files = sorted(p for p in os.listdir(root) if not p.startswith("."))
print(f"agent: {len(files)} entries in {os.path.abspath(root)}")
out = subprocess.run(["git", "-C", root, "log", "--oneline", "-3"], capture_output=True, text=True)
print("agent: last commits:", out.stdout.strip().replace("\n", " | ") or "(not a git tree)")
report = os.path.join(os.environ.get("TMPDIR", "/tmp"), "agent-report.txt")
with open(report, "w") as f:
    f.write("\n".join(files) + "\n")
print(f"agent: wrote {report}")
for attempt, call in [("ptrace", 101), ("bpf", 321), ("io_uring_setup", 425)]:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(call, 0, 0, 0, 0)
    print(f"agent: {attempt} -> {'denied: ' + os.strerror(ctypes.get_errno()) if r < 0 else 'allowed'}")
