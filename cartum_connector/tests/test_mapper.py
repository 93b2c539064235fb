from odoo.tests import new_test_user, tagged

from .. import compat
from .common import CartumCase


@tagged("post_install", "-at_install")
class TestContactsAndProducts(CartumCase):
    def test_phone_dedup_across_formats(self):
        existing = self.env["res.partner"].create({"name": "Андрій К.", "phone": "050-987-65-43"})
        self.run_import()
        # Olena: "+380 67 123 45 67", "380671234567" and "0671234567" are one contact.
        olena = self.repair_of(1001).partner_id
        self.assertEqual(self.repair_of(1006).partner_id, olena)
        self.assertEqual(
            self.env["res.partner"].search_count([("cartum_phone_key", "=", "380671234567")]), 1
        )
        # Andriy already existed, with yet another format: he is reused, not duplicated.
        self.assertEqual(self.repair_of(1002).partner_id, existing)
        self.assertEqual(self.repair_of(1007).partner_id, existing)

    def test_a_contact_is_found_by_each_of_its_phone_numbers(self):
        """Phone, and on 18.0 also Mobile when Phone is empty (compat.PARTNER_PHONE_FIELDS)."""
        self.store.action_test_connection()
        for number, field in enumerate(compat.PARTNER_PHONE_FIELDS):
            with self.subTest(field=field):
                phone = f"+380 93 000 00 0{number}"
                existing = self.env["res.partner"].create({"name": field, field: phone})
                order_id = self.shop.add_order(lines=[("DSP-IP13", 1)], phone=phone)["order_id"]
                self.run_import(order_ids=[order_id])
                self.assertEqual(self.repair_of(order_id).partner_id, existing)

    def test_product_identified_by_reference(self):
        product = self.env["product.product"].create(
            {"name": "Old name", "default_code": "DSP-IP12"}
        )
        self.run_import()
        self.assertIn(product, self.repair_of(1001).move_ids.product_id)
        self.assertEqual(
            self.env["product.product"].search_count([("default_code", "=", "DSP-IP12")]), 1
        )

    def test_product_identified_by_name(self):
        self.store.product_match_key = "name"
        product = self.env["product.product"].create(
            {"name": "Дисплей iPhone 12 (OLED)", "default_code": "MY-OWN-CODE"}
        )
        self.run_import()
        self.assertIn(product, self.repair_of(1001).move_ids.product_id)
        self.assertFalse(self.env["product.product"].search([("default_code", "=", "DSP-IP12")]))

    def test_same_new_product_in_two_orders_of_one_page(self):
        self.run_import()
        self.shop.add_product(
            "NEW-1", {"ua": "Шлейф", "en": "Flex cable"}, 150.0, category="Запчастини/Шлейфи"
        )
        self.shop.add_order(lines=[("NEW-1", 1)], phone="0671234567")
        self.shop.add_order(lines=[("NEW-1", 2)], phone="0501112233")
        run = self.run_import()
        self.assertEqual(run.imported_count, 2)
        products = self.env["product.product"].search([("default_code", "=", "NEW-1")])
        self.assertEqual(len(products), 1)
        self.assertEqual(products.categ_id.name, "Шлейфи")


@tagged("post_install", "-at_install")
class TestPhoneKey(CartumCase):
    PHONE = "501 234 567"  # a national number: its key depends on the country

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ua, cls.pl, cls.de = (cls.env.ref(f"base.{code}") for code in ("ua", "pl", "de"))
        cls.main_company = cls.env.ref("base.main_company")
        cls.main_company.country_id = cls.ua
        cls.polish = cls.env["res.company"].create({"name": "Polish shop", "country_id": cls.pl.id})
        cls.polish_user = new_test_user(
            cls.env,
            "polish_user",
            groups="base.group_user,base.group_partner_manager",
            company_id=cls.polish.id,
            company_ids=[cls.polish.id],
        )

    def test_key_follows_contact_then_company_then_main_company_country(self):
        Partner = self.env["res.partner"].with_user(self.polish_user)
        self.assertEqual(Partner.env.company, self.polish)
        # Created by a user of the Polish company: still read in the main company's country.
        loose = Partner.create({"name": "No country", "phone": self.PHONE})
        self.assertFalse(loose.company_id or loose.country_id)
        self.assertEqual(loose.cartum_phone_key, "380501234567")
        # Computed the same by a user of the main company.
        same = self.env["res.partner"].create({"name": "No country either", "phone": self.PHONE})
        self.assertEqual(same.cartum_phone_key, "380501234567")
        # The contact's company's country, then its own country, first.
        of_company = Partner.create(
            {"name": "Of the Polish shop", "phone": self.PHONE, "company_id": self.polish.id}
        )
        self.assertEqual(of_company.cartum_phone_key, "48501234567")
        of_company.country_id = self.de
        self.assertEqual(of_company.cartum_phone_key, "49501234567")
        of_company.country_id = False
        self.assertEqual(of_company.cartum_phone_key, "48501234567")
        # Recomputed when the company's country changes.
        self.polish.country_id = self.de
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(of_company.cartum_phone_key, "49501234567")
        self.assertEqual(loose.cartum_phone_key, "380501234567")
        self.assertEqual(
            self.env["res.partner"].search([("cartum_phone_key", "=", "49501234567")]), of_company
        )

    def test_key_follows_the_main_company_country(self):
        loose = (
            self.env["res.partner"]
            .with_user(self.polish_user)
            .create({"name": "No country", "phone": self.PHONE})
        )
        own = self.env["res.partner"].create(
            {"name": "Own country", "phone": self.PHONE, "country_id": self.ua.id}
        )
        self.assertEqual(loose.cartum_phone_key, "380501234567")
        self.main_company.country_id = self.pl
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(loose.cartum_phone_key, "48501234567")
        self.assertEqual(own.cartum_phone_key, "380501234567")
        self.assertEqual(
            self.env["res.partner"].search([("cartum_phone_key", "=", "48501234567")]), loose
        )


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
        Importer = self.env["cartum.importer"]
        paths = {("A", "B", f"C{n}") for n in range(30)} | {("A", "D")}
        found = Importer._write_categories(paths)  # one create per level
        self.assertEqual(found[("A", "B", "C7")].complete_name, "A / B / C7")
        self.assertEqual(found[("A", "D")].parent_id, found[("A", "B", "C7")].parent_id.parent_id)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=2):  # the search, then name and parent
            again = Importer._write_categories(paths)
        self.assertEqual(again, found)
