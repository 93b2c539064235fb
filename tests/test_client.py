"""The Cartum client against the sandbox, over real sockets."""

import logging
import random
import threading
import time
from datetime import datetime, timedelta

import pytest

from cartum_api import (
    CartumAnswerError,
    CartumApiUnavailable,
    CartumAuthError,
    CartumBadResponse,
    CartumClient,
    CartumConnectionError,
    CartumError,
    CartumRedirect,
    CartumUndefinedFunction,
    InvalidOrder,
)
from cartum_api.client import RateLimiter
from cartum_sandbox import CartumSandbox, SandboxStore


def add_orders(store, count, start=1001, created=None):
    created = created or datetime(2026, 11, 1, 10, 0, 0)
    for offset in range(count):
        store.add_order(
            start + offset,
            lines=[("DSP-1", 1), ("BAT-1", 2)],
            created=created + timedelta(minutes=offset),
        )


# -- answers and tokens --------------------------------------------------------------------------


def test_token_is_reused_across_calls(store, make_client):
    add_orders(store, 2)
    client = make_client()
    client.get_orders([1001])
    client.get_orders([1002])
    assert store.requests.count("auth") == 1
    assert store.requests.count("orders/get") == 2


def test_token_renewed_shortly_before_expiry(store, make_client):
    now = [1000.0]
    client = make_client(clock=lambda: now[0])
    client.list_currencies()
    now[0] += 600 - 61  # still more than the renewal margin left
    client.list_currencies()
    assert store.requests.count("auth") == 1
    now[0] += 2  # inside the margin: renew before the store would refuse it
    client.list_currencies()
    assert store.requests.count("auth") == 2


def test_token_renewed_once_on_unauthorized(store, make_client):
    client = make_client()
    client.list_currencies()
    store.expire_tokens()
    assert client.list_currencies()[0].iso == "UAH"
    assert store.requests == [
        "auth",
        "currency/export",
        "currency/export",
        "auth",
        "currency/export",
    ]


def test_shortened_token_lifetime_is_survived(store, make_client):
    store.token_lifetime = 0.05
    client = make_client()
    client.list_currencies()
    time.sleep(0.1)
    client.list_currencies()
    assert store.requests.count("auth") == 2


def test_bad_login_raises_auth_error_without_secrets(sandbox, caplog):
    client = CartumClient(
        sandbox.base_url,
        "api",
        "wrong-password-123",
        backoff_base=0.01,
        allow_local_addresses=True,
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CartumAuthError) as raised:
        client.list_currencies()
    assert "'api'" in str(raised.value)
    assert "wrong-password-123" not in str(raised.value)
    assert "wrong-password-123" not in caplog.text
    assert "wrong-password-123" not in repr(client)


def test_token_and_password_never_logged(store, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    store.faults.fail_next(2)
    client = make_client()
    client.list_currencies()
    token = client._tokens.token
    assert token
    assert token not in caplog.text
    assert "s3cret-pass" not in caplog.text


def test_empty_is_success_without_data(make_client):
    client = make_client()
    pages = list(client.list_orders(created_from=datetime(2020, 1, 1)))
    assert len(pages) == 1
    assert pages[0].items == [] and pages[0].errors == []


def test_error_answer_raises_with_cartum_message(make_client):
    client = make_client()
    with pytest.raises(CartumAnswerError, match="orders/update: Cartum answered ERROR"):
        client.call("orders/update", {"orders": []})


def test_exception_answer_raises_with_cartum_message(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "EXCEPTION", "Internal store error")
    with pytest.raises(CartumAnswerError, match="EXCEPTION: Internal store error") as raised:
        client.list_currencies()
    assert raised.value.status == "EXCEPTION"


def test_authorization_error_on_a_call_renews_the_token_once(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "AUTHORIZATION_ERROR", "Token revoked")
    assert client.list_currencies()
    assert store.requests.count("auth") == 2
    store.faults.envelope_next(5, "UNAUTHORIZED", "Nope")
    before = len(store.requests)
    with pytest.raises(CartumAuthError, match="Nope"):
        client.list_currencies()
    # One try, one new token asked for (refused too), and no loop.
    assert store.requests[before:] == ["currency/export", "auth"]


def test_unknown_answer_status_is_a_bad_response(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "MAYBE")
    with pytest.raises(CartumBadResponse, match="unknown answer status 'MAYBE'"):
        client.list_currencies()


def test_undefined_function_is_typed(store, make_client):
    store.supports_statuses = False
    client = make_client()
    with pytest.raises(CartumUndefinedFunction) as raised:
        client.list_statuses()
    assert raised.value.function == "orders/get_available_statuses"


def test_unknown_function_is_undefined(make_client):
    with pytest.raises(CartumUndefinedFunction):
        make_client().call("no/such_function")


def test_api_not_in_plan(store, make_client):
    store.api_enabled = False
    with pytest.raises(CartumApiUnavailable, match="plan"):
        make_client().list_currencies()


def test_unreachable_store():
    client = CartumClient(
        "http://127.0.0.1:9",
        "api",
        "pw",
        max_attempts=2,
        backoff_base=0.01,
        connect_timeout=1,
        allow_local_addresses=True,
    )
    with pytest.raises(CartumConnectionError, match="refused") as raised:
        client.list_currencies()
    # Why, as a key the addon turns into a sentence in the user's language.
    assert (raised.value.reason, raised.value.attempts) == ("refused", 2)


def test_https_to_a_store_served_over_http(sandbox):
    """An address typed without its scheme becomes https://: a store that answers only http
    fails its secure connection, and says so, not "the connection was dropped"."""
    url = sandbox.base_url.replace("http://", "https://")
    client = CartumClient(
        url, "api", "s3cret-pass", max_attempts=1, connect_timeout=2, allow_local_addresses=True
    )
    with pytest.raises(CartumConnectionError, match="secure") as raised:
        client.list_currencies()
    assert raised.value.reason == "tls"


@pytest.fixture
def elsewhere():
    """Another host's server, where a redirect may point: it must never hear of the login."""
    other = SandboxStore(login="api", password="s3cret-pass")
    with CartumSandbox(other) as server:
        yield server


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed_and_names_the_new_address(store, make_client, elsewhere, status):
    target = f"{elsewhere.base_url}/api/auth/"
    store.faults.redirect_next(1, target, status=status)
    with pytest.raises(CartumRedirect) as caught:
        make_client().list_currencies()
    error = caught.value
    assert (error.status_code, error.location) == (status, target)
    assert error.suggested_url == elsewhere.base_url and not error.to_https
    assert f"redirect to {target}" in str(error)
    assert f"use {elsewhere.base_url} as its website URL" in str(error)
    assert "s3cret-pass" not in str(error)
    # Neither the login nor anything else went to the other host; nothing was asked twice.
    assert elsewhere.store.requests == []
    assert store.requests == ["auth"]


def test_redirect_from_http_to_https_asks_for_the_https_address(store, make_client, sandbox):
    https_url = sandbox.base_url.replace("http://", "https://")
    store.faults.redirect_next(1, f"{https_url}/api/auth/", status=301)
    with pytest.raises(CartumRedirect, match=f"moved to https: use {https_url} as its") as caught:
        make_client().authenticate()
    assert caught.value.to_https and caught.value.suggested_url == https_url


def test_redirect_to_a_relative_or_foreign_address(store, make_client, sandbox):
    store.faults.redirect_next(1, "/login/?next=/api/auth/", status=302)
    with pytest.raises(CartumRedirect, match="not the address of a store's API") as caught:
        make_client().authenticate()
    assert caught.value.location == f"{sandbox.base_url}/login/?next=/api/auth/"
    assert caught.value.suggested_url is None
    store.faults.redirect_next(1, "file:///etc/passwd", status=307)
    with pytest.raises(CartumRedirect, match="redirect to file:///etc/passwd"):
        make_client().authenticate()
    store.faults.redirect_next(1, "https://x.example/" + "a" * 5000, status=307)
    with pytest.raises(CartumRedirect) as caught:
        make_client().authenticate()
    assert len(caught.value.location) < 300 and len(str(caught.value)) < 800


def test_redirect_without_address(store, make_client):
    store.faults.redirect_next(1, "", status=302)
    with pytest.raises(CartumRedirect, match="HTTP 302, a redirect without an address"):
        make_client().authenticate()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("file:///etc", "InvalidSchema"),
        ("ftp://127.0.0.1:9", "InvalidSchema"),
        ("http://[::1", "InvalidURL"),
        ("http://", "InvalidURL"),
        ("http://a..b", "LocationParseError"),
    ],
)
def test_an_address_requests_cannot_use_is_a_cartum_error(url, kind):
    client = CartumClient(
        url, "api", "pw", max_attempts=3, backoff_base=0.01, allow_local_addresses=True
    )
    with pytest.raises(CartumError, match=f"request could not be sent \\({kind}: ") as caught:
        client.authenticate()
    assert "pw" not in str(caught.value).replace(url, "")
    client.close()


# -- functions -----------------------------------------------------------------------------------


def test_list_orders_pages_by_window_and_status(store, make_client):
    add_orders(store, 7)
    store.set_status(1003, 3)
    client = make_client()
    pages = list(
        client.list_orders(
            created_from=datetime(2026, 11, 1, 10, 1, 0),
            created_to=datetime(2026, 11, 1, 10, 5, 0),
            statuses=[1, 2],
            page_size=2,
        )
    )
    ids = [order.order_id for page in pages for order in page.items]
    assert ids == [1002, 1004, 1005, 1006]
    assert [len(page.items) for page in pages] == [2, 2, 0]


def test_order_fields_are_parsed(store, make_client):
    store.add_order(
        1001,
        lines=[("DSP-1", 2, 1100.0)],
        created=datetime(2026, 11, 2, 9, 30, 15),
        customer_name="Олена Петренко",
        phone="+380 67 123 45 67",
        email="olena@example.com",
        delivery_price=70.0,
        address="вул. Хрещатик, 1",
    )
    order = make_client().get_orders([1001]).items[0]
    assert order.order_id == 1001
    assert order.created == datetime(2026, 11, 2, 9, 30, 15)
    assert order.currency == "UAH"
    assert (order.customer.first_name, order.customer.last_name) == ("Олена", "Петренко")
    assert order.customer.email == "olena@example.com"
    assert order.delivery.price == 70.0
    assert order.delivery.address == "вул. Хрещатик, 1"
    assert order.total_sum == 2200.0
    line = order.lines[0]
    assert (line.article, line.title, line.price, line.quantity) == ("DSP-1", "Дисплей", 1100.0, 2)


def test_digest_changes_with_the_order(store, make_client):
    add_orders(store, 1)
    client = make_client()
    before = client.get_orders([1001]).items[0].digest
    assert client.get_orders([1001]).items[0].digest == before
    store.set_line_quantity(1001, "DSP-1", 3)
    assert client.get_orders([1001]).items[0].digest != before


def test_page_with_one_bad_order_keeps_the_rest(store, make_client):
    add_orders(store, 3)
    store.edit_order(1002, stat_created="yesterday-ish")
    page = make_client().get_orders([1001, 1002, 1003])
    assert [order.order_id for order in page.items] == [1001, 1003]
    assert len(page.errors) == 1
    error = page.errors[0]
    assert isinstance(error, InvalidOrder)
    assert (error.record_id, error.field) == (1002, "stat_created")
    assert "Order 1002" in str(error) and "stat_created" in str(error)


def test_service_line_without_article_is_kept(store, make_client):
    store.add_order(
        1001,
        lines=[("DSP-1", 1), {"title": "Diagnostics", "quantity": 1, "price": 200}],
    )
    order = make_client().get_orders([1001]).items[0]
    assert [(line.article, line.title, line.total_price) for line in order.lines] == [
        ("DSP-1", "Дисплей", 1200.0),
        ("", "Diagnostics", 200.0),
    ]
    assert order.total_sum == 1400.0
    assert order.skipped_lines == ()


def test_odd_lines_are_skipped_and_described(store, make_client):
    store.add_order(1001, lines=[("DSP-1", 1)])
    good = store.orders[1001]["products"][0]
    store.edit_order(
        1001,
        products=[
            good,
            "not a line",
            {**good, "title": "Gift box", "quantity": "abc"},
            {**good, "quantity": -1},
            {**good, "article": "", "title": ""},
            {**good, "price": "free"},
            {**good, "title": {"ua": "a"}},
        ],
    )
    page = make_client().get_orders([1001])
    assert page.errors == []
    order = page.items[0]
    assert [line.article for line in order.lines] == ["DSP-1"]
    assert order.skipped_lines == (
        "products[1]: is not an object: 'not a line'",
        "products[2] ('Gift box'): field 'quantity' is not a number: 'abc'",
        "products[3] ('Дисплей'): field 'quantity' is negative: -1",
        "products[4]: has no article and no title",
        "products[5] ('Дисплей'): field 'price' is not a number: 'free'",
        "products[6] ('DSP-1'): field 'title' is not text: {'ua': 'a'}",
    )


def test_line_of_quantity_zero_keeps_its_price(store, make_client):
    store.add_order(1001, lines=[("DSP-1", 0, 999), ("BAT-1", 2)])
    del store.orders[1001]["products"][1]["total_price"]
    lines = make_client().get_orders([1001]).items[0].lines
    assert [(line.quantity, line.price, line.total_price) for line in lines] == [
        (0, 999.0, 0.0),
        (2, 450.5, 901.0),  # total_price missing: price times quantity
    ]


def test_same_article_at_two_prices(store, make_client):
    store.add_order(1001, lines=[("DSP-1", 1, 1000), ("DSP-1", 2, 1200)])
    order = make_client().get_orders([1001]).items[0]
    assert [(line.article, line.price) for line in order.lines] == [
        ("DSP-1", 1000.0),
        ("DSP-1", 1200.0),
    ]
    assert order.total_sum == 3400.0


def test_wrong_type_in_an_order_refuses_only_that_order(store, make_client):
    add_orders(store, 2)
    store.edit_order(1001, stat_status="new")
    store.edit_order(1002, total_sum="a lot")
    page = make_client().get_orders([1001, 1002])
    assert page.items == []
    assert [(error.record_id, error.field) for error in page.errors] == [
        (1001, "stat_status"),
        (1002, "total_sum"),
    ]
    assert "is not a number: 'a lot'" in str(page.errors[1])


def test_get_orders_batches_under_body_limit(store, make_client):
    add_orders(store, 300)
    store.faults.max_body_bytes = 1_000
    client = make_client(max_body_bytes=900, max_ids_per_request=1000)
    page = client.get_orders(range(1001, 1301))
    assert len(page.items) == 300
    assert store.requests.count("orders/get") > 1


def test_oversized_body_is_refused_by_sandbox(store, make_client):
    add_orders(store, 300)
    store.faults.max_body_bytes = 1_000
    client = make_client(max_body_bytes=100_000, max_ids_per_request=1000, max_attempts=2)
    with pytest.raises(CartumConnectionError, match="dropped"):
        client.get_orders(range(1001, 1301))


def test_statuses_keyed_object_with_custom_status(store, make_client):
    store.add_status(7, {"ua": "Очікує запчастину", "en": "Waiting for part"})
    statuses = {status.status_id: status for status in make_client().list_statuses()}
    assert statuses[7].title("ua") == "Очікує запчастину"
    assert statuses[3].is_successful
    assert not statuses[1].is_successful


def test_update_statuses_ok_and_warning(store, make_client):
    add_orders(store, 3)
    store.set_status(1003, 4)  # cancelled orders cannot be edited in Cartum
    results = make_client().update_statuses(
        [
            {"order_id": 1001, "status": 2},
            {"order_id": 1002, "status": 6},
            {"order_id": 1003, "status": 2},
        ]
    )
    assert [(r.order_id, r.ok) for r in results] == [(1001, True), (1002, True), (1003, False)]
    assert all(result.delivered for result in results)
    assert results[2].message
    assert [(u["order_id"], u["status"]) for u in store.status_updates] == [(1001, 2), (1002, 6)]


def test_failed_batch_keeps_earlier_results_and_stops(store, make_client, caplog):
    add_orders(store, 250)
    store.faults.fail_call("orders/update", nth=2, message="Store is busy")
    updates = [{"order_id": order_id, "status": 2} for order_id in range(1001, 1251)]
    results = make_client().update_statuses(updates)
    assert [result.order_id for result in results] == list(range(1001, 1251))
    assert all(result.ok and result.delivered for result in results[:100])
    for result in results[100:]:  # the refused batch and the one never sent
        assert (result.ok, result.delivered) == (False, False)
        assert result.message == "orders/update: Cartum answered ERROR: Store is busy"
    assert store.requests.count("orders/update") == 2
    assert [update["order_id"] for update in store.status_updates] == list(range(1001, 1101))
    assert "150 status update(s) not delivered" in caplog.text


def test_first_batch_failing_returns_undelivered_results(store, make_client):
    add_orders(store, 2)
    store.faults.fail_next(10)
    results = make_client(max_attempts=2).update_statuses(
        [{"order_id": 1001, "status": 2}, {"order_id": 1002, "status": 2}]
    )
    assert [(r.ok, r.delivered) for r in results] == [(False, False), (False, False)]
    assert "HTTP 503, after 2 attempt(s)" in results[0].message
    assert store.status_updates == []


def test_catalog_export_by_article(store, make_client):
    for number in range(600):
        store.add_product(
            f"GEN-{number:04d}", {"ua": f"Товар {number}", "en": f"Item {number}"}, 10
        )
    client = make_client()
    products = [
        p
        for page in client.export_catalog([f"GEN-{n:04d}" for n in range(550)])
        for p in page.items
    ]
    assert len(products) == 550
    assert store.requests.count("catalog/export") == 2
    first = products[0]
    assert first.titles["ua"] == "Товар 0"
    assert first.titles["ru"] == ""  # a language switched off in the store


def test_catalog_category_path_and_availability(make_client):
    product = next(make_client().export_catalog(["DSP-1"])).items[0]
    assert product.category_path == ("Запчастини", "Дисплеї")
    assert product.category_name == "Дисплеї"
    assert product.availability == "В наявності"


@pytest.mark.parametrize(
    ("parent", "presence", "path", "shown"),
    [
        ({"id": 5, "value": "Запчастини / Дисплеї"}, 1, ("Запчастини", "Дисплеї"), "1"),
        ("Аксесуари", False, ("Аксесуари",), "0"),
        (None, {"ua": "", "en": "In stock"}, (), "In stock"),
        ("", None, (), ""),
    ],
)
def test_catalog_parent_and_presence_shapes(store, make_client, parent, presence, path, shown):
    store.products["DSP-1"].update(parent=parent, presence=presence)
    product = next(make_client().export_catalog(["DSP-1"])).items[0]
    assert (product.category_path, product.availability) == (path, shown)


def test_removed_product_leaves_the_catalog(store, make_client):
    store.remove_product("BAT-1")
    articles = [p.article for page in make_client().export_catalog() for p in page.items]
    assert articles == ["DSP-1"]


def test_currencies(make_client):
    client = make_client()
    assert client.store_currency().iso == "UAH"


# -- transport faults ----------------------------------------------------------------------------


def test_retries_5xx_then_succeeds(store, make_client):
    store.faults.fail_next(2, status=503)
    assert make_client().list_currencies()
    assert store.requests.count("auth") == 3  # two refused auths, then a good one


def test_gives_up_after_max_attempts(store, make_client):
    store.faults.fail_next(10, status=500)
    with pytest.raises(CartumConnectionError, match="HTTP 500, after 3 attempt"):
        make_client(max_attempts=3).list_currencies()


def test_honours_retry_after(store, make_client):
    sleeps = []
    store.faults.rate_limit_next(1, retry_after=7)
    make_client(sleep=sleeps.append).list_currencies()
    assert 7 in sleeps


def test_backoff_grows_exponentially_with_jitter(store, make_client):
    sleeps = []
    store.faults.fail_next(3)
    make_client(sleep=sleeps.append, backoff_base=1.0).list_currencies()
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 2**attempt / 2 <= delay <= 2**attempt


def test_dropped_connection_is_retried(store, make_client):
    store.faults.drop_next(1)
    assert make_client().list_currencies()
    assert store.requests.count("auth") == 2


def test_truncated_json_is_retried_then_reported(store, make_client):
    client = make_client(max_attempts=2)
    client.list_currencies()
    store.faults.truncate_next(1)
    assert client.list_currencies()
    store.faults.truncate_next(5)
    message = r"currency/export: the answer is not valid JSON \(truncated or garbage\), after 2"
    with pytest.raises(CartumConnectionError, match=message):
        client.list_currencies()


def test_unsafe_function_not_retried_after_5xx(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.fail_next(1)
    with pytest.raises(CartumConnectionError, match="after 1 attempt"):
        client.call("hooks/subscribe", {"event": "order_created"})


def test_latency_and_read_timeout(store, make_client):
    store.faults.latency = 0.5
    client = make_client(read_timeout=0.1, max_attempts=2)
    with pytest.raises(CartumConnectionError, match="did not answer in time"):
        client.list_currencies()


def test_rate_ceiling_holds_the_calls_of_any_second(store, make_client):
    sleeps = []
    clock = [0.0]
    client = make_client(requests_per_second=2, clock=lambda: clock[0], sleep=sleeps.append)
    client.list_currencies()
    client.list_currencies()
    # Auth and the first call at 0 go at once; the second call waits until the auth is a
    # second old (the clock stands still here, so it waits from 0).
    assert sleeps == [1.0]
    assert len(store.requests) == 3


class StandingClock:
    """A clock that moves only when told, or when a caller sleeps."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_rate_limiter_never_exceeds_its_ceiling():
    """Over random bursts of calls, no window of one second (of 1 / rate below one a second)
    ever holds more calls than the ceiling, and a call waits only when that window is full."""
    rng = random.Random(7)
    for per_second in (0.5, 1, 2.5, 5, 50):
        clock = StandingClock()
        limiter = RateLimiter(per_second, clock=clock, sleep=clock.sleep)
        window = 1.0 / per_second if per_second < 1 else 1.0
        ceiling = max(1, int(per_second))
        starts = []

        def within(moment, starts=starts, window=window):
            """The calls of the window that ends at ``moment`` (two calls exactly a window
            apart are in two windows; the clock's float sums are given a nanosecond)."""
            return [start for start in starts if start > moment - window + 1e-9]

        for _call in range(300):
            clock.now += rng.choice((0.0, 0.0, 0.01, 0.1, 0.3, 1.5))
            came = clock.now
            limiter.wait()
            starts.append(clock.now)
            assert len(within(clock.now)) <= ceiling
            if clock.now > came:  # it waited: the window was full when it came
                assert len(within(came)) - 1 == ceiling


def test_json_that_is_not_an_envelope(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.garbage_next(1)
    with pytest.raises(CartumBadResponse, match="currency/export"):
        client.list_currencies()


# -- bounded answers -----------------------------------------------------------------------------


def refused_once(store, client, call, match):
    """Run ``call``, expect CartumBadResponse matching ``match``, and no second request."""
    before = len(store.requests)
    with pytest.raises(CartumBadResponse, match=match) as raised:
        call()
    assert len(store.requests) == before + 1  # not retried: the same answer would come back
    assert client._tokens.token not in str(raised.value)
    assert "s3cret-pass" not in str(raised.value)
    return raised.value


def test_answer_larger_than_declared_limit_is_refused(store, make_client):
    client = make_client(max_answer_bytes=100_000)
    client.list_currencies()
    store.faults.oversize_next(5, 200_000)
    refused_once(
        store,
        client,
        client.list_currencies,
        "currency/export: the store's answer is larger than 100000 bytes",
    )


def test_streamed_answer_is_read_no_further_than_the_limit(store, make_client):
    client = make_client(max_answer_bytes=1024 * 1024)
    client.list_currencies()
    store.faults.oversize_next(1, 512 * 1024 * 1024, declare_length=False)
    refused_once(store, client, client.list_currencies, "larger than 1048576 bytes")
    # Socket buffers take a few megabytes more; reading on would take all 512.
    assert store.faults.streamed_bytes < 64 * 1024 * 1024


def test_answer_under_the_size_limit_is_read(store, make_client):
    client = make_client(max_answer_bytes=100_000)
    client.list_currencies()
    store.faults.oversize_next(1, 90_000, declare_length=False)
    assert client.store_currency().iso == "UAH"


@pytest.mark.parametrize("depth", [33, 100_000])
def test_answer_nested_too_deep_is_refused(store, make_client, depth):
    client = make_client()
    client.list_currencies()
    store.faults.deep_next(1, depth)
    refused_once(
        store,
        client,
        client.list_currencies,
        "currency/export: the answer is nested deeper than 32 levels",
    )


def test_answer_as_deep_as_the_limit_is_read(store, make_client):
    client = make_client(max_answer_depth=12)
    client.list_currencies()
    store.faults.deep_next(1, 12)
    assert client.store_currency().iso == "UAH"


def test_answer_not_in_utf8_is_refused(store, make_client):
    add_orders(store, 1)
    client = make_client()
    client.list_currencies()
    store.faults.bad_utf8_next(1)
    refused_once(
        store, client, lambda: client.get_orders([1001]), "orders/get: the answer is not valid UTF"
    )


def test_response_that_is_not_an_object(store, make_client):
    add_orders(store, 1)
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "OK", response="all good")
    refused_once(store, client, client.list_currencies, "'response' is not an object")
    store.faults.envelope_next(1, "EMPTY", response=[])  # PHP's empty array
    assert next(client.list_orders()).items == []
    store.faults.envelope_next(1, "ERROR", response="Order is locked")
    with pytest.raises(CartumAnswerError, match="ERROR: Order is locked"):
        client.list_currencies()


def test_records_that_are_not_a_list(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "OK", response={"currencies": "UAH"})
    refused_once(store, client, client.list_currencies, "'currencies' is not a list")


def test_wrong_type_in_a_product_refuses_only_that_product(store, make_client):
    store.products["BAT-1"]["price"] = "cheap"
    page = next(make_client().export_catalog())
    assert [product.article for product in page.items] == ["DSP-1"]
    assert str(page.errors[0]) == "Product BAT-1: field 'price' is not a number: 'cheap'"


# -- threads and interactive calls ---------------------------------------------------------------


def test_threads_share_one_client_while_it_is_closed(store, make_client):
    add_orders(store, 16)
    store.faults.latency = 0.01
    client = make_client()
    failures = []

    def read(order_ids):
        try:
            for _ in range(5):
                assert [o.order_id for o in client.get_orders(order_ids).items] == order_ids
        except Exception as error:  # reported below: a thread's exception would be lost
            failures.append(error)

    def close_repeatedly():
        for _ in range(10):
            client.close()
            time.sleep(0.01)

    threads = [threading.Thread(target=read, args=([1001 + n, 1009 + n],)) for n in range(8)]
    threads.append(threading.Thread(target=close_repeatedly))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert store.requests.count("auth") == 1
    assert store.requests.count("orders/get") == 40


def test_each_thread_has_its_own_session(make_client):
    client = make_client()
    mine = client.session
    assert client.session is mine
    theirs = []
    other = threading.Thread(target=lambda: theirs.append(client.session))
    other.start()
    other.join()
    assert theirs[0] is not mine
    client.close()
    assert client.session is not mine  # a new session after close()
    for _ in range(2):  # the second thread's first call closes the first one's session
        thread = threading.Thread(target=lambda: theirs.append(client.session))
        thread.start()
        thread.join()
    assert theirs[1] not in client._sessions.values()
    assert theirs[2] in client._sessions.values()


def test_interactive_client_shares_the_token(store, make_client):
    client = make_client()
    client.list_currencies()
    quick = client.interactive(read_timeout=0.2, max_attempts=1)
    assert quick.list_currencies()
    assert store.requests.count("auth") == 1

    store.expire_tokens()
    quick.list_currencies()  # renews the token for both
    client.list_currencies()
    assert store.requests.count("auth") == 2

    store.faults.latency = 0.5
    with pytest.raises(CartumConnectionError, match="did not answer in time, after 1 attempt"):
        quick.list_currencies()
    assert client.list_currencies()  # the original keeps its patience
    assert client.timeout[1] == 5.0 and client.max_attempts == 4


def test_import_stock_sets_residues_and_reads_each_articles_code(store, make_client):
    store.warehouse_stock = True
    store.import_refusals["BAT-1"] = "Товар заблоковано"
    client = make_client()
    results = client.import_stock(
        [
            {"article": "DSP-1", "residues": [{"warehouse": "Основний склад", "quantity": 4}]},
            {"article": "BAT-1", "residues": [{"warehouse": "Основний склад", "quantity": 1}]},
        ]
    )
    assert [(r.article, r.ok, r.code, r.delivered) for r in results] == [
        ("DSP-1", True, 0, True),
        ("BAT-1", False, 1, True),
    ]
    assert results[1].message == "Товар заблоковано"
    stock = {
        article: (presence, quantity) for article, presence, quantity, _r in store.stock_snapshot()
    }
    assert stock["DSP-1"] == ("В наявності", 4)


def test_import_stock_presence_on_a_store_without_warehouse_stock(store, make_client):
    client = make_client()
    refused, taken = client.import_stock(
        [
            {"article": "DSP-1", "residues": [{"warehouse": "Основний склад", "quantity": 2}]},
            {"article": "BAT-1", "presence": "Немає в наявності"},
        ]
    )
    assert not refused.ok and "Warehouse accounting is off" in refused.message
    assert taken.ok
    assert {a: p for a, p, _q, _r in store.stock_snapshot()}["BAT-1"] == "Немає в наявності"


def test_import_stock_batches_under_the_body_limit(store, make_client):
    for number in range(40):
        store.add_product(f"P-{number:03}", {"ua": "Деталь"}, 10.0)
    client = make_client(max_body_bytes=1000)
    products = [{"article": f"P-{n:03}", "presence": "В наявності"} for n in range(40)]
    results = client.import_stock(products)
    calls = [function for function in store.requests if function == "catalog/import"]
    assert len(calls) > 1
    assert all(result.ok for result in results) and len(results) == 40


def test_import_stock_call_failing_leaves_the_rest_undelivered(store, make_client):
    store.faults.fail_call("catalog/import", nth=1, message="Maintenance")
    client = make_client()
    (result,) = client.import_stock([{"article": "DSP-1", "presence": "В наявності"}])
    assert not result.ok and not result.delivered and "Maintenance" in result.message
