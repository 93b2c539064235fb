from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

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
        Run._gc_old_runs()
        self.assertFalse(empty_old.exists())
        self.assertTrue(busy_old.exists())
        self.assertFalse(busy_older.exists())
        self.assertTrue(failing_older.exists())
