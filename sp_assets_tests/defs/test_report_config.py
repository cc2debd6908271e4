"""The ``reports:`` configuration: defaults from the catalog (listed in marketplaces.yaml), additive per marketplace.

Error cases that load the whole code location are in ``reliability/test_bad_config.py``; these are
the rules of the list itself, checked on ``parse_config``.
"""

from __future__ import annotations

import pytest
import yaml

from sp_assets.defs.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_REPORTS,
    ConfigError,
    ReportConfig,
    parse_config,
)
from sp_assets.lib.reports import catalog

DEFAULT_TABLES = ["all_orders_report", "merchant_listings", "fba_inventory", "ledger_summary", "customer_returns",
                  "sales_and_traffic", "settlements"]
STORAGE = {"type": catalog.STORAGE_FEES, "table": "storage_fees"}


def reports_of(us: dict | None = None, **defaults) -> tuple[ReportConfig, ...]:
    return parse_config({"defaults": defaults, "marketplaces": {"us": us or {}}}).get("us").reports


def test_without_a_reports_list_the_catalogs_seven_defaults_apply() -> None:
    reports = reports_of()
    assert [r.table for r in reports] == DEFAULT_TABLES
    assert [r.report_type for r in reports] == [row.name for row in catalog.defaults()]
    ledger = reports[3]
    assert ledger.options == {"aggregateByLocation": "COUNTRY", "aggregatedByTimePeriod": "DAILY"}
    assert ledger.quote_char == "" and reports[5].by == ("date", "asin")


def test_marketplaces_yaml_lists_the_same_defaults_where_a_user_sees_them() -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    assert len(data["defaults"]["reports"]) == len(DEFAULT_REPORTS) == 7
    assert reports_of(reports=data["defaults"]["reports"]) == reports_of(), "the file and the catalog agree"


def test_a_marketplace_list_adds_to_the_defaults() -> None:
    reports = reports_of({"reports": [STORAGE]})
    assert [r.table for r in reports] == [*DEFAULT_TABLES, "storage_fees"]
    assert reports[-1] == ReportConfig(catalog.STORAGE_FEES, "storage_fees", {}, '"', ())


def test_the_same_table_replaces_that_default_in_its_place() -> None:
    reports = reports_of({"reports": [{"type": "GET_FBA_MYI_ALL_INVENTORY_DATA", "table": "fba_inventory"}]})
    assert [r.table for r in reports] == DEFAULT_TABLES
    assert reports[2].report_type == "GET_FBA_MYI_ALL_INVENTORY_DATA" and reports[2].quote_char == '"'


def test_enabled_false_drops_a_default() -> None:
    reports = reports_of({"reports": [{"table": "settlements", "enabled": False}, STORAGE]})
    assert [r.table for r in reports] == [*DEFAULT_TABLES[:-1], "storage_fees"]


def test_defaults_reports_replace_the_catalogs_and_an_empty_list_means_none() -> None:
    assert reports_of(reports=[]) == ()
    assert [r.table for r in reports_of({"reports": [STORAGE]}, reports=[])] == ["storage_fees"]
    base = reports_of({}, reports=[STORAGE])
    assert [r.table for r in base] == ["storage_fees"]


@pytest.mark.parametrize(("us", "defaults", "message"), [
    ({"reports": [{"table": "settlement", "enabled": False}]}, {},
     r"marketplaces\.us\.reports\[0\]\.table: 'settlement' is not a default report.*allowed: all_orders_report"),
    ({"reports": [{"type": catalog.STORAGE_FEES, "enabled": False}]}, {},
     r"marketplaces\.us\.reports\[0\]\.table: enabled: false needs the table"),
    ({"reports": [{"table": "settlements", "enabled": "no"}]}, {},
     r"marketplaces\.us\.reports\[0\]\.enabled: 'no' must be true or false"),
    ({"reports": [{"type": "GET_FBA_STORAGE_FEES_DATA"}]}, {},
     r"marketplaces\.us\.reports\[0\]\.type: .*did you mean GET_FBA_STORAGE_FEE_CHARGES_DATA"),
    ({"reports": [{"type": catalog.STORAGE_FEES, "table": "sales_and_traffic_by_date"}]}, {},
     r"marketplaces\.us\.reports\[0\]\.table: table 'sales_and_traffic_by_date' is written by two report entries"),
    ({}, {"reports": [{"type": catalog.LEDGER_SUMMARY, "options": {"aggregateByLocation": "STATE"}}]},
     r"defaults\.reports\[0\]\.options\.aggregateByLocation: 'STATE' is not allowed .* allowed: COUNTRY, FC"),
    ({"reports": {"type": catalog.STORAGE_FEES}}, {}, r"marketplaces\.us\.reports: must be a list"),
    ({"reports": [{"type": "GET_FBA_SNS_PERFORMANCE_DATA"}]}, {},
     r"marketplaces\.us\.reports\[0\]\.type: GET_FBA_SNS_PERFORMANCE_DATA is no longer offered: Amazon removed it "
     r"on 2025-12-11; remove the entry"),
])
def test_report_list_errors_name_the_field_and_what_is_allowed(us: dict, defaults: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        reports_of(us, **defaults)
