from datetime import timedelta
from unittest.mock import patch

from odoo import api, fields
from odoo.tests import tagged

from .. import compat
from . import series
from .common import CartumCase


@tagged("post_install", "-at_install")
class TestHousekeeping(CartumCase):
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
        # A run goes with its orders; an empty one may have found some unchanged.
        empty_old._count_orders(unchanged=["1001"])
        busy_older._count_orders(updated=["1002"])
        busy_old._count_orders(updated=["1002"])
        Run._gc_old_runs()
        self.assertFalse(empty_old.exists())
        self.assertTrue(busy_old.exists())
        self.assertFalse(busy_older.exists())
        self.assertTrue(failing_older.exists())
        runs = (empty_old | busy_old | busy_older | failing_older).ids
        lines = self.env["cartum.sync.run.line"].search([("run_id", "in", runs)])
        self.assertEqual(lines.run_id, busy_old)

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
        with patch.object(compat, "VACUUM_BATCH_SIZE", 2):
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
            with series.registry_test_mode(self), self.registry.cursor() as cr:
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
