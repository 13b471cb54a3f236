# What relative names resolve against after each way a working directory
# can move or change name (tests/integration/test_cwd.sh): chdir, fchdir,
# another thread's chdir, a child's, renames by the program and by another
# process (the test script, through $BASE/ready and $BASE/moved), removal,
# and threads racing chdir against lookups. Prints one ok/FAIL line each.
import os, sys, threading, time, subprocess
base = sys.argv[1]
def ok(c, msg):
    print(("ok   " if c else "FAIL ") + msg)
os.makedirs(f"{base}/a/sub", exist_ok=True); os.makedirs(f"{base}/b", exist_ok=True)
open(f"{base}/a/sub/fa","w").close(); open(f"{base}/b/fb","w").close()
os.chdir(f"{base}/a/sub"); ok(os.path.exists("fa"), "chdir then relative")
os.chdir(f"{base}/b"); ok(os.path.exists("fb") and not os.path.exists("fa"), "chdir again")
fd = os.open(f"{base}/a/sub", os.O_RDONLY)
os.fchdir(fd); ok(os.path.exists("fa") and not os.path.exists("fb"), "fchdir then relative")
# threads: thread chdirs, main then uses relative
def t(): os.chdir(f"{base}/b")
th = threading.Thread(target=t); th.start(); th.join()
ok(os.path.exists("fb") and not os.path.exists("fa"), "another thread's chdir")
# rename the cwd's parent (agent)
os.chdir(f"{base}/a/sub"); os.path.exists("fa")
os.rename(f"{base}/a", f"{base}/a2"); ok(os.path.exists("fa"), "cwd's parent renamed by the agent: relative still works")
ok(os.getcwd() == f"{base}/a2/sub", "getcwd after rename: the new name")
os.rename(f"{base}/a2", f"{base}/a")
# host rename, via a helper signalled through a file: done by the outer script
os.chdir(f"{base}/a/sub"); os.path.exists("fa")
open(f"{base}/ready","w").close()
while not os.path.exists(f"{base}/moved"): time.sleep(0.01)
ok(os.path.exists("fa"), "cwd's parent renamed on the host: relative still works")
os.makedirs(f"{base}/a/sub", exist_ok=True)  # a new directory where the old name was
ok(os.path.exists("fa"), "new directory at the old name: relative still the cwd")
# rmdir the cwd
os.makedirs(f"{base}/gone"); os.chdir(f"{base}/gone"); os.path.exists("x"); os.rmdir(f"{base}/gone")
try:
    open("newfile","w"); ok(False, "create in removed cwd")
except FileNotFoundError: ok(True, "create in removed cwd: ENOENT")
os.chdir(base)
# fork child chdir does not move the parent
pid = os.fork()
if pid == 0:
    os.chdir(f"{base}/b"); os.path.exists("fb"); os._exit(0)
os.waitpid(pid, 0)
ok(os.path.exists("a") and os.path.exists("b"), "child's chdir leaves the parent")
# many threads race chdir vs relative lookups
stop = False; bad = []
def chd():
    for i in range(300):
        os.chdir(f"{base}/a/sub" if i % 2 else f"{base}/b")
def look():
    while not stop:
        a, b = os.path.exists("fa"), os.path.exists("fb")
        if a and b: bad.append(1)
ths=[threading.Thread(target=chd)]+[threading.Thread(target=look) for _ in range(2)]
for x in ths[1:]: x.start()
ths[0].start(); ths[0].join(); stop=True
for x in ths[1:]: x.join()
os.chdir(f"{base}/b"); ok(os.path.exists("fb") and not os.path.exists("fa"), "after racing chdirs, relative follows the last chdir")
