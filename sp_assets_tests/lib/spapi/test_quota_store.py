"""Token buckets shared by processes through a SQLite file or PostgreSQL (``quota_store*.py``, issue 19).

The decisive test runs two processes of one seller account against one sandbox at Amazon's real rates
(speed 1), once per store: with a shared store they queue for one bucket and the sandbox throttles
nobody. The PostgreSQL tests run on a real server the session starts (``postgres`` in conftest.py) and
skip, saying why, where none can start.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from sp_assets.lib.postgres import redact_url
from sp_assets.lib.spapi.quota import OperationQuota, shared_bucket
from sp_assets.lib.spapi.quota_store import (
    START_SLACK_S,
    STORE_VAR,
    QuotaStore,
    QuotaStoreError,
    StoredTokenBucket,
    quota_store,
)
from sp_assets.lib.spapi.redaction import scrub
from sp_assets_tests.lib.spapi.two_processes import BURST, OPERATION, RATE, bucket_minimum, run_two

CALLS_PER_PROCESS = 9


@pytest.fixture(scope="module")
def pg_url(new_pg_database: Callable[[], str]) -> str:
    """A PostgreSQL URL for the quota store: a database of its own on the session's server."""
    return new_pg_database()


def test_stored_bucket_queues_reservations_like_the_in_process_one(tmp_path: Path) -> None:
    now = [1000.0]
    store = QuotaStore(tmp_path / "quota.sqlite")
    one = StoredTokenBucket(store, "k", rate=2.0, burst=2, clock=lambda: now[0])
    other = StoredTokenBucket(store, "k", rate=2.0, burst=2, clock=lambda: now[0])  # another process's view
    slack = 2.0 * START_SLACK_S  # a new bucket starts START_SLACK_S of refill short of full
    assert one.reserve() == 0.0  # the burst
    assert other.reserve() == pytest.approx(slack / 2.0)
    assert one.reserve() == pytest.approx(0.5 + slack / 2.0)  # queued, in order
    assert other.reserve() == pytest.approx(1.0 + slack / 2.0)
    now[0] += 1.0 + slack / 2.0
    assert one.available() == pytest.approx(0.0)
    one.set_rate(4.0)  # learnt from x-amzn-RateLimit-Limit: every process uses it
    now[0] += 0.5
    assert other.available() == pytest.approx(2.0) and other.rate == 4.0
    other.drain()
    assert one.available() == pytest.approx(0.0)


def test_shared_bucket_uses_the_store_only_when_given(tmp_path: Path) -> None:
    quota = OperationQuota("inventory", RATE, BURST)
    local = shared_bucket("http://x", "fp", "getInventorySummaries", quota, 1.0)
    stored = shared_bucket("http://x", "fp", "getInventorySummaries", quota, 1.0, store=tmp_path / "q.sqlite")
    assert not isinstance(local, StoredTokenBucket) and isinstance(stored, StoredTokenBucket)
    assert (tmp_path / "q.sqlite").exists()
    assert "Atzr" not in (tmp_path / "q.sqlite").read_bytes().decode("latin-1")  # fingerprints only


def test_unknown_scheme_is_refused_naming_the_variable() -> None:
    with pytest.raises(QuotaStoreError) as raised:
        quota_store("mysql://user:hunter2-secret@db/quota")
    message = str(raised.value)
    assert STORE_VAR in message and "postgresql://" in message and "hunter2-secret" not in message


def test_unreachable_postgres_names_the_url_without_its_password(postgres: dict[str, str] | None) -> None:
    from sp_assets.local_postgres import free_port
    password = "n0t-for-logs-" + uuid.uuid4().hex
    url = f"postgresql+psycopg2://seller:{password}@127.0.0.1:{free_port()}/quota"
    with pytest.raises(QuotaStoreError) as raised:
        quota_store(url)
    message = str(raised.value)
    assert STORE_VAR in message and "seller:***@127.0.0.1" in message and password not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # psycopg2's error not chained
    assert scrub(f"echo {password}") == "echo ***"  # registered with the log scrubber
    assert redact_url(url) == url.replace(password, "***")


def _reservations_queue_in_order(store_location: str) -> None:
    """Two bucket objects over one row (two processes' views) reserve in turn. Each reservation's ready
    time (when it was made, plus its wait) comes 1/rate after the previous one's, whoever asks: the
    tokens are queued, not given twice. Only pairs still queued are compared (a stalled machine may let
    the bucket catch up), within the calls' own durations, so no speed is assumed."""
    key = f"order-{uuid.uuid4().hex}"
    store = quota_store(store_location)
    one = StoredTokenBucket(store, key, rate=2.0, burst=2)
    other = StoredTokenBucket(store, key, rate=2.0, burst=2)
    ready, spans = [], []
    for bucket in (one, other, one, other):
        before = time.time()
        wait = bucket.reserve()
        after = time.time()
        ready.append((before + after) / 2 + wait if wait > 0 else None)
        spans.append(after - before)
    # The burst less the start slack: the first is free.
    assert ready[0] is None
    for k in range(1, len(ready) - 1):
        a, b = ready[k], ready[k + 1]
        if a is not None and b is not None:
            assert abs((b - a) - 1 / 2.0) <= spans[k] + spans[k + 1] + 1e-3


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_store_queues_reservations_in_order(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    _reservations_queue_in_order(str(tmp_path / "q.sqlite") if kind == "sqlite" else request.getfixturevalue("pg_url"))


def test_postgres_store_uses_the_database_clock(pg_url: str, tmp_path: Path) -> None:
    """A machine whose clock runs an hour ahead must not find the bucket refilled: on PostgreSQL the
    refill runs on the database's clock; the SQLite store trusts the callers' clocks and is fooled."""
    def skewed(location: str) -> float:
        key = f"skew-{uuid.uuid4().hex}"
        store = quota_store(location)
        honest = StoredTokenBucket(store, key, rate=0.01, burst=1)
        ahead = StoredTokenBucket(store, key, rate=0.01, burst=1, clock=lambda: time.time() + 3600)
        honest.reserve()  # the only token
        return ahead.reserve()

    assert skewed(pg_url) > 99.0  # one token per 100 s, whatever the caller's clock says
    assert skewed(str(tmp_path / "quota.sqlite")) < 1.0  # the file store is fooled (documented)


def test_postgres_store_reconnects_once_and_keeps_the_bucket(pg_url: str) -> None:
    import psycopg2  # type: ignore[import-untyped]

    from sp_assets.lib.spapi.quota_store_pg import PostgresQuotaStore
    store = PostgresQuotaStore(pg_url)
    bucket = StoredTokenBucket(store, f"drop-{uuid.uuid4().hex}", rate=0.01, burst=5)
    bucket.reserve()
    bucket.reserve()
    admin = psycopg2.connect(pg_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = 'sp_assets quota' AND pid <> pg_backend_pid()")
        assert cursor.fetchall(), "the store's connection was not found"
    admin.close()
    assert bucket.reserve() == 0.0  # reopened; the third of five tokens
    assert bucket.available() < 2.0  # the two taken before the drop are still taken
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_processes_of_one_account_share_one_bucket(kind: str, sandbox_factory, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    store = str(tmp_path / "quota.sqlite") if kind == "sqlite" else request.getfixturevalue("pg_url")
    sb = sandbox_factory(speed=1.0)
    wall = run_two(sb.base_url, store, f"Atzr|sandbox-na-quota-{kind}", CALLS_PER_PROCESS)
    throttled, served = sb.stats.get(f"{OPERATION}.429"), sb.stats.get(f"{OPERATION}.served")
    floor = bucket_minimum(2 * CALLS_PER_PROCESS)
    # The ratio is printed, not asserted (no timed tests): benchmarks/bench_shared_quota.py reports it.
    print(f"two processes, {kind} store: {served} calls, {throttled} throttled, wall {wall:.2f} s, "
          f"bucket minimum {floor:.2f} s, ratio {wall / floor:.3f}")
    assert served == 2 * CALLS_PER_PROCESS
    assert throttled == 0


@pytest.mark.slow
def test_two_processes_without_a_store_are_throttled(sandbox_factory) -> None:
    """The control: each process believes it has the whole bucket, Amazon (the sandbox) disagrees."""
    sb = sandbox_factory(speed=1.0)
    run_two(sb.base_url, None, "Atzr|sandbox-na-quota-no-store", CALLS_PER_PROCESS)
    assert sb.stats.get(f"{OPERATION}.429") > 0
