import logging
from datetime import datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from cartum_sandbox import CartumSandbox

from .. import compat
from .common import CartumCase


@tagged("post_install", "-at_install")
class TestImport(CartumCase):
    def test_first_import_of_the_demo_store(self):
        before = fields.Datetime.now()
        run = self.run_import()
        self.assertEqual(run.trigger, "first")
        self.assertEqual(run.state, "done", run.message)
        # Order 1003 is delivered (a successful status): a first import leaves it out.
        self.assertEqual(run.imported_count, 6)
        self.assertFalse(self.repair_of(1003))
        raw = self.shop.orders[1001]
        repair = self.repair_of(1001)
        self.assertEqual(repair.name, "WEB-1001")
        self.assertEqual(repair.cartum_store_id, self.store)
        self.assertEqual(repair.cartum_store_name, "Demo shop")
        self.assertEqual(repair.cartum_external_id, "1001")
        created_utc = self.store._to_utc(
            datetime.strptime(raw["stat_created"], "%Y-%m-%d %H:%M:%S")
        )
        self.assertEqual(repair.cartum_created, created_utc)
        # Planned when imported, not overdue since its creation in Cartum.
        self.assertGreaterEqual(repair.schedule_date, before)
        self.assertLessEqual(repair.schedule_date, fields.Datetime.now())
        self.assertTrue(repair.cartum_last_sync)
        self.assertEqual(repair.cartum_status_code, 2)
        # Cartum's title in the user's language, else in the store's (Ukrainian).
        self.env["res.lang"]._activate_lang("uk_UA")
        self.env["res.lang"]._activate_lang("de_DE")
        self.assertEqual(repair.cartum_status_name, "Processing")
        self.assertEqual(repair.with_context(lang="uk_UA").cartum_status_name, "В обробці")
        self.assertEqual(repair.with_context(lang="de_DE").cartum_status_name, "В обробці")
        self.assertEqual(repair.state, "confirmed")  # Processing maps to Confirmed
        self.assertEqual(repair.cartum_amount_total, raw["total_sum"])
        self.assertEqual(repair.partner_id.name, "Олена Петренко")
        self.assertEqual(repair.partner_id.phone, "+380 67 123 45 67")
        self.assertEqual(repair.partner_id.email, "olena.petrenko@example.com")
        self.assertEqual(repair.user_id, self.manager)
        self.assertIn(self.manager.partner_id, repair.message_partner_ids)
        self.assertEqual(
            self.parts_of(repair),
            {line["article"]: (line["quantity"], line["price"]) for line in raw["products"]},
        )
        for move in repair.move_ids:
            self.assertEqual(move.repair_line_type, "add")
            self.assertNotEqual(move.state, "done")  # not deducted from stock
        product = repair.move_ids.product_id.filtered(lambda p: p.default_code == "DSP-IP12")
        self.assertEqual(product.with_context(lang="en_US").name, "Дисплей iPhone 12 (OLED)")
        self.assertEqual(product.description_sale, "Оригінальна OLED-матриця з тачскріном.")
        self.assertEqual(product.uom_id, self.env.ref("uom.product_uom_unit"))
        self.assertEqual(product.categ_id.name, "Дисплеї")
        self.assertEqual(repair.cartum_admin_url, f"{self.sandbox.base_url}/edit/orders/1001/")
        # Cartum's prices carry into a quotation made from the repair.
        repair.action_create_sale_order()
        sale_prices = {
            line.product_id.default_code: line.price_unit
            for line in repair.sale_order_id.order_line
        }
        self.assertEqual(sale_prices, {line["article"]: line["price"] for line in raw["products"]})

    def test_second_run_imports_nothing_new(self):
        self.run_import()
        repair = self.repair_of(1001)
        repair.cartum_last_sync = "2020-01-01 00:00:00"
        count = self.env["repair.order"].search_count([("cartum_store_id", "=", self.store.id)])
        run = self.run_import()
        self.assertEqual(run.trigger, "manual")
        self.assertEqual((run.imported_count, run.updated_count, run.failed_count), (0, 0, 0))
        self.assertEqual(run.unchanged_count, 5)  # open ones re-read; cancelled 1004 is not
        self.assertGreater(repair.cartum_last_sync, run.started_at - timedelta(seconds=1))
        self.assertEqual(
            self.env["repair.order"].search_count([("cartum_store_id", "=", self.store.id)]), count
        )

    def test_finished_orders_left_out_by_the_first_import_stay_out(self):
        newest = self.shop.orders[1007]["stat_created"]
        newest = datetime.strptime(newest, "%Y-%m-%d %H:%M:%S")
        self.shop.add_order(
            lines=[("DSP-IP13", 1)], status=3, created=newest - timedelta(minutes=10)
        )
        finished_id = max(self.shop.orders)
        self.run_import()
        self.assertFalse(self.repair_of(finished_id))
        # A later window overlaps the first import's period: the order stays out; an order
        # created and finished after it is new, and comes in.
        self.shop.add_order(lines=[("DSP-IP13", 1)], status=3)
        run = self.run_import()
        self.assertEqual(run.imported_count, 1)
        self.assertFalse(self.repair_of(finished_id))
        self.assertEqual(self.repair_of(max(self.shop.orders)).state, "done")

    def test_new_order_appears_after_one_run(self):
        self.run_import()
        self.shop.add_order(
            lines=[("DSP-IP13", 2)], phone="+380 99 000 11 22", customer_name="Петро Іваненко"
        )
        new_id = max(self.shop.orders)
        run = self.run_import()
        self.assertEqual(run.imported_count, 1)
        repair = self.repair_of(new_id)
        self.assertEqual(repair.partner_id.name, "Петро Іваненко")
        self.assertEqual(self.parts_of(repair), {"DSP-IP13": (2, 3900.0)})

    def test_quantity_change_before_write_off_flows_in(self):
        self.run_import()
        self.shop.set_line_quantity(1001, "DSP-IP12", 3)
        run = self.run_import()
        self.assertEqual(run.updated_count, 1)
        self.assertEqual(self.parts_of(self.repair_of(1001))["DSP-IP12"], (3, 3200.0))

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

    def test_currency_mismatch_is_recorded_and_the_rest_imported(self):
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        usd_id = max(self.shop.orders)
        run = self.run_import()
        self.assertEqual(run.state, "partial")
        self.assertEqual((run.imported_count, run.failed_count), (6, 1))
        failure = run.failure_ids
        self.assertEqual(failure.external_id, str(usd_id))
        self.assertIn("USD", failure.reason)
        self.assertIn("UAH", failure.reason)
        self.assertFalse(self.repair_of(usd_id))

    def test_malformed_order_is_recorded_and_the_rest_imported(self):
        # A line with neither article nor title cannot be mapped: the order goes in without it,
        # with a note that names the line. A bad creation date rejects its order only.
        good_line = dict(self.shop.orders[1002]["products"][0])
        self.shop.edit_order(1002, products=[good_line, {"article": "", "quantity": 1, "price": 5}])
        self.shop.edit_order(1005, stat_created="not a date")
        run = self.run_import()
        self.assertEqual((run.imported_count, run.failed_count), (5, 1))
        self.assertEqual(run.failure_ids.external_id, "1005")
        self.assertIn("stat_created", run.failure_ids.reason)
        repair = self.repair_of(1002)
        self.assertEqual(set(self.parts_of(repair)), {good_line["article"]})
        notes = repair.message_ids.filtered(lambda m: "could not be imported" in (m.body or ""))
        self.assertIn("products[1]", notes.body)
        self.assertTrue(self.repair_of(1001))

    def test_interrupted_run_is_resumed_without_duplicate(self):
        self.run_import()
        cursor = self.store.import_cursor
        for _number in range(150):  # more than one page of 100
            self.shop.add_order(lines=[("DSP-IP13", 1)], phone="0671234567")
        # Once the first page is served, the store answers 503 to everything.
        original_find = self.shop.find_orders

        def failing_after_first_page(*args, **kwargs):
            self.shop.faults.fail_next(1000)
            return original_find(*args, **kwargs)

        self.shop.find_orders = failing_after_first_page
        run = self.run_import()
        self.assertEqual(run.state, "failed")
        self.assertIn("HTTP 503", run.message)
        # The first page held order 1007 (inside the window's overlap) and 99 new orders.
        self.assertEqual(run.imported_count, 99)
        self.assertEqual(self.store.import_cursor, cursor)  # the window is read again next time
        self.shop.find_orders = original_find
        self.shop.faults.reset()
        run = self.run_import()
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual(run.imported_count, 51)
        repairs = self.env["repair.order"].search([("cartum_store_id", "=", self.store.id)])
        self.assertEqual(len(repairs), 156)
        self.assertEqual(len(set(repairs.mapped("cartum_external_id"))), 156)

    def test_scheduled_job_commits_page_by_page(self):
        for _number in range(150):  # two pages of new orders
            self.shop.add_order(lines=[("DSP-IP13", 1)], phone="0671234567")
        self.store._cron_sync()
        self.assertFalse(self.store.sync_run_ids, "a store never connected waits")
        self.store.action_test_connection()
        self.assertEqual(self.store.connection_state, "ok")
        # The job's commits become savepoint releases on a test cursor over this transaction.
        with compat.registry_test_mode(self), self.registry.cursor() as job_cr:
            job_env = self.env(cr=job_cr)
            job_env["cartum.store"].browse(self.store.id)._cron_sync()
        run = self.store.sync_run_ids
        self.assertEqual((run.trigger, run.state, run.imported_count), ("first", "done", 156))
        self.assertTrue(self.store.import_cursor)

    def test_statuses_mapped_inbound(self):
        self.run_import()
        self.assertEqual(self.repair_of(1006).state, "draft")  # New
        self.assertEqual(self.repair_of(1002).state, "confirmed")  # Shipping: default Confirmed
        self.assertEqual(self.repair_of(1004).state, "cancel")  # Canceled
        mapping = self.store.status_mapping_ids.filtered(lambda m: m.cartum_status_code == 7)
        self.assertEqual(mapping.name, "Очікує запчастину")  # the store's custom status
        mapping.inbound_state = "under_repair"
        self.shop.set_status(1006, 7)
        self.run_import()
        self.assertEqual(self.repair_of(1006).state, "under_repair")
        self.shop.set_status(1006, 3)  # Delivered: Repaired, parts written off
        self.run_import()
        repair = self.repair_of(1006)
        self.assertEqual(repair.state, "done")
        self.assertTrue(all(move.state == "done" for move in repair.move_ids))

    def test_a_status_added_in_the_store_gets_its_mapping_line(self):
        self.run_import()
        self.shop.add_status(9, {"ua": "Передано майстру", "en": "With the technician"})
        self.shop.set_status(1001, 9)
        self.run_import()
        mapping = self.store.status_mapping_ids.filtered(lambda m: m.cartum_status_code == 9)
        self.assertEqual((mapping.name, mapping.inbound_state), ("Передано майстру", "confirmed"))
        self.assertEqual(mapping.titles, {"ua": "Передано майстру", "en": "With the technician"})
        self.assertEqual(self.repair_of(1001).cartum_status_name, "With the technician")
        self.env["res.lang"]._activate_lang("uk_UA")
        self.assertEqual(
            self.repair_of(1001).with_context(lang="uk_UA").cartum_status_name, "Передано майстру"
        )

    def test_refused_transition_is_recorded_not_forced(self):
        self.run_import()
        repair = self.repair_of(1001)
        self.assertEqual(repair.state, "confirmed")
        self.shop.set_status(1001, 1)  # New: Odoo does not send a confirmed repair back to New
        run = self.run_import()
        self.assertEqual(repair.state, "confirmed")
        self.assertEqual(repair.cartum_status_code, 1)
        failure = run.failure_ids.filtered(lambda f: f.kind == "status")
        self.assertEqual(failure.repair_id, repair)
        self.assertIn("refused", failure.reason)
        self.assertEqual(run.failed_count, 0)  # the order itself was synced
        self.assertIn("refused", repair.message_ids[0].body)

    def test_queries_per_order_do_not_grow_with_the_database(self):
        self.run_import()

        def import_ten_new_orders(batch):
            for number in range(10):
                article = f"B{batch}-{number}"
                self.shop.add_product(article, {"ua": f"Деталь {article}"}, 10.0)
                self.shop.add_order(lines=[(article, 1)], phone=f"+38067{batch}00{number:04d}")
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            run = self.run_import()
            self.env.flush_all()
            self.assertEqual(run.imported_count, 10)
            return self.env.cr.sql_log_count - before

        small_database = import_ten_new_orders(1)
        self.env["res.partner"].create(
            [{"name": f"Client {n}", "phone": f"+38050{n:07d}"} for n in range(500)]
        )
        self.env["product.product"].create(
            [{"name": f"Part {n}", "default_code": f"P-{n}"} for n in range(500)]
        )
        larger_database = import_ten_new_orders(2)
        self.assertLessEqual(
            larger_database, small_database * 1.1, (small_database, larger_database)
        )

    def test_test_connection_says_what_is_wrong(self):
        def test_connection():
            params = self.store.action_test_connection()["params"]
            return params["type"], params["message"]

        level, message = test_connection()
        self.assertEqual((level, self.store.connection_state), ("success", "ok"))
        self.assertIn("6 statuses read", message)
        self.assertEqual(self.store.available_languages, "en,ua")

        self.shop.password = "changed-in-the-store"
        self.shop.expire_tokens()
        level, message = test_connection()
        self.assertEqual((level, self.store.connection_state), ("danger", "error"))
        self.assertIn("refused the login demo-api", message)
        self.assertNotIn("demo-secret", message)
        self.assertEqual(self.store.connection_message, message)
        self.shop.password = "demo-secret"

        self.shop.api_enabled = False
        self.assertIn("answers, but not its API", test_connection()[1])
        self.shop.api_enabled = True

        self.shop.currencies[0]["default"] = 0
        self.shop.add_currency("USD", 41.5)
        self.shop.currencies[-1]["default"] = 1
        level, message = test_connection()
        self.assertEqual(level, "danger")
        self.assertIn("sells in USD", message)
        self.assertIn("UAH", message)

        self.store.url = "http://127.0.0.1:9"
        self.env["cartum.adapter"]._client(self.store).backoff_base = 0.01
        self.assertIn("cannot be reached", test_connection()[1])

    def test_secrets_stay_out_of_logs_chatter_and_messages(self):
        self.store.password = "s3cret-that-must-not-leak"
        self.shop.expire_tokens()
        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        for name in ("cartum_api", "odoo.addons.cartum_connector"):
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            self.addCleanup(logger.removeHandler, handler)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(logging.DEBUG)
        message = self.store.action_test_connection()["params"]["message"]
        run = self.run_import()
        self.assertIn("refused the login", message)
        self.assertIn("refused the API login", run.message)
        self.assertTrue(records, "the refused login is logged")
        texts = [message, run.message, self.store.connection_message]
        texts += [record.getMessage() for record in records]
        texts += self.store.message_ids.mapped("body")
        texts += self.store.message_ids.tracking_value_ids.mapped("new_value_char")
        for text in texts:
            self.assertNotIn("s3cret-that-must-not-leak", str(text))

    def test_plain_repair_user_cannot_read_the_password(self):
        store = self.store.with_user(self.repair_user)
        self.assertEqual(store.name, "Demo shop")
        with self.assertRaises(AccessError):
            store.read(["password"])
        self.assertEqual(self.store.with_user(self.manager).password, "demo-secret")
        for button in ("action_test_connection", "action_import_now"):
            with self.assertRaises(AccessError):
                getattr(store, button)()

    def test_records_follow_the_store_company(self):
        self.run_import()
        other_company = self.env["res.company"].create({"name": "Other repair shop"})
        other_user = new_test_user(
            self.env,
            "other_company_admin",
            groups="stock.group_stock_user,cartum_connector.group_cartum_manager",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        for model in ("cartum.store", "cartum.status.mapping", "cartum.sync.run"):
            self.assertFalse(self.env[model].with_user(other_user).search([]), model)
        self.assertTrue(self.env["cartum.store"].with_user(self.manager).search([]))

    def test_second_store_only_sees_own_orders(self):
        self.run_import()
        # Another shop with the same order numbers: the demo shop again, at another address.
        other_sandbox = CartumSandbox(self.shop)
        other_sandbox.start()
        self.addCleanup(other_sandbox.stop)
        other = self.store.copy(
            {"name": "Other shop", "password": "demo-secret", "url": other_sandbox.base_url}
        )
        self.assertNotEqual(other.order_prefix, self.store.order_prefix)
        self.run_import(other)
        self.assertEqual(len(self.repair_of(1001, other)), 1)
        self.assertEqual(len(self.repair_of(1001)), 1)

    def test_import_window_overlaps_the_cursor(self):
        self.run_import()
        cursor = self.store.import_cursor
        window_start = self.env["cartum.importer"]._window_start(self.store)
        self.assertEqual(window_start, cursor - timedelta(minutes=30))
