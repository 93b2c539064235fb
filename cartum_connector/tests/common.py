from odoo.tests import TransactionCase, new_test_user

from cartum_sandbox import CartumSandbox, demo_store

from .. import compat


class SandboxHttp:
    """Lets the Cartum client reach the sandboxes on 127.0.0.1 under Odoo's test guard."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's guard on test HTTP calls (local hosts only) compares the timeout with a
        # number; the client passes a (connect, read) pair.
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)


class CartumSetup(SandboxHttp):
    """A company in UAH in Ukraine, a Cartum store record, and per test a fresh sandbox store
    (the demo shop) served over HTTP on 127.0.0.1. Shared by the model tests and the tours."""

    @classmethod
    def _set_up_company_and_store(cls, responsible_users):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        uah = cls.env.ref("base.UAH")
        uah.active = True
        cls.company.write({"currency_id": uah.id, "country_id": cls.env.ref("base.ua").id})
        cls.store = cls.env["cartum.store"].create(
            {
                "name": "Demo shop",
                "url": "http://127.0.0.1:9",  # replaced by each test's sandbox
                "login": "demo-api",
                "password": "demo-secret",
                "import_language": "ua",
                "responsible_user_ids": responsible_users.ids,
            }
        )

    def setUp(self):
        super().setUp()
        self.shop = demo_store()
        self.sandbox = CartumSandbox(self.shop)
        self.sandbox.start()
        self.addCleanup(self.sandbox.stop)
        self.store.url = self.sandbox.base_url
        # Retries back off for milliseconds, not seconds, against the local sandbox.
        self.env["cartum.adapter"]._client(self.store).backoff_base = 0.01

    def repair_of(self, order_id, store=None):
        return self.env["repair.order"].search(
            [
                ("cartum_store_id", "=", (store or self.store).id),
                ("cartum_external_id", "=", str(order_id)),
            ]
        )


class CartumCase(CartumSetup, TransactionCase):
    """Model tests: the shared set-up, with a Cartum administrator, a user with the parts
    permission and a plain repair user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, "cartum_manager", groups="cartum_connector.group_cartum_manager"
        )
        cls.parts_user = new_test_user(
            cls.env, "cartum_parts", groups="cartum_connector.group_cartum_parts"
        )
        cls.repair_user = new_test_user(cls.env, "repair_user", groups="stock.group_stock_user")
        cls._set_up_company_and_store(cls.manager)

    def run_import(self, store=None, **kwargs):
        store = store or self.store
        kwargs.setdefault("trigger", "manual")
        return self.env["cartum.importer"]._run(store, **kwargs)

    def run_store_job(self):
        """Run the store's scheduled job the way Odoo's cron worker does (its commits on a test
        cursor), and return the job's completion status; its failure count is updated as the
        worker would."""
        cron = self.store.cron_id
        job = {
            "id": cron.id,
            "cron_name": cron.cron_name,
            "ir_actions_server_id": cron.ir_actions_server_id.id,
            "user_id": cron.user_id.id,
            "lastcall": cron.lastcall,
            "timed_out_counter": 0,
            "failure_count": cron.failure_count,
            "first_failure_date": cron.first_failure_date,
            "active": cron.active,
        }
        with compat.registry_test_mode(self):
            status = type(self.env["ir.cron"])._run_job(job)
            self.env["ir.cron"]._update_failure_count(job, status)
        return status

    def parts_of(self, repair):
        """{article: (quantity, unit price)} of the repair's live parts from Cartum."""
        return {
            move.cartum_article: (move.product_uom_qty, move.price_unit)
            for move in repair.move_ids
            if move.state != "cancel"
        }
