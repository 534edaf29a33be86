#!/usr/bin/env python3
"""Per-test outcome counts over repeated runs (make check REPEAT=N).

usage: tally.py LABEL RUNDIR [LABEL RUNDIR]...

Reads each run's "verdicts" (written by summarize.py) and prints, per
configuration and test, how many runs it passed and how the others
ended; a run whose VM failed (hang, crash, splat, an unfinished init)
is counted on its own line.
"""
import collections
import os
import sys


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__.strip())
    tally = collections.OrderedDict()
    runs = collections.Counter()
    vm_bad = collections.Counter()
    for label, rundir in zip(args[::2], args[1::2]):
        runs[label] += 1
        path = os.path.join(rundir, "verdicts")
        if not os.path.exists(path):
            vm_bad[label] += 1
            continue
        for line in open(path, encoding="utf-8"):
            name, _, verdict = line.rstrip("\n").partition("\t")
            tally.setdefault((label, name), collections.Counter())[verdict] += 1
        summary = os.path.join(rundir, "summary.txt")
        if os.path.exists(summary) and any(
                line.startswith("FAIL  test VM") or line.startswith("FAIL  kernel log")
                for line in open(summary, encoding="utf-8")):
            vm_bad[label] += 1

    width = max((len(n) for _, n in tally), default=10)
    print(f"==> per test, over {max(runs.values())} run(s) of each configuration:")
    for (label, name), c in tally.items():
        n = runs[label]
        rest = ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k != "passed")
        # "!!": some run ended in a way that fails make check.
        bad = sum(v for k, v in c.items() if k.startswith("failed") or k == "no result")
        mark = "!!" if bad else "  "
        print(f"{mark} {label:<7} {name:<{width}} passed {c['passed']}/{n}"
              + (f" ({rest})" if rest else ""))
    for label, n in runs.items():
        print(f"   {label:<7} {'test VM (hang, crash, splat)':<{width}} "
              f"{vm_bad[label]} of {n} run(s) failed")


if __name__ == "__main__":
    main()
