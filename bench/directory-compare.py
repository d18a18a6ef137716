#!/usr/bin/env python3
"""The directory figure of two builds side by side, in one run: GET /api/users of a 5,000-user
extended-profile organisation (bench/foundation.py's set-up, made once with the first binary),
then each binary in turn serves the same data folder, three rounds, alternating, wrk over one
keep-alive connection for 10 s after a 2 s warm-up. The server runs on core 0, wrk on core 1.

Usage: bench/directory-compare.py BEFORE_BIN AFTER_BIN   (needs wrk and taskset)
"""
import http.client
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time

import foundation

ROUNDS = 3


def serve(binary, data):
    """Starts `binary` on `data` pinned to core 0; returns (process, port)."""
    foundation.BIN = binary
    port, tls_port = foundation.free_port(), foundation.free_port()
    proc = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
                             "--tls-listen", f"127.0.0.1:{tls_port}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.01)


def populate(binary, data):
    """The 5,000 users of foundation.py; returns the admin's cookie."""
    proc, port = serve(binary, data)
    link = "start"
    while link and "/setup#token=" not in link:
        link = proc.stdout.readline()
    token = link.strip().split("#token=")[1]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    status, cookie, _ = foundation.api(conn, "POST", "/api/setup", {"token": token, "name": "Bench Admin", "email": "admin@bench.example", "password": "bench password"})
    assert status == 201, status
    cookie = cookie.split(";")[0]
    foundation.api(conn, "PATCH", "/api/org", {"profile_mode": "extended"}, cookie)
    for i in range(foundation.USERS - 1):
        status, _, body = foundation.api(conn, "POST", "/api/users", {"name": f"Colleague Number {i}", "email": f"colleague{i}@bench.example"}, cookie)
        assert status == 201, body
        uid = json.loads(body)["id"]
        patch = {"title": "Dr.", "company_role": "Associate", "work_location": "Berlin office", "qualification": "Tax adviser",
                 "phone_extension": str(1000 + i), "phone_mobile": f"+49 170 {i:07d}", "device": "Laptop"}
        assert foundation.api(conn, "PATCH", f"/api/users/{uid}", patch, cookie)[0] == 200
    foundation.stop(proc)
    return cookie


def measure(binary, data, cookie):
    proc, port = serve(binary, data)
    url = f"http://127.0.0.1:{port}/api/users"
    wrk = ["taskset", "-c", "1", "wrk", "-t1", "-c1", "--latency", "-H", f"Cookie: {cookie}", url]
    subprocess.run(wrk[:5] + ["-d2s"] + wrk[5:], capture_output=True, check=True)
    out = subprocess.run(wrk[:5] + ["-d10s"] + wrk[5:], capture_output=True, text=True, check=True).stdout
    foundation.stop(proc)
    ms = {p: float(v[:-2]) if v.endswith("ms") else float(v[:-1]) * 1000 for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    return ms, float(re.search(r"Requests/sec:\s+(\S+)", out).group(1))


def main():
    before, after = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        data = f"{d}/data"
        cookie = populate(before, data)
        runs = {before: [], after: []}
        for _ in range(ROUNDS):
            for binary in (before, after):
                runs[binary].append(measure(binary, data, cookie))
    print(f"GET /api/users, {foundation.USERS} users, extended profile, 1 connection, {ROUNDS} alternating rounds of 10 s:")
    for name, binary in (("before", before), ("after", after)):
        p50 = [r[0]["50"] for r in runs[binary]]
        p99 = [r[0]["99"] for r in runs[binary]]
        rps = [r[1] for r in runs[binary]]
        print(f"  {name}: p50 {' / '.join(f'{v:.1f}' for v in p50)} ms (median {statistics.median(p50):.1f}), "
              f"p99 {' / '.join(f'{v:.1f}' for v in p99)} ms (median {statistics.median(p99):.1f}), "
              f"{statistics.median(rps):.1f} requests/s")


if __name__ == "__main__":
    main()
