from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from cartum_sandbox import CartumSandbox, demo_store

from ..models.cartum_store import ALLOW_LOCAL_STORES_PARAM
from . import series
from .common import CartumCase, CartumCaseInLanguages, orders_of


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

    def test_a_new_order_whose_state_odoo_refuses_is_imported_and_the_refusal_recorded(self):
        """Orders imported by number, new to Odoo: one delivered (Repaired) whose part Odoo
        tracks by lot, which it refuses to write off without one, and one in Processing. Both
        come in; the refused move is recorded on its repair and in the run, not forced."""
        self.run_import()
        self.env["product.product"].create(
            {
                "name": "Tracked battery",
                "default_code": "TRK-1",
                "is_storable": True,
                "tracking": "lot",
            }
        )
        self.shop.add_product("TRK-1", {"ua": "Батарея", "en": "Battery"}, 500.0)
        delivered = self.shop.add_order(lines=[("TRK-1", 1)], status=3)["order_id"]
        processing = self.shop.add_order(lines=[("DSP-IP13", 1)], status=2)["order_id"]
        run = self.run_import(trigger="import", order_ids=[str(delivered), str(processing)])
        self.assertEqual(run.imported_count, 2)
        self.assertEqual(run.failed_count, 0)
        self.assertEqual(self.repair_of(processing).state, "confirmed")
        refused = self.repair_of(delivered)
        self.assertNotEqual(refused.state, "done")
        failure = run.failure_ids.filtered(lambda f: f.kind == "status")
        self.assertEqual(failure.repair_id, refused)
        self.assertIn("refused", failure.reason)
        self.assertIn("refused", refused.message_ids[0].body)

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

    def test_scheduled_job_commits_page_by_page(self):
        for _number in range(150):  # two pages of new orders
            self.shop.add_order(lines=[("DSP-IP13", 1)], phone="0671234567")
        self.assertEqual(self.store.connection_state, "untested")
        # The job's commits become savepoint releases on a test cursor over this transaction.
        with series.registry_test_mode(self), self.registry.cursor() as job_cr:
            job_env = self.env(cr=job_cr)
            job_env["cartum.store"].browse(self.store.id)._cron_sync()
        # A store never tested is tested first by its job, then imported.
        self.assertEqual(self.store.connection_state, "ok")
        run = self.store.sync_run_ids
        self.assertEqual((run.trigger, run.state, run.imported_count), ("first", "done", 156))
        self.assertTrue(self.store.import_cursor)


@tagged("post_install", "-at_install")
class TestImportAfterTheFirst(CartumCase):
    """Runs after the store's first import, made once for the class."""

    first_import_in_class = True

    def test_second_run_imports_nothing_new(self):
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

    def test_new_order_appears_after_one_run(self):
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
        self.shop.set_line_quantity(1001, "DSP-IP12", 3)
        run = self.run_import()
        self.assertEqual(run.updated_count, 1)
        self.assertEqual(self.parts_of(self.repair_of(1001))["DSP-IP12"], (3, 3200.0))

    def test_interrupted_run_is_resumed_without_duplicate(self):
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

    def test_statuses_mapped_inbound(self):
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

    def test_import_window_overlaps_the_cursor(self):
        cursor = self.store.import_cursor
        window_start = self.env["cartum.importer"]._window_start(self.store)
        self.assertEqual(window_start, cursor - timedelta(minutes=30))


@tagged("post_install", "-at_install")
class TestFinishedOrdersAndWindows(CartumCase):
    def test_finished_orders_of_before_the_first_import_never_come_in(self):
        now = self.shop.now()
        # Finished, created before the first import, but after the newest unfinished order
        # (two hours old): the 30-minute overlap of the next window reaches it.
        late_finished = self.shop.add_order(
            lines=[("DSP-IP13", 1)], status=3, created=now - timedelta(minutes=1)
        )["order_id"]
        first = self.run_import()
        self.assertEqual(first.trigger, "first")
        self.assertFalse(self.repair_of(late_finished))
        self.assertTrue(self.store.first_import_at)
        # An order created after the first import comes in whatever its status.
        new_finished = self.shop.add_order(
            lines=[("DSP-IP13", 1)], status=3, created=now + timedelta(minutes=1)
        )["order_id"]
        self.run_import()
        self.assertFalse(self.repair_of(late_finished))
        self.assertEqual(self.repair_of(new_finished).state, "done")


@tagged("post_install", "-at_install")
class TestRunsNeverStopSilently(CartumCase):
    def test_a_product_that_cannot_be_created_fails_its_order_only(self):
        self.shop.add_product("BAD-1", {"ua": "Зламаний товар"}, 10.0)
        bad_id = self.shop.add_order(lines=[("BAD-1", 1), ("DSP-IP12", 1)])["order_id"]
        # Odoo refuses this one product: the page's product batch fails.
        self.env.cr.execute(
            "ALTER TABLE product_product ADD CONSTRAINT cartum_test_no_bad "
            "CHECK (default_code IS DISTINCT FROM 'BAD-1')"
        )
        self.store.action_test_connection()
        with mute_logger("odoo.sql_db"):  # the refused INSERTs, logged as "bad query"
            self.run_store_job()
        run = self.store.sync_run_ids
        self.assertEqual(run.state, "partial", run.message)
        self.assertEqual((run.imported_count, run.failed_count), (6, 1))
        self.assertEqual(run.failure_ids.external_id, str(bad_id))
        self.assertIn("cartum_test_no_bad", run.failure_ids.reason)
        self.assertFalse(self.repair_of(bad_id))
        self.assertTrue(self.repair_of(1001))
        self.assertEqual(self.store.cron_id.failure_count, 0)
        self.assertTrue(self.store.cron_id.active)
        # Settings > Technical > Scheduled Actions shows how far the job got.
        progress = self.env["ir.cron.progress"].search(
            [("cron_id", "=", self.store.cron_id.id)], order="id desc", limit=1
        )
        self.assertEqual((progress.done, progress.remaining), (7, 0))

    def test_an_unforeseen_error_ends_the_run_failed_and_the_job_healthy(self):
        self.store.action_test_connection()
        self.run_import()
        # Something nobody foresaw: a time zone name that no longer exists.
        self.env.cr.execute(
            "UPDATE cartum_store SET timezone = 'Mars/Olympus' WHERE id = %s", (self.store.id,)
        )
        self.store.invalidate_recordset(["timezone"])
        with mute_logger("odoo.addons.cartum_connector.models.cartum_importer"):  # its traceback
            self.run_store_job()
        run = self.store.sync_run_ids[0]
        self.assertEqual(run.state, "failed")
        self.assertIn("Mars/Olympus", run.message)
        self.assertNotIn("demo-secret", run.message)
        self.assertEqual(self.store.cron_id.failure_count, 0)

    def test_a_run_left_running_is_closed_as_interrupted(self):
        killed = self.env["cartum.sync.run"].create(
            {"store_id": self.store.id, "trigger": "cron", "state": "running"}
        )
        run = self.run_import()
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual(killed.state, "interrupted")
        self.assertTrue(killed.finished_at)
        self.assertTrue(killed.message)


@tagged("post_install", "-at_install")
class TestRefreshAndParts(CartumCase):
    first_import_in_class = True

    def test_refresh_at_most_once_every_ten_minutes(self):
        repairs = self.repair_of(1001) | self.repair_of(1002)
        self.shop.set_line_quantity(1001, "DSP-IP12", 4)
        result = repairs.with_user(self.parts_user).action_cartum_refresh()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("WEB-1001", result["params"]["message"])
        self.assertEqual(self.parts_of(self.repair_of(1001))["DSP-IP12"], (4, 3200.0))
        self.shop.set_line_quantity(1001, "DSP-IP12", 5)
        result = repairs.with_user(self.parts_user).action_cartum_refresh()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("Skipped WEB-1001", result["params"]["message"])
        self.assertIn("refreshed again at", result["params"]["message"])
        self.assertEqual(self.parts_of(self.repair_of(1001))["DSP-IP12"], (4, 3200.0))
        repairs.cartum_last_refresh = fields.Datetime.now() - timedelta(minutes=11)
        repairs.with_user(self.parts_user).action_cartum_refresh()
        self.assertEqual(self.parts_of(self.repair_of(1001))["DSP-IP12"], (5, 3200.0))

    def test_lines_added_removed_and_repriced_before_write_off(self):
        self.shop.add_line(1001, "BAT-IP12", 2)
        self.shop.remove_line(1001, "SRV-SCREEN")
        self.shop.set_line_price(1001, "DSP-IP12", 3000.0)
        self.run_import()
        self.assertEqual(
            self.parts_of(self.repair_of(1001)), {"DSP-IP12": (1, 3000.0), "BAT-IP12": (2, 950.0)}
        )

    def test_change_after_write_off_is_noted_once_not_applied(self):
        repair = self.repair_of(1001)
        self.stock_parts(repair)
        repair.action_repair_start()
        repair.action_repair_end()
        self.assertEqual(repair.state, "done")
        before = self.parts_of(repair)
        self.shop.set_line_quantity(1001, "DSP-IP12", 5)
        self.run_import()
        self.assertEqual(self.parts_of(repair), before)
        notes = repair.message_ids.filtered(lambda m: "not applied" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn("DSP-IP12", notes.body)
        self.run_import()
        self.assertEqual(
            len(repair.message_ids.filtered(lambda m: "not applied" in (m.body or ""))), 1
        )
        self.shop.set_line_quantity(1001, "DSP-IP12", 6)
        self.run_import()
        self.assertEqual(
            len(repair.message_ids.filtered(lambda m: "not applied" in (m.body or ""))), 2
        )

    def test_delivery_message_posted_once_and_again_on_change(self):
        repair = self.repair_of(1002)

        def delivery_notes():
            return repair.message_ids.filtered(lambda m: "Delivery in Cartum" in (m.body or ""))

        self.assertEqual(len(delivery_notes()), 1)
        self.assertIn("Хрещатик", delivery_notes().body)
        self.assertIn("70.00 UAH", delivery_notes().body)
        self.run_import()
        self.assertEqual(len(delivery_notes()), 1)
        self.shop.edit_order(1002, delivery_address="вул. Сагайдачного, 3")
        self.run_import()
        self.assertEqual(len(delivery_notes()), 2)
        self.assertIn("Сагайдачного", delivery_notes()[0].body)

    def test_retry_from_the_log(self):
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        usd_id = max(self.shop.orders)
        run = self.run_import()
        failure = run.failure_ids
        self.assertEqual((failure.external_id, failure.state), (str(usd_id), "open"))
        retry_run = failure.action_retry()  # still in USD: it fails again
        self.assertEqual(failure.state, "superseded")
        again = self.env["cartum.sync.failure"].search([("state", "=", "open")])
        self.assertEqual((again.external_id, again.run_id.trigger), (str(usd_id), "retry"))
        self.assertTrue(retry_run)
        self.shop.edit_order(usd_id, currency="UAH")
        again.run_id.action_retry_failures()
        self.assertEqual(again.state, "resolved")
        self.assertTrue(self.repair_of(usd_id))


@tagged("post_install", "-at_install")
class TestConcurrentRefresh(TransactionCase):
    """Two users refresh the same order at the same moment, in two real transactions. Not a
    CartumCase: its set-up, uncommitted in the test's transaction, would hold the rows the
    committed set-up below writes, and the test would wait on itself."""

    def test_two_refreshes_at_once_count_once(self):
        shop = demo_store()
        with CartumSandbox(shop) as sandbox:
            db = db_connect(self.env.cr.dbname)
            # Only a store and one repair order are committed (and deleted afterwards); what
            # the refreshes write is rolled back.
            with db.cursor() as setup_cr:
                env = api.Environment(setup_cr, SUPERUSER_ID, {})
                for order_id in shop.orders:  # the company currency saved in the database
                    shop.edit_order(order_id, currency=env.company.currency_id.name)
                # The sandbox is a local test store (committed in this throwaway database).
                env["ir.config_parameter"].set_param(ALLOW_LOCAL_STORES_PARAM, "True")
                store = env["cartum.store"].create(
                    {
                        "name": "Concurrency shop",
                        "url": sandbox.base_url,
                        "login": "demo-api",
                        "password": "demo-secret",
                    }
                )
                repair = env["repair.order"].create(
                    {"cartum_store_id": store.id, "cartum_external_id": "1001"}
                )
                committed = (repair[series.REPAIR_MOVES_GROUP], repair, store)
                admin_id = env.ref("base.user_admin").id
            self.addCleanup(self._delete_committed, db, committed)
            with db.cursor() as first_cr, db.cursor() as second_cr:
                first = api.Environment(first_cr, admin_id, {})["repair.order"].browse(repair.id)
                second = api.Environment(second_cr, admin_id, {})["repair.order"].browse(repair.id)
                first_answer = first.action_cartum_refresh()  # holds the row until it ends
                second_answer = second.action_cartum_refresh()
                second_cr.rollback()
                first_cr.rollback()
        self.assertEqual(first_answer["params"]["type"], "success", first_answer["params"])
        self.assertIn("someone else is refreshing it", second_answer["params"]["message"])
        self.assertEqual(shop.requests.count("orders/get"), 1)  # one refresh reached Cartum

    @staticmethod
    def _delete_committed(db, records):
        with db.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for record in records:
                env[record._name].browse(record.ids).unlink()


@tagged("post_install", "-at_install")
class TestAfterWriteOff(CartumCase):
    def test_change_after_write_off_and_final_status_is_noted(self):
        self.run_import()
        repair = self.repair_of(1001)
        self.stock_parts(repair)
        repair.action_repair_start()
        repair.action_repair_end()  # Odoo pushes Delivered
        self.env["cartum.status.push"]._cron_send_pending()
        self.assertEqual(self.shop.orders[1001]["stat_status"], 3)
        self.shop.set_line_quantity(1001, "DSP-IP12", 4)
        self.run_import()

        def notes():
            return repair.message_ids.filtered(lambda m: "not applied" in (m.body or ""))

        self.assertEqual(len(notes()), 1)
        self.assertIn("DSP-IP12", notes().body)
        self.assertEqual(self.parts_of(repair)["DSP-IP12"][0], 1)
        # After the store's 30 days, the order is no longer read.
        repair.sudo().cartum_done_at = fields.Datetime.now() - timedelta(days=31)
        repair.sudo().cartum_last_sync = "2020-01-01 00:00:00"
        self.shop.set_line_quantity(1001, "DSP-IP12", 5)
        self.run_import()
        self.assertEqual(len(notes()), 1)
        self.assertEqual(fields.Datetime.to_string(repair.cartum_last_sync), "2020-01-01 00:00:00")


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
        # Its time, from start to end, in minutes (whole seconds: a fast run may show 0:00).
        elapsed = (run.finished_at - run.started_at).total_seconds() / 60
        self.assertEqual((run.state, run.duration), ("done", elapsed))
        self.assertEqual(run.user_id, self.env.user)
        # A run still running counts its time up to now.
        running = self.env["cartum.sync.run"].create(
            {
                "store_id": self.store.id,
                "trigger": "cron",
                "started_at": fields.Datetime.now() - timedelta(seconds=90),
            }
        )
        self.assertGreaterEqual(running.duration, 1.5)

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
class TestTruthfulMessages(CartumCase):
    """What a run tells users: the orders it touched, by number, and those Cartum did not
    return."""

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
        self.assertEqual(orders_of(run, "imported"), ["1003"])
        self.assertEqual(orders_of(run, "unchanged"), ["1006"])
        self.assertFalse(orders_of(run, "updated"))
        self.assertEqual(run.failed_external_ids, "9999")

    def test_a_run_lists_the_orders_created_updated_and_unchanged(self):
        first = self.run_import()
        self.assertEqual(
            orders_of(first, "imported"), ["1001", "1002", "1004", "1005", "1006", "1007"]
        )
        self.shop.set_line_quantity(1002, "BAT-SM-A52", 3)
        run = self.run_import()
        self.assertEqual(orders_of(run, "updated"), ["1002"])
        self.assertEqual(orders_of(run, "unchanged").count("1001"), 1)
        self.assertNotIn("1002", orders_of(run, "unchanged"))
        self.assertFalse(orders_of(run, "imported"))

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


@tagged("post_install", "-at_install")
class TestConnectorLanguage(CartumCaseInLanguages):
    """What the connector writes follows the store's people: its responsible users' language,
    else its company's."""

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

    def test_connector_text_in_the_administrators_language_without_company_language(self):
        """No responsible user, and the company in Odoo's default English: the language of
        the store's Cartum administrators."""
        self.store.responsible_user_ids = False
        self.assertEqual(self.company.partner_id.lang, "en_US")
        self.env.ref("base.user_admin").lang = "uk_UA"
        self.manager.lang = "uk_UA"
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        run = self.run_import()
        self.assertIn("у валюті USD", run.failure_ids.reason)
        repair = self.repair_of(1006)
        repair.action_validate()
        self.send_pending()
        self.assertTrue(self.notes(repair, "Статус надіслано в Cartum"))

    def test_the_screens_a_click_opens_keep_the_user_language(self):
        """The store writes in Ukrainian; a Spanish administrator's import opens its run in
        Spanish."""
        self.store.responsible_user_ids = False
        self.company.partner_id.lang = "uk_UA"
        self.manager.lang = "es_ES"
        wizard = (
            self.env["cartum.import.wizard"]
            .with_user(self.manager)
            .with_context(lang="es_ES")
            .create({"store_id": self.store.id, "order_numbers": "1001 9999"})
        )
        action = wizard.action_import()
        self.assertEqual(action["context"]["lang"], "es_ES")
        run = self.env["cartum.sync.run"].browse(action["res_id"])
        self.assertEqual(run.failure_ids.reason, "Замовлення 9999 не знайдено в Cartum.")
        failure_action = (
            run.failure_ids.with_user(self.manager).with_context(lang="es_ES").action_retry()
        )
        self.assertEqual(failure_action["context"]["lang"], "es_ES")

    def test_a_refresh_wait_past_midnight_reads_as_the_user_writes_dates(self):
        self.run_import()
        repair = self.repair_of(1001)
        # Refreshed "tomorrow" (a clock ahead): the wait ends on another day than today.
        repair.cartum_last_refresh = fields.Datetime.now() + timedelta(days=1)
        user_repair = repair.with_user(self.parts_user).with_context(lang="uk_UA", tz="Europe/Kyiv")
        message = user_repair.action_cartum_refresh()["params"]["message"]
        self.assertIn("WEB-1001", message)
        self.assertRegex(message, r"\d{2}\.\d{2}\.\d{2}, \d{2}:\d{2}")
        self.assertNotRegex(message, r"\d{4}-\d{2}-\d{2}")

    def import_numbers_run(self, numbers):
        return self.env["cartum.importer"]._run(self.store, trigger="import", order_ids=[numbers])


@tagged("post_install", "-at_install")
class TestWriteOffFollowsCartum(CartumCase):
    """Order 1002 (Confirmed): 2 batteries BAT-SM-A52 at 780.00, 2 services SRV-BATTERY at
    300.00, in stock."""

    def setUp(self):
        super().setUp()
        self.run_import()
        self.repair = self.repair_of(1002)
        self.stock_parts(self.repair)

    def parts(self):
        """{article: (demand, quantity, state)} of the repair's parts."""
        return {
            move.cartum_article: (move.product_uom_qty, move.quantity, move.state)
            for move in self.repair.move_ids
            if move.repair_line_type == "add"
        }

    def change_in_cartum(self, **quantities):
        for article, quantity in quantities.items():
            self.shop.set_line_quantity(1002, article.replace("_", "-"), quantity)
        self.run_import()

    def test_a_quantity_changed_in_cartum_is_written_off_as_cartum_says(self):
        self.assertEqual(self.repair.state, "confirmed")
        self.repair.action_repair_start()
        self.change_in_cartum(BAT_SM_A52=1, SRV_BATTERY=3)  # one down, one up
        # Reserved as Cartum now says: End Repair asks nothing (no "difference between the
        # initial demand and the actual quantity").
        self.assertEqual(
            self.parts(),
            {"BAT-SM-A52": (1.0, 1.0, "assigned"), "SRV-BATTERY": (3.0, 3.0, "assigned")},
        )
        self.assertFalse(self.repair.has_uncomplete_moves)
        self.repair.action_repair_end()
        self.assertEqual(
            self.parts(), {"BAT-SM-A52": (1.0, 1.0, "done"), "SRV-BATTERY": (3.0, 3.0, "done")}
        )

    def test_a_part_added_in_cartum_is_reserved_and_written_off(self):
        self.repair.action_repair_start()
        self.env["stock.quant"]._update_available_quantity(
            self.env["product.product"].search([("default_code", "=", "BAT-IP12")]),
            self.repair.location_id,
            5,
        )
        self.shop.add_line(1002, "BAT-IP12", 2)
        self.run_import()
        self.assertEqual(self.parts()["BAT-IP12"], (2.0, 2.0, "assigned"))
        self.assertFalse(self.repair.has_uncomplete_moves)
        self.repair.action_repair_end()
        self.assertEqual(self.parts()["BAT-IP12"], (2.0, 2.0, "done"))

    def test_cartum_done_writes_off_its_quantities_beyond_the_stock_count(self):
        """Cartum says the order is delivered: its parts were used as ordered, also when Odoo
        counts fewer in stock than Cartum's quantity."""
        self.change_in_cartum(SRV_BATTERY=12)  # 10 in stock
        self.shop.set_status(1002, 3)  # Delivered: Repaired
        self.run_import()
        self.assertEqual(self.repair.state, "done")
        self.assertEqual(
            self.parts(), {"BAT-SM-A52": (2.0, 2.0, "done"), "SRV-BATTERY": (12.0, 12.0, "done")}
        )

    def test_changes_after_the_write_off_are_noted_once_from_cartums_previous_value(self):
        self.repair.action_repair_start()
        self.repair.action_repair_end()

        def notes():
            return self.repair.message_ids.filtered(
                lambda message: "were not applied" in (message.body or "")
            ).sorted("id")

        self.change_in_cartum(BAT_SM_A52=1)
        self.assertEqual(len(notes()), 1)
        self.assertIn("BAT-SM-A52 @ 780.00: 2 before, 1 now", notes().body)
        self.assertNotIn("SRV-BATTERY", notes().body)
        # Another line changes: the new note names it alone, from Cartum's 2.
        self.change_in_cartum(SRV_BATTERY=3)
        second = notes()[-1]
        self.assertEqual(len(notes()), 2)
        self.assertIn("SRV-BATTERY @ 300.00: 2 before, 3 now", second.body)
        self.assertNotIn("BAT-SM-A52", second.body)
        # Read again unchanged: nothing more. The battery back to 2: from 1, as noted.
        self.run_import()
        self.assertEqual(len(notes()), 2)
        self.change_in_cartum(BAT_SM_A52=2)
        self.assertIn("BAT-SM-A52 @ 780.00: 1 before, 2 now", notes()[-1].body)
        # The parts stay as written off.
        self.assertEqual(
            self.parts(), {"BAT-SM-A52": (2.0, 2.0, "done"), "SRV-BATTERY": (2.0, 2.0, "done")}
        )

    def test_quantities_read_as_people_write_them(self):
        Mapper = self.env["cartum.order.mapper"]
        self.env["res.lang"]._activate_lang("uk_UA")
        self.assertEqual(
            [Mapper._format_quantity(quantity) for quantity in (0.0, 2.0, 1.5, 1234.0)],
            ["0", "2", "1.5", "1,234"],
        )
        ukrainian = Mapper.with_context(lang="uk_UA")
        self.assertEqual(ukrainian._format_quantity(1.5), "1,5")
