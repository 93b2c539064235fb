from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CartumCase, CartumCaseInLanguages


@tagged("post_install", "-at_install")
class TestStatusPush(CartumCase):
    first_import_in_class = True

    def setUp(self):
        super().setUp()
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

    def test_a_state_without_cartum_status_says_so_once(self):
        """Start Repair with the default mapping: Under Repair has no Cartum status."""
        repair = self.repair_of(1006)
        repair.action_validate()

        def nothing_sent():
            return repair.message_ids.filtered(
                lambda message: "Nothing was sent to Cartum" in (message.body or "")
            )

        self.assertFalse(nothing_sent())
        repair.action_repair_start()
        self.assertEqual(len(nothing_sent()), 1)
        self.assertIn("no Cartum status is mapped to Under Repair", nothing_sent().body)
        self.assertFalse(self.Push.search([("repair_state", "=", "under_repair")]))
        repair.action_repair_end()  # Repaired sends Delivered: no such note
        self.assertEqual(len(nothing_sent()), 1)

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
class TestBothSidesChangeOneOrder(CartumCase):
    first_import_in_class = True

    def setUp(self):
        super().setUp()
        self.Push = self.env["cartum.status.push"]

    def pushed(self, order_id):
        return [u["status"] for u in self.shop.status_updates if u["order_id"] == order_id]

    def test_an_unforeseen_error_ends_its_batch_and_the_job_goes_on(self):
        repair = self.repair_of(1006)
        repair.action_validate()  # Odoo queues Processing
        # Something nobody foresaw: the order number kept in Odoo is no longer a number.
        self.env.cr.execute(
            "UPDATE repair_order SET cartum_external_id = 'x1006' WHERE id = %s", (repair.id,)
        )
        repair.invalidate_recordset(["cartum_external_id"])
        with mute_logger("odoo.addons.cartum_connector.models.cartum_status_push"):  # traceback
            self.Push._cron_send_pending()  # does not raise: Odoo never switches the job off
        push = self.Push.search([("repair_id", "=", repair.id)])
        self.assertEqual((push.state, push.attempts), ("pending", 1))
        self.assertIn("ValueError", push.last_error)
        self.assertEqual(self.pushed(1006), [])

    def test_cartum_changed_last_cancels_the_waiting_push(self):
        repair = self.repair_of(1006)  # New in Cartum, draft in Odoo
        self.shop.faults.fail_call("orders/update", nth=1, message="Store busy")
        repair.action_validate()  # Odoo queues Processing
        self.Push._cron_send_pending()
        push = self.Push.search([("repair_id", "=", repair.id)])
        self.assertEqual((push.state, push.attempts), ("pending", 1))
        self.shop.set_status(1006, 4)  # meanwhile, someone cancels the order in Cartum
        self.run_import()
        self.assertEqual(repair.state, "cancel")
        self.assertEqual(push.state, "cancelled")
        self.assertTrue(repair.message_ids.filtered(lambda m: "was not sent" in (m.body or "")))
        push.next_attempt_at = fields.Datetime.now()
        self.Push._cron_send_pending()
        self.assertEqual(self.pushed(1006), [])
        self.assertEqual(self.shop.orders[1006]["stat_status"], 4)

    def test_odoo_changed_last_its_waiting_push_stands(self):
        repair = self.repair_of(1006)  # New in Cartum, draft in Odoo
        self.shop.faults.fail_call("orders/update", nth=1, message="Store busy")
        repair.action_validate()  # Odoo queues Processing; the store is busy once
        self.Push._cron_send_pending()
        self.shop.set_line_quantity(1006, "DSP-IP13", 2)  # the order changes, not its status
        run = self.run_import()
        self.assertEqual(run.updated_count, 1)
        self.assertEqual(repair.state, "confirmed")  # not put back to New
        self.assertFalse(run.failure_ids.filtered(lambda f: f.kind == "status"))
        push = self.Push.search([("repair_id", "=", repair.id)])
        self.assertEqual(push.state, "pending")
        push.next_attempt_at = fields.Datetime.now()
        self.Push._cron_send_pending()
        self.assertEqual(self.pushed(1006), [2])
        self.assertEqual(push.state, "sent")

    def test_a_status_failure_is_resolved_once_in_step(self):
        repair = self.repair_of(1006)
        repair.action_repair_cancel()
        self.Push._cron_send_pending()
        # Cartum reopens the order; Odoo refuses Cancelled -> Confirmed: a status failure.
        self.shop.set_status(1006, 2)
        run = self.run_import(trigger="refresh", order_ids=["1006"])
        failure = run.failure_ids.filtered(lambda f: f.kind == "status")
        self.assertEqual(failure.state, "open")
        # Cartum moves the order on to Cancelled again: both sides agree, the failure closes.
        self.shop.set_status(1006, 4)
        self.run_import(trigger="refresh", order_ids=["1006"])
        self.assertEqual(failure.state, "resolved")

    def test_a_failed_batch_of_pushes_is_the_only_one_sent_again(self):
        for _number in range(150):
            self.shop.add_order(lines=[("DSP-IP13", 1)], status=1)
        self.run_import()
        repairs = self.env["repair.order"].search(
            [("cartum_store_id", "=", self.store.id), ("state", "=", "draft")]
        )
        self.assertGreaterEqual(len(repairs), 150)
        repairs = repairs[:150]
        repairs._action_repair_confirm()
        self.shop.faults.fail_call("orders/update", nth=2, message="Store busy")
        self.Push._cron_send_pending()
        pushes = self.Push.search([("repair_id", "in", repairs.ids)])
        self.assertEqual(pushes.mapped("state").count("sent"), 100)
        self.assertEqual(pushes.mapped("state").count("pending"), 50)
        pushes.next_attempt_at = fields.Datetime.now()
        self.Push._cron_send_pending()
        self.assertEqual(set(pushes.mapped("state")), {"sent"})
        sent_ids = [int(repair.cartum_external_id) for repair in repairs]
        updates = [u["order_id"] for u in self.shop.status_updates if u["order_id"] in sent_ids]
        self.assertEqual(sorted(updates), sorted(sent_ids))  # each order exactly once


@tagged("post_install", "-at_install")
class TestChatterSentToCartum(CartumCaseInLanguages):
    def test_chatter_says_sent_to_cartum_and_changed_in_cartum(self):
        self.run_import()
        repair = self.repair_of(1006)
        repair.action_validate()
        self.send_pending()
        self.assertTrue(self.notes(repair, "Status sent to Cartum as Processing."))
        self.shop.set_status(1006, 6)  # Shipping
        self.run_import()
        self.assertTrue(self.notes(repair, "Status changed in Cartum to Shipping."))
