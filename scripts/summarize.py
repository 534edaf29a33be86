#!/usr/bin/env python3
"""Judge one test-VM run: KTAP results, expectations, the kernel log.

usage: summarize.py OUTDIR EXPECTATIONS VMSTATUS NTESTS [LABEL]

Prints one line per test that did not simply pass, the kernel splats
found in the console log, and finally "N passed, N failed, N skipped".
Exit status 1 when anything failed, 0 otherwise.

Expected failures and skips (listed in EXPECTATIONS with a reason) count
as skipped, and so does a failure of a test listed as "flaky" whose output
matches the listed pattern (a known emulator bug that strikes now and
then); any other failure of such a test is a failure (an expectation with in=LABEL,... holds only for the runs so
labelled or of that kernel flavour, e.g. in=npt or in=debug); an unlisted
failure, an unlisted skip, a test without a
result, a hung or crashed VM and every kernel splat count as failures.
"""
import os
import re
import sys

RESULT = re.compile(r"^(ok|not ok) (\d+) selftests: (\S+): (\S+)(?:\s+#\s*(.*))?$")
HEADER = re.compile(r"^# selftests: (\S+): (\S+)$")
GLUED = re.compile(r"((?:not )?ok \d+ selftests: \S+: \S+.*)$")
SUBRESULT = re.compile(r"^#\s+(ok|not ok) \d+ (.*?)(?:\s+#\s*(.*))?$")

# A kernel log line that means the kernel misbehaved.
SPLAT = re.compile(
    r"(WARNING: |BUG: |kernel BUG at|Oops|general protection fault|"
    r"Kernel panic|UBSAN: |"
    r"possible circular locking|possible recursive locking|"
    r"inconsistent lock state|suspicious RCU usage|"
    r"rcu_(sched|preempt)? ?(self-)?detected (stalls|stall)|"
    r"detected stalls on CPUs|blocked for more than|"
    r"soft lockup|hard LOCKUP|unreferenced object 0x|"
    r"------------\[ cut here \]------------)"
)


# Lines of a failing test's own output to show.
TAIL = 25


def load_expectations(path, label):
    exp = {}
    splats = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            sys.exit(f"{path}:{n}: want 'TEST fail|skip|timeout|flaky [in=L] [subtests=a,b] "
                     f"[output=\"REGEX\"] REASON'")
        name, kind, rest = parts
        if kind not in ("fail", "skip", "timeout", "flaky", "splat"):
            sys.exit(f"{path}:{n}: kind must be fail, skip, timeout, flaky or splat, not {kind}")
        subtests = None
        labels = None
        pattern = None
        if rest.startswith("in="):
            sub, _, rest = rest.partition(" ")
            labels = set(sub[len("in="):].split(","))
        if rest.startswith("subtests="):
            sub, _, rest = rest.partition(" ")
            subtests = set(sub[len("subtests="):].split(","))
        m = re.match(r'output="([^"]+)"\s+', rest)
        if m:
            pattern = re.compile(m.group(1))
            rest = rest[m.end():]
        if (kind in ("flaky", "splat")) != (pattern is not None):
            sys.exit(f"{path}:{n}: {name}: output=\"REGEX\" goes with flaky and splat, and only with them")
        if not rest.strip():
            sys.exit(f"{path}:{n}: {name}: a reason is required")
        # in= names configurations (tests/configs) or kernel flavours.
        if labels is not None and not labels & {label, os.environ.get("FLAVOR", "kvm")}:
            continue
        if kind == "splat":
            splats.append((name, pattern, rest.strip()))
            continue
        coll, _, prog = name.partition(":")
        exp[(coll, prog.rsplit("/", 1)[-1])] = (kind, subtests, rest.strip(), name, pattern)
    return exp, splats


def parse_results(path):
    """(collection, test, kind, directive, failing subtests, output)"""
    results = []
    failing_subtests = []
    output = []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\r\n")
        # A test whose last output has no newline gets the runner's result
        # line glued to it ("# waiting...not ok 103 selftests: ..."): split.
        glued = GLUED.search(line)
        if glued and glued.start(1) > 0:
            output.append(line[:glued.start(1)])
            line = glued.group(1)
        if HEADER.match(line):
            failing_subtests = []
            output = []
            continue
        if line.startswith("#"):
            output.append(line)
        m = SUBRESULT.match(line)
        if m and m.group(1) == "not ok" and "SKIP" not in (m.group(3) or ""):
            failing_subtests.append(m.group(2).split(".")[-1])
            continue
        m = RESULT.match(line)
        if m:
            status, _, coll, prog, directive = m.groups()
            directive = directive or ""
            if status == "ok" and directive.upper().startswith("SKIP"):
                kind = "skip"
            elif status == "ok":
                kind = "pass"
            elif "TIMEOUT" in directive:
                kind = "timeout"
            else:
                kind = "fail"
            results.append((coll, prog, kind, directive, failing_subtests, output))
            failing_subtests = []
            output = []
    return results


def main():
    outdir, exp_path, vmstatus, ntests = sys.argv[1:5]
    label = sys.argv[5] if len(sys.argv) > 5 else ""
    ntests = int(ntests)
    exp, known_splats = load_expectations(exp_path, label)
    results = parse_results(f"{outdir}/results.ktap")
    passed = failed = skipped = 0
    # Each test's verdict, for tally.py (make check REPEAT=N).
    verdicts = []

    for coll, prog, kind, directive, subs, output in results:
        e = exp.get((coll, prog))
        name = f"{coll}:{prog}"
        nfailed = failed
        if kind == "pass":
            passed += 1
            if e and e[0] not in ("skip", "flaky"):
                print(f"NOTE  {name}: passed, though listed as expected to {e[0]}")
        elif kind == "skip":
            if e:
                skipped += 1
                print(f"skip  {name}: expected ({e[2]})")
            else:
                failed += 1
                print(f"FAIL  {name}: skipped, and not listed in {exp_path}: {directive}")
        else:
            ok = e and e[0] == kind
            if ok and e[1] is not None:
                ok = bool(subs) and set(subs) <= e[1]
            if e and e[0] == "flaky" and any(e[4].search(line) for line in output):
                skipped += 1
                print(f"flaky {name}: failed the known way ({e[2]})")
            elif ok:
                skipped += 1
                print(f"xfail {name}: expected ({e[2]})")
            else:
                failed += 1
                extra = f" (failing subtests: {', '.join(subs)})" if subs else ""
                print(f"FAIL  {name}: {kind} {directive}{extra}; its last output:")
                for line in output[-TAIL:]:
                    print("      | " + line)
        if failed > nfailed:
            verdicts.append((name, f"failed ({kind})"))
        elif kind == "pass":
            verdicts.append((name, "passed"))
        else:
            verdicts.append((name, f"expected {e[0]}" if e[0] != "flaky" else "flaky"))

    missing = ntests - len(results)
    if missing > 0:
        failed += missing
        print(f"FAIL  {missing} test(s) reported no result")

    if vmstatus != "ok":
        failed += 1
        print(f"FAIL  test VM: {vmstatus}")
    else:
        ktap = open(f"{outdir}/results.ktap", encoding="utf-8", errors="replace").read()
        if "GMEMWALK-END" not in ktap:
            failed += 1
            print("FAIL  test VM: ended before its init finished (see console.log)")

    splats = []
    console = open(f"{outdir}/console.log", encoding="utf-8", errors="replace").read().splitlines()
    for i, line in enumerate(console):
        if SPLAT.search(line):
            # A known base-kernel splat: its report (this line and what
            # follows) matches a "splat" expectation.
            report = "\n".join(console[max(0, i - 2):i + 40])
            known = [k for k in known_splats if k[1].search(report)]
            if known:
                print(f"splat {known[0][0]}: known, not the series' ({known[0][2]}); "
                      f"console.log line {i + 1}")
                continue
            splats.append(i)
    if splats:
        failed += 1
        print(f"FAIL  kernel log: {len(splats)} line(s) report a kernel problem; the first, and what follows:")
        first = splats[0]
        for line in console[max(0, first - 2):first + 40]:
            print("      | " + line)

    if missing > 0:
        seen = {name for name, _ in verdicts}
        listed = open(f"{outdir}/tests", encoding="utf-8").read().split() \
            if os.path.exists(f"{outdir}/tests") else []
        verdicts += [(t, "no result") for t in listed if t not in seen]

    with open(f"{outdir}/counts", "w", encoding="utf-8") as f:
        f.write(f"{passed} {failed} {skipped}\n")
    with open(f"{outdir}/verdicts", "w", encoding="utf-8") as f:
        f.writelines(f"{name}\t{v}\n" for name, v in verdicts)
    if label:
        print(f"[{label}] passed={passed} failed={failed} skipped={skipped}")
    else:
        print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
