from datetime import timedelta
from unittest.mock import patch

from odoo import api, fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import compat
from ..models import cartum_status_push, cartum_sync_run
from .common import CartumCase


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
class TestBothSidesChangeOneOrder(CartumCase):
    def setUp(self):
        super().setUp()
        self.run_import()
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
class TestAfterWriteOff(CartumCase):
    def test_change_after_write_off_and_final_status_is_noted(self):
        self.run_import()
        repair = self.repair_of(1001)
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
class TestHousekeepingAndClicks(CartumCase):
    def test_import_now_starts_the_job_and_opens_the_log(self):
        job = self.store.cron_id
        before = self.env["ir.cron.trigger"].search([("cron_id", "=", job.id)])
        action = self.store.with_user(self.manager).action_import_now()
        self.assertEqual(action["res_model"], "cartum.sync.run")
        self.assertIn(("store_id", "=", self.store.id), action["domain"])
        self.assertEqual(
            len(self.env["ir.cron.trigger"].search([("cron_id", "=", job.id)]) - before), 1
        )
        self.assertFalse(self.shop.requests, "the click itself does not wait on Cartum")

    def test_old_runs_and_pushes_are_cleaned_up(self):
        Run = self.env["cartum.sync.run"]
        old = fields.Datetime.now() - timedelta(days=8)
        older = fields.Datetime.now() - timedelta(days=91)
        empty_old = Run.create(
            {"store_id": self.store.id, "trigger": "cron", "state": "done", "started_at": old}
        )
        busy_old = Run.create(
            {
                "store_id": self.store.id,
                "trigger": "cron",
                "state": "done",
                "started_at": old,
                "imported_count": 3,
            }
        )
        busy_older = Run.create(
            {
                "store_id": self.store.id,
                "trigger": "cron",
                "state": "done",
                "started_at": older,
                "imported_count": 3,
            }
        )
        failing_older = Run.create(
            {
                "store_id": self.store.id,
                "trigger": "cron",
                "state": "partial",
                "started_at": older,
                "failed_count": 1,
            }
        )
        failing_older._record_failure("999", "still failing")
        Run._gc_old_runs()
        self.assertFalse(empty_old.exists())
        self.assertTrue(busy_old.exists())
        self.assertFalse(busy_older.exists())
        self.assertTrue(failing_older.exists())

    def test_the_autovacuum_deletes_in_batches_committed_in_its_job_only(self):
        now = fields.Datetime.now()

        def old_runs_and_pushes(env):
            """Five runs of 91 days, three empty ones of 8 days, five pushes sent 31 days ago."""
            Run = env["cartum.sync.run"]
            values = {"store_id": self.store.id, "trigger": "cron", "state": "done"}
            runs = Run.create(
                [{**values, "started_at": now - timedelta(days=91), "imported_count": 1}] * 5
                + [{**values, "started_at": now - timedelta(days=8)}] * 3
            )
            pushes = env["cartum.status.push"].create(
                [{"repair_id": repair.id, "store_id": self.store.id, "cartum_status_code": 4}] * 5
            )
            pushes.write({"state": "sent"})
            env.flush_all()
            env.cr.execute(
                "UPDATE cartum_status_push SET write_date = %s WHERE id IN %s",
                (now - timedelta(days=31), tuple(pushes.ids)),
            )
            env.invalidate_all()
            return runs, pushes

        self.store.action_test_connection()
        self.run_import()
        repair = self.repair_of(1001)
        autovacuum = self.env.ref("base.autovacuum_job")
        commits = patch.object(compat, "commit_vacuum_batch", wraps=compat.commit_vacuum_batch)
        with (
            patch.object(cartum_sync_run, "GC_BATCH_SIZE", 2),
            patch.object(cartum_status_push, "GC_BATCH_SIZE", 2),
        ):
            # Outside the job (a shell, a test): every batch, and no commit, which this
            # test's cursor would refuse.
            runs, pushes = old_runs_and_pushes(self.env)
            with commits as commit:
                self.assertEqual(self.env["cartum.sync.run"]._gc_old_runs(), (8, False))
                self.assertEqual(self.env["cartum.status.push"]._gc_finished_pushes(), (5, False))
            commit.assert_not_called()
            self.assertFalse(runs.exists() or pushes.exists())

            # In the autovacuum job: a commit after each full batch (2 + 1 of the empty runs,
            # 2 + 2 + 1 of the others, 2 + 2 + 1 of the pushes).
            with compat.registry_test_mode(self), self.registry.cursor() as cr:
                env = api.Environment(cr, self.env.uid, {"cron_id": autovacuum.id})
                runs, pushes = old_runs_and_pushes(env)
                with commits as commit:
                    self.assertEqual(env["cartum.sync.run"]._gc_old_runs(), (8, False))
                    self.assertEqual(commit.call_count, 3)
                    self.assertEqual(env["cartum.status.push"]._gc_finished_pushes(), (5, False))
                    self.assertEqual(commit.call_count, 5)
                self.assertFalse(runs.exists() or pushes.exists())

                # A job out of time (19.0) stops after the batch it committed; the vacuum
                # cleaner calls the method again.
                runs, pushes = old_runs_and_pushes(env)
                with patch.object(compat, "commit_vacuum_batch", return_value=False):
                    self.assertEqual(env["cartum.status.push"]._gc_finished_pushes(), (2, True))
                    self.assertEqual(env["cartum.sync.run"]._gc_old_runs(), (2, True))
                self.assertEqual((len(pushes.exists()), len(runs.exists())), (3, 6))
