from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.sql_db import db_connect
from odoo.tests import tagged

from cartum_sandbox import CartumSandbox, demo_store

from .. import compat
from .common import CartumCase


@tagged("post_install", "-at_install")
class TestStatusPush(CartumCase):
    def setUp(self):
        super().setUp()
        self.run_import()
        self.Push = self.env["cartum.status.push"]

    def send_pending(self):
        self.Push._cron_send_pending()

    def pushed(self, order_id):
        return [u["status"] for u in self.shop.status_updates if u["order_id"] == order_id]

    def test_push_on_each_state_transition(self):
        waiting = self.store.status_mapping_ids.filtered(lambda m: m.cartum_status_code == 7)
        waiting.outbound_state = "under_repair"
        repair = self.repair_of(1006)  # New in Cartum, draft in Odoo
        repair.action_validate()
        self.send_pending()
        self.assertEqual(self.pushed(1006), [2])
        self.assertEqual(self.shop.orders[1006]["stat_status"], 2)
        repair.action_repair_start()
        self.send_pending()
        self.assertEqual(self.pushed(1006), [2, 7])
        repair.action_repair_end()
        self.send_pending()
        self.assertEqual(self.pushed(1006), [2, 7, 3])
        self.assertEqual(repair.cartum_status_code, 3)
        other = self.repair_of(1007)
        other.action_repair_cancel()
        self.send_pending()
        other.action_repair_cancel_draft()
        self.send_pending()
        # Cancelled orders cannot be edited in Cartum: the second push is refused and noted.
        self.assertEqual(self.pushed(1007), [4])
        refused = self.Push.search([("repair_id", "=", other.id), ("state", "=", "refused")])
        self.assertEqual(refused.cartum_status_code, 1)
        self.assertIn("Cartum refused", other.message_ids[0].body)

    def test_push_leaves_through_its_job_triggered_by_the_change(self):
        push_job = self.env.ref("cartum_connector.ir_cron_cartum_status_push")
        Trigger = self.env["ir.cron.trigger"]
        triggers_before = Trigger.search([("cron_id", "=", push_job.id)])
        repair = self.repair_of(1006)
        repair.action_validate()
        # The click does not wait on Cartum: nothing left yet, and the job is due now.
        self.assertEqual(self.pushed(1006), [])
        trigger = Trigger.search([("cron_id", "=", push_job.id)]) - triggers_before
        self.assertEqual(len(trigger), 1)
        self.assertLessEqual(trigger.call_at, fields.Datetime.now())
        self.send_pending()  # what the job runs
        self.assertEqual(self.pushed(1006), [2])
        self.assertEqual(self.Push.search([("repair_id", "=", repair.id)]).state, "sent")

    def test_push_whatever_made_the_change(self):
        repair = self.repair_of(1007)
        repair.write({"state": "confirmed"})  # as another module writing the state would
        self.send_pending()
        self.assertEqual(self.pushed(1007), [2])

    def test_cartum_down_the_change_stands_and_lands_once(self):
        repair = self.repair_of(1006)
        self.shop.faults.fail_next(1000)
        repair.action_validate()  # no error for the user
        self.assertEqual(repair.state, "confirmed")
        self.send_pending()
        push = self.Push.search([("repair_id", "=", repair.id)])
        self.assertEqual((push.state, push.attempts), ("pending", 1))
        self.assertIn("503", push.last_error)
        self.assertGreater(push.next_attempt_at, fields.Datetime.now())
        self.send_pending()  # not due yet: nothing is sent
        self.assertEqual(push.attempts, 1)
        self.shop.faults.reset()
        push.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.send_pending()
        self.send_pending()
        self.assertEqual(push.state, "sent")
        self.assertEqual(self.pushed(1006), [2])

    def test_no_echo_of_inbound_statuses(self):
        self.shop.set_status(1006, 2)  # Processing: Confirmed in Odoo
        self.shop.set_status(1007, 6)  # Shipping: Confirmed too, though Confirmed sends 2
        self.run_import()
        self.assertEqual(self.repair_of(1006).state, "confirmed")
        self.assertEqual(self.repair_of(1007).state, "confirmed")
        self.assertFalse(self.Push.search([]))
        self.send_pending()
        self.assertEqual(self.shop.status_updates, [])

    def test_only_the_newest_state_is_sent(self):
        repair = self.repair_of(1006)
        self.shop.faults.fail_next(1000)
        repair.action_validate()
        self.send_pending()
        repair.action_repair_cancel()
        self.shop.faults.reset()
        self.send_pending()
        self.assertEqual(self.pushed(1006), [4])


@tagged("post_install", "-at_install")
class TestRefreshAndParts(CartumCase):
    def setUp(self):
        super().setUp()
        self.run_import()

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

    def test_plain_repair_user_cannot_touch_parts_nor_refresh(self):
        repair = self.repair_of(1006).with_user(self.repair_user)
        move = repair.move_ids[0]
        with self.assertRaises(AccessError):
            move.product_uom_qty = 7
        with self.assertRaises(AccessError):
            move.unlink()
        with self.assertRaises(AccessError):
            self.env["stock.move"].with_user(self.repair_user).create(
                {
                    "repair_id": repair.id,
                    "repair_line_type": "add",
                    "product_id": move.product_id.id,
                    "product_uom_qty": 1,
                }
            )
        with self.assertRaises(AccessError):
            repair.action_cartum_refresh()
        self.assertTrue(repair.cartum_parts_locked)
        # The repair itself still moves on in their hands, up to the write-off.
        repair.action_validate()
        self.assertEqual(repair.state, "confirmed")
        other = self.repair_of(1001).with_user(self.repair_user)
        other.action_repair_start()
        other.action_repair_end()
        self.assertEqual(other.state, "done")
        # With the permission, parts can be changed.
        parts_move = move.with_user(self.parts_user)
        parts_move.product_uom_qty = 7
        self.assertEqual(move.product_uom_qty, 7)

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
class TestConcurrentRefresh(CartumCase):
    """Two users refresh the same order at the same moment, in two real transactions."""

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
                committed = (repair[compat.REPAIR_MOVES_GROUP], repair, store)
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
