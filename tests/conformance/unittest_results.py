#!/usr/bin/python3
"""unittest_results.py LOG: the result of every test in a verbose
`python3 -m test -v` log, one "ID RESULT" line each, sorted.

ID is "name (module.Class.name)"; RESULT one of ok, FAIL, ERROR, skipped,
expected-failure, unexpected-success. A test with a docstring prints its id
on one line and "docstring ... RESULT" on the next; both shapes are read.
Lines of tracebacks and other output are ignored."""
import re
import sys

ID = re.compile(r"^(\w+) \(([\w.]+)\)(?: \.\.\. (.*))?$")
RESULT = re.compile(r" \.\.\. (ok|FAIL|ERROR|skipped|expected failure|unexpected success)\b")


def result_of(text):
    m = RESULT.search(" ... " + text if not text.startswith(" ... ") else text)
    return m.group(1).replace(" ", "-") if m else None


def main(path):
    results = {}
    pending = None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = ID.match(line)
        if m:
            pending = f"{m.group(1)} ({m.group(2)})"
            if m.group(3) is not None:
                r = result_of(m.group(3))
                if r:
                    results[pending] = r
                pending = None if r else pending
            continue
        if pending is not None:
            m = RESULT.search(line)
            word = line.strip()
            if m:
                results[pending] = m.group(1).replace(" ", "-")
                pending = None
            elif word in ("ok", "FAIL", "ERROR") or word.startswith("skipped "):
                # the test's own output came between its id and its result
                results[pending] = word.split(" ")[0]
                pending = None
    for k in sorted(results):
        print(k, results[k])


if __name__ == "__main__":
    main(sys.argv[1])
