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

Issue 18, item 2: the same scan after a run whose token endpoint (the proxy) echoes what it was sent,
one way per step attempt (the step retry policy gives three): a 400 whose JSON description quotes
the posted form (URL-encoded refresh token and client secret) and the client secret masked but for
its last 4 characters; a 400 whose plain-text body quotes the form so that a 200-character cut
falls inside the client secret; and a 200 whose access token ends in a newline (``requests`` refuses
such a header with ``InvalidHeader``, quoting the value). No form of any secret may appear anywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import pytest

from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

from .proxy import Answer, TamperingProxy
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


def _run_command(proxy: TamperingProxy, root: Path, select: str) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """``dagster asset materialize`` of ``select`` for DAY through ``proxy``, production code path."""
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    config = root / "marketplaces.yaml"
    config.write_text(f"marketplaces:\n  us:\n    start_date: {(DAY - timedelta(days=5)).isoformat()}\n"
                      f"    orders_api: v0\n")
    db = root / "data" / "warehouse.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SP_", "LWA_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(home), SP_ASSETS_CONFIG=str(config), SP_ASSETS_DATA_DIR=str(root / "data"),
               SP_ASSETS_DUCKDB=str(db), LWA_APP_ID=CLIENT_ID, LWA_CLIENT_SECRET=CLIENT_SECRET,
               SP_API_REFRESH_TOKEN=REFRESH_TOKEN, SP_API_ENDPOINT=proxy.url,
               SP_API_TOKEN_URL=proxy.url + "/auth/o2/token", PYTHONUNBUFFERED="1")
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "sp_assets.definitions",
               "--select", select, "--partition", DAY.isoformat()]
    return home, db, subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)


@dataclass
class EchoRun:
    home: Path
    db: Path
    output: str
    cases: list[str]
    access_tokens: set[str]

    def secrets(self) -> set[str]:
        """Each secret in every form an echo may show it, and the pieces a cut or a mask leaves."""
        raw = {CLIENT_SECRET, REFRESH_TOKEN, REFRESH_TOKEN.split("|", 1)[1], *self.access_tokens,
               *(token.split("|", 1)[1] for token in self.access_tokens)}
        forms = {form for value in raw for form in (value, quote(value, safe=""), quote_plus(value))}
        return forms | {CLIENT_SECRET[:-4], CLIENT_SECRET[:12], quote_plus(REFRESH_TOKEN)[:16]}


@pytest.fixture(scope="module")
def echo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoRun]:
    root = tmp_path_factory.mktemp("secrets-echo")
    proxy = TamperingProxy().start()
    cases: list[str] = []
    access_tokens: set[str] = set()

    def echo(method: str, path: str, answer: Answer) -> Answer:
        if (method, path) != ("POST", "/auth/o2/token"):
            return answer
        form = [r for r in proxy.requests_to("/auth/o2/token") if r.method == "POST"][-1].body.decode()
        case = ("json-echo", "text-echo-cut", "newline-token")[len(cases) % 3]
        cases.append(case)
        if case == "json-echo":
            body = {"error": "invalid_request",
                    "error_description": f"Malformed request: {form}; client_secret={CLIENT_SECRET[:-4]}****"}
            return Answer(400, {"content-type": "application/json"}, json.dumps(body).encode())
        if case == "text-echo-cut":
            text = f"Bad request, you sent: {form}"
            # Pad so that a cut at 200 characters leaves the first 12 characters of the client secret.
            padding = 200 - (text.index(quote_plus(CLIENT_SECRET)) + 12)
            return Answer(400, {"content-type": "text/plain"}, ("x" * padding + " " + text).encode())
        token = json.loads(answer.body)["access_token"]
        access_tokens.add(token)
        body = {**json.loads(answer.body), "access_token": token + "\n"}
        return Answer(200, {"content-type": "application/json"}, json.dumps(body).encode())

    proxy.rules.append(echo)
    with SandboxServer(SandboxConfig(seed=5, speed=1000.0, orders_per_day=30, public_base_url=proxy.url)) as sandbox:
        proxy.upstream = sandbox.base_url
        # A refused token request is not retried (a retry gets the same answer), so each run meets one
        # or more cases: run again, on the same instance, until the endpoint has answered all three ways.
        output = ""
        for _ in range(3):
            home, db, done = _run_command(proxy, root, "us/orders")
            output += done.stdout + done.stderr
            assert done.returncode != 0, output[-4000:]
            if len(cases) >= 3:
                break
        yield EchoRun(home, db, output, cases, access_tokens)
    proxy.stop()


def _event_log_text(home: Path) -> str:
    from dagster import DagsterInstance

    with environment(DAGSTER_HOME=str(home)), DagsterInstance.get() as instance:
        records = instance.get_run_records()
        assert records
        texts = []
        for record in records:
            for entry in instance.all_logs(record.dagster_run.run_id):
                texts.append(repr(entry))
            texts.append(repr(record.dagster_run))
    return "\n".join(texts)


def test_an_echoing_token_endpoint_was_met_three_ways_and_each_failure_is_reported(echo_run: EchoRun) -> None:
    assert echo_run.cases[:3] == ["json-echo", "text-echo-cut", "newline-token"] and echo_run.access_tokens
    everything = _event_log_text(echo_run.home)
    assert "refused the refresh token: HTTP 400 invalid_request: Malformed request: grant_type=refresh_token" \
        "&refresh_token=***&client_id=" in everything
    assert "client_secret=***" in everything
    assert "answered HTTP 400 with a non-JSON body: 'xxxx" in everything
    assert "has an access_token with whitespace or control characters" in everything


def test_no_form_of_any_secret_in_the_event_log_files_output_or_warehouse_after_echoes(echo_run: EchoRun) -> None:
    everything = _event_log_text(echo_run.home)
    for secret in echo_run.secrets():
        assert secret not in everything, f"{secret[:12]}... in the event log"
        assert secret not in echo_run.output, f"{secret[:12]}... in the command's output"
    for path in [*_files(echo_run.home), *(_files(echo_run.db.parent) if echo_run.db.parent.exists() else [])]:
        data = path.read_bytes()
        for secret in echo_run.secrets():
            assert secret.encode() not in data, f"{secret[:12]}... found in {path}"
    compute_logs = [p for p in _files(echo_run.home) if p.suffix in (".err", ".out") and p.stat().st_size]
    assert compute_logs, "no compute log was captured"


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
