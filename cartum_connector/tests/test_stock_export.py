import time
import uuid

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged

from cartum_sandbox import CartumSandbox, SandboxStore

from ..models.cartum_store import ALLOW_LOCAL_STORES_PARAM
from .common import CartumCase
from .test_concurrency import CronWorker, retired_address

WAREHOUSE = "Основний склад"


@tagged("post_install", "-at_install")
class TestStockExport(CartumCase):
    """Odoo's stock reaches the demo shop (a sandbox on HTTP) with ``catalog/import``."""

    first_import_in_class = True

    def setUp(self):
        super().setUp()
        self.Export = self.env["cartum.stock.export"]
        self.store.write({"stock_export": True, "stock_kind": "presence"})
        self.location = self.store.picking_type_id.default_location_src_id

    def send(self):
        """The job's round for the store, in this transaction (the job commits it)."""
        self.Export._export_round(self.store)

    def product(self, article):
        return (
            self.env["cartum.product.link"]
            .search([("store_id", "=", self.store.id), ("external_id", "=", article)])
            .product_id
        )

    def put_in_stock(self, article, quantity):
        self.env["stock.quant"]._update_available_quantity(
            self.product(article), self.location, quantity
        )

    def sent(self):
        """What the shop received since the last call, in order: [(article, value)]."""
        received = [
            (entry["article"], entry.get("presence") or entry["residues"][0]["quantity"])
            for entry in self.shop.stock_imports
        ]
        self.shop.stock_imports.clear()
        return received

    def shop_stock(self, article):
        return next(
            (presence, quantity)
            for found, presence, quantity, _residues in self.shop.stock_snapshot()
            if found == article
        )

    def test_presence_store_gets_its_texts_for_tracked_products_only(self):
        self.product("SRV-SCREEN").is_storable = False  # a service: no stock to send
        self.put_in_stock("DSP-IP12", 3)
        self.send()
        sent = dict(self.sent())
        self.assertEqual(sent["DSP-IP12"], "В наявності")
        self.assertEqual(sent["BAT-IP12"], "Немає в наявності")
        self.assertNotIn("SRV-SCREEN", sent, "a service has no stock to send")
        self.assertEqual(self.shop_stock("BAT-IP12")[0], "Немає в наявності")
        link = self.product("DSP-IP12").cartum_link_ids
        self.assertEqual(link.stock_sent, "В наявності")
        self.assertTrue(link.stock_sent_at)
        self.assertEqual(self.store.stock_waiting_count, 0)
        self.assertEqual(self.store.stock_linked_count, len(sent))

    def test_residues_store_gets_the_quantity_free_to_use(self):
        self.shop.warehouse_stock = True
        self.store.write({"stock_kind": "residues", "stock_warehouse_name": WAREHOUSE})
        repair = self.repair_of(1006)  # one DSP-IP13
        repair.action_validate()
        self.stock_parts(repair, quantity=5)  # 5 on hand, 1 reserved by the repair
        self.send()
        self.assertEqual(dict(self.sent())["DSP-IP13"], 4)
        self.assertEqual(self.shop_stock("DSP-IP13")[1], 4)
        self.assertEqual(self.product("DSP-IP13").cartum_link_ids.stock_sent, "4")

    def test_only_changes_are_sent(self):
        self.send()
        self.assertTrue(self.sent())
        self.send()
        self.assertEqual(self.sent(), [], "nothing changed, nothing sent")
        self.put_in_stock("DSP-IP13", 2)
        self.store.invalidate_recordset()  # counted when read, not when stock moves
        self.assertEqual(self.store.stock_waiting_count, 1)
        self.send()
        self.assertEqual(self.sent(), [("DSP-IP13", "В наявності")])
        self.put_in_stock("DSP-IP13", 1)  # still in stock: the same presence
        self.send()
        self.assertEqual(self.sent(), [])

    def test_a_refusal_is_kept_and_not_sent_again_until_the_stock_changes(self):
        self.shop.import_refusals["BAT-IP12"] = "Товар заблоковано"
        self.send()
        self.sent()
        link = self.product("BAT-IP12").cartum_link_ids
        self.assertEqual(link.stock_refusal, "Товар заблоковано")
        self.assertEqual(self.store.stock_refused_count, 1)
        self.assertEqual(self.store.action_view_refused_stock()["domain"][1][0], "stock_refusal")
        self.assertFalse(link.stock_sent)
        self.send()
        self.assertEqual(self.sent(), [], "a refused value is not sent again")
        del self.shop.import_refusals["BAT-IP12"]
        self.put_in_stock("BAT-IP12", 1)
        self.send()
        self.assertEqual(self.sent(), [("BAT-IP12", "В наявності")])
        self.assertFalse(link.stock_refusal)
        self.assertEqual(link.stock_sent, "В наявності")
        self.assertEqual(self.store.stock_refused_count, 0)

    def test_write_off_of_a_cartum_repair_reaches_cartum(self):
        self.shop.warehouse_stock = True
        self.store.write({"stock_kind": "residues", "stock_warehouse_name": WAREHOUSE})
        repair = self.repair_of(1006)  # New in Cartum, a draft in Odoo: nothing reserved
        for product in repair.move_ids.product_id.filtered("is_storable"):
            self.env["stock.quant"]._update_available_quantity(product, self.location, 3)
        self.send()
        self.assertIn(("DSP-IP13", 3), self.sent())
        repair.action_validate()
        repair.move_ids._action_assign()
        repair.action_repair_start()
        repair.action_repair_end()  # the parts are written off
        self.assertEqual(repair.state, "done")
        self.assertEqual(self.product("DSP-IP13").qty_available, 2)
        self.send()
        self.assertEqual(self.shop_stock("DSP-IP13")[1], 2)
        self.assertEqual(self.product("DSP-IP13").cartum_link_ids.stock_sent, "2")

    def test_store_unreachable_sends_nothing_and_keeps_the_changes(self):
        self.shop.faults.fail_call("catalog/import", message="Maintenance")
        self.assertEqual(self.Export._export_round(self.store), 0, "Cartum answered for none")
        self.store.invalidate_recordset()
        self.assertGreater(self.store.stock_waiting_count, 0)
        self.send()
        self.assertTrue(self.sent())
        self.assertEqual(self.store.stock_waiting_count, 0)

    def test_catalog_refresh_links_products_by_reference(self):
        self.shop.add_product("CASE-IP12", {"ua": "Чохол iPhone 12"}, 250.0)
        case = self.env["product.product"].create(
            {"name": "Case", "default_code": "CASE-IP12", "is_storable": True}
        )
        self.shop.add_product("NOT-IN-ODOO", {"ua": "Скло"}, 90.0)
        products = self.env["product.product"].search_count([])
        self.store.action_refresh_products()
        self.assertEqual(self.product("CASE-IP12"), case)
        self.assertFalse(self.product("NOT-IN-ODOO"))
        self.assertEqual(self.env["product.product"].search_count([]), products)
        self.send()
        self.assertIn(("CASE-IP12", "Немає в наявності"), self.sent())

    def test_catalog_refresh_links_products_by_name(self):
        self.store.product_match_key = "name"
        self.shop.add_product("CASE-IP13", {"ua": "Чохол iPhone 13"}, 250.0)
        case = self.env["product.product"].create({"name": "Чохол iPhone 13", "is_storable": True})
        self.store.action_refresh_products()
        self.assertEqual(self.product("CASE-IP13"), case)

    def test_send_stock_now_needs_the_setting_and_a_manager(self):
        self.store.stock_export = False
        with self.assertRaises(UserError):
            self.store.with_user(self.manager).action_send_stock_now()
        self.store.stock_export = True
        action = self.store.with_user(self.manager).action_send_stock_now()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.sent(), [], "the click does not wait on Cartum")


@tagged("post_install", "-at_install")
class TestStockExportAtOnce(TransactionCase):
    """The stock job of one store in two cron workers at once (two processes, two transactions
    on the real database), against a sandbox whose catalog/import takes half a second. What
    they commit stays in this throwaway database."""

    ARTICLES = [f"CONC-STOCK-{number}" for number in range(6)]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workers = CronWorker.two_for_class(cls)
        cls.registry_of_workers = Registry(cls.env.cr.dbname)

    def setUp(self):
        super().setUp()
        # What the test commits stays: the next run's store has another name.
        self.tag = f"STK{uuid.uuid4().hex[:8]}"
        self.shop = SandboxStore(login="api", password="secret")
        for article in self.ARTICLES:
            self.shop.add_product(article, {"ua": article}, 10.0)
        self.shop.import_delay = 0.5
        self.shop.warehouse_stock = True
        sandbox = CartumSandbox(self.shop).start()
        self.addCleanup(sandbox.stop)
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param(ALLOW_LOCAL_STORES_PARAM, "True")
            store = env["cartum.store"].create(
                {
                    "name": f"Stock shop {self.tag}",
                    "url": sandbox.base_url,
                    "login": "api",
                    "password": "secret",
                    "order_prefix": f"{self.tag}-",
                    "requests_per_second": 0,
                    "stock_export": True,
                    "stock_kind": "residues",
                    "stock_warehouse_name": "Основний склад",
                }
            )
            products = env["product.product"].create(
                [{"name": article, "is_storable": True} for article in self.ARTICLES]
            )
            env["cartum.product.link"]._upsert(store, zip(self.ARTICLES, products.ids, strict=True))
            self.location_id = store.picking_type_id.default_location_src_id.id
            for product in products:
                env["stock.quant"]._update_available_quantity(
                    product, store.picking_type_id.default_location_src_id, 5
                )
            self.store_id, self.product_ids = store.id, products.ids
        self.addCleanup(self.switch_off)

    def switch_off(self):
        """The committed store stays, switched off; its sandbox's port, free again, may serve
        a later test's store, which one shop, one store would refuse: its address moves."""
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            store = env["cartum.store"].browse(self.store_id)
            store.write({"stock_export": False, "url": retired_address(store)})

    def received(self, article):
        return [
            entry["residues"][0]["quantity"]
            for entry in self.shop.stock_imports
            if entry["article"] == article
        ]

    def wait_for_a_call_in_flight(self):
        for _attempt in range(200):
            if "catalog/import" in self.shop.requests:
                return
            time.sleep(0.02)
        raise AssertionError("No worker called catalog/import")

    def test_two_jobs_send_each_change_once(self):
        for worker in self.workers:
            worker.start("stock", self.store_id)
        for worker in self.workers:
            worker.result()
        for article in self.ARTICLES:
            self.assertEqual(self.received(article), [5], article)

    def test_a_change_made_while_a_batch_is_in_flight_is_sent_after_it(self):
        first, second = self.workers
        first.start("stock", self.store_id)
        self.wait_for_a_call_in_flight()
        with self.registry_of_workers.cursor() as cr:  # a technician uses two, committed
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["stock.quant"]._update_available_quantity(
                env["product.product"].browse(self.product_ids[0]),
                env["stock.location"].browse(self.location_id),
                -2,
            )
        second.start("stock", self.store_id)
        first.result()
        second.result()
        self.assertEqual(self.received(self.ARTICLES[0]), [5, 3], "the newer value last")
        for article in self.ARTICLES[1:]:
            self.assertEqual(self.received(article), [5], article)
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            link = env["cartum.product.link"].search(
                [("store_id", "=", self.store_id), ("external_id", "=", self.ARTICLES[0])]
            )
            self.assertEqual(link.stock_sent, "3")
