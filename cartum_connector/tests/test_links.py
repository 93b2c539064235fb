from odoo import fields
from odoo.tests import tagged

from cartum_sandbox import CartumSandbox

from .common import CartumCase


@tagged("post_install", "-at_install")
class TestLinksAndCatalogRefresh(CartumCase):
    def counts(self):
        return tuple(
            self.env[model].search_count([])
            for model in (
                "product.product",
                "res.partner",
                "product.category",
                "cartum.product.link",
                "cartum.partner.link",
            )
        )

    def test_products_and_contacts_are_linked_per_store(self):
        self.run_import()
        product = self.env["product.product"].search([("default_code", "=", "DSP-IP12")])
        link = product.cartum_link_ids
        self.assertEqual((link.store_id, link.external_id), (self.store, "DSP-IP12"))
        self.assertTrue(link.linked_at and link.last_read_at)
        olena = self.repair_of(1001).partner_id
        self.assertEqual(olena.cartum_link_ids.external_id, "+380671234567")
        # A second import changes nothing but Last Update.
        before = self.counts()
        link.sudo().last_read_at = "2020-01-01 00:00:00"
        first_linked = link.linked_at
        self.run_import()
        self.assertEqual(self.counts(), before)
        self.assertGreater(link.last_read_at.year, 2020)
        self.assertEqual(link.linked_at, first_linked)
        # The same products and contacts sold by a second store (another shop: another
        # address) get a link of their own.
        second_sandbox = CartumSandbox(self.shop)
        second_sandbox.start()
        self.addCleanup(second_sandbox.stop)
        second = self.env["cartum.store"].create(
            {
                "name": "Second shop",
                "url": second_sandbox.base_url,
                "login": "demo-api",
                "password": "demo-secret",
            }
        )
        self.run_import(store=second)
        self.assertEqual(product.cartum_link_ids.store_id, self.store | second)
        self.assertEqual(len(olena.cartum_link_ids), 2)
        found = self.env["product.product"].search(
            [("cartum_link_ids.external_id", "ilike", "DSP-IP12")]
        )
        self.assertEqual(found, product)

    def test_a_run_moves_a_links_last_update_once(self):
        """Links read since the run began are left as they are, by the page upsert and by the
        touch of unchanged orders; older ones move."""
        self.run_import()
        Link = self.env["cartum.product.link"].sudo()
        read_earlier, read_before = Link.search(
            [("store_id", "=", self.store.id), ("external_id", "in", ["DSP-IP12", "DSP-IP13"])],
            order="external_id",
        )
        run_start = fields.Datetime.from_string("2030-01-01 12:00:00")
        for touch in (
            lambda pairs: Link._upsert(self.store, pairs, read_since=run_start),
            lambda pairs: Link._touch(self.store, [article for article, _id in pairs], run_start),
        ):
            read_earlier.last_read_at = "2030-01-01 12:00:05"  # in this run
            read_before.last_read_at = "2030-01-01 11:59:55"  # before it
            touch([(link.external_id, link.product_id.id) for link in read_earlier | read_before])
            self.assertEqual(str(read_earlier.last_read_at), "2030-01-01 12:00:05")
            self.assertNotEqual(str(read_before.last_read_at), "2030-01-01 11:59:55")

    def test_catalog_refresh_records_cartum_data_and_optionally_updates_products(self):
        self.run_import()
        product = self.env["product.product"].search([("default_code", "=", "DSP-IP12")])
        name = product.with_context(lang="en_US").name
        self.shop.products["DSP-IP12"]["price"] = 3333.0
        self.shop.products["DSP-IP12"]["title"]["ua"] = "Дисплей iPhone 12 (новий)"
        self.shop.products["DSP-IP12"]["presence"] = "Під замовлення"
        self.shop.remove_product("BAT-IP12")
        message, level = self.env["cartum.product.link"]._refresh_links(self.store)
        self.assertEqual(level, "warning", message)
        link = product.cartum_link_ids
        self.assertEqual(
            (link.cartum_title, link.cartum_price, link.cartum_availability),
            ("Дисплей iPhone 12 (новий)", 3333.0, "Під замовлення"),
        )
        self.assertEqual(link.cartum_category, "Запчастини/Дисплеї")
        self.assertEqual(product.with_context(lang="en_US").name, name)  # option off
        self.assertEqual(product.list_price, 3200.0)
        gone = self.env["product.product"].search([("default_code", "=", "BAT-IP12")])
        self.assertTrue(gone.exists())
        self.assertTrue(gone.cartum_link_ids.gone_from_catalog)
        self.store.update_product_data = True
        self.store.with_user(self.manager).action_refresh_products()
        self.assertEqual(product.list_price, 3333.0)
        self.assertEqual(product.with_context(lang="en_US").name, "Дисплей iPhone 12 (новий)")


@tagged("post_install", "-at_install")
class TestProductTemplates(CartumCase):
    def test_template_shows_and_finds_its_cartum_links(self):
        self.run_import()
        link = self.env["cartum.product.link"].search(
            [("store_id", "=", self.store.id), ("external_id", "=", "DSP-IP13")]
        )
        template = link.product_id.product_tmpl_id
        self.assertEqual(template.cartum_link_ids, link)
        Template = self.env["product.template"]
        from_cartum = Template.search([("cartum_link_ids", "!=", False)])
        self.assertIn(template, from_cartum)
        found = Template.search([("cartum_link_ids", "any", [("external_id", "ilike", "ip13")])])
        self.assertIn(template, found)
        self.assertFalse(
            Template.search([("cartum_link_ids", "any", [("external_id", "ilike", "nothing")])])
        )
        plain = Template.create({"name": "Made in Odoo"})
        self.assertFalse(plain.cartum_link_ids)
        self.assertNotIn(plain, from_cartum)
