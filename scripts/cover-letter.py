#!/usr/bin/env python3
"""Fill a fresh format-patch cover letter with the subject and blurb of
the previous one, so the hand-written text survives re-export.

usage: cover-letter.py NEW OLD DATE  (NEW is rewritten in place)

DATE replaces the cover letter's own date (git gives it the time of the
export), so that an unchanged series exports to unchanged files.
"""
import os
import re
import sys

SUBJ = "*** SUBJECT HERE ***"
BLURB = "*** BLURB HERE ***"


def old_parts(path):
    if not os.path.exists(path):
        return None, None
    lines = open(path, encoding="utf-8").read().split("\n")
    subject = None
    for line in lines:
        m = re.match(r"^Subject: \[[^]]*\] (.*)$", line)
        if m:
            subject = m.group(1)
            break
    # The body starts after the first empty line; the blurb ends where
    # git's shortlog starts ("Author Name (N):").
    try:
        start = lines.index("") + 1
    except ValueError:
        return subject, None
    end = start
    for i in range(start, len(lines)):
        if re.match(r"^\S.* \(\d+\):$", lines[i]):
            end = i
            break
    else:
        end = len(lines)
    blurb = "\n".join(lines[start:end]).rstrip("\n")
    return subject, blurb


def main():
    new, old, date = sys.argv[1], sys.argv[2], sys.argv[3]
    subject, blurb = old_parts(old)
    text = open(new, encoding="utf-8").read()
    text = re.sub(r"^Date: .*$", "Date: " + date, text, count=1, flags=re.M)
    text = text.replace(SUBJ, subject or "gmemwalk: KVM x86 page-table walks in guest_memfd")
    text = text.replace(BLURB, blurb if blurb else "(describe the series here)")
    with open(new, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
