"""Issue 18, items 3 and 5: report documents that must not be loaded fail cleanly, and say why.

Each case materializes a real report asset over HTTP against a sandbox told to misbehave (its
``charset`` and ``truncate`` faults, ``sp_assets/sandbox/faults.py``), on a Dagster instance built from
the project's own ``dagster.yaml``, and checks what a user sees and what is left behind:

======================================  ===========================================================
document                                rule
======================================  ===========================================================
DE declared Shift_JIS (bytes Cp1252)    the day fails naming the declared and the likely charset,
JP declared windows-1252 or UTF-8       quoting a value both ways; nothing written, no retry, no
(bytes Shift_JIS)                       file left in the download folder
a gzip stream that ends early           the day fails naming the asset and the report id; the
                                        partial download is removed; nothing written
no space in the download folder         the day fails naming the folder; no partial file; nothing
(a real tmpfs as SP_ASSETS_DATA_DIR)    written (this also shows downloads honour SP_ASSETS_DATA_DIR)
======================================  ===========================================================
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sp_assets.defs.config import ProjectConfig, parse_config
from sp_assets.defs.reports.assets import build_report_asset
from sp_assets.defs.resources import WarehouseResource, resource_key, sp_api_resource
from sp_assets.lib.warehouse import Warehouse
from sp_assets.sandbox.server import SandboxServer

PROJECT_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
DAY = date.today() - timedelta(days=6)
INSTANT = {"report_queue_seconds": 0, "report_processing_seconds": 0}


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A real instance (SQLite storage, pools, run monitoring) from the project's dagster.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_YAML, home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as real:
        yield real


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``SP_ASSETS_DATA_DIR`` (where downloads land); the database and ledger live elsewhere."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("SP_ASSETS_DATA_DIR", str(data))
    monkeypatch.setenv("SP_ASSETS_DUCKDB", str(tmp_path / "db" / "warehouse.duckdb"))
    monkeypatch.setenv("SP_ASSETS_SANDBOX", "1")
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN", "SP_API_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)
    return data


@pytest.fixture
def faulty(sandbox_factory: Callable[..., SandboxServer], monkeypatch: pytest.MonkeyPatch
           ) -> Callable[[str], SandboxServer]:
    def start(faults: str) -> SandboxServer:
        server = sandbox_factory(faults=faults, orders_per_day=60, extra=INSTANT)
        monkeypatch.setenv("SP_API_ENDPOINT", server.base_url)
        monkeypatch.setenv("SP_SANDBOX_SPEED", str(server.config.speed))
        return server

    return start


def _config(code: str) -> ProjectConfig:
    return parse_config({"marketplaces": {code: {"start_date": (DAY - timedelta(days=10)).isoformat()}}})


def _materialize(instance: dg.DagsterInstance, code: str) -> dg.ExecuteInProcessResult:
    config = _config(code)
    entry = config.get(code)
    report = next(r for r in entry.reports if r.report_type == ALL_ORDERS)
    resources = {resource_key(m.code): sp_api_resource(m) for m in config.marketplaces}
    resources["warehouse"] = WarehouseResource(database=str(_db()))
    return dg.materialize([build_report_asset(entry, report)], instance=instance, partition_key=DAY.isoformat(),
                          resources=resources, raise_on_error=False)


def _db() -> Path:
    return Path(os.environ["SP_ASSETS_DUCKDB"])


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    texts = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            texts.append(data.error.to_string() if data.error else "")
            if data.user_failure_data is not None:
                texts.append(data.user_failure_data.description or "")
    return "\n".join(texts)


def _retries(result: dg.ExecuteInProcessResult) -> int:
    return sum(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def _rows_written(code: str) -> int:
    if not _db().exists():
        return 0
    warehouse = Warehouse(_db())
    if not warehouse.table_exists(code, "all_orders_report"):
        return 0
    return warehouse.row_count(code, "all_orders_report")


def _leftovers(data: Path) -> list[str]:
    folder = data / "report_downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _assert_refused(result: dg.ExecuteInProcessResult, code: str, data: Path, *needles: str) -> str:
    assert not result.success, "a document that must not be loaded was written"
    text = _failure_text(result)
    for needle in needles:
        assert needle in text, text
    assert _retries(result) == 0, "retrying downloads the same bytes into the same folder"
    assert _rows_written(code) == 0, "rows were written from a refused document"
    assert _leftovers(data) == [], f"files left in the download folder: {_leftovers(data)}"
    return text


# ------------------------------------------------------------------------------------------ charsets
@pytest.mark.parametrize(("code", "declared", "likely", "garbled", "clean"), [
    ("de", "Shift_JIS", "Cp1252", "\ufffd", "ü"),
    ("jp", "windows-1252", "Shift_JIS", "ƒ", "ス"),
    ("jp", "UTF-8", "Shift_JIS", "\ufffd", "ス"),
], ids=["de-declared-shift-jis", "jp-declared-windows-1252", "jp-declared-utf-8"])
def test_a_wrongly_declared_charset_fails_the_day_naming_both_charsets(
        code: str, declared: str, likely: str, garbled: str, clean: str, faulty, data_dir: Path,
        instance: dg.DagsterInstance) -> None:
    faulty(f"charset={declared}")
    result = _materialize(instance, code)
    text = _assert_refused(result, code, data_dir, f"{code}/all_orders_report", f"declares {declared} but",
                           f"reads as {likely}", "nothing was written")
    quoted = text[text.index("(e.g."):]
    assert garbled in quoted and clean in quoted, f"the message should quote a value both ways: {quoted}"


def test_the_right_charset_still_loads(faulty, data_dir: Path, instance: dg.DagsterInstance) -> None:
    """The control: the same day, declared as Amazon declares it, loads (with its umlauts)."""
    faulty("charset=Cp1252")
    result = _materialize(instance, "de")
    assert result.success, _failure_text(result)
    assert _rows_written("de") > 0 and _leftovers(data_dir) == []


# ------------------------------------------------------------------------------------------ truncated gzip
def test_a_truncated_gzip_fails_naming_the_asset_and_report_and_leaves_no_file(
        faulty, data_dir: Path, instance: dg.DagsterInstance) -> None:
    faulty("truncate=0.6")
    result = _materialize(instance, "de")
    with sqlite3.connect(_db().with_suffix(".reports.sqlite")) as ledger:
        (report_id,) = ledger.execute("select report_id from reports").fetchone()
    _assert_refused(result, "de", data_dir, f"de/all_orders_report: report {report_id}: the gzip document is "
                    f"truncated", "partial download was removed")


# ------------------------------------------------------------------------------------------ full disk
@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """A real tmpfs of a given size (needs the right to mount: root or CAP_SYS_ADMIN; skipped otherwise)."""
    mounted: list[Path] = []

    def mount(kib: int) -> Path:
        point = tmp_path / f"tmpfs-{kib}k"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(point)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_a_full_download_folder_is_named_and_keeps_no_partial_file(
        faulty, data_dir: Path, small_tmpfs, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch) -> None:
    """``SP_ASSETS_DATA_DIR`` on a 4 KiB tmpfs: the document (tens of KiB) cannot fit. On main the
    download went beside the database instead (ignoring SP_ASSETS_DATA_DIR) and the run succeeded."""
    full = small_tmpfs(4)
    monkeypatch.setenv("SP_ASSETS_DATA_DIR", str(full))
    faulty("")
    result = _materialize(instance, "de")
    _assert_refused(result, "de", full, "de/all_orders_report",
                    f"no space left in the download folder {full / 'report_downloads'}", "SP_ASSETS_DATA_DIR")
