from odoo.tests import tagged

from cartum_sandbox import CartumSandbox

from .common import CartumCase


@tagged("post_install", "-at_install")
class TestLinesAsCartumHasThem(CartumCase):
    def parts(self, repair):
        """Sorted (line key, unit price, quantity) of the repair's live parts."""
        return sorted(
            (move.cartum_line_key, move.price_unit, move.product_uom_qty)
            for move in repair.move_ids
            if move.state != "cancel"
        )

    def test_same_article_at_two_prices_stays_two_parts(self):
        order_id = self.shop.add_order(
            lines=[("DSP-IP12", 1, 0.0), ("DSP-IP12", 1, 199.90), ("DSP-IP12", 2, 199.90)]
        )["order_id"]
        self.run_import()
        repair = self.repair_of(order_id)
        self.assertEqual(self.parts(repair), [("DSP-IP12", 0.0, 1.0), ("DSP-IP12", 199.9, 3.0)])
        # The quotation made from the repair carries each price.
        repair.action_create_sale_order()
        self.assertEqual(sorted(repair.sale_order_id.order_line.mapped("price_unit")), [0.0, 199.9])
        # A later change in Cartum finds its part by article and unit price.
        lines = self.shop.orders[order_id]["products"]
        lines[1]["quantity"] = 5
        lines[1]["total_price"] = 5 * 199.90
        self.shop.edit_order(order_id, products=lines[:2])
        self.run_import()
        self.assertEqual(self.parts(repair), [("DSP-IP12", 0.0, 1.0), ("DSP-IP12", 199.9, 5.0)])

    def test_quantity_zero_keeps_its_unit_price(self):
        order_id = self.shop.add_order(lines=[("DSP-IP13", 0), ("SRV-SCREEN", 1)])["order_id"]
        self.run_import()
        self.assertIn(("DSP-IP13", 3900.0, 0.0), self.parts(self.repair_of(order_id)))

    def test_a_line_without_article_is_a_part_found_by_its_title(self):
        first = self.shop.add_order(
            lines=[("DSP-IP13", 1), {"title": "Діагностика", "price": 200}]
        )["order_id"]
        second = self.shop.add_order(lines=[{"title": "Діагностика", "price": 150}])["order_id"]
        run = self.run_import()
        self.assertEqual(run.failed_count, 0)
        service = self.repair_of(first).move_ids.product_id.filtered(
            lambda product: product.name == "Діагностика"
        )
        self.assertEqual(len(service), 1)
        self.assertFalse(service.default_code)
        self.assertEqual(self.repair_of(second).move_ids.product_id, service)
        self.assertEqual(self.repair_of(second).move_ids.price_unit, 150.0)
        self.assertIn(("title:Діагностика", 200.0, 1.0), self.parts(self.repair_of(first)))

    def test_delivery_cost_not_calculated_is_said_in_words(self):
        self.assertEqual(self.shop.orders[1001]["delivery_price"], -1)
        self.run_import()
        note = self.repair_of(1001).message_ids.filtered(
            lambda m: "Delivery in Cartum" in (m.body or "")
        )
        self.assertIn("not calculated", note.body)
        self.assertNotIn("-1", note.body)
        self.assertNotIn("0.00", note.body)
        priced = self.repair_of(1002).message_ids.filtered(
            lambda m: "Delivery in Cartum" in (m.body or "")
        )
        self.assertIn("70.00 UAH", priced.body)


@tagged("post_install", "-at_install")
class TestCategoryTrees(CartumCase):
    def test_a_path_becomes_a_parent_child_chain(self):
        Category = self.env["product.category"]
        parts = Category.create({"name": "Запчастини"})
        unrelated = Category.create({"name": "Дисплеї"})  # top-level, not under Запчастини
        self.run_import()
        product = self.env["product.product"].search([("default_code", "=", "DSP-IP12")])
        self.assertEqual(product.categ_id.name, "Дисплеї")
        self.assertEqual(product.categ_id.parent_id, parts)
        self.assertNotEqual(product.categ_id, unrelated)
        battery = self.env["product.product"].search([("default_code", "=", "BAT-IP12")])
        self.assertEqual(battery.categ_id.complete_name, "Запчастини / Акумулятори")
        services = self.env["product.product"].search([("default_code", "=", "SRV-SCREEN")])
        self.assertFalse(services.categ_id.parent_id)
        self.assertEqual(Category.search_count([("name", "=", "Запчастини")]), 1)

    def test_categories_of_a_page_are_found_in_one_search(self):
        Mapper = self.env["cartum.order.mapper"]
        paths = {("A", "B", f"C{n}") for n in range(30)} | {("A", "D")}
        found = Mapper._prepare_categories(paths)  # one create per level
        self.assertEqual(found[("A", "B", "C7")].complete_name, "A / B / C7")
        self.assertEqual(found[("A", "D")].parent_id, found[("A", "B", "C7")].parent_id.parent_id)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=2):  # the search, then name and parent
            again = Mapper._prepare_categories(paths)
        self.assertEqual(again, found)


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

    def test_catalog_refresh_records_cartum_data_and_optionally_updates_products(self):
        self.run_import()
        product = self.env["product.product"].search([("default_code", "=", "DSP-IP12")])
        name = product.with_context(lang="en_US").name
        self.shop.products["DSP-IP12"]["price"] = 3333.0
        self.shop.products["DSP-IP12"]["title"]["ua"] = "Дисплей iPhone 12 (новий)"
        self.shop.products["DSP-IP12"]["presence"] = "Під замовлення"
        self.shop.remove_product("BAT-IP12")
        message, level = self.env["cartum.product.link"]._refresh_store(self.store)
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
