#!/usr/bin/env python3
"""Peak memory of the server under N parallel self-registrations (each one argon2 hash).

    cargo build --release && bench/signup_memory.py target/release/registry 64

Starts `registry serve` on a fresh SQLite file, prints the resident set before, the peak (VmHWM)
and the resident set after the burst, and how many sign-ups got 201. Linux only (/proc)."""
import concurrent.futures, json, os, subprocess, sys, tempfile, time, urllib.error, urllib.request
from collections import Counter

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/registry"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 64
PORT = 18090
CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(i):
    base = "91632100MA%07d" % (1000000 + i)
    s = sum(CHARS.index(c) * w for c, w in zip(base, WEIGHTS))
    return base + CHARS[(31 - s % 31) % 31]


def register(i):
    body = {"username": "bench_%d" % i, "password": "a long passphrase here",
            "enterprise": {"uscc": uscc(i), "name": "基准%d有限公司" % i, "legal_representative": "张三",
                           "region_code": "632100", "address": "海东市", "sectors": ["food"],
                           "scale": "micro", "contact_phone": "0972-1234567",
                           "contact_email": "bench@example.com"}}
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/auth/register" % PORT,
                                 data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    try:
        return urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        return e.code


def status(pid, field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024


with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, DATABASE_URL="sqlite://%s/b.db" % d, REGISTRY_BIND="127.0.0.1:%d" % PORT,
               REGISTRY_FILING_RATE_PER_MIN="1000000", REGISTRY_PUBLIC_RATE_PER_MIN="1000000",
               RUST_LOG="warn")
    server = subprocess.Popen([BINARY, "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/readyz" % PORT)
                break
            except OSError:
                time.sleep(0.2)
        before = status(server.pid, "VmRSS")
        start = time.time()
        with concurrent.futures.ThreadPoolExecutor(N) as pool:
            answers = Counter(pool.map(register, range(N)))
        took = time.time() - start
        print("%d parallel sign-ups in %.1f s: %s" % (N, took, dict(answers)))
        print("resident before %d MB, peak %d MB, after %d MB"
              % (before, status(server.pid, "VmHWM"), status(server.pid, "VmRSS")))
    finally:
        server.terminate()
        server.wait()
