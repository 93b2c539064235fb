from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tests import HttpCase, get_db_name, new_test_user, tagged

from cartum_sandbox import CartumSandbox

from . import series
from .common import CartumSetup, orders_of

# A retry far away: the status push list shows it until "Send Now" makes it due now.
FAR_RETRY = datetime(2099, 1, 1, 12, 0)
# The asset bundles a tour's browser loads (the emojis on 19.0): (bundle, its CSS, its JavaScript).
TOUR_BUNDLES = [
    ("web.assets_web", True, True),
    ("web.assets_web_print", True, False),
    ("web.assets_tests", False, True),
    ("web.assets_emoji", False, True),
    ("bus.websocket_worker_assets", False, True),
]


@tagged("post_install", "-at_install")
class TestCartumTours(CartumSetup, HttpCase):
    """Every button, menu and action of the connector, pressed in a browser by Odoo tours
    (static/tests/tours/cartum_tour.js) as admin, a Cartum administrator, against a sandbox
    store with its first import done, on a standard 1440-pixel screen."""

    browser_size = "1440x900"

    first_import_in_class = True

    @classmethod
    def setUpClass(cls):
        cls._generate_the_tours_assets()
        super().setUpClass()
        # Before the browser's parallel requests for static files.
        series.load_static_paths()
        cls.admin = cls.env.ref("base.user_admin")
        cls._set_up_company_and_store(cls.admin)
        # The run's name follows the user's time zone, as the form does in the browser: Odoo
        # sets TZ=UTC, and the browser it starts inherits it.
        cls.admin.tz = "UTC"
        cls._import_once_for_the_class()

    @classmethod
    def _generate_the_tours_assets(cls):
        """The asset bundles the tours' browser loads, generated and committed once, before the
        class's transaction begins, as Odoo's own test runner does before its browser tests
        (for every bundle, which takes minutes): generated in a test's transaction, they were
        rolled back and generated again by each tour, seconds each time."""
        with Registry(get_db_name()).cursor() as cr:
            qweb = api.Environment(cr, SUPERUSER_ID, {})["ir.qweb"]
            for bundle, css, js in TOUR_BUNDLES:
                assets = qweb._get_asset_bundle(bundle, css=css, js=js)
                if css:
                    assets.css()
                if js:
                    assets.js()

    @classmethod
    def _set_up_the_class_import(cls):
        # Three orders the first import cannot take (not in the company currency), fixed in
        # Cartum right after: their failures stay open until someone presses a Retry button.
        cls.usd_orders = [
            cls.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")["order_id"]
            for _i in range(3)
        ]
        cls.first_run = cls.env["cartum.importer"]._run(cls.store, trigger="manual")
        cls.store.connection_state = "ok"  # as its Test Connection left it
        for order_id in cls.usd_orders:
            cls.shop.edit_order(order_id, currency="UAH")
        cls.failures = cls.first_run.failure_ids
        # A status waiting in the outbox, its next attempt far away.
        repair = cls.env["repair.order"].search(
            [("cartum_store_id", "=", cls.store.id), ("cartum_external_id", "=", "1006")]
        )
        repair.action_validate()
        cls.push = cls.env["cartum.status.push"].search([("repair_id", "=", repair.id)])
        cls.push.write({"attempts": 3, "next_attempt_at": FAR_RETRY, "last_error": "Sandbox down"})
        # A second store that never synced: its only run failed. Another shop (one shop is one
        # store): the demo shop again, at another address.
        second_sandbox = CartumSandbox(cls.shop).start()
        cls.addClassCleanup(second_sandbox.stop)
        cls.second_store = cls.env["cartum.store"].create(
            {
                "name": "Second shop",
                "url": second_sandbox.base_url,
                "login": "demo-api",
                "password": "demo-secret",
                "responsible_user_ids": cls.admin.ids,
            }
        )
        cls.env["cartum.sync.run"].create(
            {"store_id": cls.second_store.id, "trigger": "first"}
        )._finish("failed", "The import stopped: Cartum answered HTTP 503.")

    def test_the_tours_start_from_three_open_failures_and_a_waiting_push(self):
        self.assertEqual(self.usd_orders, [1008, 1009, 1010])
        self.assertEqual(sorted(self.failures.mapped("external_id")), ["1008", "1009", "1010"])
        self.assertEqual(set(self.failures.mapped("state")), {"open"})
        self.assertEqual(self.push.state, "pending")

    def cron_triggers(self, cron):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def test_store_tour(self):
        """Settings > Inventory > Cartum Stores, the kanban dashboard and its pause toggle,
        the store form's buttons (Test Connection, Refresh Products, Import Orders…, Import
        Now), its pause toggle and its stat buttons."""
        store_triggers = self.cron_triggers(self.store.cron_id)
        second_triggers = self.cron_triggers(self.second_store.cron_id)
        self.start_tour(
            "/odoo/action-stock.action_stock_config_settings",
            "cartum_store_tour",
            login="admin",
            timeout=180,
        )
        self.env.invalidate_all()
        self.assertEqual(self.store.connection_state, "ok")
        # Chosen on the form, saved by Test Connection.
        self.assertEqual(self.store.partner_scope, "shared")
        # Import Orders… imported the order, finished in Cartum, that the first import skipped;
        # the number Cartum does not know failed as not found.
        wizard_run = self.env["cartum.sync.run"].search(
            [("store_id", "=", self.store.id), ("trigger", "=", "import")]
        )
        self.assertEqual(wizard_run.state, "partial")
        self.assertEqual(wizard_run.user_id, self.admin)
        self.assertEqual(wizard_run.failure_ids.external_id, "9999")
        self.assertTrue(self.repair_of(1003))
        # Import Now, on the card and on the form, started the store's job (it runs in the
        # background, not in tests), for the user who pressed it.
        self.assertEqual(self.cron_triggers(self.store.cron_id), store_triggers + 2)
        self.assertEqual(self.store.import_requested_by, self.admin)
        # Test Connection on the card of the store never synced started its first import.
        self.assertEqual(self.second_store.connection_state, "ok")
        self.assertEqual(self.cron_triggers(self.second_store.cron_id), second_triggers + 1)
        # Paused on the kanban card, resumed on the form: two tracked changes, job active.
        self.assertFalse(self.store.sync_paused)
        self.assertTrue(self.store.cron_id.active)
        paused_changes = self.store.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "sync_paused"
        )
        self.assertEqual(len(paused_changes), 2)

    def test_failure_push_tour(self):
        """Repairs > Configuration menus: the Retry buttons of failed orders (list header, list
        row, sync run form), Send Now of a pending status push, the sync log, the stores."""
        push_job = self.env.ref("cartum_connector.ir_cron_cartum_status_push")
        push_triggers = self.cron_triggers(push_job)
        self.start_tour("/odoo", "cartum_failure_push_tour", login="admin", timeout=180)
        self.env.invalidate_all()
        # Retry (selection), Retry (row), Retry All Failed Orders (sync run): one run each.
        self.assertEqual(set(self.failures.mapped("state")), {"resolved"})
        for order_id in self.usd_orders:
            self.assertTrue(self.repair_of(order_id), order_id)
        retry_runs = self.env["cartum.sync.run"].search(
            [("store_id", "=", self.store.id), ("trigger", "=", "retry")]
        )
        self.assertEqual(retry_runs.mapped("state"), ["done"] * 3)
        self.assertEqual(retry_runs.mapped("imported_count"), [1, 1, 1])
        self.assertEqual(
            [orders_of(run, "imported") for run in retry_runs], [["1010"], ["1009"], ["1008"]]
        )
        self.assertEqual(self.push.state, "pending")
        self.assertLessEqual(self.push.next_attempt_at, fields.Datetime.now())
        self.assertEqual(self.cron_triggers(push_job), push_triggers + 1)

    def test_repair_tour(self):
        """The repair list's store link, filters and group by; the form's Cartum tab, with the
        order's coupon beside its total, and its refresh button (twice), then Update from Cartum
        in the form's Actions; Update from Cartum on three orders selected in the list."""
        picking_type = self.store.picking_type_id
        self.env["repair.order"].create(
            {"picking_type_id": picking_type.id, "internal_notes": "Walk-in customer"}
        )
        # Cartum moved 1007 to Shipping, and a 10% coupon was applied; an import read it.
        self.shop.set_status(1007, 6)
        self.shop.apply_coupon(1007, "AUTUMN10", 10)
        self.env["cartum.importer"]._run(self.store, trigger="import", order_ids=["1007"])
        self.start_tour(
            "/odoo/action-repair.action_repair_order_tree",
            "cartum_repair_tour",
            login="admin",
            timeout=180,
        )
        self.env.invalidate_all()
        refresh_runs = self.env["cartum.sync.run"].search(
            [("store_id", "=", self.store.id), ("trigger", "=", "refresh")]
        )
        # One run for the form's first press (the second was refused), one for the list.
        self.assertEqual(len(refresh_runs), 2)
        self.assertEqual(set(refresh_runs.mapped("state")), {"done"})
        for order_id in (1001, 1002, 1005, 1007):
            self.assertTrue(self.repair_of(order_id).cartum_last_refresh, order_id)
        self.assertFalse(self.repair_of(1006).cartum_last_refresh)

    def test_chatter_products_and_progress_tour(self):
        """The chatter of a repair whose status Cartum applied says what was sent; Repairs >
        Configuration > Products (product templates): the From Cartum filter, the search by
        Cartum external ID and the Cartum tab of the product form; a running import in the
        sync log and its form follow its commits by themselves, until it ends."""
        self.push.next_attempt_at = fields.Datetime.now()
        self.env["cartum.status.push"]._cron_send_pending()
        self.assertEqual(self.push.state, "sent")
        self.env["product.template"].create({"name": "Made in Odoo"})
        self.env["cartum.sync.run"].create(
            {
                "store_id": self.store.id,
                "trigger": "manual",
                "user_id": self.admin.id,
                "started_at": fields.Datetime.now() - timedelta(seconds=45),
                "imported_count": 200,
                "page_count": 2,
            }
        )
        self.start_tour(
            "/odoo/action-repair.action_repair_order_tree",
            "cartum_chatter_products_progress_tour",
            login="admin",
            timeout=180,
        )

    def test_stock_tour(self):
        """Stock to Cartum: its settings on the store's form, Send Stock Now on the form and
        on the dashboard card (each triggers the stock job, which does not run in tests)."""
        stock_job = self.env.ref("cartum_connector.ir_cron_cartum_stock_export")
        triggers = self.cron_triggers(stock_job)
        self.start_tour(
            "/odoo/action-cartum_connector.cartum_store_action",
            "cartum_stock_tour",
            login="admin",
            timeout=180,
        )
        self.env.invalidate_all()
        self.assertTrue(self.store.stock_export)
        self.assertEqual(self.store.stock_kind, "residues")
        self.assertEqual(self.store.stock_warehouse_name, "Основний склад")
        self.assertEqual(self.store.presence_out_of_stock, "Закінчився")
        self.assertEqual(self.cron_triggers(stock_job), triggers + 2)
        self.assertEqual(self.shop.stock_imports, [], "no click waited on Cartum")

    def language_tour(self, lang, tour):
        """The dashboard, Import Orders… and a connection error in ``lang``, the admin's,
        on a 1440-pixel screen; the demo shop writes in English, its responsible user's
        language."""
        self.env["res.lang"]._activate_lang(lang)
        self.env["ir.module.module"].search(
            [("name", "=", "cartum_connector")]
        )._update_translations([lang])
        self.admin.lang = lang
        self.store.responsible_user_ids = new_test_user(
            self.env, "english_clerk", groups="stock.group_stock_user", lang="en_US"
        )
        second_url = self.second_store.url
        self.start_tour(
            "/odoo/action-cartum_connector.cartum_store_action", tour, login="admin", timeout=180
        )
        self.env.invalidate_all()
        failure = self.env["cartum.sync.failure"].search([("external_id", "=", "9999")])
        self.assertEqual(failure.reason, "Order 9999 was not found in Cartum.")
        # Typed without http://, saved as https://: the store, served over http, is in error.
        self.assertEqual(self.second_store.url, second_url.replace("http://", "https://"))
        self.assertEqual(self.second_store.connection_state, "error")

    def test_spanish_tour(self):
        self.language_tour("es_ES", "cartum_spanish_tour")

    def test_ukrainian_tour(self):
        self.language_tour("uk_UA", "cartum_ukrainian_tour")
