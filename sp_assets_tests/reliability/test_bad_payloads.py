"""Issue 9, part 5: answers Amazon (or a proxy in front of it) sometimes gives lose no row and corrupt nothing.

A tampering proxy (``proxy.py``) sits between the client and the sandbox and rewrites chosen answers:
report documents (flat file and JSON) and Orders API pages. Each case materializes the real asset
for one day (D2) into a copy of a warehouse that already holds a clean load of two days (D1, D2),
then checks the rule below against the clean load: D1 is never touched; D2 is either loaded by the
rule or, where the answer cannot be trusted, left exactly as it was while the run fails naming the
problem (and the report stays in the ledger, so a relaunch loads it without a new createReport).

=======================================  ================================================================
answer                                   rule
=======================================  ================================================================
missing optional JSON fields             the row is kept; the missing fields' columns are null
unknown new JSON fields                  ignored by typed tables (orders); new columns in report tables
extra flat-file column                   a new column (snake_case of its header), every other value equal
missing flat-file column                 the column is null for that day's rows; other values equal
row with more fields than the header     the day fails naming the line; nothing written for the day
row with fewer fields                    the missing trailing fields are null
unclosed quote, quote_char none          the quote is data: kept literally, no other row affected
unclosed quote, quote_char '"'           the day fails naming the line and the quote_char setting
field over 1 MB                          kept exactly
bytes invalid in the declared charset    that value gets U+FFFD (counted as decode_replacements); every
                                         other value decoded in the declared charset, not mis-decoded
empty document (DONE report)             the day fails ("empty document"); nothing written for the day
HTML error page instead of a document    the day fails quoting the page; nothing written for the day
HTML error page instead of API JSON      a 5xx page is retried; a 200 page fails the run naming the call
=======================================  ================================================================
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from sp_assets.defs.config import parse_config
from sp_assets.defs.orders.assets import build_orders_assets
from sp_assets.defs.reports.assets import build_report_asset, build_sales_and_traffic_asset
from sp_assets.defs.resources import WarehouseResource, resource_key, sp_api_resource
from sp_assets.lib.warehouse import Warehouse
from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import SandboxServer

from .proxy import Answer, TamperingProxy

pytestmark = pytest.mark.slow

D1, D2 = date.today() - timedelta(days=13), date.today() - timedelta(days=12)
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
SALES_AND_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
# Several lines, as real error pages are: read as a flat file, its first line would be a header and
# the others rows.
HTML_PAGE = (b"<!DOCTYPE html>\n<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n"
             b"<body>\n<h1>Service Temporarily Unavailable</h1>\n</body>\n</html>\n")
BIG = 1_500_000


# ------------------------------------------------------------------------------------------ environment
@dataclass
class PayloadEnv:
    proxy: TamperingProxy
    sandbox: SandboxServer
    root: Path
    baseline: Path  # a warehouse holding clean loads of D1 and D2 for every asset used here

    def config(self, code: str = "de", **options: Any):
        start = (date.today() - timedelta(days=40)).isoformat()
        return parse_config({"marketplaces": {code: {"start_date": start, **options}}})

    def copy_of_baseline(self, name: str) -> Path:
        target = self.root / name / "warehouse.duckdb"
        target.parent.mkdir(parents=True)
        shutil.copyfile(self.baseline, target)
        return target

    def materialize(self, assets: list, config, db: Path, day: date, monkeypatch: pytest.MonkeyPatch
                    ) -> dg.ExecuteInProcessResult:
        # The report ledger lives beside the DuckDB file (SP_ASSETS_DUCKDB): each warehouse gets its own.
        monkeypatch.setenv("SP_ASSETS_DUCKDB", str(db))
        resources = {resource_key(m.code): sp_api_resource(m) for m in config.marketplaces}
        resources["warehouse"] = WarehouseResource(database=str(db))
        return dg.materialize(assets, partition_key=day.isoformat(), resources=resources, raise_on_error=False)


def _changed(got: pl.DataFrame, want: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``got`` that ``want`` lacks (nulls compare equal, unlike a join)."""
    remaining = list(want.select(got.columns).rows())
    out = []
    for row in got.rows():
        if row in remaining:
            remaining.remove(row)
        else:
            out.append(row)
    return pl.DataFrame(out, schema=got.schema, orient="row")


def _report_asset(config, report_type: str, quote_char: str | None = None):
    entry = config.marketplaces[0]
    report = next(r for r in entry.reports if r.report_type == report_type)
    if quote_char is not None:
        from dataclasses import replace

        report = replace(report, quote_char=quote_char)
    if report_type == SALES_AND_TRAFFIC:
        return build_sales_and_traffic_asset(entry, report)
    return build_report_asset(entry, report)


def _orders_asset(config):
    return build_orders_assets(config.marketplaces[0])[0]


@pytest.fixture(autouse=True)
def _one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Assets built in these tests run once: a failing case must not wait for Dagster's retry delays."""
    import sp_assets.defs.common as common

    monkeypatch.setattr(common, "RETRY", None)  # every asset's retry policy comes from common.multi_asset_kwargs


@pytest.fixture(scope="module")
def payload_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayloadEnv]:
    root = tmp_path_factory.mktemp("payloads")
    proxy = TamperingProxy().start()
    # Reports finish as soon as their document is written: the cases are about content, not waiting.
    sandbox = SandboxServer(SandboxConfig(seed=11, speed=1000.0, orders_per_day=40, public_base_url=proxy.url,
                                          extra={"report_queue_seconds": 0, "report_processing_seconds": 0}))
    sandbox.start()
    proxy.upstream = sandbox.base_url
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SP_API_ENDPOINT", proxy.url)
        patch.setenv("SP_SANDBOX_SPEED", "1000")
        patch.setenv("SP_ASSETS_SANDBOX", "1")
        patch.setenv("SP_ASSETS_DATA_DIR", str(root / "data"))
        for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN", "SP_API_TOKEN_URL"):
            patch.delenv(name, raising=False)
        env = PayloadEnv(proxy, sandbox, root, root / "baseline" / "warehouse.duckdb")
        de, us = env.config("de"), env.config("us", orders_api="v0")
        for day in (D1, D2):
            for config, asset in ((de, _report_asset(de, ALL_ORDERS)), (de, _report_asset(de, SALES_AND_TRAFFIC)),
                                  (us, _orders_asset(us))):
                result = env.materialize([asset], config, env.baseline, day, patch)
                assert result.success, _failure_text(result)
        yield env
    proxy.stop()
    sandbox.stop()


@pytest.fixture
def tamper(payload_env: PayloadEnv) -> Iterator[Callable[..., None]]:
    """Install rules for one test; they are removed afterwards."""

    def install(*rules) -> None:
        payload_env.proxy.rules[:] = list(rules)

    yield install
    payload_env.proxy.rules.clear()


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    texts = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            texts.append(data.error.to_string() if data.error else "")
            if data.user_failure_data is not None:
                texts.append(data.user_failure_data.description or "")
    return "\n".join(texts)


def _rows(db: Path, table: str, day: date, exclude: tuple[str, ...] = ("report_id",)) -> pl.DataFrame:
    frame = Warehouse(db).query(f"select * from {table} where partition_date = ?", [day])
    return frame.drop([c for c in exclude if c in frame.columns]).sort(frame.drop(
        [c for c in exclude if c in frame.columns]).columns)


# ------------------------------------------------------------------------------------------ document rules
def _document_rule(edit: Callable[[str], str], charset: str | None = None,
                   raw: Callable[[bytes], bytes] | None = None) -> Callable[[str, str, Answer], Answer]:
    """Rewrite every report document download: decode it in its declared charset, ``edit`` the text,
    encode it again (in ``charset`` if given, declaring it), or replace the bytes with ``raw``."""

    def rule(method: str, path: str, answer: Answer) -> Answer:
        if not path.startswith("/_documents/") or answer.status != 200:
            return answer
        body = answer.document_bytes()
        content_type = answer.content_type
        declared = content_type.split("charset=")[-1].strip() if "charset=" in content_type else "utf-8"
        codec = {"cp1252": "cp1252", "shift_jis": "cp932", "utf-8": "utf-8"}.get(declared.lower(), declared)
        if raw is not None:
            new = raw(body)
        else:
            new_charset = charset or declared
            new_codec = {"cp1252": "cp1252", "utf-8": "utf-8"}.get(new_charset.lower(), new_charset)
            new = edit(body.decode(codec)).encode(new_codec)
            content_type = content_type.split(";")[0] + f"; charset={new_charset}"
        headers = dict(answer.headers, **{"content-type": content_type})
        return Answer(200, headers, new)

    return rule


def _html_document(method: str, path: str, answer: Answer) -> Answer:
    if path.startswith("/_documents/") and answer.status == 200:
        return Answer(200, {"content-type": "text/html; charset=utf-8"}, HTML_PAGE)
    return answer


def _lines(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.rstrip("\n").split("\n")]


def _join(rows: list[list[str]]) -> str:
    return "\n".join("\t".join(row) for row in rows) + "\n"


def _add_column(text: str) -> str:
    rows = _lines(text)
    return _join([rows[0] + ["Brand New Amazon Field"]] + [r + [f"new-{i}"] for i, r in enumerate(rows[1:])])


def _drop_column(name: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        rows = _lines(text)
        index = rows[0].index(name)
        return _join([r[:index] + r[index + 1:] for r in rows])
    return edit


def _edit_field(row: int, name: str, value: Callable[[str], str]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        rows = _lines(text)
        index = rows[0].index(name)
        rows[row][index] = value(rows[row][index])
        return _join(rows)
    return edit


def _cut_row(row: int, keep: int) -> Callable[[str], str]:
    def edit(text: str) -> str:
        rows = _lines(text)
        rows[row] = rows[row][:keep]
        return _join(rows)
    return edit


def _extra_field(row: int) -> Callable[[str], str]:
    def edit(text: str) -> str:
        rows = _lines(text)
        rows[row] = rows[row] + ["surplus"]
        return _join(rows)
    return edit


# ------------------------------------------------------------------------------------------ assertions
def _assert_day_untouched(env: PayloadEnv, db: Path, table: str, day: date) -> None:
    """The day's rows equal the clean load's; a column added since is null on them."""
    want = _rows(env.baseline, table, day, exclude=())
    got = _rows(db, table, day, exclude=())
    added = [c for c in got.columns if c not in want.columns]
    assert all(got[c].null_count() == got.height for c in added), f"{table} {day}: new columns filled"
    assert got.select(want.columns).sort(want.columns).equals(want), f"{table} {day} changed"


def _run_all_orders(env: PayloadEnv, name: str, monkeypatch: pytest.MonkeyPatch, quote_char: str | None = None
                    ) -> tuple[Path, dg.ExecuteInProcessResult]:
    config = env.config("de")
    db = env.copy_of_baseline(name)
    result = env.materialize([_report_asset(config, ALL_ORDERS, quote_char)], config, db, D2, monkeypatch)
    return db, result


def _assert_failed_and_untouched(env: PayloadEnv, db: Path, result: dg.ExecuteInProcessResult, table: str,
                                 *needles: str) -> str:
    assert not result.success, f"{table}: a bad answer was loaded"
    text = _failure_text(result)
    for needle in needles:
        assert needle in text, text
    for day in (D1, D2):
        _assert_day_untouched(env, db, table, day)
    return text


TABLE = "de.all_orders_report"


def test_an_extra_column_is_added_and_nothing_else_changes(payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(_add_column))
    db, result = _run_all_orders(payload_env, "extra-column", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, TABLE, D2), _rows(payload_env.baseline, TABLE, D2)
    assert got["brand_new_amazon_field"].to_list() == sorted(f"new-{i}" for i in range(want.height)) or \
        set(got["brand_new_amazon_field"]) == {f"new-{i}" for i in range(want.height)}
    assert got.drop("brand_new_amazon_field").equals(want)
    _assert_day_untouched(payload_env, db, TABLE, D1)  # the new column is null on D1, nothing else moved
    assert Warehouse(db).query(f"select count(brand_new_amazon_field) from {TABLE} where partition_date = ?",
                               [D1]).item() == 0


def test_a_missing_column_is_null_for_that_day_only(payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(_drop_column("ship-city")))
    db, result = _run_all_orders(payload_env, "missing-column", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, TABLE, D2), _rows(payload_env.baseline, TABLE, D2)
    assert got["ship_city"].null_count() == got.height > 0
    assert want["ship_city"].null_count() < want.height
    assert got.drop("ship_city").equals(want.drop("ship_city"))
    _assert_day_untouched(payload_env, db, TABLE, D1)


def test_a_short_row_gets_nulls_for_its_missing_trailing_fields(payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(_cut_row(1, keep=10)))
    db, result = _run_all_orders(payload_env, "short-row", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, TABLE, D2), _rows(payload_env.baseline, TABLE, D2)
    assert got.height == want.height
    differing = _changed(got, want)
    assert differing.height == 1  # only the cut row differs...
    row = differing.row(0, named=True)
    trailing = [c for c in got.columns if c not in ("partition_date",)][10:]
    assert all(row[c] is None for c in trailing if c != "partition_date")  # ...and only by its nulls


def test_a_row_with_more_fields_than_the_header_fails_the_day_naming_the_line(
        payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(_extra_field(3)))
    db, result = _run_all_orders(payload_env, "long-row", monkeypatch)
    _assert_failed_and_untouched(payload_env, db, result, TABLE, "Line: 4", "nothing was written for the day")


def test_an_unclosed_quote_is_data_with_quote_char_none(payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(_edit_field(2, "product-name", lambda v: '"' + v)))
    db, result = _run_all_orders(payload_env, "quote-none", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, TABLE, D2), _rows(payload_env.baseline, TABLE, D2)
    changed = _changed(got, want)
    assert changed.height == 1 and changed["product_name"][0].startswith('"')
    assert got.height == want.height


def test_an_unclosed_quote_with_quote_char_double_quote_fails_naming_the_setting(
        payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(_edit_field(2, "product-name", lambda v: '"' + v)))
    db, result = _run_all_orders(payload_env, "quote-double", monkeypatch, quote_char='"')
    _assert_failed_and_untouched(payload_env, db, result, TABLE, "quote_char: none", "unterminated quote")


def test_a_field_over_1_mb_is_kept_exactly(payload_env, tamper, monkeypatch) -> None:
    long_name = "Ü" + "x" * BIG + "ß"
    tamper(_document_rule(_edit_field(1, "product-name", lambda v: long_name)))
    db, result = _run_all_orders(payload_env, "big-field", monkeypatch)
    assert result.success, _failure_text(result)
    got = _rows(db, TABLE, D2)
    assert (got["product_name"] == long_name).sum() == 1
    assert got.height == _rows(payload_env.baseline, TABLE, D2).height


def test_bytes_invalid_in_the_declared_charset_spoil_one_value_not_the_document(
        payload_env, tamper, monkeypatch) -> None:
    """The document is declared (and is) UTF-8, with one stray byte: the other values, umlauts
    included, must read exactly as in the clean load, not as cp1252 mojibake."""
    marker = "@@BAD@@"

    def corrupt(body: bytes) -> bytes:
        text = body.decode("cp1252")
        rows = _lines(text)
        index = rows[0].index("product-name")
        rows[1][index] = rows[1][index] + marker
        return _join(rows).encode("utf-8").replace(marker.encode(), b"\xff")

    def rule(method: str, path: str, answer: Answer) -> Answer:
        answer = _document_rule(lambda t: t, raw=corrupt)(method, path, answer)
        if path.startswith("/_documents/"):
            answer.headers["content-type"] = "text/tab-separated-values; charset=UTF-8"
        return answer

    tamper(rule)
    db, result = _run_all_orders(payload_env, "bad-bytes", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, TABLE, D2), _rows(payload_env.baseline, TABLE, D2)
    assert want["ship_city"].str.contains("[äöüÄÖÜß]").any(), "the clean day needs umlauts for this test"
    changed = _changed(got, want)
    assert changed.height == 1 and changed["product_name"][0].endswith("\ufffd")
    metadata = _materialization_metadata(result)
    assert metadata["reports"][0]["decode_replacements"] == 1


def _materialization_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            return {k: getattr(v, "value", v) for k, v in event.event_specific_data.materialization.metadata.items()}
    raise AssertionError("no materialization")


def test_an_empty_document_fails_the_day_keeps_its_rows_and_a_relaunch_reuses_the_report(
        payload_env, tamper, monkeypatch) -> None:
    tamper(_document_rule(lambda t: t, raw=lambda body: b""))
    created = payload_env.sandbox.stats.get("createReport.served")
    db, result = _run_all_orders(payload_env, "empty", monkeypatch)
    _assert_failed_and_untouched(payload_env, db, result, TABLE, "document is empty")
    assert payload_env.sandbox.stats.get("createReport.served") == created + 1
    # The download was broken, not the report: relaunched, the same report is downloaded again.
    payload_env.proxy.rules.clear()
    config = payload_env.config("de")
    result = payload_env.materialize([_report_asset(config, ALL_ORDERS)], config, db, D2, monkeypatch)
    assert result.success, _failure_text(result)
    assert payload_env.sandbox.stats.get("createReport.served") == created + 1
    assert _rows(db, TABLE, D2).equals(_rows(payload_env.baseline, TABLE, D2))


def test_shift_jis_with_an_invalid_byte_keeps_the_japanese_text(tmp_path: Path) -> None:
    """The decoding rule on its own, for a Japanese document (declared Shift_JIS, read as cp932)."""
    from sp_assets.lib.reports.decoding import transcode_to_utf8

    good = "sku\ttitle\nA-1\t陶器 マグカップ ブルー\nA-2\t竹製 まな板\n".encode("cp932")
    source = tmp_path / "doc"
    source.write_bytes(gzip.compress(good.replace(b"A-2", b"A-2\x85")))  # 0x85 is no cp932 lead byte
    result = transcode_to_utf8(source, tmp_path / "out.tsv", declared="Shift_JIS", fallback="Shift_JIS")
    text = (tmp_path / "out.tsv").read_text(encoding="utf-8")
    assert result.replacements == 1 and "陶器 マグカップ ブルー" in text and "竹製 まな板" in text
    mislabelled = tmp_path / "latin"
    mislabelled.write_bytes("sku\ttitle\nA-1\tTrinkflasche für Kühlschrank\n".encode("cp1252"))
    result = transcode_to_utf8(mislabelled, tmp_path / "out2.tsv", declared="UTF-8", fallback="Cp1252")
    assert "für Kühlschrank" in (tmp_path / "out2.tsv").read_text(encoding="utf-8") and result.replacements == 0


def test_an_html_page_instead_of_a_flat_file_is_not_loaded(payload_env, tamper, monkeypatch) -> None:
    tamper(_html_document)
    db, result = _run_all_orders(payload_env, "html-flat", monkeypatch)
    _assert_failed_and_untouched(payload_env, db, result, TABLE, "Service Temporarily Unavailable")


# ------------------------------------------------------------------------------------------ JSON documents
ST_DATE = "de.sales_and_traffic_by_date"
ST_ASIN = "de.sales_and_traffic_by_asin"


def _run_sales_and_traffic(env: PayloadEnv, name: str, monkeypatch) -> tuple[Path, dg.ExecuteInProcessResult]:
    config = env.config("de")
    db = env.copy_of_baseline(name)
    return db, env.materialize([_report_asset(config, SALES_AND_TRAFFIC)], config, db, D2, monkeypatch)


def _json_document_rule(edit: Callable[[dict], None]) -> Callable[[str, str, Answer], Answer]:
    def rule(method: str, path: str, answer: Answer) -> Answer:
        if not path.startswith("/_documents/") or answer.status != 200:
            return answer
        document = json.loads(answer.document_bytes())
        edit(document)
        return Answer(200, dict(answer.headers), gzip.compress(json.dumps(document).encode()))
    return rule


def test_json_document_missing_and_new_fields(payload_env, tamper, monkeypatch) -> None:
    def edit(document: dict) -> None:
        first = document["salesAndTrafficByAsin"][0]
        del first["salesByAsin"]["unitsOrdered"]
        first.pop("sku", None)
        for entry in document["salesAndTrafficByAsin"]:
            entry["trafficByAsin"]["brandNewMetric"] = 7
        document["salesAndTrafficByDate"][0]["salesByDate"]["brandNewDailyMetric"] = {"amount": 1.5}
        document["unknownTopLevel"] = {"x": 1}

    tamper(_json_document_rule(edit))
    db, result = _run_sales_and_traffic(payload_env, "json-fields", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, ST_ASIN, D2), _rows(payload_env.baseline, ST_ASIN, D2)
    assert got.height == want.height and set(got["brand_new_metric"]) == {7}
    assert _changed(got.drop("brand_new_metric"), want).height == 1
    assert got["units_ordered"].null_count() == 1
    by_date = _rows(db, ST_DATE, D2)
    assert by_date.height == _rows(payload_env.baseline, ST_DATE, D2).height
    assert by_date["brand_new_daily_metric_amount"].to_list() == [1.5]
    for table in (ST_DATE, ST_ASIN):
        _assert_day_untouched(payload_env, db, table, D1)


def test_an_html_page_instead_of_a_json_document_fails_quoting_it(payload_env, tamper, monkeypatch) -> None:
    tamper(_html_document)
    db, result = _run_sales_and_traffic(payload_env, "html-json", monkeypatch)
    text = _assert_failed_and_untouched(payload_env, db, result, ST_DATE, "Service Temporarily Unavailable")
    assert "JSONDecodeError" not in text.splitlines()[0]
    _assert_day_untouched(payload_env, db, ST_ASIN, D2)


# ------------------------------------------------------------------------------------------ Orders API JSON
ORDERS = "us.orders"
OPTIONAL_REMOVED = ("OrderTotal", "ShipServiceLevel", "IsPrime", "SalesChannel", "NumberOfItemsShipped",
                    "EarliestShipDate", "ShippingAddress")


def _orders_page_rule(edit: Callable[[dict], None]) -> Callable[[str, str, Answer], Answer]:
    def rule(method: str, path: str, answer: Answer) -> Answer:
        if path != "/orders/v0/orders" or answer.status != 200:
            return answer
        body = json.loads(answer.body)
        edit(body)
        return Answer(200, dict(answer.headers), json.dumps(body).encode())
    return rule


def _run_orders(env: PayloadEnv, name: str, monkeypatch) -> tuple[Path, dg.ExecuteInProcessResult]:
    config = env.config("us", orders_api="v0")
    db = env.copy_of_baseline(name)
    return db, env.materialize([_orders_asset(config)], config, db, D2, monkeypatch)


def test_orders_with_missing_optional_and_unknown_new_fields_are_all_kept(payload_env, tamper, monkeypatch) -> None:
    removed_from: list[str] = []

    def edit(body: dict) -> None:
        orders = body["payload"]["Orders"]
        for field in OPTIONAL_REMOVED:
            orders[0].pop(field, None)
        removed_from.append(orders[0]["AmazonOrderId"])
        for order in orders:
            order["BrandNewOrderField"] = {"Nested": [1, 2]}
        body["payload"]["BrandNewPayloadField"] = True

    tamper(_orders_page_rule(edit))
    db, result = _run_orders(payload_env, "orders-fields", monkeypatch)
    assert result.success, _failure_text(result)
    got, want = _rows(db, ORDERS, D2), _rows(payload_env.baseline, ORDERS, D2)
    assert got.height == want.height > 0 and got.columns == want.columns
    changed = _changed(got, want)
    assert changed["amazon_order_id"].to_list() == removed_from[:1]
    before = want.filter(pl.col("amazon_order_id") == removed_from[0]).row(0, named=True)
    after = changed.row(0, named=True)
    moved = {c for c in want.columns if before[c] != after[c]}
    assert moved and all(after[c] is None for c in moved), moved
    assert {"order_total_amount", "ship_service_level"} <= moved
    _assert_day_untouched(payload_env, db, ORDERS, D1)


def test_an_html_502_page_is_retried_and_a_200_html_page_fails_naming_the_call(
        payload_env, tamper, monkeypatch) -> None:
    served = {"html": 0}

    def flaky(method: str, path: str, answer: Answer) -> Answer:
        if path == "/orders/v0/orders" and served["html"] < 2:
            served["html"] += 1
            return Answer(502, {"content-type": "text/html"}, HTML_PAGE)
        return answer

    tamper(flaky)
    db, result = _run_orders(payload_env, "orders-html-502", monkeypatch)
    assert result.success, _failure_text(result)
    assert served["html"] == 2
    assert _rows(db, ORDERS, D2).equals(_rows(payload_env.baseline, ORDERS, D2))

    tamper(lambda m, p, a: Answer(200, {"content-type": "text/html"}, HTML_PAGE) if p == "/orders/v0/orders" else a)
    db, result = _run_orders(payload_env, "orders-html-200", monkeypatch)
    _assert_failed_and_untouched(payload_env, db, result, ORDERS, "getOrders", "not JSON (text/html)",
                                 "Service Temporarily Unavailable")
