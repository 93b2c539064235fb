"""Shared fixtures of the pure tests: a Cartum sandbox on a free loopback port."""

import pytest

from cartum_sandbox import CartumSandbox, SandboxStore


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    """Stands in for pytest-odoo's fixture of this name, which needs an Odoo database.

    These tests import nothing from Odoo, so they also run where pytest-odoo is installed.
    """
    yield


@pytest.fixture
def store():
    shop = SandboxStore(login="api", password="s3cret-pass")
    shop.add_product(
        "DSP-1", {"ua": "Дисплей", "en": "Display"}, 1200.0, category="Запчастини/Дисплеї"
    )
    shop.add_product("BAT-1", {"ua": "Акумулятор", "en": "Battery"}, 450.5)
    return shop


@pytest.fixture
def sandbox(store):
    with CartumSandbox(store) as server:
        yield server


@pytest.fixture
def make_client(sandbox):
    """Build clients that never really sleep between retries, and close them afterwards."""
    from cartum_api import CartumClient

    clients = []

    def factory(**options):
        options.setdefault("backoff_base", 0.01)
        options.setdefault("requests_per_second", None)
        options.setdefault("read_timeout", 5.0)
        options.setdefault("allow_local_addresses", True)  # the sandbox is on 127.0.0.1
        client = CartumClient(sandbox.base_url, "api", "s3cret-pass", **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()
