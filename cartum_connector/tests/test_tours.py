from datetime import datetime

from odoo import fields
from odoo.tests import HttpCase, tagged

from .. import compat
from .common import CartumSetup

# A retry far away: the status push list shows it until "Send Now" makes it due now.
FAR_RETRY = datetime(2099, 1, 1, 12, 0)


@tagged("post_install", "-at_install")
class TestCartumTours(CartumSetup, HttpCase):
    """Every button, menu and action of the connector, pressed in a browser by Odoo tours
    (static/tests/tours/cartum_tour.js) as admin, a Cartum administrator, against a sandbox
    store with its first import done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Before the browser's parallel requests for static files.
        compat.load_static_paths()
        cls.admin = cls.env.ref("base.user_admin")
        cls._set_up_company_and_store(cls.admin)

    def setUp(self):
        super().setUp()
        # Three orders the first import cannot take (not in the company currency), fixed in
        # Cartum right after: their failures stay open until someone presses a Retry button.
        for _i in range(3):
            self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        self.usd_orders = sorted(self.shop.orders)[-3:]
        self.assertEqual(self.usd_orders, [1008, 1009, 1010])
        self.first_run = self.env["cartum.importer"]._run(self.store, trigger="manual")
        for order_id in self.usd_orders:
            self.shop.edit_order(order_id, currency="UAH")
        self.failures = self.first_run.failure_ids
        self.assertEqual(sorted(self.failures.mapped("external_id")), ["1008", "1009", "1010"])
        self.assertEqual(set(self.failures.mapped("state")), {"open"})
        # A status waiting in the outbox, its next attempt far away.
        self.repair_of(1006).action_validate()
        self.push = self.env["cartum.status.push"].search(
            [("repair_id", "=", self.repair_of(1006).id)]
        )
        self.push.write({"attempts": 3, "next_attempt_at": FAR_RETRY, "last_error": "Sandbox down"})

    def cron_triggers(self, cron):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def test_store_tour(self):
        """Settings > Inventory > Cartum Stores, the kanban dashboard and its pause toggle,
        the store form's buttons (Test Connection, Refresh Products, Import Orders…, Import
        Now), its pause toggle and its stat buttons."""
        store_triggers = self.cron_triggers(self.store.cron_id)
        self.start_tour(
            "/odoo/action-stock.action_stock_config_settings",
            "cartum_store_tour",
            login="admin",
            timeout=180,
        )
        self.env.invalidate_all()
        self.assertEqual(self.store.connection_state, "ok")
        # Import Orders… imported the order, finished in Cartum, that the first import skipped.
        wizard_run = self.env["cartum.sync.run"].search(
            [("store_id", "=", self.store.id), ("trigger", "=", "import")]
        )
        self.assertEqual(wizard_run.state, "done")
        self.assertTrue(self.repair_of(1003))
        # Import Now started the store's job (it runs in the background, not in tests).
        self.assertEqual(self.cron_triggers(self.store.cron_id), store_triggers + 1)
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
        self.assertEqual(self.push.state, "pending")
        self.assertLessEqual(self.push.next_attempt_at, fields.Datetime.now())
        self.assertEqual(self.cron_triggers(push_job), push_triggers + 1)

    def test_repair_tour(self):
        """The repair list's store link, filters and group by; the form's Cartum tab and its
        refresh button (twice), then Update from Cartum in the form's Actions; Update from
        Cartum on three orders selected in the list."""
        picking_type = self.store.picking_type_id
        self.env["repair.order"].create(
            {"picking_type_id": picking_type.id, "internal_notes": "Walk-in customer"}
        )
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
