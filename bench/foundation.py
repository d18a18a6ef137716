#!/usr/bin/env python3
"""Foundation figures of Bureau (issue: foundation), measured against the release binary.

- cold start: spawn `bureau serve` to the first answered GET /healthz, on a fresh data folder
  (first start: creates key, database, certificate) and on an existing one (restart);
- idle memory: VmRSS of a started, idle server;
- directory: GET /api/users of a 5,000-user organisation (extended profile, decryption
  included), latency percentiles from wrk over a keep-alive connection.

Usage: bench/foundation.py [path/to/bureau]   (default: $CARGO_TARGET_DIR/release/bureau)
Needs: wrk (Debian package).
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/tmp/bureau-target")
BIN = sys.argv[1] if len(sys.argv) > 1 else f"{TARGET}/release/bureau"
USERS = 5000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir):
    """Starts a server; returns (process, port, seconds until /healthz answered)."""
    port, tls_port = free_port(), free_port()
    began = time.perf_counter()
    proc = subprocess.Popen(
        [BIN, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}", "--tls-listen", f"127.0.0.1:{tls_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port, time.perf_counter() - began
        except OSError:
            time.sleep(0.0005)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return kb / 1024


def stop(proc):
    proc.terminate()
    proc.wait()


def api(conn, method, path, body=None, cookie=None):
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=json.dumps(body if body is not None else {}) if method != "GET" else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, response.getheader("Set-Cookie"), data


def main():
    first, restart = [], []
    for _ in range(10):
        with tempfile.TemporaryDirectory() as d:
            proc, _, seconds = start(f"{d}/data")
            first.append(seconds * 1000)
            stop(proc)
            proc, _, seconds = start(f"{d}/data")
            restart.append(seconds * 1000)
            stop(proc)

    with tempfile.TemporaryDirectory() as d:
        proc, port, _ = start(f"{d}/data")
        link = "start"
        while link and "/setup#token=" not in link:
            link = proc.stdout.readline()
        if not link:
            sys.exit(f"bureau serve exited early; see its log in {d}")
        token = link.strip().split("#token=")[1]
        time.sleep(2)
        idle_rss = rss_mib(proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        status, cookie, _ = api(conn, "POST", "/api/setup", {"token": token, "name": "Bench Admin", "email": "admin@bench.example", "password": "bench password"})
        assert status == 201, status
        cookie = cookie.split(";")[0]
        api(conn, "PATCH", "/api/org", {"profile_mode": "extended"}, cookie)
        for i in range(USERS - 1):
            status, _, body = api(conn, "POST", "/api/users", {"name": f"Colleague Number {i}", "email": f"colleague{i}@bench.example"}, cookie)
            assert status == 201, body
            uid = json.loads(body)["id"]
            patch = {"title": "Dr.", "company_role": "Associate", "work_location": "Berlin office", "qualification": "Tax adviser",
                     "phone_extension": str(1000 + i), "phone_mobile": f"+49 170 {i:07d}", "device": "Laptop"}
            status, _, body = api(conn, "PATCH", f"/api/users/{uid}", patch, cookie)
            assert status == 200, body
        status, _, body = api(conn, "GET", "/api/users", cookie=cookie)
        assert status == 200 and len(json.loads(body)["users"]) == USERS
        size_kib = len(body) / 1024
        results = {}
        for threads, connections in [(1, 1), (2, 4)]:
            out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d15s", "--latency", "-H", f"Cookie: {cookie}",
                                  f"http://127.0.0.1:{port}/api/users"], capture_output=True, text=True, check=True).stdout
            pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
            rps = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
            results[connections] = (pct, rps)
        loaded_rss = rss_mib(proc.pid)
        stop(proc)

    print(f"cold start, fresh data folder (10 runs): median {statistics.median(first):.0f} ms, max {max(first):.0f} ms")
    print(f"cold start, existing data folder (10 runs): median {statistics.median(restart):.0f} ms, max {max(restart):.0f} ms")
    print(f"idle RSS: {idle_rss:.1f} MiB; after the directory load: {loaded_rss:.1f} MiB")
    print(f"GET /api/users, {USERS} users, extended profile, {size_kib:.0f} KiB per answer:")
    for connections, (pct, rps) in results.items():
        print(f"  {connections} connection(s): p50 {pct['50']}, p90 {pct['90']}, p99 {pct['99']}, {rps} requests/s")


if __name__ == "__main__":
    main()
