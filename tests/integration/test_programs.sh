#!/usr/bin/env bash
# Real programs under usbox give the same stdout, stderr and exit status as
# native runs: sh/bash, coreutils, python3, git, gcc, make, tar, node.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- shells

SH_SCRIPT='
i=0
while [ $i -lt 30 ]; do echo "line $i" >>lines; i=$((i + 1)); done
wc -l <lines
cat lines | grep 2 | sort -r | head -n 3
(cd / && pwd; echo in-subshell) ; pwd
mkdir -p sub/dir && cd sub/dir && pwd && cd ../.. && pwd
echo "count: $(ls | wc -l) files: $(ls)"
cat <<EOF >here.txt
here-doc $((6 * 7)) $(echo nested)
EOF
cat here.txt
exec 3>fd3.txt; echo via-fd3 >&3; exec 3>&-; cat fd3.txt
{ echo out; echo err >&2; } >both.txt 2>&1; cat both.txt
cat nosuch 2>err.txt; echo "cat status $?"; cat err.txt
for f in *.txt; do printf "%s " "$f"; done; echo
case $(uname -s) in Linux) echo linux ;; *) echo other ;; esac
rm -f lines && test ! -e lines && echo removed
false || echo "false status $?"
exit 4'

same_as_native "sh: loops, pipes, redirections, subshells, here-doc, cd" -- sh -c "$SH_SCRIPT"
same_as_native "bash: same script" -- bash -c "$SH_SCRIPT"

same_as_native "bash: process substitution (/dev/fd/63)" -- bash -c '
diff <(echo a) <(echo a) && echo same
diff <(printf "a\nb\n") <(printf "a\nc\n"); echo "diff status $?"
while read -r l; do echo "got $l"; done < <(seq 3)
cat <(echo one) <(echo two)
echo hello > >(tr a-z A-Z > upper.txt); sleep 0.2; cat upper.txt
ls -l /dev/fd/ >/dev/null && echo fd-dir-ok'

same_as_native "bash: functions, arrays, globs, traps" -- bash -c '
set -e
f() { local x=$1; echo "f:$x:${#x}"; return 0; }
a=(x "y z" w); for e in "${a[@]}"; do f "$e"; done
touch a.c b.c c.h; echo *.c; shopt -s nullglob; echo none: *.zz
trap "echo exiting" EXIT
mkdir t && cd t && touch 1 2 3 && echo ${PWD##*/} $(ls | tr "\n" ,)
'

# ---------------------------------------------------------------- coreutils

make_tree() {
  mkdir -p tree/a/b/c tree/empty
  printf 'hello\n' >tree/a/hello.txt
  seq 1 1000 >tree/a/b/numbers
  head -c 10000 /dev/zero >tree/a/b/c/zeros
  ln -s ../a/hello.txt tree/empty/link
  chmod 640 tree/a/hello.txt
  chmod 750 tree/a/b
  find tree -exec touch -h -d '2021-03-04 05:06:07' {} +
}

same_as_native "coreutils: ls -la of a created tree" --setup make_tree -- bash -c '
ls -laR --time-style=+ tree | grep -v "^total"'

same_as_native "coreutils: cp -a, mv, rm -r" --setup make_tree -- bash -c '
cp -a tree copy && diff -r tree copy && echo copied
stat -c "%n %a %s %Y %F" $(find copy | sort)
mv copy/a/hello.txt copy/moved.txt && ls copy copy/a
mv copy copy2 && test ! -e copy && echo renamed-dir
cp tree/a/b/numbers n1 && cmp n1 tree/a/b/numbers && echo cmp-ok
cp tree/a/hello.txt tree/empty && mv n1 tree/empty && ls tree/empty
mkdir -p into && cp -r tree/a into && mv tree/empty into && ls into
rm -r copy2 && test ! -e copy2 && echo removed
rm tree/a/b/c/zeros tree/a/b/nosuch; echo "rm status $?"
rmdir tree/a; echo "rmdir status $?"'

same_as_native "coreutils: ln -s, readlink -f, realpath" --setup make_tree -- bash -c '
ln -s tree/a/b lnk && ln -s lnk lnk2 && ln -s /nonexistent/x dangling
readlink lnk2; readlink -f lnk2/numbers; realpath lnk2/../hello.txt
realpath -s lnk2/../x; readlink -e dangling; echo "readlink -e status $?"
ln tree/a/b/numbers hard && stat -c "%h %s" hard tree/a/b/numbers
ln -s x lnk; echo "ln over existing: $?"
ln -sf tree lnk3 && ls lnk3/ && cat lnk3/empty/link'

# (setuid and setgid bits on the host's files: test_deputy.sh)
same_as_native "coreutils: chmod, stat -c, touch -d, mkdir -p" -- bash -c '
umask 022
mkdir -p x/y/z && stat -c "%n %a %F" x x/y x/y/z
mkdir -m 700 priv && stat -c "%a" priv
touch f && chmod 1751 f && stat -c "%a %A" f
chmod u-s,g+w,o= f && stat -c "%a %A" f
chmod -R go-rwx x && stat -c "%a" x/y/z
touch -d "2001-02-03 04:05:06.789" f && stat -c "%y %Y" f
touch -m -d @1000000000 f && stat -c "%Y" f
touch -r f g && stat -c "%Y" g
umask 077; touch h; stat -c "%a" h
mkdir x; echo "mkdir existing: $?"'

same_as_native "coreutils: find, sort, wc, du, cat, head, tee" --setup make_tree -- bash -c '
find tree | sort
find tree -type f -name "*.txt" | sort
find tree -type l -printf "%p -> %l\n"
find tree -newer tree/a/hello.txt | wc -l
sort -n -r tree/a/b/numbers | head -n 5
sort -u <(seq 5; seq 3) | tr "\n" " "; echo
wc tree/a/b/numbers tree/a/hello.txt
du -s --apparent-size -b tree/a/b/numbers tree/a/b/c/zeros
du -s tree >/dev/null && echo du-ok
cat tree/a/hello.txt tree/a/hello.txt | tee out1 out2 | wc -c
cmp out1 out2 && cat out1
head -c 100 tree/a/b/numbers | tail -n 2'

same_as_native "coreutils: mktemp, truncate, df" -- bash -c '
f=$(mktemp -p .) && test -f "$f" && stat -c "%a %s" "$f"
d=$(mktemp -d -p . dXXXX) && test -d "$d" && stat -c "%a" "$d"
t=$(mktemp) && case $t in /tmp/*) echo in-tmp;; esac && rm "$t"
truncate -s 1M big && stat -c %s big
truncate -s -1000 big && stat -c %s big
truncate -s 0 big && stat -c %s big
df --output=source,fstype,size,target / | cat
df / >/dev/null && echo df-ok'

# ---------------------------------------------------------------- python3

py_files() {
  cat >threads.py <<'EOF'
import os, threading, hashlib
results = {}
def work(n):
    d = "t%02d" % n
    os.mkdir(d)
    total = 0
    for i in range(50):
        p = os.path.join(d, "f%d" % i)
        with open(p, "w") as f:
            f.write("%d-%d\n" % (n, i) * (i + 1))
        st = os.stat(p)
        with open(p) as f:
            total += len(f.read())
        assert st.st_size == len("%d-%d\n" % (n, i)) * (i + 1)
        if i % 2:
            os.rename(p, p + ".odd")
    results[n] = (total, len(os.listdir(d)))
ts = [threading.Thread(target=work, args=(n,)) for n in range(8)]
for t in ts: t.start()
for t in ts: t.join()
for n in sorted(results): print(n, *results[n])
EOF
  cat >sub.py <<'EOF'
import subprocess, sys
print(subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"],
                     capture_output=True, text=True))
print(subprocess.check_output(["ls", "-1", "."], text=True).split())
p = subprocess.Popen(["tr", "a-z", "A-Z"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print(p.communicate(b"piped text")[0], p.returncode)
print(subprocess.call([sys.executable, "-c", "import sys; sys.exit(9)"]))
try:
    subprocess.run(["/nonexistent/prog"])
except FileNotFoundError as e:
    print("FileNotFoundError", e.errno)
EOF
  cat >db.py <<'EOF'
import sqlite3, os
for mode in ("delete", "wal"):
    name = "test-%s.db" % mode
    con = sqlite3.connect(name)
    con.execute("pragma journal_mode=%s" % mode)
    con.execute("create table t (id integer primary key, name text, v real)")
    with con:
        con.executemany("insert into t (name, v) values (?, ?)",
                        [("n%d" % i, i * 0.5) for i in range(2000)])
    con.execute("create index ix on t(name)")
    con.commit()
    con.close()
    con = sqlite3.connect(name)
    print(mode, con.execute("select count(*), sum(v), max(name) from t").fetchone())
    print(con.execute("select id from t where name = 'n1234'").fetchall())
    print(con.execute("pragma integrity_check").fetchone())
    con.close()
    print(os.path.getsize(name) > 0)
EOF
  cat >misc.py <<'EOF'
import os, json, tempfile
with tempfile.NamedTemporaryFile("w", dir=".", delete=False) as f:
    f.write("tmp")
    name = f.name
print(open(name).read(), oct(os.stat(name).st_mode & 0o777))
os.unlink(name)
with tempfile.TemporaryDirectory() as d:
    open(os.path.join(d, "x"), "w").close()
    print(os.listdir(d), d.startswith(tempfile.gettempdir()))
print(os.path.exists(d))
for p in ("w/a/b", "w/a/c", "w/d"):
    os.makedirs(p)
    open(os.path.join(p, "file"), "w").write(p)
os.symlink("a", "w/link")
for root, dirs, files in sorted(os.walk("w")):
    dirs.sort()
    print(root, sorted(dirs), sorted(files))
data = {"list": [1, 2.5, None, True], "text": "h\u00e9llo", "nested": {"k": "v"}}
json.dump(data, open("data.json", "w"), sort_keys=True)
print(json.load(open("data.json")) == data, open("data.json").read())
print(os.getcwd() == os.environ["SCRATCH"], os.path.realpath("w/link"))
EOF
  cat >fail.py <<'EOF'
import sys
def inner():
    raise ValueError("deliberate failure")
print("before", flush=True)
print("to stderr", file=sys.stderr)
inner()
EOF
}

same_as_native "python3: threads doing file I/O in parallel" --setup py_files -- python3 threads.py
same_as_native "python3: subprocess" --setup py_files -- python3 sub.py
same_as_native "python3: sqlite3 in a file" --setup py_files -- python3 db.py
same_as_native "python3: tempfile, os.walk, json" --setup py_files -- python3 misc.py
same_as_native "python3: failing script (status, traceback)" --setup py_files -- python3 fail.py
same_as_native "python3: O_PATH fds" -- python3 -c '
import os, stat
os.mkdir("d")
fd = os.open("d", os.O_PATH | os.O_DIRECTORY)
print(stat.S_ISDIR(os.fstat(fd).st_mode), os.readlink("/proc/self/fd/%d" % fd).endswith("/d"))
os.chmod("/proc/self/fd/%d" % fd, 0o700)
print(oct(os.stat("d").st_mode & 0o777))
open("d/f", "w").close()
print(os.listdir("/proc/self/fd/%d" % fd))
os.chmod("d", 0o755, follow_symlinks=False)  # glibc: O_PATH + /proc/self/fd
print(oct(os.stat("d").st_mode & 0o777))'
# The kernel cannot inject O_PATH files (SECCOMP_IOCTL_NOTIF_ADDFD takes them
# with fget, which refuses them), so usbox hands out a read-only fd of the
# object instead; a symlink itself cannot be handed out that way and gets
# EOPNOTSUPP (docs/architecture.md, "Known differences").
expect_exit 0 "O_PATH|O_NOFOLLOW of a symlink is EOPNOTSUPP in the sandbox" -- \
  "$USBOX" exec -- python3 -c '
import errno, os
os.chdir(os.environ["TMPROOT"])
try: os.unlink("osl")
except FileNotFoundError: pass
os.symlink("nowhere", "osl")
try:
    os.open("osl", os.O_PATH | os.O_NOFOLLOW); raise SystemExit("opened")
except OSError as e:
    raise SystemExit(0 if e.errno == errno.EOPNOTSUPP else "errno %d" % e.errno)'
same_as_native "python3: sys.exit(3) and an unreadable script" -- bash -c '
python3 -c "import sys; sys.exit(3)"; echo "status $?"
python3 nosuch.py; echo "status $?"'
if [ -x /usr/bin/python3 ]; then
  same_as_native "/usr/bin/python3: threads, sqlite3, traceback" --setup py_files -- bash -c '
/usr/bin/python3 threads.py && /usr/bin/python3 db.py && /usr/bin/python3 fail.py'
else
  echo "note: /usr/bin/python3 does not exist here; covered by python3 on PATH only"
fi

# ---------------------------------------------------------------- git

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL=committer@example.com
export GIT_AUTHOR_DATE="2020-01-01T00:00:00Z" GIT_COMMITTER_DATE="2020-01-01T00:00:00Z"

same_as_native "git: init, add, commit, log, status, branch, gc, fsck" -- bash -c '
set -e
git init -b main repo && cd repo
seq 100 >numbers; mkdir -p src/lib; echo "int x;" >src/lib/x.c; echo hi >README
git add . && git commit -q -m "first commit"
echo more >>README; git rm -q numbers; echo new >new.txt
git status --porcelain
git add -A && git commit -q -m "second"
git branch topic && git checkout -q topic
echo topic >topic.txt && git add topic.txt && git commit -q -m "on topic"
git checkout -q main && git merge -q --no-edit topic
git branch -a; git log --oneline --graph --all
git log --stat --format="%H %an %ae %s" -n 2
git status
git tag v1 && git describe --tags
git gc -q && git count-objects -v | grep -E "^(count|in-pack|packs)"
git fsck --full --strict && echo fsck-ok
git cat-file -p HEAD^{tree}
git show HEAD~1:README
git mv README README.md && git status --short && git stash -q && git stash list | wc -l
git diff HEAD~2 --stat'

# ---------------------------------------------------------------- gcc

c_project() {
  cat >main.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "util.h"
int main(int argc, char **argv)
{
  FILE *f = fopen("result.txt", "w");
  if (!f) { perror("fopen"); return 2; }
  for (int i = 1; i < argc; i++)
    fprintf(f, "%s -> %ld\n", argv[i], fib(atoi(argv[i])));
  fclose(f);
  printf("sum=%ld sqrt=%.3f\n", sum_to(100), root(2.0));
  return argc > 3 ? 3 : 0;
}
EOF
  cat >util.h <<'EOF'
long fib(int n);
long sum_to(int n);
double root(double x);
EOF
  cat >fib.c <<'EOF'
#include "util.h"
long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
EOF
  cat >math.c <<'EOF'
#include <math.h>
#include "util.h"
long sum_to(int n) { long s = 0; for (int i = 1; i <= n; i++) s += i; return s; }
double root(double x) { return sqrt(x); }
EOF
  printf 'int broken(void) { return undeclared_thing; }\n' >broken.c
}

same_as_native "gcc: compile, link and run a multi-file program" --setup c_project -- bash -c '
set -e
gcc -O2 -Wall -c main.c && gcc -O2 -Wall -c fib.c && gcc -O2 -Wall -c math.c
gcc -o prog main.o fib.o math.o -lm
sha256sum main.o fib.o math.o
ar rcs libu.a fib.o math.o && gcc -o prog2 main.c -L. -lu -lm
./prog 10 20 && cat result.txt
set +e
./prog2 1 2 3; echo "prog2 status $?"
gcc -c broken.c; echo "gcc status $?"
gcc -o nolink main.o; echo "link status $?"'

# ---------------------------------------------------------------- make

make_project() {
  c_project
  cat >Makefile <<'EOF'
CFLAGS = -O1 -Wall
OBJS = main.o fib.o math.o
all: prog gen/table.txt words.sorted
prog: $(OBJS)
	$(CC) -o $@ $(OBJS) -lm
%.o: %.c util.h
	$(CC) $(CFLAGS) -c $< -o $@
gen:
	mkdir -p gen
gen/table.txt: | gen
	for i in 1 2 3 4 5; do echo "row $$i"; done > $@
words.txt:
	printf 'pear\napple\nfig\n' > $@
words.sorted: words.txt
	sort $< > $@
check: all
	./prog 5 6 > /dev/null && cat result.txt
clean:
	rm -rf prog $(OBJS) gen words.*
.PHONY: all check clean
EOF
}

same_as_native "make -j2: several targets, rebuild, clean" --setup make_project -- bash -c '
make -s -j2 all && make -s check && cat gen/table.txt words.sorted
make -q all; echo "up to date: $?"
touch -d "2000-01-01" fib.o; make -q all; echo "fib.o made old: $?"
make -s -j2 && make -s -j2 clean && ls
make -s nosuchtarget; echo "make status $?"'

# ---------------------------------------------------------------- tar

same_as_native "tar: czf, tzf, tvzf, xzf of a tree" --setup make_tree -- bash -c '
set -e
tar czf t.tgz tree
tar tzf t.tgz | sort
tar tvzf t.tgz --numeric-owner | sort -k6
mkdir x && tar xzf t.tgz -C x && diff -r tree x/tree && echo same-tree
# x itself was made just now: its time is the clock, not the archive
find x -mindepth 1 -exec stat -c "%n %a %Y" {} + | sort
tar xzf t.tgz -C x tree/a/hello.txt nosuch; echo "tar status $?"'

# ---------------------------------------------------------------- node

node_files() {
  cat >script.js <<'EOF'
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
fs.mkdirSync('n/a/b', { recursive: true });
fs.writeFileSync('n/a/b/f.txt', 'node data\n');
fs.appendFileSync('n/a/b/f.txt', 'more\n');
console.log(fs.readFileSync('n/a/b/f.txt', 'utf8').split('\n'));
console.log(fs.readdirSync('n/a').sort(), fs.statSync('n/a/b/f.txt').size);
fs.symlinkSync('b/f.txt', 'n/a/link');
console.log(fs.readlinkSync('n/a/link'), fs.realpathSync('n/a/link') === path.resolve('n/a/b/f.txt'));
fs.renameSync('n/a/b/f.txt', 'n/g.txt');
console.log(fs.existsSync('n/a/b/f.txt'), fs.existsSync('n/g.txt'));
try { fs.readFileSync('nosuch'); } catch (e) { console.log(e.code); }
console.log(cp.execSync('echo from shell && ls n').toString());
try { cp.execSync('exit 4', { stdio: 'pipe' }); } catch (e) { console.log('status', e.status); }
(async () => {
  const fsp = fs.promises;
  await Promise.all([...Array(20).keys()].map(i => fsp.writeFile(`n/p${i}`, String(i))));
  const names = (await fsp.readdir('n')).filter(x => x.startsWith('p'));
  const vals = await Promise.all(names.map(x => fsp.readFile(`n/${x}`, 'utf8')));
  console.log(names.length, vals.map(Number).reduce((a, b) => a + b, 0));
  fs.rmSync('n', { recursive: true });
  console.log(fs.existsSync('n'));
  process.exitCode = 6;
})();
EOF
}

same_as_native "node: fs, fs.promises, child_process.execSync" --setup node_files -- node script.js
same_as_native "node: uncaught exception" -- node -e 'console.log("x"); null.f()'

finish
