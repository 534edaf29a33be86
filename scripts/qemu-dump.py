#!/usr/bin/env python3
"""Ask a running QEMU, through its monitor socket, where the test VM's CPUs are.

usage: qemu-dump.py MONITOR_SOCKET OUTFILE [SYSTEM_MAP]

Writes the monitor's answers to "info status", "info cpus" and
"info registers -a" to OUTFILE, and prints each CPU's RIP with the kernel
symbol it falls in (from SYSTEM_MAP) and whether it is halted. Used by
vm-run.sh before it kills a test VM that stopped printing.
"""
import bisect
import re
import socket
import sys
import time


def ask(sock, command):
    sock.sendall(command.encode() + b"\n")
    data = b""
    deadline = time.time() + 10
    # The monitor echoes the command and ends its answer with a prompt.
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
        if data.rstrip().endswith(b"(qemu)") and data.count(b"(qemu)") >= 1 \
                and command.encode() in data:
            break
    text = data.decode(errors="replace").replace("\r", "")
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    text = text.rsplit("(qemu)", 1)[0]
    # The monitor echoes what it is sent, character by character.
    lines = text.split("\n")
    while lines and (command and command in lines[0] or not lines[0].strip()
                     or lines[0].startswith("(qemu)")):
        lines.pop(0)
    return "\n".join(lines)


def load_symbols(path):
    syms = []
    for line in open(path, encoding="utf-8", errors="replace"):
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def symbolize(syms, addr):
    if not syms:
        return ""
    i = bisect.bisect_right([a for a, _ in syms], addr) - 1
    if addr >= 0xffffffffa0000000:
        return " (in a module: kvm or kvm_amd)"
    if i < 0 or addr - syms[i][0] > 0x100000:
        return " (not in the kernel's text)"
    return f" ({syms[i][1]}+0x{addr - syms[i][0]:x})"


def main():
    sockpath, outfile = sys.argv[1], sys.argv[2]
    try:
        syms = load_symbols(sys.argv[3]) if len(sys.argv) > 3 else []
    except OSError as e:
        print(f"qemu-dump: no symbols ({e})")
        syms = []
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(1)
    try:
        sock.connect(sockpath)
    except OSError as e:
        print(f"qemu-dump: cannot reach QEMU's monitor at {sockpath}: {e}")
        return 1
    ask(sock, "")
    answers = {c: ask(sock, c) for c in ("info status", "info cpus", "info registers -a")}
    with open(outfile, "w", encoding="utf-8") as f:
        for c, a in answers.items():
            f.write(f"### {c}\n{a}\n")
    status = answers["info status"].strip().splitlines()
    print(f"qemu-dump: {status[-1] if status else 'the monitor did not answer'}")
    cpu = None
    for line in answers["info registers -a"].splitlines():
        m = re.match(r"CPU#(\d+)", line)
        if m:
            cpu = m.group(1)
        m = re.search(r"RIP=([0-9a-f]+).*?(HLT=\d)?", line)
        if m and cpu is not None:
            hlt = re.search(r"HLT=(\d)", answers["info registers -a"].split(f"CPU#{cpu}")[1])
            rip = int(m.group(1), 16)
            state = " halted" if hlt and hlt.group(1) == "1" else ""
            print(f"qemu-dump: test VM CPU {cpu}: RIP 0x{rip:x}{symbolize(syms, rip)}{state}")
            cpu = None
    print(f"qemu-dump: all registers in {outfile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
