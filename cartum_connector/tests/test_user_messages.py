from datetime import datetime

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import CartumCase


@tagged("post_install", "-at_install")
class TestTruthfulMessages(CartumCase):
    """What the connector tells users: orders by number, its own field names, the first
    import, who started a run and how far it got."""

    def import_numbers(self, numbers):
        wizard = self.env["cartum.import.wizard"].create(
            {"store_id": self.store.id, "order_numbers": numbers}
        )
        action = wizard.action_import()
        return self.env["cartum.sync.run"].browse(action["res_id"])

    def test_a_number_cartum_does_not_return_is_reported_not_found(self):
        self.run_import()
        run = self.import_numbers("1003, 1006, 9999")
        self.assertEqual(run.state, "partial")
        self.assertEqual((run.imported_count, run.unchanged_count, run.failed_count), (1, 1, 1))
        self.assertEqual(run.failure_ids.external_id, "9999")
        self.assertEqual(run.failure_ids.reason, "Order 9999 was not found in Cartum.")
        # The run names the orders it touched.
        self.assertEqual(run.imported_external_ids, "1003")
        self.assertEqual(run.unchanged_external_ids, "1006")
        self.assertFalse(run.updated_external_ids)
        self.assertEqual(run.failed_external_ids, "9999")

    def test_a_run_lists_the_orders_created_updated_and_unchanged(self):
        first = self.run_import()
        self.assertEqual(first.imported_external_ids, "1001, 1002, 1004, 1005, 1006, 1007")
        self.shop.set_line_quantity(1002, "BAT-SM-A52", 3)
        run = self.run_import()
        self.assertEqual(run.updated_external_ids, "1002")
        self.assertEqual(run.unchanged_external_ids.split(", ").count("1001"), 1)
        self.assertNotIn("1002", run.unchanged_external_ids)
        self.assertFalse(run.imported_external_ids)

    def test_retry_and_refresh_of_an_order_gone_from_cartum(self):
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        usd_id = max(self.shop.orders)
        failure = self.run_import().failure_ids
        del self.shop.orders[usd_id]
        failure.action_retry()
        again = self.env["cartum.sync.failure"].search([("state", "=", "open")])
        self.assertEqual(again.run_id.trigger, "retry")
        self.assertEqual(again.reason, f"Order {usd_id} was not found in Cartum.")
        # Update from Cartum says it too, instead of "Refreshed".
        del self.shop.orders[1007]
        repairs = self.repair_of(1007) | self.repair_of(1001)
        notification = repairs.with_user(self.parts_user).action_cartum_refresh()
        message = notification["params"]["message"]
        self.assertIn("Order 1007 was not found in Cartum.", message)
        self.assertIn("Refreshed: WEB-1001.", message)
        self.assertEqual(notification["params"]["type"], "warning")

    def test_each_url_field_names_itself_and_a_bare_address_gets_https(self):
        self.store.url = "127.0.0.1:8765"
        self.assertEqual(self.store.url, "https://127.0.0.1:8765")
        self.store.url = "  shop.example.com/ "
        self.assertEqual(self.store.url, "https://shop.example.com/")
        with self.assertRaisesRegex(ValidationError, "website URL") as caught:
            self.store.url = "not a url"
        self.assertNotIn("admin order URL", str(caught.exception))
        with self.assertRaisesRegex(ValidationError, "website URL"):
            self.store.url = "ftp://shop.example.com"
        self.store.url = self.sandbox.base_url
        with self.assertRaisesRegex(ValidationError, "admin order URL") as caught:
            self.store.admin_order_url = "{url}/{secret}"
        self.assertNotIn("website URL", str(caught.exception))

    def test_test_connection_says_the_first_import_started(self):
        store = self.store.with_user(self.manager)
        notification = store.action_test_connection()
        message = notification["params"]["message"]
        self.assertIn("Connected. 6 statuses read.", message)
        self.assertIn("The first import has started in the background", message)
        self.assertIn("Sync Log", message)
        self.assertEqual(self.store.import_requested_by, self.manager)
        # Paused: nothing starts, and the message says when it will.
        self.store.write({"sync_paused": True, "import_requested_by": False})
        message = store.action_test_connection()["params"]["message"]
        self.assertIn("the first import starts when it is resumed", message)
        self.assertFalse(self.store.import_requested_by)
        with self.assertRaisesRegex(UserError, "paused"):
            store.action_import_now()
        # Once imported, Test Connection only tests.
        self.store.sync_paused = False
        self.run_import()
        message = store.action_test_connection()["params"]["message"]
        self.assertEqual(message, "Connected. 6 statuses read.")


@tagged("post_install", "-at_install")
class TestRunStarterAndProgress(CartumCase):
    def test_import_now_is_logged_with_who_pressed_it_and_notifies_them(self):
        self.store.connection_state = "ok"
        self.run_import()
        self.store.with_user(self.manager).action_import_now()
        self.assertEqual(self.store.import_requested_by, self.manager)
        self.run_store_job()
        run = self.store.sync_run_ids[0]
        self.assertEqual((run.trigger, run.user_id, run.state), ("manual", self.manager, "done"))
        self.assertFalse(self.store.import_requested_by)
        notification = self.env["bus.bus"].search(
            [("channel", "like", f'"res.partner",{self.manager.partner_id.id}]')],
            order="id desc",
            limit=1,
        )
        self.assertIn("simple_notification", notification.message)
        self.assertIn("Cartum import of Demo shop: Done", notification.message)
        self.assertIn("unchanged 5", notification.message)
        # The next scheduled run is the job's own.
        self.run_store_job()
        run = self.store.sync_run_ids[0]
        self.assertEqual((run.trigger, run.user_id.id), ("cron", False))

    def test_a_run_counts_its_pages_and_time(self):
        for _number in range(150):  # two pages of new orders
            self.shop.add_order(lines=[("DSP-IP13", 1)], phone="0671234567")
        run = self.run_import()
        # Two pages of new orders; every open order was among them, none is read again.
        self.assertEqual(run.page_count, 2)
        self.assertEqual(run.order_count, 156)
        self.assertGreater(run.duration, 0)
        self.assertEqual(run.user_id, self.env.user)

    def test_display_name_in_the_user_time_zone(self):
        run = self.env["cartum.sync.run"].create(
            {
                "store_id": self.store.id,
                "trigger": "cron",
                "started_at": datetime(2026, 7, 1, 9, 30),
            }
        )
        kyiv = run.with_context(tz="Europe/Kyiv", lang="en_US")
        self.assertIn("12:30", kyiv.display_name)
        self.assertTrue(kyiv.display_name.startswith("Demo shop "))
        self.assertIn("9:30", run.with_context(tz="UTC").display_name)


@tagged("post_install", "-at_install")
class TestChatterAndLanguage(CartumCase):
    """What the connector writes follows the store's people: its responsible users' language,
    else its company's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in ("es_ES", "uk_UA"):
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"].search(
            [("name", "=", "cartum_connector")]
        )._update_translations(["es_ES", "uk_UA"])

    def send_pending(self):
        self.env["cartum.status.push"]._cron_send_pending()

    def notes(self, repair, text):
        return repair.message_ids.filtered(lambda message: text in (message.body or ""))

    def test_chatter_says_sent_to_cartum_and_changed_in_cartum(self):
        self.run_import()
        repair = self.repair_of(1006)
        repair.action_validate()
        self.send_pending()
        self.assertTrue(self.notes(repair, "Status sent to Cartum as Processing."))
        self.shop.set_status(1006, 6)  # Shipping
        self.run_import()
        self.assertTrue(self.notes(repair, "Status changed in Cartum to Shipping."))

    def test_connector_text_in_spanish_for_spanish_responsible_users(self):
        self.manager.lang = "es_ES"
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        run = self.run_import()
        self.assertIn("está en USD", run.failure_ids.reason)
        repair = self.repair_of(1001)
        self.assertTrue(self.notes(repair, "Entrega en Cartum"))
        # Statuses: sent and changed, in Spanish, with the status in Spanish when Cartum has
        # it (the demo store: Ukrainian and English only, so the store's Ukrainian).
        repair = self.repair_of(1006)
        repair.action_validate()
        self.send_pending()
        self.assertTrue(self.notes(repair, "Estado enviado a Cartum como В обробці."))
        self.shop.set_status(1006, 6)
        self.run_import()
        self.assertTrue(self.notes(repair, "Estado cambiado en Cartum a Відправлено."))

    def test_connector_text_in_the_company_language_without_responsible_users(self):
        self.store.responsible_user_ids = False
        self.company.partner_id.lang = "uk_UA"
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        run = self.run_import()
        self.assertIn("у валюті USD", run.failure_ids.reason)
        self.assertTrue(self.notes(self.repair_of(1001), "Доставка в Cartum"))
        not_found = self.import_numbers_run("9999")
        self.assertEqual(not_found.failure_ids.reason, "Замовлення 9999 не знайдено в Cartum.")

    def import_numbers_run(self, numbers):
        return self.env["cartum.importer"]._run(self.store, trigger="import", order_ids=[numbers])


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
