#!/usr/bin/env python3
"""Benchmark: `keyspaces-doctor explain` on a 256 KiB paste (an application log: info
lines, a JSON log line with an escaped stack trace, and driver errors near the end, as a
person pastes it), run with the release binary; prints the median and the slowest run.

Run: python3 benches/explain_speed.py [runs]   (builds the release binary)."""
import os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "keyspaces-doctor")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 9


def paste(size=256 * 1024):
    info = "2026-11-30T12:00:%02d.123Z INFO  [main] c.e.orders.OrdersService - served order o-%05d in 12 ms (LOCAL_QUORUM)\n"
    errors = [
        'ERROR 12:00:01 cassandra: Provided username alice-at-111122223333 and/or password are incorrect\n',
        '{"level":"ERROR","stack_trace":"com.datastax.oss.driver.api.core.AllNodesFailedException: All 1 node(s) tried for the query failed\\n\\tat com.datastax.oss.driver.api.core.AllNodesFailedException.copy(AllNodesFailedException.java:141)\\nCaused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path to requested target"}\n',
        "NoHostAvailable: ('Unable to connect to any servers', {'3.83.168.1:9142': ConnectionRefusedError(111, \"Tried connecting to [('3.83.168.1', 9142)]. Last error: Connection refused\")})\n",
    ]
    out, i = [], 0
    body = size - sum(len(e) for e in errors)
    n = 0
    while n < body:
        line = info % (i % 60, i)
        out.append(line)
        n += len(line)
        i += 1
    mid = len(out) // 2
    out.insert(mid, errors[0])
    out.extend(errors[1:])
    return "".join(out)[: size + 4096]


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    text = paste()
    def once(args):
        t = time.perf_counter()
        r = subprocess.run([BIN, "explain"] + args, input=text, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return (time.perf_counter() - t) * 1000, r.stdout
    once([])  # warm the page cache
    for args in ([], ["--json"]):
        runs = [once(args) for _ in range(RUNS)]
        ms = [r[0] for r in runs]
        print(f"explain {' '.join(args) or '(text)':<8} on a {len(text.encode()) // 1024} KiB paste: median {statistics.median(ms):7.1f} ms, slowest {max(ms):7.1f} ms over {RUNS} runs")
    print("first line of the answer:", runs[0][1].splitlines()[0][:120] if runs[0][1] else "")


if __name__ == "__main__":
    main()
