#!/usr/bin/env python3
"""Benchmark: a full `keyspaces-doctor check` against the lab, side by side with what an
engineer does by hand today on the same lab (AWS CLI `sts get-caller-identity`,
`openssl s_client`, and the DataStax Python driver with AWS's cassandra-sigv4 plugin
running the same queries). Prints both medians and the ratio, then startup to first
frame, key-to-frame latency while a probe hangs, peak RSS and the release binary size.

Run: python3 benches/versus_peers.py [runs]   (builds the release binary; needs the
test venv, which `cargo test` creates under target/peers-venv)."""
import json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "keyspaces-doctor")
VENV = os.path.join(ROOT, "target", "peers-venv", "bin")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7


def ms(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if not os.path.exists(os.path.join(VENV, "python")):
        sys.exit("the peers venv is missing: run `cargo test --test lab_peers` once to create it")
    d = tempfile.mkdtemp()
    lab = subprocess.Popen([BIN, "lab", "--scenario", "healthy", "--dir", d], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    desc = json.loads(lab.stdout.readline())
    c = desc["client"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=c["access_key_id"], AWS_SECRET_ACCESS_KEY=c["secret_access_key"],
               AWS_DEFAULT_REGION=c["region"], AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    check = [BIN, "check", "--json", "--host", c["host"], "--port", str(c["port"]), "--resolve", c["host"] + ":127.0.0.1",
             "--region", c["region"], "--auth", "sigv4", "--ca-file", c["ca_file"], "--keyspace", c["keyspace"],
             "--table", c["table"], "--sts-endpoint", desc["sts"]]
    driver_cfg = dict(c, address="127.0.0.1", queries=[
        {"cql": "SELECT * FROM system.local", "consistency": "LOCAL_ONE"},
        {"cql": "SELECT * FROM system.peers", "consistency": "LOCAL_ONE"},
        {"cql": "SELECT * FROM system_schema.tables", "consistency": "LOCAL_ONE"},
        {"cql": "SELECT * FROM store.orders LIMIT 1", "consistency": "LOCAL_ONE"}])
    driver = [os.path.join(VENV, "python"), os.path.join(ROOT, "tests", "peers", "driver_client.py")]

    def ours():
        r = subprocess.run(check, env=env, capture_output=True, text=True)
        assert json.loads(r.stdout)["verdict"] == "ok", r.stdout[:500]

    def by_hand():
        subprocess.run([os.path.join(VENV, "aws"), "sts", "get-caller-identity", "--endpoint-url", desc["sts"]], env=env, capture_output=True, check=True)
        subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % c["port"], "-servername", c["host"], "-CAfile", c["ca_file"], "-verify_return_error"],
                       input="", capture_output=True, text=True, check=True)
        r = subprocess.run(driver, input=json.dumps(driver_cfg), env=env, capture_output=True, text=True)
        assert json.loads(r.stdout)["connected"], r.stdout[:500]

    ours(); by_hand()  # warm caches
    a = [ms(ours) for _ in range(RUNS)]
    b = [ms(by_hand) for _ in range(RUNS)]
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"full check (keyspaces-doctor)          median {ma:8.1f} ms over {RUNS} runs")
    print(f"by hand (aws sts + openssl + driver)   median {mb:8.1f} ms over {RUNS} runs")
    print(f"ratio: ours takes {ma / mb:.3f} of the manual time ({mb / ma:.1f}x faster)")

    rss = subprocess.run(["/usr/bin/time", "-f", "%M"] + check, env=env, capture_output=True, text=True).stderr.strip().splitlines()[-1]
    print(f"peak RSS of a full check: {int(rss) / 1024:.1f} MiB")
    print(f"release binary size: {os.path.getsize(BIN) / 1e6:.1f} MB")
    libs = subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout.split("\n")
    print("release binary links: " + ", ".join(l.split()[0] for l in libs if l.strip()))

    log = os.path.join(d, "bench.log")
    name = "kd-bench"
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "35"], check=True)
    t0 = time.time()
    subprocess.run(["tmux", "send-keys", "-t", name, f"KEYSPACES_DOCTOR_BENCH_LOG={log} {BIN} demo --scenario wrong-port", "Enter"], check=True)
    time.sleep(1.5)  # the TLS probe now hangs on the silent port for 5 s
    for _ in range(10):
        subprocess.run(["tmux", "send-keys", "-t", name, "Tab"], check=True)
        time.sleep(0.15)
    subprocess.run(["tmux", "send-keys", "-t", name, "q"], check=True)
    time.sleep(0.5)
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    lines = open(log).read().split("\n")
    first = [l for l in lines if l.startswith("first_frame_unix_us")]
    keys = [int(l.split()[1]) / 1000 for l in lines if l.startswith("key_to_frame_us")]
    if first:
        parts = first[0].split()
        since_main = int(parts[3]) / 1000 if len(parts) > 3 else float("nan")
        print(f"startup to first frame: {since_main:.1f} ms from main() ({(int(parts[1]) / 1e6 - t0) * 1000:.1f} ms including the shell starting the binary)")
    if keys:
        print(f"key-to-frame while a probe hangs: median {statistics.median(keys):.2f} ms, max {max(keys):.2f} ms over {len(keys)} keys")
    lab.terminate()


if __name__ == "__main__":
    main()
