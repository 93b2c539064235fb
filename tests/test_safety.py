"""What a store says is masked and capped; only public https:// addresses are called."""

import logging

import pytest

from cartum_api import (
    CartumAnswerError,
    CartumAuthError,
    CartumClient,
    CartumRedirect,
    CartumTooManyStatuses,
    CartumUnsafeAddress,
    address_problem,
    is_public_address,
    mask_secrets,
    untrusted_text,
)
from cartum_api.client import MAX_STATUSES
from cartum_api.records import MAX_FIELD_CHARS, MAX_ORDER_LINES, parse_orders


def test_secrets_are_masked_in_every_form_they_are_sent_in():
    secret = 'p@ss "wo/rd"'
    text = (
        f'{secret} {{"password": "p@ss \\"wo/rd\\""}} p%40ss%20%22wo%2Frd%22 p%40ss+%22wo%2Frd%22'
    )
    masked = mask_secrets(text, [secret, None, ""])
    assert "wo/rd" not in masked and "wo%2Frd" not in masked
    assert masked.count("********") == 4


def test_store_text_is_capped_with_a_note():
    text = untrusted_text("x" * 5_000_000 + "s3cret", ["s3cret"])
    assert len(text) < 600
    assert text.endswith("… [4999508 more characters cut]")
    assert untrusted_text("short") == "short"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:5432",
        "https://0x7f000001/",
        "https://2130706433/",
        "https://127.1/",
        "https://017700000001/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://localhost/",
        "https://169.254.169.254/latest/",
        "https://10.0.0.1/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://[fe80::1]/",
    ],
)
def test_local_addresses_are_refused_in_any_spelling(url):
    assert address_problem(url)[0] == "local"
    assert address_problem(url, allow_local=True) is None


def test_only_https_unless_local_stores_are_allowed():
    assert address_problem("http://8.8.8.8/") == ("scheme", "http")
    assert address_problem("ftp://8.8.8.8/") == ("scheme", "ftp")
    assert address_problem("https://8.8.8.8/") is None
    assert address_problem("http://127.0.0.1:8069", allow_local=True) is None
    # A name that does not resolve now is checked again on each connection.
    assert address_problem("https://shop.invalid/", resolver=lambda host, port: set()) is None
    assert is_public_address("8.8.8.8")
    assert not is_public_address("not an address")


def test_the_client_sends_nothing_to_a_local_or_plain_http_address(sandbox, store):
    port = sandbox.base_url.rsplit(":", 1)[1]
    for url, kind in (
        (sandbox.base_url, "scheme"),  # http://127.0.0.1:<port>
        (f"https://127.0.0.1:{port}", "local"),
        (f"https://localhost:{port}", "local"),
        (f"https://0x7f000001:{port}", "local"),
    ):
        client = CartumClient(url, "api", "s3cret-pass", backoff_base=0.01)
        with pytest.raises(CartumUnsafeAddress) as caught:
            client.authenticate()
        assert caught.value.kind == kind
        assert "nothing was sent" in str(caught.value)
        client.close()
    assert store.requests == []


def test_what_a_store_echoes_is_masked_and_capped(store, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    echo = "you sent s3cret-pass " + "x" * 10_000
    store.faults.envelope_next(1, "ERROR", echo)
    with pytest.raises(CartumAuthError) as refused:
        make_client().authenticate()
    client = make_client()
    client.authenticate()
    token = client._tokens.token
    store.faults.fail_call("currency/export", message=f"echoed {token} and s3cret-pass")
    with pytest.raises(CartumAnswerError) as answered:
        client.list_currencies()
    store.faults.redirect_next(1, "https://elsewhere.example/?p=s3cret-pass", status=302)
    with pytest.raises(CartumRedirect) as redirected:
        client.list_currencies()
    for error in (refused.value, answered.value, redirected.value):
        assert "s3cret-pass" not in str(error)
        assert token not in str(error)
        assert len(str(error)) < 1500
    assert "********" in str(refused.value)
    assert "more characters cut" in str(refused.value)
    assert "s3cret-pass" not in caplog.text


def test_too_many_statuses_are_refused(store, make_client):
    for status_id in range(100, 100 + MAX_STATUSES):
        store.add_status(status_id, {"ua": f"Статус {status_id}"})
    with pytest.raises(CartumTooManyStatuses) as caught:
        make_client().list_statuses()
    assert caught.value.limit == MAX_STATUSES
    assert "none was read" in str(caught.value)


def test_an_oversized_order_or_field_is_an_error_of_that_order_only():
    def order(order_id, **changes):
        line = {"article": "A", "title": "T", "price": 1, "quantity": 1}
        raw = {
            "order_id": order_id,
            "stat_status": 1,
            "stat_created": "2024-01-01 10:00:00",
            "currency": "UAH",
            "products": [line],
        }
        return {**raw, **changes}

    line = {"article": "A", "title": "T", "price": 1, "quantity": 1}
    page = parse_orders(
        [
            order(1, comment="x" * (MAX_FIELD_CHARS + 1)),
            order(2, products=[line] * (MAX_ORDER_LINES + 1)),
            order(3, stat_status="9" * 5_000_000),
            order("1" * 1000),
            order(5),
        ]
    )
    assert [o.order_id for o in page.items] == [5]
    messages = [str(error) for error in page.errors]
    assert f"'comment' is longer than {MAX_FIELD_CHARS} characters" in messages[0]
    assert f"more than the {MAX_ORDER_LINES} an order may have" in messages[1]
    assert all(len(message) < 300 for message in messages)
