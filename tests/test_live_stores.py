"""The client against a sandbox that answers as the live stores other integrators measured
(CARTUM-API.md, "What other integrators saw on live stores"), and against one that does not."""

from datetime import datetime

import pytest
import requests

from cartum_api import (
    CartumAnswerError,
    CartumApiUnavailable,
    CartumAuthError,
    CartumConnectionError,
    CartumWebPage,
    section_path,
)
from cartum_api.client import USER_AGENT
from cartum_sandbox import SandboxStore


@pytest.fixture
def token(sandbox):
    answer = requests.post(
        f"{sandbox.base_url}/api/auth/", json={"login": "api", "password": "s3cret-pass"}, timeout=5
    ).json()
    return answer["response"]["token"]


def catalog_product(client, article):
    return next(client.export_catalog([article])).items[0]


# -- category paths and sections -----------------------------------------------------------------


@pytest.mark.parametrize(
    "parent",
    ["Запчастини \\ Дисплеї", "Запчастини\\Дисплеї", "Запчастини / Дисплеї", "Запчастини/Дисплеї"],
)
def test_category_path_split_on_backslash_and_slash(store, make_client, parent):
    store.products["DSP-1"]["parent"] = parent
    product = catalog_product(make_client(), "DSP-1")
    assert product.category_path == ("Запчастини", "Дисплеї")
    assert product.section_id is None


def test_live_store_writes_paths_with_backslashes(store, make_client, sandbox, token):
    store.category_separator = " \\ "
    answer = requests.post(
        f"{sandbox.base_url}/api/catalog/export/",
        json={"token": token, "expr": {"article": "DSP-1"}},
        timeout=5,
    ).json()
    assert answer["response"]["products"][0]["parent"] == "Запчастини \\ Дисплеї"
    assert catalog_product(make_client(), "DSP-1").category_path == ("Запчастини", "Дисплеї")


@pytest.mark.parametrize("parent", [{"id": 17}, {"id": "17", "alias": "displays"}, 17, "17"])
def test_a_section_id_is_never_a_category_name(store, make_client, parent):
    store.products["DSP-1"]["parent"] = parent
    product = catalog_product(make_client(), "DSP-1")
    assert (product.category_path, product.section_id) == ((), 17)


@pytest.mark.parametrize("parent", ["0", 0, True, {"id": 0}, {"id": "x"}])
def test_the_root_or_a_flag_is_no_category(store, make_client, parent):
    store.products["DSP-1"]["parent"] = parent
    product = catalog_product(make_client(), "DSP-1")
    assert (product.category_path, product.section_id) == ((), None)


def test_sections_are_read_from_the_root_down_in_the_stores_language(store, make_client):
    parts = store.add_section({"ua": "Запчастини", "en": "Parts"})
    displays = store.add_section({"ua": "Дисплеї", "en": "Displays"}, parent=parts)
    store.add_section({"ua": "Контакти", "en": "Contacts"})
    store.products["DSP-1"]["parent"] = {"id": displays}
    client = make_client()
    product = catalog_product(client, "DSP-1")
    sections = client.export_sections()
    assert section_path(sections, product.section_id, "ua") == ("Запчастини", "Дисплеї")
    assert section_path(sections, product.section_id, "en") == ("Parts", "Displays")
    # A language switched off in the store falls back to one it has.
    assert section_path(sections, product.section_id, "ru") == ("Запчастини", "Дисплеї")
    assert section_path(sections, 999, "ua") is None
    # One call for the root, then one for each section found.
    assert store.requests.count("pages/export") == 4


def test_a_store_giving_the_whole_tree_at_once_is_read_once(store, make_client):
    parts = store.add_section({"ua": "Запчастини"})
    store.add_section({"ua": "Дисплеї"}, parent=parts)
    tree = store.export_sections(0) + store.export_sections(parts)
    client = make_client()
    client.list_currencies()  # the token first: the forced answer is for pages/export
    store.faults.envelope_next(1, "OK", response={"pages": tree})
    sections = client.export_sections()
    assert section_path(sections, parts + 1, "ua") == ("Запчастини", "Дисплеї")
    assert store.requests.count("pages/export") == 1


def test_sections_that_loop_or_lack_a_title_resolve_to_nothing(store, make_client):
    store.add_section({"ua": "A"}, parent=2, section_id=1)
    store.add_section({"ua": "B"}, parent=1, section_id=2)
    store.add_section({"ua": ""}, parent=0, section_id=3)
    store.sections[2]["parent"] = 0
    client = make_client()
    sections = client.export_sections()
    sections[2] = sections[2].__class__(2, 1, sections[2].titles)  # 1 -> 2 -> 1
    assert section_path(sections, 1, "ua") is None
    assert section_path(sections, 3, "ua") is None


def test_live_store_gives_sections_as_parent(store, make_client):
    store.sections_as_parent = True
    client = make_client()
    product = catalog_product(client, "DSP-1")
    assert product.category_path == ()
    assert section_path(client.export_sections(), product.section_id, "ua") == (
        "Запчастини",
        "Дисплеї",
    )


# -- tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("refusal", "message"),
    [
        ("HTTP 401", None),
        ("ERROR", "Token is invalid or expired"),
        ("ERROR", "Токен недійсний або прострочений"),
        ("ERROR", "Неверный токен авторизации"),
        ("ERROR", "Помилка авторизації"),
    ],
)
def test_token_refusals_of_live_stores_renew_the_token_once(store, make_client, refusal, message):
    store.token_refusal = refusal
    if message:
        store.token_refusal_message = message
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


@pytest.mark.parametrize("refusal", ["HTTP 401", "ERROR"])
def test_a_fresh_token_refused_again_is_an_auth_error_with_the_stores_words(
    store, make_client, refusal
):
    store.token_refusal = refusal
    store.token_refusal_message = "Токен не знайдено"
    store.token_lifetime = 0  # every token the store gives is refused at once
    client = make_client()
    with pytest.raises(CartumAuthError) as raised:
        client.list_currencies()
    expected = "Token is invalid or expired" if refusal == "HTTP 401" else "Токен не знайдено"
    assert expected in str(raised.value)
    assert store.requests == ["auth", "currency/export", "auth", "currency/export"]


def test_an_http_error_about_the_token_renews_it(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "HTTP_ERROR", response={"code": 401, "message": "Invalid token"})
    assert client.list_currencies()[0].iso == "UAH"
    assert store.requests.count("auth") == 2


def test_sections_with_parent_id_and_name_keys(store, make_client):
    client = make_client()
    client.list_currencies()
    pages = [
        {"id": 3, "parent_id": 0, "name": {"ua": "Запчастини"}},
        {"id": 17, "parent_id": {"id": 3}, "name": "Дисплеї"},
    ]
    store.faults.envelope_next(1, "OK", response={"pages": pages})
    assert section_path(client.export_sections(), 17, "ua") == ("Запчастини", "Дисплеї")


def test_an_error_about_something_else_is_not_token_trouble(store, make_client):
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "ERROR", "Order 5 is locked")
    with pytest.raises(CartumAnswerError, match="Order 5 is locked"):
        client.list_currencies()
    assert store.requests.count("auth") == 1


# -- HTTP_ERROR, web pages, User-Agent -----------------------------------------------------------


def test_http_error_keeps_the_stores_code_and_message(store, make_client, sandbox, token):
    store.payload_error_status = "HTTP_ERROR"
    answer = requests.post(
        f"{sandbox.base_url}/api/currency/export/", data=b"{not json", timeout=5
    ).json()
    assert answer == {
        "status": "HTTP_ERROR",
        "response": {"code": 400, "message": "payload is not json"},
    }
    client = make_client()
    client.list_currencies()
    store.faults.envelope_next(1, "HTTP_ERROR", response={"code": 413, "message": "too big"})
    with pytest.raises(CartumAnswerError) as raised:
        client.list_currencies()
    assert str(raised.value) == "currency/export: Cartum answered HTTP_ERROR 413: too big"
    assert (raised.value.status, raised.value.code) == ("HTTP_ERROR", 413)


def test_the_client_names_itself(store, make_client, sandbox):
    store.bot_filter = True
    assert USER_AGENT.startswith("cartum-connector/")
    assert make_client().list_currencies()[0].iso == "UAH"
    blocked = requests.post(f"{sandbox.base_url}/api/currency/export/", json={}, timeout=5)
    assert blocked.status_code == 200 and "html" in blocked.headers["Content-Type"]


def test_a_web_page_is_reported_at_once_without_retries(store, make_client, monkeypatch):
    store.bot_filter = True
    monkeypatch.setattr("cartum_api.client.USER_AGENT", "python-requests/2.31")
    client = make_client()
    with pytest.raises(CartumWebPage) as raised:
        client.list_currencies()
    assert "the store answered with a web page instead of its API" in str(raised.value)
    assert "bot filter" in str(raised.value)
    assert isinstance(raised.value, CartumApiUnavailable)
    assert store.requests == ["auth"]


@pytest.mark.parametrize("status", [200, 403])
def test_a_web_page_in_any_declared_type_is_a_web_page(store, make_client, status):
    client = make_client()
    client.list_currencies()
    page = b"\n  <!DOCTYPE html><html><body>Access denied</body></html>"
    store.faults.web_page_next(1, page, status, content_type="application/json")
    with pytest.raises(CartumWebPage, match=f"HTTP {status}"):
        client.list_currencies()
    assert store.requests.count("currency/export") == 2


def test_json_declared_as_a_web_page_is_read(store, make_client):
    client = make_client()
    client.list_currencies()
    answer = b'{"status": "OK", "response": {"currencies": []}}'
    store.faults.web_page_next(1, answer, 200, content_type="text/html; charset=UTF-8")
    assert client.list_currencies() == []


def test_a_server_error_page_is_still_retried(store, make_client):
    client = make_client()
    store.faults.web_page_next(1, b"<html><body>502 Bad Gateway</body></html>", 502)
    assert client.list_currencies()[0].iso == "UAH"
    store.faults.web_page_next(9, b"<html><body>502 Bad Gateway</body></html>", 502)
    with pytest.raises(CartumConnectionError, match="HTTP 502"):
        client.list_currencies()


# -- orders --------------------------------------------------------------------------------------


def live_order(store, **options):
    store.live_orders = True
    return store.add_order(lines=[("DSP-1", 1)], created=datetime(2026, 11, 1, 10), **options)


def test_orders_with_the_keys_of_live_stores_are_read(store, make_client):
    first = live_order(store)
    second = live_order(store)
    orders = make_client().get_orders([first["order_id"], second["order_id"]])
    assert orders.errors == []
    raw = store.find_orders(ids=[first["order_id"], second["order_id"]])
    assert {type(order["additional_data"]) for order in raw} == {list, dict}
    assert isinstance(raw[0]["total_sum"], int) and isinstance(raw[0]["user"], int)
    assert raw[0]["analytics"]["utm_campaign"] == 20261107
    assert [order.total_sum for order in orders.items] == [1200.0, 1200.0]


def test_tracking_and_analytics_leave_the_digest_alone(store, make_client):
    order_id = live_order(store)["order_id"]
    client = make_client()
    before = client.get_orders([order_id]).items[0].digest
    store.track_parcel(order_id, "Прибуло у відділення")
    store.edit_order(order_id, analytics={"utm_campaign": "black-friday"}, additional_data={"x": 1})
    assert client.get_orders([order_id]).items[0].digest == before
    for change in (
        {"delivery_address": "вул. Хрещатик, 1"},
        {"comment": "Подзвоніть"},
        {"delivery_price": 70},
        {"stat_status": 2},
    ):
        store.edit_order(order_id, **change)
        after = client.get_orders([order_id]).items[0].digest
        assert after != before, change
        before = after


def test_a_coupon_is_the_orders_discount_and_lines_keep_their_price(store, make_client):
    store.products["DSP-1"]["price"] = 799.0
    order_id = live_order(store)["order_id"]
    store.apply_coupon(order_id, "AUTUMN25", 25)
    order = make_client().get_orders([order_id]).items[0]
    assert order.total_sum == 599.0
    assert order.lines[0].price == 799.0
    assert (order.discount.coupon_code, order.discount.amount, order.discount.percent) == (
        "AUTUMN25",
        200.0,
        25.0,
    )


@pytest.mark.parametrize(
    ("keys", "amount"),
    [
        ({"discount_value": 150, "total_sum": 1050}, 150.0),
        ({"total_default": 1200, "total_sum": 1000}, 200.0),
        ({"coupon_discount_value": "", "discount_value": None}, 0.0),
    ],
)
def test_order_discount_without_coupon(store, make_client, keys, amount):
    order_id = live_order(store)["order_id"]
    store.edit_order(order_id, **keys)
    order = make_client().get_orders([order_id]).items[0]
    assert (order.discount.coupon_code, order.discount.amount) == ("", amount)


def test_a_live_store_is_kept_across_a_restart(tmp_path):
    store = SandboxStore()
    store.add_product("DSP-1", {"ua": "Дисплей"}, 100, category="Запчастини/Дисплеї")
    store.speak_like_live_store(token_refusal="ERROR")
    store.export_products()  # makes the sections of the path
    store.save(tmp_path / "store.json")
    loaded = SandboxStore.load(tmp_path / "store.json")
    assert loaded.sections == store.sections and 1 in loaded.sections
    assert (loaded.token_refusal, loaded.category_separator, loaded.bot_filter) == (
        "ERROR",
        " \\ ",
        True,
    )
    assert SandboxStore().token_refusal == "UNAUTHORIZED"
