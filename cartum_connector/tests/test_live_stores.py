from hashlib import sha1

from odoo.tests import tagged

from .common import CartumCase, orders_of

OLD_DIGEST = sha1(b"the whole payload, as version 1.2 digested it").hexdigest()


@tagged("post_install", "-at_install")
class TestLiveStore(CartumCase):
    """The demo shop answering as the live stores measured do: category paths with
    backslashes or sections of pages/export, expired tokens as HTTP 401, a bot filter against
    python-requests, and orders with tracking, analytics and coupon keys."""

    def setUp(self):
        super().setUp()
        self.shop.speak_like_live_store()

    def set_old_write_date(self, repairs):
        repairs.flush_recordset()
        self.env.cr.execute(
            "UPDATE repair_order SET write_date = '2020-01-01', cartum_last_sync = '2020-01-01' "
            "WHERE id IN %s",
            (tuple(repairs.ids),),
        )
        repairs.invalidate_recordset()

    def test_backslash_paths_and_sections_make_one_category_tree(self):
        self.shop.sections_as_parent = False  # paths "Запчастини \ Дисплеї", and some sections:
        parts = self.shop.add_section({"ua": "Запчастини", "en": "Parts"})
        displays = self.shop.add_section({"ua": "Дисплеї", "en": "Displays"}, parent=parts)
        self.shop.add_section({"ua": "Контакти", "en": "Contacts"})
        self.shop.products["DSP-IP12"]["parent"] = {"id": displays}
        self.shop.products["DSP-IP13"]["parent"] = {"id": 917}  # no such section in the store
        run = self.run_import()
        self.assertEqual((run.state, run.failed_count), ("done", 0))

        def product(article):
            return self.env["product.product"].search([("default_code", "=", article)])

        screens = product("DSP-IP12").categ_id
        self.assertEqual(screens.complete_name, "Запчастини / Дисплеї")
        self.assertEqual(product("DSP-SM-A52").categ_id, screens)  # "Запчастини \ Дисплеї"
        self.assertEqual(product("BAT-IP12").categ_id.parent_id, screens.parent_id)
        Category = self.env["product.category"]
        self.assertEqual(Category.search_count([("name", "=", "Запчастини")]), 1)
        self.assertFalse([name for name in Category.search([]).mapped("name") if name.isdigit()])
        unknown = product("DSP-IP13")
        default = self.env["product.product"].create({"name": "Walk-in part"}).categ_id
        self.assertEqual(unknown.categ_id, default)  # Odoo's default category (none on 19.0)
        link = unknown.cartum_link_ids
        self.assertIn("917", link.category_note)
        self.assertIn("default category", link.category_note)
        self.assertFalse(product("DSP-IP12").cartum_link_ids.category_note)
        # The sections were read once for the run, from the root down: root, Запчастини,
        # Дисплеї, Контакти.
        self.assertEqual(self.shop.requests.count("pages/export"), 4)

    def test_sections_are_read_again_only_for_a_section_not_seen(self):
        self.run_import()
        reads = self.shop.requests.count("pages/export")
        self.assertTrue(reads)
        self.shop.add_product(
            "CAM-IP12", {"ua": "Камера iPhone 12"}, 1500, category="Запчастини/Камери"
        )
        self.shop.add_product("FLX-IP12", {"ua": "Шлейф iPhone 12"}, 300, category={"id": 918})
        self.shop.add_order(lines=[("CAM-IP12", 1), ("FLX-IP12", 1)], phone="+380501112233")
        self.run_import()
        after_new_section = self.shop.requests.count("pages/export")
        self.assertGreater(after_new_section, reads)
        camera = self.env["product.product"].search([("default_code", "=", "CAM-IP12")])
        self.assertEqual(camera.categ_id.complete_name, "Запчастини / Камери")
        # Section 918 was not found at that read: it is not asked for again by the next order.
        self.shop.add_order(lines=[("FLX-IP12", 2)], phone="+380501112244")
        self.run_import()
        self.assertEqual(self.shop.requests.count("pages/export"), after_new_section)
        flex = self.env["product.product"].search([("default_code", "=", "FLX-IP12")])
        self.assertIn("918", flex.cartum_link_ids.category_note)

    def test_category_note_follows_the_catalog_refresh(self):
        self.shop.products["DSP-IP13"]["parent"] = {"id": 917}
        self.run_import()
        link = self.env["cartum.product.link"].search([("external_id", "=", "DSP-IP13")])
        self.assertTrue(link.category_note)
        self.shop.products["DSP-IP13"]["parent"] = "Запчастини/Дисплеї"
        self.env["cartum.product.link"]._refresh_links(self.store)
        self.assertEqual((link.category_note, link.cartum_category), (False, "Запчастини/Дисплеї"))

    def test_expired_token_answered_with_http_401_is_renewed(self):
        self.run_import()
        self.shop.expire_tokens()
        self.shop.set_line_quantity(1001, "DSP-IP12", 2)
        run = self.run_import()
        self.assertEqual((run.state, run.updated_count), ("done", 1))

    def test_a_web_page_instead_of_the_api_is_named_as_such(self):
        page = b"<!DOCTYPE html><html><body>Checking your browser...</body></html>"
        self.shop.faults.web_page_next(1, page, 403)
        self.store.action_test_connection()
        self.assertEqual(self.store.connection_state, "error")
        self.assertIn("answered with a web page instead of its API", self.store.connection_message)
        self.assertIn("bot filter", self.store.connection_message)
        self.assertEqual(self.shop.requests, ["auth"])  # not asked again

    def test_a_tracking_only_change_leaves_the_repair_alone(self):
        self.run_import()
        repair = self.repair_of(1002)
        self.set_old_write_date(repair)
        messages = len(repair.message_ids)
        self.shop.track_parcel(1002, "Відправлення прямує до відділення")
        self.shop.edit_order(1002, analytics={"utm_campaign": "spring"}, additional_data={"a": 1})
        run = self.run_import()
        self.assertEqual((run.updated_count, run.unchanged_count), (0, 5))
        self.assertEqual(str(repair.write_date), "2020-01-01 00:00:00")
        self.assertEqual(len(repair.message_ids), messages)
        self.assertGreater(repair.cartum_last_sync.year, 2020)  # Last Update moved
        # What the connector shows does change it.
        self.shop.edit_order(1002, delivery_address="вул. Хрещатик, 1")
        run = self.run_import()
        self.assertEqual(run.updated_count, 1)
        self.assertGreater(repair.write_date.year, 2020)
        self.assertEqual(len(repair.message_ids), messages + 1)  # the new delivery address

    def test_a_coupon_order_shows_its_discount_and_keeps_line_prices(self):
        self.shop.products["DSP-IP13"]["price"] = 799.0
        order_id = self.shop.add_order(lines=[("DSP-IP13", 1)], phone="+380501112255")["order_id"]
        self.shop.apply_coupon(order_id, "AUTUMN25", 25)
        self.run_import()
        repair = self.repair_of(order_id)
        self.assertEqual(
            (repair.cartum_amount_total, repair.cartum_discount_amount, repair.cartum_coupon_code),
            (599.0, 200.0, "AUTUMN25"),
        )
        self.assertEqual(self.parts_of(repair)["DSP-IP13"], (1.0, 799.0))
        # An order discount given later in Cartum is shown too.
        self.shop.edit_order(
            1001, discount_value=100, total_sum=self.shop.orders[1001]["total_sum"] - 100
        )
        self.run_import()
        self.assertEqual(self.repair_of(1001).cartum_discount_amount, 100.0)
        self.assertFalse(self.repair_of(1001).cartum_coupon_code)


@tagged("post_install", "-at_install")
class TestAfterUpgrade(CartumCase):
    """Repairs imported by version 1.2, whose digest covered the whole payload."""

    first_import_in_class = True

    def test_repairs_of_unchanged_orders_are_not_written_again(self):
        repairs = self.env["repair.order"].search([("cartum_store_id", "=", self.store.id)])
        repairs.flush_recordset()
        self.env.cr.execute(
            "UPDATE repair_order SET cartum_digest = %s, write_date = '2020-01-01' WHERE id IN %s",
            (OLD_DIGEST, tuple(repairs.ids)),
        )
        repairs.invalidate_recordset()
        self.shop.set_line_quantity(1002, "BAT-SM-A52", 3)  # changed meanwhile
        run = self.run_import()
        self.assertEqual((run.updated_count, run.unchanged_count), (1, 4))
        self.assertEqual(orders_of(run, "updated"), ["1002"])
        open_repairs = repairs.filtered(lambda repair: repair.cartum_external_id != "1004")
        self.assertTrue(
            all(digest.startswith("v2:") for digest in open_repairs.mapped("cartum_digest"))
        )
        untouched = open_repairs.filtered(lambda repair: repair.cartum_external_id != "1002")
        self.assertEqual({str(repair.write_date) for repair in untouched}, {"2020-01-01 00:00:00"})
        # The next run finds them unchanged by their new digest.
        run = self.run_import()
        self.assertEqual((run.updated_count, run.unchanged_count), (0, 5))
