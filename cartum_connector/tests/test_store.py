from contextlib import contextmanager

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from cartum_sandbox import CartumSandbox, demo_store

from .common import CartumCase


@tagged("post_install", "-at_install")
class TestOneShopOneStore(CartumCase):
    @contextmanager
    def refused(self, message):
        """The change is refused with ``message`` and undone (Odoo's assertRaises)."""
        with self.assertRaises(ValidationError) as refusal:
            yield
        self.assertRegex(str(refusal.exception), message)

    def new_store(self, **values):
        return self.env["cartum.store"].create(
            {"name": "Another", "login": "demo-api", "password": "demo-secret", **values}
        )

    def test_a_second_store_of_the_same_shop_is_refused(self):
        shop_url = self.sandbox.base_url  # http://127.0.0.1:<port>
        for spelling in (shop_url, shop_url + "/", shop_url.upper(), shop_url + "//"):
            with self.refused("already connects"):
                self.new_store(url=spelling)
        shop = self.new_store(url="https://myshop.example")
        for spelling in ("http://www.myshop.example/", "HTTPS://MyShop.example"):
            with self.refused("Demo shop|Another"):
                self.new_store(url=spelling, name="Third")
        with self.refused("already connects"):
            self.store.url = "https://www.myshop.example"
        self.assertTrue(shop)

    def test_another_company_may_connect_the_same_shop(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        picking_type = self.env["stock.picking.type"].search(
            [("code", "=", "repair_operation"), ("company_id", "=", company_b.id)], limit=1
        )
        store_b = self.new_store(
            url=self.sandbox.base_url, company_id=company_b.id, picking_type_id=picking_type.id
        )
        self.assertEqual(store_b.url, self.store.url)

    def test_each_store_names_its_repairs_with_a_prefix_of_its_own(self):
        self.assertEqual(self.store.order_prefix, "WEB-")
        second = self.new_store(url="https://second.example")
        third = self.new_store(url="https://third.example", name="Third")
        self.assertEqual((second.order_prefix, third.order_prefix), ("WEB2-", "WEB3-"))
        with self.refused("already used by the store Demo shop"):
            second.order_prefix = "WEB-"
        with self.refused("must not end with a digit"):
            second.order_prefix = "SHOP2"
        # Another shop's order of the same number gets another reference.
        other_shop = CartumSandbox(demo_store())
        other_shop.start()
        self.addCleanup(other_shop.stop)
        second.url = other_shop.base_url
        self.env["cartum.adapter"]._client(second).backoff_base = 0.01
        self.run_import()
        self.run_import(store=second)
        self.assertEqual(self.repair_of(1001).name, "WEB-1001")
        self.assertEqual(self.repair_of(1001, store=second).name, "WEB2-1001")
