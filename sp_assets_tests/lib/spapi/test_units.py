"""Pure pieces of the SP-API client: no HTTP. Endpoints, credentials, Secret, buckets, encoding, clamping."""

from __future__ import annotations

import logging
import pickle
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sp_assets.lib.marketplaces import by_code
from sp_assets.lib.spapi import pages
from sp_assets.lib.spapi.credentials import LWACredentials, from_env
from sp_assets.lib.spapi.endpoints import (
    AMAZON_SANDBOX_HOSTS,
    DEFAULT_TOKEN_URL,
    PRODUCTION_HOSTS,
    resolve_endpoint,
    validate_url,
)
from sp_assets.lib.spapi.errors import ConfigError, InvalidInputError, MissingCredentialsError
from sp_assets.lib.spapi.http import SPAPIClient, encode_query, iso_z, path_segment
from sp_assets.lib.spapi.quota import (
    OPERATIONS,
    PAGING,
    PageLimit,
    TokenBucket,
    page_cap,
    parse_rate_header,
    quota_for,
    unearned_refill,
)
from sp_assets.lib.spapi.redaction import Secret, get_logger, scrub
from sp_assets.lib.spapi.retry import RetryPolicy
from sp_assets.lib.spapi.stats import CallStats

# ------------------------------------------------------------------------------------------------
# endpoints


def test_production_host_per_region_and_default_token_url() -> None:
    for code, region in (("us", "NA"), ("de", "EU"), ("jp", "FE")):
        endpoint = resolve_endpoint(code, environ={})
        assert endpoint.base_url == PRODUCTION_HOSTS[region]
        assert endpoint.token_url == DEFAULT_TOKEN_URL == "https://api.amazon.com/auth/o2/token"
    assert resolve_endpoint("EU", environ={}).base_url == "https://sellingpartnerapi-eu.amazon.com"
    assert resolve_endpoint(by_code("uk"), environ={}).base_url == PRODUCTION_HOSTS["EU"]


def test_static_sandbox_and_custom_urls() -> None:
    assert resolve_endpoint("jp", "amazon_sandbox", environ={}).base_url == AMAZON_SANDBOX_HOSTS["FE"]
    custom = resolve_endpoint("us", "http://127.0.0.1:8123/", "http://127.0.0.1:8123/auth/o2/token", environ={})
    assert custom.base_url == "http://127.0.0.1:8123"
    assert custom.token_url == "http://127.0.0.1:8123/auth/o2/token"
    assert not custom.is_amazon


def test_env_overrides_every_marketplace() -> None:
    env = {"SP_API_ENDPOINT": "http://proxy.local:9000", "SP_API_TOKEN_URL": "http://proxy.local:9000/token"}
    for code in ("us", "de", "jp"):
        endpoint = resolve_endpoint(code, "https://other.example", "https://other.example/t", environ=env)
        assert endpoint.base_url == "http://proxy.local:9000"
        assert endpoint.token_url == "http://proxy.local:9000/token"


@pytest.mark.parametrize("bad", ["127.0.0.1:8000", "ftp://host", "http://", "http://host:99999", "",
                                 "http://host/?q=1", "http://ho st"])
def test_malformed_endpoint_names_the_field(bad: str) -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        validate_url(bad, "endpoint")
    if bad:  # an empty endpoint in configuration means "the production host"
        with pytest.raises(ConfigError, match="endpoint is not a valid URL"):
            resolve_endpoint("us", bad, environ={})


def test_malformed_env_endpoint_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SP_API_ENDPOINT"):
        resolve_endpoint("us", environ={"SP_API_ENDPOINT": "localhost:8000"})
    with pytest.raises(ConfigError, match="SP_API_TOKEN_URL"):
        resolve_endpoint("us", environ={"SP_API_TOKEN_URL": "not a url"})


def test_client_rejects_bad_endpoint_and_speed() -> None:
    creds = LWACredentials("id", Secret("secret-value-1"), Secret("Atzr|refresh-value-1"))
    with pytest.raises(ConfigError, match="endpoint"):
        SPAPIClient(creds, "sellingpartnerapi-na.amazon.com")
    with pytest.raises(ConfigError, match="speed"):
        SPAPIClient(creds, "http://127.0.0.1:1", speed=0)
    with pytest.raises(ConfigError, match="orders_before_margin"):
        SPAPIClient(creds, "http://127.0.0.1:1", orders_before_margin=timedelta(minutes=1))


# ------------------------------------------------------------------------------------------------
# credentials and Secret

BASE_ENV = {"LWA_APP_ID": "app-global", "LWA_CLIENT_SECRET": "secret-global", "SP_API_REFRESH_TOKEN": "Atzr|global"}


def test_credentials_precedence_marketplace_over_region_over_global() -> None:
    env = {**BASE_ENV, "SP_API_REFRESH_TOKEN_EU": "Atzr|eu-token", "SP_API_REFRESH_TOKEN_DE": "Atzr|de-token",
           "LWA_APP_ID_EU": "app-eu"}
    assert from_env("de", environ=env).refresh_token.reveal() == "Atzr|de-token"
    assert from_env("fr", environ=env).refresh_token.reveal() == "Atzr|eu-token"
    assert from_env("fr", environ=env).client_id == "app-eu"
    assert from_env("us", environ=env).refresh_token.reveal() == "Atzr|global"
    assert from_env("us", environ=env).client_id == "app-global"
    assert from_env("EU", environ=env).refresh_token.reveal() == "Atzr|eu-token"
    # The UK answers to both _UK and _GB; empty values count as missing.
    env_uk = {**BASE_ENV, "SP_API_REFRESH_TOKEN_GB": "Atzr|gb-token", "SP_API_REFRESH_TOKEN_UK": ""}
    assert from_env("uk", environ=env_uk).refresh_token.reveal() == "Atzr|gb-token"


def test_missing_credentials_name_the_variables() -> None:
    with pytest.raises(MissingCredentialsError) as caught:
        from_env("de", environ={"LWA_APP_ID": "x"})
    text = str(caught.value)
    assert "LWA_CLIENT_SECRET_DE or LWA_CLIENT_SECRET_EU or LWA_CLIENT_SECRET" in text
    assert "SP_API_REFRESH_TOKEN_DE" in text and "SP_API_REFRESH_TOKEN" in text
    assert "LWA_APP_ID" not in text.replace("LWA_APP_ID_", "")  # the one that was found is not listed


def test_secret_never_prints() -> None:
    secret = Secret("Atzr|super-secret-refresh")
    creds = LWACredentials("amzn1.app", secret, Secret("client-secret-value"))
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr(creds), str(creds), "{}".format(secret)):  # noqa: UP032
        assert "super-secret" not in text and "client-secret-value" not in text
    assert secret.reveal() == "Atzr|super-secret-refresh"
    assert secret == Secret("Atzr|super-secret-refresh") and secret != Secret("other-value-xx")
    assert len(creds.fingerprint) == 16 and "Atzr" not in creds.fingerprint
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_scrub_and_logger_filter(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("Atza|an-access-token-value")
    assert scrub("token=Atza|an-access-token-value;") == "token=***;"
    logger = get_logger("sp_assets.lib.spapi.test_units")
    with caplog.at_level(logging.DEBUG, logger="sp_assets.lib.spapi.test_units"):
        logger.debug("careless %s", secret.reveal())
    assert "an-access-token-value" not in caplog.text and "careless ***" in caplog.text


def test_error_messages_are_scrubbed() -> None:
    Secret("Atzr|echoed-refresh-token")
    error = InvalidInputError(status=400, operation="getOrders", method="GET", path="/x",
                              errors=[{"code": "InvalidInput", "message": "bad Atzr|echoed-refresh-token"}],
                              request_id="rid-1")
    assert "echoed-refresh-token" not in str(error)
    assert "rid-1" in str(error) and "InvalidInput" in str(error)


# ------------------------------------------------------------------------------------------------
# token bucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.5)  # the 4th waits one refill interval
    assert bucket.acquire() == pytest.approx(0.5)
    clock.now += 10  # a long pause refills to the burst, never beyond
    assert bucket.available() == pytest.approx(3.0)


def test_bucket_reservations_queue_callers() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(4)]
    assert waits == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_bucket_drain_and_rate_update() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=5, clock=clock, sleep=clock.sleep)
    bucket.drain()
    assert bucket.reserve() == pytest.approx(1.0)
    bucket.set_rate(4.0)
    assert bucket.reserve() == pytest.approx(0.5)  # -2 tokens at 4/s
    with pytest.raises(ValueError):
        bucket.set_rate(0)


def paced_calls_refused(settle: bool, first_in_flight: float, calls: int = 40) -> int:
    """Calls a sandbox bucket refuses when our client paces ``calls`` calls at its margin.

    The first call's request takes ``first_in_flight`` seconds to reach the server (a cold start);
    every other reaches it at once. With ``settle`` the client debits ``unearned_refill`` after each
    answer, as ``_Call.run`` does.
    """
    from sp_assets.sandbox.quota import TokenBucket as ServerBucket

    clock = FakeClock()
    ours = TokenBucket(rate=5.6, burst=20, clock=clock, sleep=clock.sleep)
    server = ServerBucket(rate=5.6, burst=20, clock=clock)
    refused = 0
    for number in range(calls):
        level = ours.available()
        waited = ours.acquire()
        in_flight = first_in_flight if number == 0 else 0.01
        sent = clock.now
        clock.now += in_flight  # the server meters the call on arrival and answers at once
        refused += not server.try_take()
        if settle:
            ours.debit(unearned_refill(level if not waited else 1.0, ours.rate, ours.burst, clock.now - sent))
        clock.now += 0.02  # the client handles the page before the next call
    return refused


def test_a_slow_first_call_from_a_full_bucket_does_not_make_a_later_call_early() -> None:
    """Issue 20's one 429 of 44: counting the first token as taken at the send, our bucket refilled
    0.46 s before the server's (full, so capped) did; settling after the answer keeps it behind."""
    assert paced_calls_refused(settle=False, first_in_flight=0.46) >= 1
    assert paced_calls_refused(settle=True, first_in_flight=0.46) == 0
    assert unearned_refill(3.0, 2.0, 10, 1.0) == 0.0  # far below the cap: steady pacing is unchanged
    assert unearned_refill(10.0, 2.0, 10, 0.2) == pytest.approx(0.4)
    assert unearned_refill(10.0, 2.0, 10, 5.0) == 1.0  # never more than the one token the call took


def test_bucket_is_thread_safe() -> None:
    bucket = TokenBucket(rate=1e-6, burst=50)
    results: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(10):
            wait = bucket.reserve()
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=take) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for w in results if w == 0.0) == 50


def test_rate_table_and_header() -> None:
    assert quota_for("getOrders").rate == 0.0167 and quota_for("getOrders").burst == 20
    assert quota_for("getOrderItems").rate == 0.5 and quota_for("getOrderItems").burst == 30
    assert quota_for("getPricing").burst == 1 and quota_for("getInventorySummaries").rate == 2
    assert {q.family for q in OPERATIONS.values()} >= {"orders", "reports", "pricing", "catalog", "inventory"}
    with pytest.raises(KeyError, match="unknown SP-API operation"):
        quota_for("getNothing")
    assert parse_rate_header("0.0167") == 0.0167
    assert parse_rate_header(None) is None and parse_rate_header("abc") is None and parse_rate_header("-1") is None


def test_retry_policy_bounds() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for n in range(1, 10):
        d = policy.delay(n)
        exp = min(8.0, 2 ** (n - 1))
        assert exp / 2 <= d <= exp
    assert policy.delay(3, speed=1000) <= 0.004
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


# ------------------------------------------------------------------------------------------------
# query encoding


def test_encode_query_csv_dates_bools_and_escaping() -> None:
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    query = encode_query({
        "MarketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
        "CreatedAfter": when,
        "details": True,
        "Skus": ['a b', 'x+y', 'p/q', 'h#1', 'say "hi"', 'c,d'],
        "Skip": None,
        "Empty": [],
    })
    assert query.startswith("MarketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2&CreatedAfter=2024-05-01T12%3A00%3A00Z")
    assert "details=true" in query
    assert "Skus=a%20b,x%2By,p%2Fq,h%231,say%20%22hi%22,c%2Cd" in query
    assert "Skip" not in query and "Empty" not in query
    with pytest.raises(ValueError, match="CreatedAfter"):
        encode_query({"CreatedAfter": datetime(2024, 1, 1)})
    assert path_segment("a/b #") == "a%2Fb%20%23"


def test_iso_z() -> None:
    assert iso_z(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2024-01-02T01:04:05Z"
    assert iso_z(datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == "2024-01-02T03:04:05.120Z"


# ------------------------------------------------------------------------------------------------
# pagination styles (parsing only)


def test_token_styles() -> None:
    original = {"MarketplaceIds": ["X"], "CreatedAfter": "t"}
    assert pages.ORDERS_V0.read_token({"payload": {"NextToken": "n1"}}) == "n1"
    assert pages.ORDERS_V0.next_params(original, "n1") == {**original, "NextToken": "n1"}
    assert pages.REPORTS.next_params({"reportTypes": ["A"]}, "r1") == {"nextToken": "r1"}
    assert pages.FBA_INVENTORY.read_token({"payload": {}, "pagination": {"nextToken": "i"}}) == "i"
    assert pages.FBA_INVENTORY.next_params({"startDateTime": "s"}, "i") == {"startDateTime": "s", "nextToken": "i"}
    assert pages.CATALOG_2022.next_params({}, "c") == {"pageToken": "c"}
    assert pages.ORDERS_2026.next_params({}, "o") == {"paginationToken": "o"}
    assert pages.OUTBOUND_2020.read_token({"payload": {"nextToken": "f"}}) == "f"
    assert pages.INBOUND_V0.next_params({"QueryType": "DATE_RANGE", "MarketplaceId": "M"}, "b") == {
        "QueryType": "NEXT_TOKEN", "MarketplaceId": "M", "NextToken": "b"}


def test_call_stats_snapshot_since_reset() -> None:
    stats = CallStats()
    stats.record("orders", calls=2, retries=1, quota_wait_seconds=0.25)
    before = stats.snapshot()
    stats.record("orders", calls=1, throttled=1)
    stats.record("reports", calls=1)
    diff = stats.since(before).as_dict()
    assert diff["orders"]["calls"] == 1 and diff["orders"]["throttled"] == 1 and diff["orders"]["retries"] == 0
    assert stats.as_dict()["total"]["calls"] == 4
    stats.reset()
    assert stats.as_dict() == {"total": stats.total().as_dict()} and stats.total().calls == 0


def client_for_marketplace(code: str, *, environ: dict[str, str], endpoint: str | None = None) -> SPAPIClient:
    """A client the way the code location builds one: credentials and endpoint from the environment."""
    market = by_code(code)
    endpoint_of_market = resolve_endpoint(market, endpoint=endpoint, environ=environ)
    return SPAPIClient(from_env(market, environ=environ), endpoint_of_market, marketplace=market)


def test_a_client_from_env_reads_env_and_knows_amazon_sandbox_quota() -> None:
    env = {**BASE_ENV, "SP_API_REFRESH_TOKEN_DE": "Atzr|de-only-token"}
    client = client_for_marketplace("de", environ=env)
    assert client.endpoint.base_url == PRODUCTION_HOSTS["EU"] and client.marketplace == by_code("de")
    assert client.credentials.refresh_token.reveal() == "Atzr|de-only-token"
    assert client.bucket("getOrders").rate == pytest.approx(0.0167)
    static = client_for_marketplace("jp", endpoint="amazon_sandbox", environ=BASE_ENV)
    assert static.endpoint.base_url == AMAZON_SANDBOX_HOSTS["FE"]
    assert (static.bucket("getOrders").rate, static.bucket("getOrders").burst) == (5.0, 15)
    proxied = client_for_marketplace("us", environ={**BASE_ENV, "SP_API_ENDPOINT": "http://127.0.0.1:9"})
    assert proxied.endpoint.base_url == "http://127.0.0.1:9" and proxied.endpoint.token_url == DEFAULT_TOKEN_URL
    with pytest.raises(MissingCredentialsError, match="SP_API_REFRESH_TOKEN_US"):
        client_for_marketplace("us", environ={"LWA_APP_ID": "a", "LWA_CLIENT_SECRET": "b"})


class _RepeatingServer:
    """A stand-in for the client whose server repeats its continuation token (docs#2090)."""

    def __init__(self) -> None:
        self.queries: list[dict] = []

    def request(self, operation: str, method: str, path: str, params=None, json=None) -> dict:
        self.queries.append(dict(params or {}))
        return {"payload": {"Orders": [{"n": len(self.queries)}], "NextToken": "same-token"}}

    def page_limit(self, operation: str) -> PageLimit | None:
        return PAGING.get(operation)


def test_repeated_token_stops_pagination_with_an_error() -> None:
    from sp_assets.lib.spapi import PaginationError

    server = _RepeatingServer()
    seen = []
    with pytest.raises(PaginationError, match="repeated"):
        for record in pages.iter_records(server, "getOrders", "/orders/v0/orders",  # type: ignore[arg-type]
                                         {"MarketplaceIds": ["X"]}, pages.ORDERS_V0, pages.payload_list("Orders")):
            seen.append(record["n"])
    assert seen == [1, 2]
    assert server.queries == [{"MarketplaceIds": ["X"]}, {"MarketplaceIds": ["X"], "NextToken": "same-token"}]


class _EndlessServer(_RepeatingServer):
    """A server handing out a new continuation token every page (issue 18: 475 pages until it expired)."""

    def request(self, operation: str, method: str, path: str, params=None, json=None) -> dict:
        self.queries.append(dict(params or {}))
        if len(self.queries) > 5_000:
            raise AssertionError("paged 5,000 times without stopping")
        return {"payload": {"Orders": [], "NextToken": f"token-{len(self.queries)}"}}


def test_a_new_token_every_page_stops_at_the_cap_of_the_window() -> None:
    from sp_assets.lib.spapi import PaginationError

    server = _EndlessServer()
    after = datetime(2026, 3, 1, 8, tzinfo=UTC)
    params = {"MarketplaceIds": ["X"], "CreatedAfter": after, "CreatedBefore": after + timedelta(days=1),
              "MaxResultsPerPage": 100}
    with pytest.raises(PaginationError) as stopped:
        list(pages.iter_records(server, "getOrders", "/orders/v0/orders",  # type: ignore[arg-type]
                                params, pages.ORDERS_V0, pages.payload_list("Orders")))
    cap = page_cap(PAGING["getOrders"], 1.0, 100)
    assert cap == 200 and len(server.queries) == cap
    message = str(stopped.value)
    assert message.startswith("getOrders: still a continuation token after 200 pages")
    assert "2026-03-01T08:00:00Z to 2026-03-02T08:00:00Z (1.00 days)" in message and "page_size=100" in message


def test_the_page_cap_grows_with_the_window_and_the_smaller_page_size() -> None:
    orders = PAGING["getOrders"]
    assert page_cap(orders, 7.0) == 7 * page_cap(orders, 1.0) == 1400
    assert page_cap(orders, 0.01) == page_cap(orders, 1.0)  # a short window still gets a day's worth
    assert page_cap(orders, 1.0, page_size=50) == 400
    assert page_cap(PAGING["searchCatalogItems"], None) == 100  # Amazon's 1,000 results, 20 a page, x2
    assert page_cap(PageLimit(page_size=100, total=10), None) == 10  # never below MIN_PAGE_CAP


def test_credential_id_has_no_secret() -> None:
    """The id that names pools and goes into metadata never carries the secret or the refresh token."""
    client = SPAPIClient(LWACredentials("id", Secret("secret-value-2"), Secret("Atzr|refresh-for-pool")),
                         "http://127.0.0.1:1")
    name = client.credential_id
    assert name and "refresh" not in name and "secret" not in name and "Atzr" not in name
