from odoo.tests import TransactionCase, new_test_user

from cartum_sandbox import CartumSandbox, demo_store

from ..models.cartum_store import ALLOW_LOCAL_STORES_PARAM
from ..work_context import WorkContext
from . import series


def orders_of(run, outcome):
    """The Cartum numbers of the orders ``run`` imported, updated or found unchanged
    (``outcome``), in the order it went through them."""
    return run.line_ids.filtered(lambda line: line.outcome == outcome).mapped("external_id")


class CartumSetup:
    """A company in UAH in Ukraine, a Cartum store record, and the demo shop served by a sandbox
    over HTTP on 127.0.0.1. Shared by the model tests and the tours.

    By default each test gets a fresh sandbox. A class whose tests all start from the store's
    first import sets ``first_import_in_class``: the sandbox and the import are then made once,
    in setUpClass, and each test starts from what the import made and from the shop as it was
    then (``first_run`` is that import's run). A class whose tests start from more than the
    first import makes it in ``_set_up_the_class_import``."""

    first_import_in_class = False

    @classmethod
    def _set_up_company_and_store(cls, responsible_users):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        # No rate ceiling on the tests' stores: the sandboxes are on this machine, on
        # http://127.0.0.1, which a Settings administrator allows for local test stores.
        cls.env["ir.default"].set("cartum.store", "requests_per_second", 0.0)
        cls.env["ir.config_parameter"].set_param(ALLOW_LOCAL_STORES_PARAM, "True")
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

    @classmethod
    def _import_once_for_the_class(cls):
        cls.shop = demo_store()
        cls.sandbox = CartumSandbox(cls.shop).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.store.url = cls.sandbox.base_url
        cls._back_off_briefly()
        cls._set_up_the_class_import()
        cls.shop_after_import = cls.shop.snapshot()

    @classmethod
    def _set_up_the_class_import(cls):
        """What the class's tests start from, in Odoo and in the shop: the first import."""
        cls.first_run = cls.env["cartum.importer"]._run(cls.store, trigger="manual")

    @classmethod
    def _back_off_briefly(cls):
        # Retries back off for milliseconds, not seconds, against the local sandbox.
        cls.env["cartum.adapter"]._client(WorkContext(cls.store)).backoff_base = 0.01

    def setUp(self):
        super().setUp()
        if self.first_import_in_class:
            # What the previous test changed in Cartum is undone.
            self.shop.restore(self.shop_after_import)
        else:
            self.shop = demo_store()
            self.sandbox = CartumSandbox(self.shop).start()
            self.addCleanup(self.sandbox.stop)
            self.store.url = self.sandbox.base_url
        self._back_off_briefly()

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
        if cls.first_import_in_class:
            cls._import_once_for_the_class()

    def run_import(self, store=None, **kwargs):
        store = store or self.store
        kwargs.setdefault("trigger", "manual")
        return self.env["cartum.importer"]._run(store, **kwargs)

    def run_store_job(self):
        """Run the store's scheduled job as Odoo's "Run Manually" does, its commits on a test
        cursor over this transaction; the test fails if the job raised."""
        with series.registry_test_mode(self), self.registry.cursor() as cron_cr:
            done = self.store.cron_id.with_env(self.env(cr=cron_cr)).method_direct_trigger()
        # 18.0 raises what the job raised; 19.0 returns it as an error to display.
        self.assertIs(done, True, "the store's job raised")

    def stock_parts(self, repair, quantity=10):
        """Put ``quantity`` of each of the repair's parts in stock (the import makes tracked
        products), and reserve them."""
        for product in repair.move_ids.product_id.filtered("is_storable"):
            self.env["stock.quant"]._update_available_quantity(
                product, repair.location_id, quantity
            )
        repair.move_ids.filtered(lambda move: move.state != "draft")._action_assign()

    def parts_of(self, repair):
        """{article: (quantity, unit price)} of the repair's live parts from Cartum."""
        return {
            move.cartum_article: (move.product_uom_qty, move.price_unit)
            for move in repair.move_ids
            if move.state != "cancel"
        }


class CartumCaseInLanguages(CartumCase):
    """Model tests that read what the connector writes in Spanish and Ukrainian too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in ("es_ES", "uk_UA"):
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"].search(
            [("name", "=", "cartum_connector")]
        )._update_translations(["es_ES", "uk_UA"])

    def send_pending(self):
        self.env["cartum.status.push"]._cron_send_pending()

    def notes(self, repair, text):
        return repair.message_ids.filtered(lambda message: text in (message.body or ""))
