"""The sandbox over real sockets, as the connector's client sees it."""

import copy
import html
import ipaddress
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import requests

from cartum_sandbox import CartumSandbox, SandboxStore, demo_store, generated_store

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 5


@pytest.fixture
def store():
    return demo_store()


@pytest.fixture
def sandbox(store):
    with CartumSandbox(store) as running:
        yield running


def post(sandbox, function, **body):
    return requests.post(f"{sandbox.base_url}/api/{function}/", json=body, timeout=TIMEOUT)


def call(sandbox, function, **body):
    response = post(sandbox, function, **body)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def token(sandbox):
    answer = call(sandbox, "auth", login="demo-api", password="demo-secret")
    return answer["response"]["token"]


def order_ids(answer):
    return [order["order_id"] for order in answer["response"]["orders"]]


def ids_by_creation(store, predicate=lambda order: True):
    chosen = [order for order in store.orders.values() if predicate(order)]
    chosen.sort(key=lambda order: (order["stat_created"], order["order_id"]))
    return [order["order_id"] for order in chosen]


# --- auth and protocol -------------------------------------------------------------------


def test_auth_gives_a_32_hex_token(sandbox, token):
    assert len(token) == 32
    int(token, 16)


def test_auth_with_a_wrong_password_is_refused(sandbox):
    answer = call(sandbox, "auth", login="demo-api", password="nope")
    assert answer == {
        "status": "AUTHORIZATION_ERROR",
        "response": {"message": "Incorrect login or password"},
    }


def test_calls_without_a_valid_token_are_unauthorized(sandbox):
    for body in ({}, {"token": "0" * 32}):
        assert call(sandbox, "orders/get", **body)["status"] == "UNAUTHORIZED"


def test_unknown_function_and_invalid_json(sandbox, token):
    assert call(sandbox, "orders/delete", token=token) == {
        "status": "UNDEFINED_FUNCTION",
        "response": {},
    }
    response = requests.post(f"{sandbox.base_url}/api/auth/", data=b"{nope", timeout=TIMEOUT)
    assert response.json() == {"status": "ERROR", "response": {"message": "Invalid JSON"}}


def test_store_without_api_answers_404(sandbox, store):
    store.api_enabled = False
    response = post(sandbox, "auth", login="demo-api", password="demo-secret")
    assert response.status_code == 404
    assert "html" in response.headers["Content-Type"]


def test_token_expires_after_its_lifetime(sandbox, store):
    store.token_lifetime = 0.2
    token = call(sandbox, "auth", login="demo-api", password="demo-secret")["response"]["token"]
    assert call(sandbox, "currency/export", token=token)["status"] == "OK"
    time.sleep(0.3)
    assert call(sandbox, "currency/export", token=token)["status"] == "UNAUTHORIZED"


def test_expire_tokens_invalidates_issued_tokens(sandbox, store, token):
    store.expire_tokens()
    assert call(sandbox, "currency/export", token=token)["status"] == "UNAUTHORIZED"


# --- orders/get --------------------------------------------------------------------------


def test_orders_get_by_date_window(sandbox, store, token):
    delivered = store.orders[1003]
    day = delivered["stat_created"][:10]
    answer = call(sandbox, "orders/get", token=token, **{"from": day, "to": day})
    assert answer["status"] == "OK"
    assert order_ids(answer) == ids_by_creation(
        store, lambda order: order["stat_created"].startswith(day)
    )
    assert 1003 in order_ids(answer)

    moment = delivered["stat_created"]
    exact = call(sandbox, "orders/get", token=token, **{"from": moment, "to": moment})
    assert order_ids(exact) == [1003]


def test_orders_get_all_sorted_by_creation(sandbox, store, token):
    answer = call(sandbox, "orders/get", token=token)
    assert order_ids(answer) == ids_by_creation(store)
    first = answer["response"]["orders"][0]
    assert first == store.orders[first["order_id"]]


def test_orders_get_by_ids_and_status(sandbox, store, token):
    by_ids = call(sandbox, "orders/get", token=token, ids=[1005, 1001, 9999])
    assert order_ids(by_ids) == [1001, 1005]

    new_orders = call(sandbox, "orders/get", token=token, status=1)
    assert order_ids(new_orders) == ids_by_creation(store, lambda o: o["stat_status"] == 1)
    assert len(order_ids(new_orders)) == 2

    delivered_or_waiting = call(sandbox, "orders/get", token=token, status=[3, 7])
    assert order_ids(delivered_or_waiting) == [1003, 1005]


def test_orders_get_pages_with_offset_and_limit(sandbox, store, token):
    pages = [
        order_ids(call(sandbox, "orders/get", token=token, offset=offset, limit=3))
        for offset in (0, 3, 6)
    ]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [order_id for page in pages for order_id in page] == ids_by_creation(store)
    # Without limit the store ignores offset.
    assert len(order_ids(call(sandbox, "orders/get", token=token, offset=5))) == 7


def test_orders_get_empty_and_malformed(sandbox, token):
    assert call(sandbox, "orders/get", token=token, ids=[9999]) == {
        "status": "EMPTY",
        "response": {},
    }
    answer = call(sandbox, "orders/get", token=token, **{"from": "yesterday"})
    assert answer["status"] == "ERROR"
    assert "from" in answer["response"]["message"]


# --- statuses and updates ------------------------------------------------------------------


def test_statuses_are_keyed_by_string_ids(sandbox, store, token):
    answer = call(sandbox, "orders/get_available_statuses", token=token)
    statuses = answer["response"]["statuses"]
    assert set(statuses) == {"1", "2", "3", "4", "6", "7"}
    assert statuses["3"] == {
        "id": 3,
        "title": {"ua": "Виконано", "en": "Delivered"},
        "is_successful": 1,
    }
    store.supports_statuses = False
    answer = call(sandbox, "orders/get_available_statuses", token=token)
    assert answer == {"status": "UNDEFINED_FUNCTION", "response": {}}


def test_orders_update_applies_statuses(sandbox, store, token):
    answer = call(
        sandbox,
        "orders/update",
        token=token,
        orders=[{"order_id": 1001, "status": 6, "tracking_code": "20450000123456"}],
    )
    assert answer == {"status": "OK", "response": {}}
    assert store.orders[1001]["stat_status"] == 6
    assert store.status_updates == [
        {"order_id": 1001, "status": 6, "tracking_code": "20450000123456"}
    ]


def test_orders_update_reports_failures_as_warning(sandbox, store, token):
    answer = call(
        sandbox,
        "orders/update",
        token=token,
        orders=[
            {"order_id": 1006, "status": 2},
            {"order_id": 1004, "status": 1},  # cancelled: cannot be edited
            {"order_id": 9999, "status": 2},
            {"order_id": 1007, "status": 99},
        ],
    )
    assert answer["status"] == "WARNING"
    log = answer["response"]["log"]
    assert [entry["order_id"] for entry in log] == [1004, 9999, 1007]
    assert all(entry["status"] == "ERROR" and entry["message"] for entry in log)
    assert store.orders[1006]["stat_status"] == 2
    assert store.orders[1004]["stat_status"] == 4
    assert [update["order_id"] for update in store.status_updates] == [1006]

    assert call(sandbox, "orders/update", token=token, orders=[])["status"] == "ERROR"


# --- catalog and currencies ------------------------------------------------------------


def test_catalog_export_blanks_disabled_languages(sandbox, store, token):
    answer = call(sandbox, "catalog/export", token=token)
    products = answer["response"]["products"]
    assert [product["article"] for product in products] == sorted(store.products)
    screen = next(product for product in products if product["article"] == "SRV-SCREEN")
    assert screen["title"] == {"ua": "Заміна екрана", "en": "Screen replacement", "ru": ""}
    assert (screen["parent"], screen["presence"]) == ("Послуги", "В наявності")

    store.enabled_languages = ("ua",)
    answer = call(sandbox, "catalog/export", token=token, expr={"article": "SRV-SCREEN"})
    assert answer["response"]["products"][0]["title"]["en"] == ""


def test_catalog_export_filters_and_clamps_limit():
    big = generated_store(orders=0, products=620, customers=1)
    big.login, big.password = "demo-api", "demo-secret"
    with CartumSandbox(big) as other:
        token = call(other, "auth", login="demo-api", password="demo-secret")["response"]["token"]
        first = call(other, "catalog/export", token=token, limit=1000)["response"]["products"]
        rest = call(other, "catalog/export", token=token, offset=500)["response"]["products"]
        assert (len(first), len(rest)) == (500, 120)
        chosen = call(
            other, "catalog/export", token=token, expr={"article": ["GEN-00002", "GEN-00001"]}
        )
        assert [p["article"] for p in chosen["response"]["products"]] == [
            "GEN-00001",
            "GEN-00002",
        ]
        missing = call(other, "catalog/export", token=token, expr={"article": "NOPE"})
        assert missing["status"] == "EMPTY"


def test_currency_export(sandbox, token):
    currencies = call(sandbox, "currency/export", token=token)["response"]["currencies"]
    assert [currency["iso"] for currency in currencies] == ["UAH", "USD", "EUR"]
    assert [currency["default"] for currency in currencies] == [1, 0, 0]


# --- faults ----------------------------------------------------------------------------


def test_latency_delays_every_answer(sandbox, store):
    store.faults.latency = 0.5
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{sandbox.base_url}/api/auth/", json={}, timeout=(1, 0.1))
    store.faults.latency = 0.0
    assert post(sandbox, "auth", login="demo-api", password="demo-secret").status_code == 200


def test_fail_next_answers_5xx_then_recovers(sandbox, store):
    store.faults.fail_next(2)
    codes = [post(sandbox, "auth", login="demo-api", password="demo-secret").status_code
             for _ in range(3)]
    assert codes == [503, 503, 200]
    assert store.requests == ["auth"] * 3


def test_redirect_next_answers_a_redirect_then_recovers(sandbox, store):
    store.faults.redirect_next(1, "https://elsewhere.example/api/auth/", status=308)
    body = {"login": "demo-api", "password": "demo-secret"}
    moved = requests.post(
        f"{sandbox.base_url}/api/auth/", json=body, timeout=TIMEOUT, allow_redirects=False
    )
    assert (moved.status_code, moved.headers["Location"]) == (
        308,
        "https://elsewhere.example/api/auth/",
    )
    assert post(sandbox, "auth", **body).status_code == 200
    assert store.requests == ["auth"] * 2


def test_error_rate_answers_500(sandbox, store):
    store.faults.error_rate = 1.0
    assert post(sandbox, "auth").status_code == 500
    store.faults.reset()
    assert post(sandbox, "auth").status_code == 200


def test_rate_limit_sends_retry_after(sandbox, store):
    store.faults.rate_limit_next(1, retry_after=2)
    limited = post(sandbox, "auth", login="demo-api", password="demo-secret")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    assert post(sandbox, "auth", login="demo-api", password="demo-secret").status_code == 200


def test_drop_closes_the_connection_without_answer(sandbox, store):
    store.faults.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        post(sandbox, "auth", login="demo-api", password="demo-secret")
    assert call(sandbox, "auth", login="demo-api", password="demo-secret")["status"] == "OK"
    assert store.requests == ["auth", "auth"]


def test_truncate_cuts_the_json_answer(sandbox, store):
    store.faults.truncate_next(1)
    response = post(sandbox, "auth", login="demo-api", password="demo-secret")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_body_over_the_limit_drops_the_connection(sandbox, store, token):
    store.faults.max_body_bytes = 2000
    with pytest.raises(requests.ConnectionError):
        post(sandbox, "orders/get", token=token, ids=list(range(1000)))
    assert call(sandbox, "orders/get", token=token, ids=[1001])["status"] == "OK"


def test_oversize_pads_the_real_answer(sandbox, store, token):
    store.faults.oversize_next(2, 50_000)
    sized = post(sandbox, "currency/export", token=token)
    assert sized.headers["Content-Length"] == "50000"
    assert len(sized.content) == 50_000
    answer = sized.json()
    assert answer["status"] == "OK"
    assert len(answer["response"]["currencies"]) == 3
    store.faults.oversize_next(1, 50_000, declare_length=False)
    streamed = post(sandbox, "orders/get", token=token, ids=[9999])
    assert "Content-Length" not in streamed.headers
    assert len(streamed.content) == 50_000
    assert streamed.json()["status"] == "EMPTY"


def json_depth(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((json_depth(item) for item in value), default=0)
    return 0


def test_deep_answer_has_the_depth_asked(sandbox, store, token):
    store.faults.deep_next(1, 40)
    answer = call(sandbox, "currency/export", token=token)
    assert json_depth(answer) == 40
    assert len(answer["response"]["currencies"]) == 3


def test_bad_utf8_answers_in_windows_1251(sandbox, store, token):
    store.faults.bad_utf8_next(1)
    body = post(sandbox, "currency/export", token=token).content
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert json.loads(body.decode("cp1251"))["response"]["currencies"][0]["title"] == "Гривня"


def test_fail_call_refuses_the_nth_call_of_one_function(sandbox, store, token):
    store.faults.fail_call("orders/update", nth=2, message="Store is busy")

    def update(order_id):
        orders = [{"order_id": order_id, "status": 6}]
        return call(sandbox, "orders/update", token=token, orders=orders)

    assert update(1001)["status"] == "OK"
    assert call(sandbox, "currency/export", token=token)["status"] == "OK"
    assert update(1002) == {"status": "ERROR", "response": {"message": "Store is busy"}}
    assert update(1006)["status"] == "OK"
    assert [u["order_id"] for u in store.status_updates] == [1001, 1006]


# --- store helpers and seeds -------------------------------------------------------------


def test_line_edits_recompute_totals():
    store = SandboxStore()
    store.add_product("A", {"ua": "Деталь А", "en": "Part A"}, 100)
    store.add_product("B", {"ua": "Деталь Б"}, 20.5)
    order = store.add_order(lines=[("A", 2), ("B", 1, 10)])
    assert order["order_id"] == 1001
    assert (order["total_sum"], order["total_quantity"]) == (210.0, 3)
    assert order["products"][0]["title"] == "Деталь А"

    store.set_line_quantity(1001, "A", 3)
    store.set_line_price(1001, "B", 12.345)
    assert (order["total_sum"], order["total_quantity"]) == (312.35, 4)
    store.remove_line(1001, "B")
    store.add_line(1001, "B", 2)
    assert order["total_sum"] == 341.0
    store.edit_order(1001, delivery_price=55.0, total_sum=-1)
    assert (order["delivery_price"], order["total_sum"]) == (55.0, -1)

    assert store.add_order(lines=[("A", 1)])["order_id"] == 1002
    with pytest.raises(KeyError):
        store.add_order(lines=[("NOPE", 1)])


def test_lines_without_article_or_catalog_product():
    store = SandboxStore()
    store.add_product("A", {"ua": "Деталь А"}, 100)
    order = store.add_order(
        lines=[
            ("A", 1, 90),
            ("A", 1),
            {"title": "Діагностика", "price": 150},
            {"article": "GONE", "title": "Old part", "quantity": 2, "price": 5},
        ]
    )
    lines = order["products"]
    assert [(line["article"], line["title"], line["total_price"]) for line in lines] == [
        ("A", "Деталь А", 90.0),
        ("A", "Деталь А", 100.0),
        ("", "Діагностика", 150.0),
        ("GONE", "Old part", 10.0),
    ]
    assert (order["total_sum"], order["total_quantity"]) == (350.0, 5)
    with pytest.raises(KeyError):
        store.add_order(lines=[{"title": "No price"}])

    store.remove_product("A")
    assert store.export_products() == []
    with pytest.raises(KeyError):
        store.remove_product("A")


def test_demo_store_has_one_person_with_several_phone_formats():
    store = demo_store()
    olena_phones = {
        order["delivery_phone"]
        for order in store.orders.values()
        if order["delivery_name"] == "Олена Петренко"
    }
    assert {"+380 67 123 45 67", "0671234567", "380671234567"} <= olena_phones
    olena_users = {
        order["user"]
        for order in store.orders.values()
        if order["delivery_name"] == "Олена Петренко"
    }
    assert len(olena_users) == len(olena_phones)


def test_generated_store_is_deterministic():
    def content(store):
        return [
            (order["delivery_phone"], order["stat_status"], order["products"])
            for order in store.orders.values()
        ]

    first = generated_store(orders=50, products=20, customers=10, seed=7)
    second = generated_store(orders=50, products=20, customers=10, seed=7)
    assert content(first) == content(second)
    assert first.products == second.products
    created = [order["stat_created"] for order in first.orders.values()]
    assert created == sorted(created)
    assert all(len(order["products"]) == 3 for order in first.orders.values())


# --- command line ------------------------------------------------------------------------


def run_command_line(*options):
    """Start ``python -m cartum_sandbox`` on a free port; its base URL, login and password."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cartum_sandbox", "--port", "0", "--seed", "demo", *options],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    details = [process.stdout.readline().split()[-1] for _ in range(3)]
    return process, details


def stop_command_line(process):
    process.terminate()
    _, errors = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0
    return errors


def test_command_line_serves_the_demo_store_quietly():
    process, (base_url, login, password) = run_command_line()
    try:
        api = f"{base_url}/api"
        auth = requests.post(
            f"{api}/auth/", json={"login": login, "password": password}, timeout=TIMEOUT
        ).json()
        answer = requests.post(
            f"{api}/orders/get/", json={"token": auth["response"]["token"]}, timeout=TIMEOUT
        ).json()
        assert answer["status"] == "OK"
        assert len(answer["response"]["orders"]) == 7
    finally:
        errors = stop_command_line(process)
    assert "POST" not in errors


def test_command_line_access_log(tmp_path):
    access_log = tmp_path / "access.log"
    access_log.write_text("earlier line\n")
    process, (base_url, login, _) = run_command_line("--access-log", str(access_log))
    try:
        requests.post(f"{base_url}/api/auth/", json={"login": login}, timeout=TIMEOUT)
        requests.get(f"{base_url}/edit/orders/1001/", timeout=TIMEOUT)
    finally:
        errors = stop_command_line(process)
    assert "POST" not in errors
    lines = access_log.read_text().splitlines()
    assert lines[0] == "earlier line"
    assert lines[1].startswith("127.0.0.1 - - [")
    assert lines[1].endswith('] "POST /api/auth/ HTTP/1.1" 200 -')
    assert '"GET /edit/orders/1001/ HTTP/1.1" 200' in lines[2]
    assert len(lines) == 3


# --- admin pages -------------------------------------------------------------------------


def test_admin_order_page(sandbox, store):
    store.add_order(1100, lines=[("DSP-IP12", 1), {"title": "<Діагностика>", "price": 150}])
    page = requests.get(f"{sandbox.base_url}/edit/orders/1100/", timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<title>Order 1100</title>" in page.text
    assert "Status: Нове" in page.text
    assert "Customer: Олена Петренко, +380 67 123 45 67" in page.text
    assert "<td>DSP-IP12</td><td>Дисплей iPhone 12 (OLED)</td><td>1</td>" in page.text
    assert "<td>&lt;Діагностика&gt;</td>" in page.text
    assert store.requests == []  # not an API call


@pytest.mark.parametrize("path", ["/edit/orders/9999/", "/edit/orders/abc/", "/edit/", "/"])
def test_other_pages_are_not_found(sandbox, path):
    page = requests.get(f"{sandbox.base_url}{path}", timeout=TIMEOUT)
    assert page.status_code == 404


def test_the_store_is_kept_across_a_restart(tmp_path):
    """--state: what changed in one session is there after a restart, not the seed."""
    state = tmp_path / "sandbox-state.json"
    shop = demo_store()
    shop.set_status(1006, 3)
    shop.add_status(9, {"ua": "Передано майстру", "en": "With the technician"})
    new_id = shop.add_order(lines=[("DSP-IP13", 1)])["order_id"]
    shop.save(state)
    again = SandboxStore.load(state)
    assert again.orders[1006]["stat_status"] == 3
    assert again.statuses[9]["title"]["en"] == "With the technician"
    assert again.orders[new_id] == shop.orders[new_id]
    assert again.add_order(lines=[("DSP-IP13", 1)])["order_id"] == new_id + 1
    assert again.token_is_valid(again.issue_token())
    assert again.languages == shop.languages


def test_restore_puts_the_data_back_and_keeps_the_tokens(store, token):
    """What test classes that import once do between their tests."""
    saved = store.snapshot()
    first_id = store.add_order(lines=[("DSP-IP13", 1)])["order_id"]
    store.set_status(1006, 3)
    store.faults.fail_next(1)
    store.restore(saved)
    assert first_id not in store.orders
    assert store.orders[1006]["stat_status"] != 3
    assert not store.faults.take_server_error()
    assert store.token_is_valid(token)
    assert store.add_order(lines=[("DSP-IP13", 1)])["order_id"] == first_id
    store.restore(saved)
    assert first_id not in store.orders  # restore took a copy: the saved data is unchanged


def test_the_command_line_keeps_its_state_file(tmp_path):
    state = tmp_path / "sandbox-state.json"
    command = [sys.executable, "-m", "cartum_sandbox", "--port", "0", "--state", str(state)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert first.stdout.readline().startswith("Cartum sandbox: http://")
    first.terminate()
    first.wait(timeout=10)
    saved = SandboxStore.load(state)
    saved.set_status(1001, 4)
    saved.save(state)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert second.stdout.readline().startswith("Cartum sandbox: http://")
    second.terminate()
    second.wait(timeout=10)
    assert SandboxStore.load(state).orders[1001]["stat_status"] == 4


# --- admin pages: changes by hand ----------------------------------------------------------


def admin_session(sandbox, path="/edit/orders/"):
    """A browser-like session that loaded an admin page: the session and the page's form token."""
    session = requests.Session()
    page = session.get(f"{sandbox.base_url}{path}", timeout=TIMEOUT)
    assert page.status_code == 200
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    return session, token


def admin_post(session, sandbox, path, **form):
    return session.post(
        f"{sandbox.base_url}{path}", data=form, timeout=TIMEOUT, allow_redirects=False
    )


def test_admin_changes_an_orders_status(sandbox, store, token):
    session, form_token = admin_session(sandbox, "/edit/orders/1001/")
    answer = admin_post(session, sandbox, "/edit/orders/1001/status/", form_token=form_token,
                        status="6")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/edit/orders/1001/")
    assert store.orders[1001]["stat_status"] == 6
    assert store.status_updates == []  # not an API client's push
    page = session.get(f"{sandbox.base_url}/edit/orders/1001/", timeout=TIMEOUT)
    assert "Status: Відправлено" in page.text
    assert '<option value="6" selected>' in page.text
    orders = call(sandbox, "orders/get", token=token, ids=[1001])["response"]["orders"]
    assert orders[0]["stat_status"] == 6

    refused = admin_post(session, sandbox, "/edit/orders/1001/status/", form_token=form_token,
                         status="99")
    assert refused.status_code == 400
    assert "Status 99 does not exist." in refused.text
    missing = admin_post(session, sandbox, "/edit/orders/9999/status/", form_token=form_token,
                         status="2")
    assert missing.status_code == 404
    assert store.orders[1001]["stat_status"] == 6


def test_admin_changes_line_quantities(sandbox, store):
    order_id = store.add_order(
        lines=[("DSP-IP12", 1), ("BAT-IP12", 2), {"title": "Діагностика", "price": 150}]
    )["order_id"]
    path = f"/edit/orders/{order_id}/"
    session, form_token = admin_session(sandbox, path)
    lines = {"line-0": "DSP-IP12", "line-1": "BAT-IP12", "line-2": ""}
    answer = admin_post(session, sandbox, f"{path}quantities/", form_token=form_token, **lines,
                        **{"quantity-0": "2", "quantity-1": "0", "quantity-2": "3"})
    assert answer.status_code == 303
    order = store.orders[order_id]
    assert [(line["article"], line["quantity"]) for line in order["products"]] == [
        ("DSP-IP12", 2),
        ("", 3),
    ]
    assert (order["total_sum"], order["total_quantity"]) == (2 * 3200.0 + 3 * 150.0, 5)
    page = session.get(f"{sandbox.base_url}{path}", timeout=TIMEOUT).text
    assert '<input name="line-1" type="hidden" value="">' in page
    assert 'name="quantity-1" type="number" min="0" max="9999" value="3"' in page

    lines = {"line-0": "DSP-IP12", "line-1": ""}
    before = copy.deepcopy(order)
    for form, message in (
        ({"quantity-0": "1", "quantity-1": "x"}, "Line 2&#x27;s quantity must be a whole"),
        ({"quantity-0": "1", "quantity-1": "-1"}, "between 0 and 9999"),
        ({"quantity-0": "1", "quantity-1": "10000"}, "between 0 and 9999"),
        ({"quantity-0": "1"}, "Line 2&#x27;s quantity must be a whole"),
        ({"quantity-0": "0", "quantity-1": "0"}, "An order keeps at least one line."),
    ):
        refused = admin_post(session, sandbox, f"{path}quantities/", form_token=form_token,
                             **lines, **form)
        assert refused.status_code == 400
        assert message in refused.text
    assert store.orders[order_id] == before


def test_admin_quantities_of_an_order_changed_since_its_page_are_refused(sandbox, store):
    session, form_token = admin_session(sandbox, "/edit/orders/1001/")
    seen = [line["article"] for line in store.orders[1001]["products"]]
    form = {f"line-{index}": article for index, article in enumerate(seen)}
    form.update({f"quantity-{index}": "5" for index in range(len(seen))})
    # Meanwhile the shop replaced the last line: the page's quantities no longer fit.
    store.remove_line(1001, seen[-1])
    store.add_line(1001, "SRV-BATTERY", 1)
    before = copy.deepcopy(store.orders[1001])
    refused = admin_post(session, sandbox, "/edit/orders/1001/quantities/",
                         form_token=form_token, **form)
    assert refused.status_code == 409
    assert "Order 1001 changed since its page was loaded: reload it." in refused.text
    assert store.orders[1001] == before
    missing = admin_post(session, sandbox, "/edit/orders/9999/quantities/",
                         form_token=form_token, **form)
    assert missing.status_code == 404


def test_admin_adds_an_order_the_api_then_serves(sandbox, store, token):
    session, form_token = admin_session(sandbox)
    answer = admin_post(
        session, sandbox, "/edit/orders/new/", form_token=form_token,
        customer_name="  Тарас Мельник ", phone="0501234567", email="taras@example.com",
        status="2", **{"article-0": "DSP-IP13", "quantity-0": "1", "article-1": "",
                       "quantity-1": "1", "article-2": "SRV-SCREEN", "quantity-2": "2"},
    )
    assert answer.status_code == 303
    order_id = int(re.fullmatch(r"/edit/orders/(\d+)/", answer.headers["Location"]).group(1))
    order = call(sandbox, "orders/get", token=token, ids=[order_id])["response"]["orders"][0]
    assert (order["delivery_name"], order["delivery_phone"], order["delivery_email"]) == (
        "Тарас Мельник", "0501234567", "taras@example.com"
    )
    assert order["stat_status"] == 2
    assert [(line["article"], line["quantity"]) for line in order["products"]] == [
        ("DSP-IP13", 1),
        ("SRV-SCREEN", 2),
    ]
    assert order["total_sum"] == 3900.0 + 2 * 500.0
    listing = session.get(f"{sandbox.base_url}/edit/orders/", timeout=TIMEOUT).text
    assert f'<a href="/edit/orders/{order_id}/">{order_id}</a>' in listing

    count = len(store.orders)
    for form, message in (
        ({"customer_name": " ", "status": "1", "article-0": "DSP-IP13"}, "name is required"),
        ({"customer_name": "A", "status": "1"}, "at least one product"),
        ({"customer_name": "A", "status": "1", "article-0": "NOPE"}, "NOPE is not in"),
        ({"customer_name": "A", "status": "5", "article-0": "DSP-IP13"}, "Status 5 does not"),
        ({"customer_name": "A", "status": "1", "article-0": "DSP-IP13", "quantity-0": "0"},
         "between 1 and 9999"),
    ):
        refused = admin_post(session, sandbox, "/edit/orders/new/", form_token=form_token,
                             **form)
        assert refused.status_code == 400
        assert message in refused.text
    long_name = admin_post(session, sandbox, "/edit/orders/new/", form_token=form_token,
                           customer_name="Я" * 1000, status="1",
                           **{"article-0": "DSP-IP13", "quantity-0": "1"})
    assert long_name.status_code == 303
    assert len(store.orders) == count + 1
    assert store.orders[max(store.orders)]["delivery_name"] == "Я" * 128


def test_admin_changes_need_the_pages_form_token(sandbox, store):
    session, form_token = admin_session(sandbox)
    for form in (
        {"status": "6"},
        {"status": "6", "form_token": form_token[:-1] + "x"},
        {"status": "6", "form_token": "токен"},
    ):
        refused = admin_post(session, sandbox, "/edit/orders/1001/status/", **form)
        assert refused.status_code == 403
        assert "reload it" in refused.text
    # A page of an earlier sandbox (another form token) cannot post either.
    with CartumSandbox(store) as restarted:
        refused = admin_post(session, restarted, "/edit/orders/1001/status/",
                             form_token=form_token, status="6")
        assert refused.status_code == 403
    assert requests.get(f"{sandbox.base_url}/edit/orders/1001/status/",
                        timeout=TIMEOUT).status_code == 405
    too_big = admin_post(session, sandbox, "/edit/orders/new/", form_token=form_token,
                         customer_name="x" * 20_000)
    assert too_big.status_code == 413

    def chunks():
        yield f"form_token={form_token}&status=6&customer_name=".encode()
        yield from (b"x" * 1024 for _ in range(20))

    chunked = session.post(f"{sandbox.base_url}/edit/orders/1001/status/", data=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"},
                           timeout=TIMEOUT, allow_redirects=False)
    assert "Content-Length" not in chunked.request.headers
    assert chunked.status_code == 411
    assert store.orders[1001]["stat_status"] == 2
    assert len(store.orders) == 7


def test_admin_answers_loopback_names_only(sandbox, store):
    """A site that points its own name at 127.0.0.1 (DNS rebinding) reaches no admin page."""
    session, form_token = admin_session(sandbox)
    for host in ("attacker.example:8765", "192.0.2.7"):
        headers = {"Host": host}
        page = session.get(f"{sandbox.base_url}/edit/orders/", headers=headers, timeout=TIMEOUT)
        assert page.status_code == 403
        refused = session.post(f"{sandbox.base_url}/edit/orders/1001/status/", headers=headers,
                               data={"form_token": form_token, "status": "6"}, timeout=TIMEOUT)
        assert refused.status_code == 403
    for host in (f"localhost:{sandbox.port}", "[::1]"):
        page = session.get(f"{sandbox.base_url}/edit/orders/", headers={"Host": host},
                           timeout=TIMEOUT)
        assert page.status_code == 200
    assert store.orders[1001]["stat_status"] == 2


def non_loopback_address():
    """An address of this machine on a network interface (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


def test_admin_refuses_clients_of_other_machines(store):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no network interface but loopback")
    with CartumSandbox(store, host="0.0.0.0") as open_sandbox:
        base_url = f"http://{address}:{open_sandbox.port}"
        # The API answers everyone, as a store's does; its admin pages, this machine only.
        auth = requests.post(f"{base_url}/api/auth/", timeout=TIMEOUT,
                             json={"login": "demo-api", "password": "demo-secret"})
        assert auth.json()["status"] == "OK"
        for path in ("/edit/orders/", "/edit/orders/1001/"):
            page = requests.get(f"{base_url}{path}", headers={"Host": "127.0.0.1"},
                                timeout=TIMEOUT)
            assert page.status_code == 403
        refused = requests.post(f"{base_url}/edit/orders/1001/status/", timeout=TIMEOUT,
                                headers={"Host": "127.0.0.1"}, data={"status": "6"})
        assert refused.status_code == 403
    assert store.orders[1001]["stat_status"] == 2


def test_admin_pages_keep_store_text_inert(sandbox, store):
    markup = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>'
    store.add_status(8, {"ua": markup, "en": markup})
    store.add_product(markup, {"ua": markup}, 10)
    order_id = store.add_order(
        lines=[(markup, 1), {"title": markup, "price": 5}], status=8, customer_name=markup,
        phone=markup, email=markup, currency=markup,
    )["order_id"]
    escaped = html.escape(markup, quote=True)
    odd_id = store.add_order(lines=[("DSP-IP12", 1)])["order_id"]
    store.edit_order(odd_id, stat_status=[markup])  # a status no store sends: shown as it is
    odd = requests.get(f"{sandbox.base_url}/edit/orders/{odd_id}/", timeout=TIMEOUT)
    assert odd.status_code == 200
    assert "Status: [&#x27;&lt;script&gt;alert(1)" in odd.text
    assert "<script>" not in odd.text
    for path in ("/edit/orders/", f"/edit/orders/{order_id}/"):
        page = requests.get(f"{sandbox.base_url}{path}", timeout=TIMEOUT)
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "<img" not in page.text
        assert escaped in page.text
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert page.headers["X-Content-Type-Options"] == "nosniff"
    # The product's article is a value of the new order form: escaped, it is posted back as is.
    session, form_token = admin_session(sandbox)
    answer = admin_post(session, sandbox, "/edit/orders/new/", form_token=form_token,
                        customer_name="A", status="8",
                        **{"article-0": markup, "quantity-0": "1"})
    assert answer.status_code == 303
    assert store.orders[max(store.orders)]["products"][0]["article"] == markup
    refused = admin_post(session, sandbox, "/edit/orders/new/", form_token=form_token,
                         customer_name="A", status="1", **{"article-0": markup + "!"})
    assert escaped + "!" in refused.text
    assert "<script>" not in refused.text


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_a_stop_signal_keeps_what_the_admin_changed(tmp_path, stop_signal):
    """SIGINT or SIGTERM to the sandbox's own process (not its process group) stops it and
    writes its state, also when it was started with SIGINT ignored, as a shell script's
    background job is."""
    state = tmp_path / "sandbox-state.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "cartum_sandbox", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        running = types.SimpleNamespace(base_url=process.stdout.readline().split()[-1])
        session, form_token = admin_session(running, "/edit/orders/1001/")
        answer = admin_post(session, running, "/edit/orders/1001/status/",
                            form_token=form_token, status="7")
        assert answer.status_code == 303
    finally:
        process.send_signal(stop_signal)
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()  # no process left behind by a failed test
            process.communicate()
            raise
    assert process.returncode == 0
    assert "Stopping." in output
    assert SandboxStore.load(state).orders[1001]["stat_status"] == 7


def test_a_malformed_request_is_no_error_in_the_host_log(sandbox, caplog):
    """A TLS handshake sent to the plain-http sandbox (a test of https to an http store) is
    answered 400 and logged as an error by nobody: Odoo's test runner counts ERROR lines."""
    host, port = sandbox.base_url.removeprefix("http://").split(":")
    with caplog.at_level(logging.DEBUG), socket.create_connection((host, int(port))) as conn:
        conn.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n")
        answer = conn.recv(1024)
    assert b"400" in answer
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
