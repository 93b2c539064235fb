import json
import select
import subprocess
import sys
import tempfile
from pathlib import Path

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from cartum_sandbox import CartumSandbox, SandboxStore
from cartum_sandbox.seed import phone_formats

from .. import compat
from ..models.cartum_store import ALLOW_LOCAL_STORES_PARAM
from ..work_context import WorkContext
from .common import orders_of

CUSTOMERS = 12
ARTICLES = 8
ORDERS = 40
CRON_WORKER = Path(__file__).with_name("cron_worker.py")


def retired_address(store):
    """An address no later test's sandbox serves, for a committed store whose test ended."""
    return f"{store.url}/retired-{store.id}"


class CronWorker:
    """A cron worker of another Odoo server: a process of its own (``cron_worker.py``) with its
    own registry, which runs the store jobs it is given, one after the other."""

    def __init__(self, database):
        addons_path = config["addons_path"]  # a string on 18.0, a list on 19.0
        if not isinstance(addons_path, str):
            addons_path = ",".join(addons_path)
        options = [
            f"--{option}={value}"
            for option, value in (
                ("addons-path", addons_path),
                ("db_host", config["db_host"]),
                ("db_port", config["db_port"]),
                ("db_user", config["db_user"]),
                ("data-dir", config["data_dir"]),
            )
            if value
        ]
        # Odoo's log goes to a file: a pipe nobody reads would fill and stop the worker.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(
            [sys.executable, str(CRON_WORKER), database, *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    @classmethod
    def two_for_class(cls, test_class):
        """Two workers of ``test_class``'s database, ready, loaded once for its tests and
        stopped after them."""
        workers = [cls(test_class.env.cr.dbname) for _number in range(2)]
        for worker in workers:
            test_class.addClassCleanup(worker.stop)
        for worker in workers:
            worker.wait_ready()
        return workers

    def wait_ready(self):
        if self._answer() != "ready":
            raise AssertionError("The worker did not start")

    def start(self, job, store_id):
        """Run the ``job`` (import or refresh) of a store."""
        self.process.stdin.write(f"{job} {store_id}\n")
        self.process.stdin.flush()

    def answered_within(self, seconds):
        """Whether the job started last has ended within ``seconds``."""
        return bool(select.select([self.process.stdout], [], [], seconds)[0])

    def result(self):
        return json.loads(self._answer())

    def _answer(self, timeout=300):
        line = self.process.stdout.readline() if self.answered_within(timeout) else ""
        if not line:
            self.log.seek(0)
            raise AssertionError(f"The worker failed: {self.log.read()[-5000:]}")
        return line.strip()

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()


@tagged("post_install", "-at_install")
class TestStoresImportAtOnce(TransactionCase):
    """Two stores' scheduled imports at the same moment, as two cron workers run them: each in
    its own process, with its own registry, cursor and transaction on the real database,
    against its own sandbox. The stores sell to the same customers the same products. What the
    imports commit stays in this throwaway database; keys carry the test's name so that no
    other test meets them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry_of_workers = Registry(cls.env.cr.dbname)
        with cls.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].search([("name", "=", "Cartum concurrency")])
            if not company:
                uah = env.ref("base.UAH")
                uah.active = True
                company = env["res.company"].create(
                    {
                        "name": "Cartum concurrency",
                        "currency_id": uah.id,
                        "country_id": env.ref("base.ua").id,
                    }
                )
            cls.company_id = company.id
        cls.workers = CronWorker.two_for_class(cls)

    def shop(self, tag, phone_format, articles, titles):
        """A shop whose ORDERS orders go to the same CUSTOMERS people (of ``tag``) and ARTICLES
        products, each phone written in ``phone_format`` (an index of ``phone_formats``)."""
        phone_block = {"ref": 1000, "name": 2000, "wait": 3000}[tag]
        shop = SandboxStore(login="api", password="secret")
        for number, (article, title) in enumerate(zip(articles, titles, strict=True)):
            category = f"Parts {tag}/Screens" if number % 2 else f"Parts {tag}/Batteries"
            shop.add_product(article, {"ua": title, "en": title}, 100.0 + number, category=category)
        for number in range(ORDERS):
            customer = number % CUSTOMERS
            shop.add_order(
                customer_name=f"Customer {tag} {customer}",
                phone=phone_formats("67", f"{phone_block + customer:07d}")[phone_format],
                lines=[(articles[number % ARTICLES], 1), (articles[(number + 3) % ARTICLES], 2)],
            )
        sandbox = CartumSandbox(shop)
        sandbox.start()
        self.addCleanup(sandbox.stop)
        return sandbox

    def create_stores(self, sandboxes, match_key):
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            picking_type = env["stock.picking.type"].search(
                [("code", "=", "repair_operation"), ("company_id", "=", self.company_id)], limit=1
            )
            # Committed in this throwaway database: the sandboxes are on http://127.0.0.1.
            env["ir.config_parameter"].set_param(ALLOW_LOCAL_STORES_PARAM, "True")
            stores = env["cartum.store"].create(
                [
                    {
                        "name": f"Concurrent shop {number}",
                        "url": sandbox.base_url,
                        "login": "api",
                        "password": "secret",
                        "company_id": self.company_id,
                        "picking_type_id": picking_type.id,
                        "product_match_key": match_key,
                        "order_prefix": f"{self._testMethodName[-12:]}-{chr(65 + number)}-",
                        "requests_per_second": 0,  # no ceiling: the sandbox is on this machine
                    }
                    for number, sandbox in enumerate(sandboxes)
                ]
            )
        self.addCleanup(self.retire_stores, stores.ids)
        return stores.ids

    def retire_stores(self, store_ids):
        """Committed stores stay: their sandbox's port, free again, may serve a later test's
        store, which one shop, one store would refuse."""
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for store in env["cartum.store"].browse(store_ids).exists():
                store.url = retired_address(store)

    def import_at_once(self, store_ids):
        """Each store's scheduled import in its own worker process, started together."""
        workers = self.workers[: len(store_ids)]
        for worker, store_id in zip(workers, store_ids, strict=True):
            worker.start("import", store_id)
        for worker in workers:
            run = worker.result()
            self.assertEqual((run["state"], run["imported"]), ("done", ORDERS), run["message"])

    def committed_env(self):
        cr = self.registry_of_workers.cursor()
        self.addCleanup(cr.close)
        return api.Environment(cr, SUPERUSER_ID, {})

    def forget_the_runs(self, store_id):
        """The runs a test committed, and their failures, are not other tests' to find."""
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["cartum.sync.run"].search([("store_id", "=", store_id)]).failure_ids.unlink()
            env["cartum.sync.run"].search([("store_id", "=", store_id)]).unlink()

    def test_two_stores_make_one_contact_product_and_category_each(self):
        tag = "ref"
        articles = [f"CONC-REF-{number}" for number in range(ARTICLES)]
        titles = [f"Screen ref {number}" for number in range(ARTICLES)]
        # The same phones, written "+380 67 …" in one shop and "067…" in the other.
        sandboxes = [self.shop(tag, 0, articles, titles), self.shop(tag, 1, articles, titles)]
        store_ids = self.create_stores(sandboxes, "default_code")
        self.import_at_once(store_ids)

        env = self.committed_env()
        partners = env["res.partner"].search([("name", "like", f"Customer {tag} ")])
        self.assertEqual(len(partners), CUSTOMERS)
        self.assertEqual(len(set(partners.mapped("cartum_phone_key"))), CUSTOMERS)
        for partner in partners:
            self.assertEqual(partner.cartum_link_ids.store_id.ids, sorted(store_ids))
        products = env["product.product"].search([("default_code", "in", articles)])
        self.assertEqual(len(products), ARTICLES)
        for product in products:
            self.assertEqual(product.cartum_link_ids.store_id.ids, sorted(store_ids))
        roots = env["product.category"].search([("name", "=", f"Parts {tag}")])
        self.assertEqual(len(roots), 1)
        self.assertEqual(sorted(roots.child_id.mapped("name")), ["Batteries", "Screens"])
        self.assertEqual(products.categ_id, roots.child_id)
        repairs = env["repair.order"].search([("cartum_store_id", "in", store_ids)])
        self.assertEqual(len(repairs), 2 * ORDERS)
        self.assertEqual(repairs.partner_id, partners)

    def test_two_stores_matching_by_name_make_one_product_per_name(self):
        tag = "name"
        titles = [f"Battery by name {number}" for number in range(ARTICLES)]
        # Each shop has articles of its own; the names are the same.
        sandboxes = [
            self.shop(tag, 2, [f"CONC-A-{n}" for n in range(ARTICLES)], titles),
            self.shop(tag, 3, [f"CONC-B-{n}" for n in range(ARTICLES)], titles),
        ]
        store_ids = self.create_stores(sandboxes, "name")
        self.import_at_once(store_ids)

        env = self.committed_env()
        products = env["product.product"].search([("name", "in", titles)])
        self.assertEqual(len(products), ARTICLES)
        for product in products:
            self.assertEqual(product.cartum_link_ids.store_id.ids, sorted(store_ids))
        self.assertEqual(
            len(env["res.partner"].search([("name", "like", f"Customer {tag} ")])), CUSTOMERS
        )
        self.assertEqual(len(env["product.category"].search([("name", "=", f"Parts {tag}")])), 1)

    def test_the_product_refresh_waits_for_the_store_import(self):
        tag = "wait"
        articles = [f"CONC-WAIT-{number}" for number in range(ARTICLES)]
        titles = [f"Cable wait {number}" for number in range(ARTICLES)]
        [store_id] = self.create_stores([self.shop(tag, 0, articles, titles)], "default_code")
        self.import_at_once([store_id])
        refresh = self.workers[1]
        # An import of the store holds its lock and commits pages meanwhile.
        with self.registry_of_workers.cursor() as import_cr:
            env = api.Environment(import_cr, SUPERUSER_ID, {})
            store = env["cartum.store"].browse(store_id)
            self.assertTrue(env["cartum.store.job"]._lock_store(WorkContext(store, commit=True)))
            refresh.start("refresh", store_id)
            try:
                self.assertFalse(
                    refresh.answered_within(1.0), "the refresh did not wait for the import"
                )
                import_cr.execute(
                    "UPDATE cartum_product_link SET last_read_at = '2020-01-01' "
                    "WHERE store_id = %s",
                    (store_id,),
                )
                import_cr.commit()
            finally:
                env["cartum.store.job"]._unlock_store(WorkContext(store, commit=True))
        refresh.result()
        links = self.committed_env()["cartum.product.link"].search([("store_id", "=", store_id)])
        self.assertEqual(len(links), ARTICLES)
        # Run again after the import's commit, the refresh read every link.
        self.assertTrue(all(link.last_read_at.year > 2020 for link in links))
        self.assertEqual(sorted(links.mapped("cartum_title")), sorted(titles))

    def test_a_page_step_refused_after_the_shared_records_runs_again_alone(self):
        """The scheduled job commits a page's shared records, then PostgreSQL refuses its
        repair orders (another transaction committed a write to the same row meanwhile): the
        repair orders are written again in a fresh transaction, and the run counts and records
        each order once."""
        article = "CONC-STEP-1"
        shop = SandboxStore(login="api", password="secret")
        shop.add_product(
            article,
            {"ua": "Step screen", "en": "Step screen"},
            100.0,
            category="Parts step/Screens",
        )

        def add_orders(first, count, currency=None):
            return [
                shop.add_order(
                    customer_name=f"Customer step {number}",
                    phone=phone_formats("67", f"{4000 + number:07d}")[0],
                    lines=[(article, 1)],
                    currency=currency,
                )
                for number in range(first, first + count)
            ]

        add_orders(0, 3)
        sandbox = CartumSandbox(shop).start()
        self.addCleanup(sandbox.stop)
        [store_id] = self.create_stores([sandbox], "default_code")
        registry = self.registry_of_workers
        self.addCleanup(self.forget_the_runs, store_id)

        def scheduled_import():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                store = env["cartum.store"].browse(store_id)
                env["cartum.adapter"]._client(WorkContext(store)).backoff_base = 0.01
                return env["cartum.importer"]._run(store, trigger="cron", commit=True).id

        scheduled_import()
        new_ids = [str(order["order_id"]) for order in add_orders(3, 2)]
        add_orders(5, 1, currency="USD")  # fails: the company works in UAH

        Importer = type(self.env["cartum.importer"])
        create_repairs = Importer._create_repairs
        calls = []

        def create_repairs_meeting_another_write(importer, work, prepared, values, orders):
            calls.append(len(orders))
            if len(calls) == 1:
                importer.env.cr.execute("SELECT 1")  # the step's transaction has begun
                # Another transaction writes the run's row and commits before the step does.
                with registry.cursor() as other_cr:
                    other_cr.execute(
                        "UPDATE cartum_sync_run SET write_date = now() WHERE id = %s",
                        (work.run.id,),
                    )
            created = create_repairs(importer, work, prepared, values, orders)
            importer.env.flush_all()  # the step's writes reach PostgreSQL, which refuses them
            return created

        self.patch(Importer, "_create_repairs", create_repairs_meeting_another_write)
        # PostgreSQL's refusal, which Odoo logs as a bad query, is this test's to see.
        with self.assertLogs("odoo.sql_db", level="ERROR") as logs:
            run_id = scheduled_import()
        self.assertIn("could not serialize access", "\n".join(logs.output))
        self.assertEqual(calls, [2, 2], "the repair orders were written again")

        run = self.committed_env()["cartum.sync.run"].browse(run_id)
        self.assertEqual(run.state, "partial", run.message)
        self.assertEqual(
            (run.imported_count, run.unchanged_count, run.failed_count, len(run.failure_ids)),
            (2, 3, 1, 1),
        )
        self.assertEqual(orders_of(run, "imported"), new_ids)
        repairs = run.env["repair.order"].search([("cartum_store_id", "=", store_id)])
        self.assertEqual(len(repairs), 5)


@tagged("post_install", "-at_install")
class TestImportNowWhileTheJobRuns(TransactionCase):
    """Import Now pressed while the store's job is writing the store, in two real transactions
    on the database: the click neither waits for the job nor fails, and logs no error."""

    def setUp(self):
        super().setUp()
        self.registry_of_workers = Registry(self.env.cr.dbname)
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param(ALLOW_LOCAL_STORES_PARAM, "True")
            tag = self.id().rsplit(".", 1)[-1][-20:] + str(id(self))
            store = env["cartum.store"].create(
                {"name": f"Busy shop {tag}", "url": f"http://127.0.0.1:9/{tag}", "login": "api"}
            )
            store.connection_state = "ok"
            manager = env["res.users"].create(
                {
                    "name": f"Busy manager {tag}",
                    "login": f"busy_{tag}",
                    compat.GROUP_IDS: [
                        Command.link(env.ref("cartum_connector.group_cartum_manager").id)
                    ],
                }
            )
            self.store_id, self.manager_id = store.id, manager.id
        self.addCleanup(self.delete_the_store)

    def delete_the_store(self):
        with self.registry_of_workers.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["cartum.store"].browse(self.store_id).unlink()
            env["res.users"].browse(self.manager_id).active = False

    def test_import_now_while_the_job_writes_the_store(self):
        registry = self.registry_of_workers
        for moment in ("the job holds the store's row", "the job committed after the click began"):
            with (
                self.subTest(moment=moment),
                registry.cursor() as job_cr,
                registry.cursor() as click_cr,
            ):
                click_cr.execute("SET LOCAL lock_timeout = '5s'")  # a wait fails, never hangs
                click = api.Environment(click_cr, self.manager_id, {})["cartum.store"]
                click = click.browse(self.store_id)
                self.assertTrue(click.name)  # the click's transaction has begun
                job = api.Environment(job_cr, SUPERUSER_ID, {})["cartum.store"]
                job.browse(self.store_id).write({"import_cursor": fields.Datetime.now()})
                job.env.flush_all()
                if moment != "the job holds the store's row":
                    job_cr.commit()
                with self.assertNoLogs("odoo.sql_db", level="ERROR"):
                    action = click.action_import_now()
                    click.env.flush_all()
                self.assertEqual(action["res_model"], "cartum.sync.run")
                click_cr.commit()
                job_cr.commit()
            with registry.cursor() as cr:
                store = api.Environment(cr, SUPERUSER_ID, {})["cartum.store"].browse(self.store_id)
                self.assertEqual(store.import_requested_by.id, self.manager_id)
                self.assertEqual(store._take_import_request().id, self.manager_id)
