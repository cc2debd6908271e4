"""Issue 9, part 6: no refresh token, client secret or access token leaves the process.

A real run (the ``dagster asset materialize`` command, as a user or a deployment starts one) with
distinctive credentials: ``LWA_APP_ID``/``LWA_CLIENT_SECRET``/``SP_API_REFRESH_TOKEN`` set, so the
project is NOT in sandbox mode and takes the production code path, with ``SP_API_ENDPOINT`` and
``SP_API_TOKEN_URL`` pointing at a recording proxy in front of the sandbox (which accepts the
refresh token ``Atzr|sandbox-na-<name>``). The Dagster instance is persistent (``DAGSTER_HOME`` in a
temporary folder, with the ``sp_assets`` and ``urllib3`` loggers managed at DEBUG so that every log
line reaches the event log) and the run's steps run in subprocesses, so compute logs are captured.

Afterwards, none of the secrets (nor their distinctive part without the ``Atzr|``/``Atza|`` prefix,
nor any access token the proxy saw) may appear in: the event log (``instance.all_logs``), any file
under ``DAGSTER_HOME`` (run and event storage, compute logs), any VARCHAR column of any DuckDB
table, the report ledger, or the command's own output. The report document download must carry no
access token, and the sandbox must refuse a non-loopback bind unless explicitly asked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

from .proxy import TamperingProxy
from .support import environment

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2]
CLIENT_ID = "amzn1.application-oa2-client.reliabilityZ8"
CLIENT_SECRET = "amzn1.oa2-cs.v1.reliability-client-secret-5GQ2X7"
REFRESH_TOKEN = "Atzr|sandbox-na-reliability-refresh-9KD4M2"
DAY = date.today() - timedelta(days=12)
INSTANCE_YAML = """\
telemetry:
  enabled: false
python_logs:
  python_log_level: DEBUG
  managed_python_loggers: [sp_assets, urllib3]
"""


@dataclass
class SecretRun:
    home: Path
    db: Path
    output: str
    access_tokens: set[str]
    proxy: TamperingProxy

    def secrets(self) -> set[str]:
        """Every secret value, and the part of each that would survive a careless prefix strip."""
        values = {CLIENT_SECRET, REFRESH_TOKEN, REFRESH_TOKEN.split("|", 1)[1], *self.access_tokens}
        values |= {token.split("|", 1)[1] for token in self.access_tokens}
        return values


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretRun]:
    root = tmp_path_factory.mktemp("secrets")
    proxy = TamperingProxy().start()
    with SandboxServer(SandboxConfig(seed=5, speed=1000.0, orders_per_day=30, public_base_url=proxy.url,
                                     extra={"report_queue_seconds": 0, "report_processing_seconds": 0})) as sandbox:
        proxy.upstream = sandbox.base_url
        home = root / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(INSTANCE_YAML)
        config = root / "marketplaces.yaml"
        config.write_text(
            f"marketplaces:\n  us:\n    start_date: {(DAY - timedelta(days=5)).isoformat()}\n    orders_api: v0\n"
            f"    reports:\n      - {{type: GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL, table: all_orders_report,"
            f" quote_char: none}}\n")
        db = root / "data" / "warehouse.duckdb"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SP_", "LWA_", "DAGSTER_"))}
        env.update(DAGSTER_HOME=str(home), SP_ASSETS_CONFIG=str(config), SP_ASSETS_DATA_DIR=str(root / "data"),
                   SP_ASSETS_DUCKDB=str(db), LWA_APP_ID=CLIENT_ID, LWA_CLIENT_SECRET=CLIENT_SECRET,
                   SP_API_REFRESH_TOKEN=REFRESH_TOKEN, SP_API_ENDPOINT=proxy.url,
                   SP_API_TOKEN_URL=proxy.url + "/auth/o2/token", PYTHONUNBUFFERED="1")
        command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "sp_assets.definitions",
                   "--select", "us/orders,us/order_items,us/all_orders_report", "--partition", DAY.isoformat()]
        done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-4000:]
        tokens = {r.headers["x-amz-access-token"] for r in proxy.recorded if "x-amz-access-token" in r.headers}
        yield SecretRun(home, db, output, tokens, proxy)
    proxy.stop()


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def test_the_run_really_used_the_secrets_and_left_logs_to_scan(secret_run: SecretRun) -> None:
    assert secret_run.access_tokens, "the proxy saw no API call"
    assert any(r.path == "/auth/o2/token" for r in secret_run.proxy.recorded)
    assert secret_run.proxy.requests_to("/_documents/"), "no report document was downloaded"
    compute_logs = [p for p in _files(secret_run.home) if p.suffix in (".err", ".out") and p.stat().st_size]
    assert compute_logs, "no compute log was captured"
    assert "GET /orders/v0/orders" in secret_run.output or any(
        b"/orders/v0/orders" in p.read_bytes() for p in _files(secret_run.home)), "DEBUG call logs are missing"


def test_no_secret_in_the_event_log(secret_run: SecretRun) -> None:
    from dagster import DagsterInstance

    with environment(DAGSTER_HOME=str(secret_run.home)), DagsterInstance.get() as instance:
        records = instance.get_run_records()
        assert records
        texts = []
        for record in records:
            for entry in instance.all_logs(record.dagster_run.run_id):
                texts.append(repr(entry))
            texts.append(repr(record.dagster_run))
    everything = "\n".join(texts)
    assert "getOrders GET /orders/v0/orders -> 200" in everything, "managed DEBUG logs did not reach the event log"
    for secret in secret_run.secrets():
        assert secret not in everything


def test_no_secret_in_any_instance_file_or_compute_log(secret_run: SecretRun) -> None:
    for path in _files(secret_run.home):
        data = path.read_bytes()
        for secret in secret_run.secrets():
            assert secret.encode() not in data, f"{secret[:12]}... found in {path.relative_to(secret_run.home)}"


def test_no_secret_in_any_duckdb_varchar_column_or_the_report_ledger(secret_run: SecretRun) -> None:
    with duckdb.connect(str(secret_run.db), read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')").fetchall()
        assert len(columns) > 20
        for schema, table, column in columns:
            for secret in secret_run.secrets():
                hits = connection.execute(
                    f'select count(*) from "{schema}"."{table}" where strpos("{column}", ?) > 0', [secret]).fetchone()
                assert hits == (0,), f"{secret[:12]}... in {schema}.{table}.{column}"
    data_dir = secret_run.db.parent
    ledgers = [p for p in _files(data_dir) if p.suffix != ".duckdb"]
    assert any(p.name.endswith(".reports.sqlite") for p in ledgers)
    for path in ledgers:
        for secret in secret_run.secrets():
            assert secret.encode() not in path.read_bytes(), f"{secret[:12]}... in {path.name}"


def test_no_secret_in_the_commands_output(secret_run: SecretRun) -> None:
    assert "RUN_SUCCESS" in secret_run.output
    for secret in secret_run.secrets():
        assert secret not in secret_run.output


def test_report_documents_are_fetched_without_the_access_token(secret_run: SecretRun) -> None:
    downloads = secret_run.proxy.requests_to("/_documents/")
    assert downloads
    for request in downloads:
        assert "x-amz-access-token" not in request.headers and "authorization" not in request.headers
        for value in request.headers.values():
            for secret in secret_run.secrets():
                assert secret not in value
    api_calls = [r for r in secret_run.proxy.recorded if r.path.startswith(("/orders/", "/reports/"))]
    assert api_calls and all("x-amz-access-token" in r.headers for r in api_calls)


def test_the_sandbox_refuses_a_non_loopback_bind_unless_asked() -> None:
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        with pytest.raises(ValueError, match="not a loopback address"):
            SandboxConfig(host=host)
    assert SandboxConfig(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert SandboxConfig(host="::1").host == "::1"
    refused = subprocess.run([sys.executable, "-m", "sp_assets.sandbox", "--host", "0.0.0.0", "--port", "0"],
                             cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr and "ready" not in refused.stdout
