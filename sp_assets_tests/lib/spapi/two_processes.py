"""Two processes of one seller account against one sandbox bucket, started together (issue 19).

Shared by the test (``test_quota_store.py``) and the benchmark (``benchmarks/bench_shared_quota.py``), so
both measure the same thing: each process builds a real ``SPAPIClient`` (one refresh token, hence one
Amazon bucket), gets its access token and connection, says it is ready, then on "go" makes ``calls``
getInventorySummaries calls (rate 2/s, burst 2: Amazon's plan and the sandbox's) at speed 1. With a
shared quota store they queue for one bucket; without one, each believes it has the whole bucket.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

OPERATION = "getInventorySummaries"
RATE, BURST = 2.0, 2  # Amazon's plan for getInventorySummaries (the sandbox enforces the same)

WORKER = r"""
import json, sys, time
from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.spapi.credentials import LWACredentials
from sp_assets.lib.spapi.endpoints import Endpoint
from sp_assets.lib.spapi.http import SPAPIClient
from sp_assets.lib.spapi.redaction import Secret
base, store, calls, token = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), sys.argv[4]
us = by_code("us")
creds = LWACredentials("amzn1.application-oa2-client.sandbox", Secret("sandbox-secret"), Secret(token))
client = SPAPIClient(creds, Endpoint(base, base + "/auth/o2/token"), speed=1.0, marketplace=us, quota_store=store)
client.bucket("getInventorySummaries")  # opens the store (a PostgreSQL connection) before "ready"
print(json.dumps({"ready": time.time()}), flush=True)
sys.stdin.readline()  # go
for _ in range(calls):
    client.request("getInventorySummaries", "GET", "/fba/inventory/v1/summaries",
                   params={"granularityType": "Marketplace", "granularityId": us.marketplace_id,
                           "marketplaceIds": us.marketplace_id})
print(json.dumps({"done": time.time()}), flush=True)
"""


def bucket_minimum(calls: int) -> float:
    """The least time ``calls`` calls can take from one full bucket: the burst is free, the rest refill."""
    return max(0, calls - BURST) / RATE


def run_two(base_url: str, store: str | None, token: str, calls: int) -> float:
    """Two worker processes of one account (one refresh token), released together; their wall time
    from the release to the later one's last answer."""
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, base_url, store or "", str(calls), token],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        for worker in workers:  # both have their access token and connection: release them together
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if "ready" not in line:
                raise RuntimeError(f"a worker did not start: {line}{worker.communicate(timeout=60)[1]}")
        started = time.time()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        ends = []
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            if worker.returncode != 0:
                raise RuntimeError(f"a worker failed ({worker.returncode}): {err[-2000:]}")
            ends.append(json.loads(out.strip().splitlines()[-1])["done"])
        return max(ends) - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
