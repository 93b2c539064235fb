from odoo.tests import tagged

from .common import CartumCase


@tagged("post_install", "-at_install")
class TestWhatAClickWaitsOn(CartumCase):
    """A user's click waits on Cartum less and asks it fewer times than a scheduled job: on
    every path a click takes to Cartum, a store that answers two requests in a row with a
    server error makes the click give up and say so, where the scheduled job asks again and
    goes through."""

    first_import_in_class = True

    def cartum_fails_twice(self):
        self.shop.faults.fail_next(2, status=503)

    def assert_gave_up(self, message):
        self.assertIn("503", message)
        self.assertIn(self.store.url, message)

    def test_the_scheduled_job_asks_again(self):
        self.cartum_fails_twice()
        run = self.env["cartum.importer"]._run(self.store, trigger="cron")
        self.assertEqual(run.state, "done", run.message)

    def test_test_connection(self):
        self.cartum_fails_twice()
        self.store.with_user(self.manager).action_test_connection()
        self.assertEqual(self.store.connection_state, "error")
        self.assert_gave_up(self.store.connection_message)

    def test_refresh_products(self):
        self.cartum_fails_twice()
        action = self.store.with_user(self.manager).action_refresh_products()
        self.assertEqual(action["params"]["type"], "danger")
        self.assert_gave_up(action["params"]["message"])

    def test_refresh_a_repair_from_cartum(self):
        repair = self.repair_of(1001)
        self.cartum_fails_twice()
        action = repair.with_user(self.manager).action_cartum_refresh()
        run = self.env["cartum.sync.run"].search([("trigger", "=", "refresh")], limit=1)
        self.assertEqual(run.state, "failed")
        self.assert_gave_up(run.message)
        self.assertIn(run.message, action["params"]["message"])

    def test_retry_a_failed_order(self):
        failure = self.env["cartum.sync.failure"].create(
            {
                "store_id": self.store.id,
                "run_id": self.first_run.id,
                "external_id": "1001",
                "reason": "Refused by Odoo",
            }
        )
        self.cartum_fails_twice()
        failure.with_user(self.manager).action_retry()
        run = self.env["cartum.sync.run"].search([("trigger", "=", "retry")], limit=1)
        self.assertEqual(run.state, "failed")
        self.assert_gave_up(run.message)
        self.assertEqual(failure.state, "open")

    def test_import_orders_by_number(self):
        wizard = (
            self.env["cartum.import.wizard"]
            .with_user(self.manager)
            .create({"store_id": self.store.id, "mode": "numbers", "order_numbers": "1001"})
        )
        self.cartum_fails_twice()
        wizard.action_import()
        run = self.env["cartum.sync.run"].search([("trigger", "=", "import")], limit=1)
        self.assertEqual(run.state, "failed")
        self.assert_gave_up(run.message)
