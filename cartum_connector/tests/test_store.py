from contextlib import contextmanager

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from cartum_sandbox import CartumSandbox, demo_store

from ..work_context import WorkContext
from .common import CartumCase


@tagged("post_install", "-at_install")
class TestOneShopOneStore(CartumCase):
    @contextmanager
    def refused(self, message):
        """The change is refused with ``message`` and undone (Odoo's assertRaises)."""
        with self.assertRaises(ValidationError) as refusal:
            yield
        self.assertRegex(str(refusal.exception), message)

    def new_store(self, **values):
        return self.env["cartum.store"].create(
            {"name": "Another", "login": "demo-api", "password": "demo-secret", **values}
        )

    def test_a_second_store_of_the_same_shop_is_refused(self):
        shop_url = self.sandbox.base_url  # http://127.0.0.1:<port>
        for spelling in (shop_url, shop_url + "/", shop_url.upper(), shop_url + "//"):
            with self.refused("already connects"):
                self.new_store(url=spelling)
        shop = self.new_store(url="https://myshop.example")
        for spelling in ("http://www.myshop.example/", "HTTPS://MyShop.example"):
            with self.refused("Demo shop|Another"):
                self.new_store(url=spelling, name="Third")
        with self.refused("already connects"):
            self.store.url = "https://www.myshop.example"
        self.assertTrue(shop)

    def test_another_company_may_connect_the_same_shop(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        picking_type = self.env["stock.picking.type"].search(
            [("code", "=", "repair_operation"), ("company_id", "=", company_b.id)], limit=1
        )
        store_b = self.new_store(
            url=self.sandbox.base_url, company_id=company_b.id, picking_type_id=picking_type.id
        )
        self.assertEqual(store_b.url, self.store.url)

    def test_each_store_names_its_repairs_with_a_prefix_of_its_own(self):
        self.assertEqual(self.store.order_prefix, "WEB-")
        second = self.new_store(url="https://second.example")
        third = self.new_store(url="https://third.example", name="Third")
        self.assertEqual((second.order_prefix, third.order_prefix), ("WEB2-", "WEB3-"))
        with self.refused("already used by the store Demo shop"):
            second.order_prefix = "WEB-"
        with self.refused("must not end with a digit"):
            second.order_prefix = "SHOP2"
        # Another shop's order of the same number gets another reference.
        other_shop = CartumSandbox(demo_store())
        other_shop.start()
        self.addCleanup(other_shop.stop)
        second.url = other_shop.base_url
        self.env["cartum.adapter"]._client(WorkContext(second)).backoff_base = 0.01
        self.run_import()
        self.run_import(store=second)
        self.assertEqual(self.repair_of(1001).name, "WEB-1001")
        self.assertEqual(self.repair_of(1001, store=second).name, "WEB2-1001")


@tagged("post_install", "-at_install")
class TestStoreConnectionAndButtons(CartumCase):
    def test_test_connection_says_what_is_wrong(self):
        def test_connection():
            params = self.store.action_test_connection()["params"]
            return params["type"], params["message"]

        level, message = test_connection()
        self.assertEqual((level, self.store.connection_state), ("success", "ok"))
        self.assertIn("6 statuses read", message)
        self.assertEqual(self.store.available_languages, "en,ua")

        self.shop.password = "changed-in-the-store"
        self.shop.expire_tokens()
        level, message = test_connection()
        self.assertEqual((level, self.store.connection_state), ("danger", "error"))
        self.assertIn("refused the login demo-api", message)
        self.assertNotIn("demo-secret", message)
        self.assertEqual(self.store.connection_message, message)
        self.shop.password = "demo-secret"

        self.shop.api_enabled = False
        self.assertIn("answers, but not its API", test_connection()[1])
        self.shop.api_enabled = True

        self.shop.currencies[0]["default"] = 0
        self.shop.add_currency("USD", 41.5)
        self.shop.currencies[-1]["default"] = 1
        level, message = test_connection()
        self.assertEqual(level, "danger")
        self.assertIn("sells in USD", message)
        self.assertIn("UAH", message)

        self.store.url = "http://127.0.0.1:9"
        self.env["cartum.adapter"]._client(WorkContext(self.store)).backoff_base = 0.01
        self.assertEqual(
            test_connection()[1],
            "The store at http://127.0.0.1:9 refused the connection. Check the website URL "
            "(its address and port), and that the store is online.",
        )

    def test_test_connection_says_the_first_import_started(self):
        store = self.store.with_user(self.manager)
        notification = store.action_test_connection()
        message = notification["params"]["message"]
        self.assertIn("Connected. 6 statuses read.", message)
        self.assertIn("The first import has started in the background", message)
        self.assertIn("Sync Log", message)
        self.assertEqual(self.store.import_requested_by, self.manager)
        # Paused: nothing starts, and the message says when it will.
        self.store.sync_paused = True
        self.store._take_import_request()  # as the store's job does
        message = store.action_test_connection()["params"]["message"]
        self.assertIn("the first import starts when it is resumed", message)
        self.assertFalse(self.store.import_requested_by)
        with self.assertRaisesRegex(UserError, "paused"):
            store.action_import_now()
        # Once imported, Test Connection only tests.
        self.store.sync_paused = False
        self.run_import()
        message = store.action_test_connection()["params"]["message"]
        self.assertEqual(message, "Connected. 6 statuses read.")

    def test_each_url_field_names_itself_and_a_bare_address_gets_https(self):
        self.store.url = "127.0.0.1:8765"
        self.assertEqual(self.store.url, "https://127.0.0.1:8765")
        self.store.url = "  shop.example.com/ "
        self.assertEqual(self.store.url, "https://shop.example.com/")
        with self.assertRaisesRegex(ValidationError, "website URL") as caught:
            self.store.url = "not a url"
        self.assertNotIn("admin order URL", str(caught.exception))
        with self.assertRaisesRegex(ValidationError, "website URL"):
            self.store.url = "ftp://shop.example.com"
        self.store.url = self.sandbox.base_url
        with self.assertRaisesRegex(ValidationError, "admin order URL") as caught:
            self.store.admin_order_url = "{url}/{secret}"
        self.assertNotIn("website URL", str(caught.exception))

    def test_records_follow_the_store_company(self):
        self.run_import()
        other_company = self.env["res.company"].create({"name": "Other repair shop"})
        other_user = new_test_user(
            self.env,
            "other_company_admin",
            groups="stock.group_stock_user,cartum_connector.group_cartum_manager",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        for model in ("cartum.store", "cartum.status.mapping", "cartum.sync.run"):
            self.assertFalse(self.env[model].with_user(other_user).search([]), model)
        self.assertTrue(self.env["cartum.store"].with_user(self.manager).search([]))

    def test_second_store_only_sees_own_orders(self):
        self.run_import()
        # Another shop with the same order numbers: the demo shop again, at another address.
        other_sandbox = CartumSandbox(self.shop)
        other_sandbox.start()
        self.addCleanup(other_sandbox.stop)
        other = self.store.copy(
            {"name": "Other shop", "password": "demo-secret", "url": other_sandbox.base_url}
        )
        self.assertNotEqual(other.order_prefix, self.store.order_prefix)
        self.run_import(other)
        self.assertEqual(len(self.repair_of(1001, other)), 1)
        self.assertEqual(len(self.repair_of(1001)), 1)

    def test_import_now_starts_the_job_and_opens_the_log(self):
        self.store.connection_state = "ok"
        job = self.store.cron_id
        before = self.env["ir.cron.trigger"].search([("cron_id", "=", job.id)])
        action = self.store.with_user(self.manager).action_import_now()
        self.assertEqual(action["res_model"], "cartum.sync.run")
        self.assertIn(("store_id", "=", self.store.id), action["domain"])
        self.assertEqual(
            len(self.env["ir.cron.trigger"].search([("cron_id", "=", job.id)]) - before), 1
        )
        self.assertFalse(self.shop.requests, "the click itself does not wait on Cartum")
        self.assertEqual(self.store.import_requested_by, self.manager)
        # The list waits for a run newer than the store's last one: the job's.
        self.assertEqual(action["context"]["cartum_run_awaited_after"], 0)
        run = self.run_import()
        action = self.store.with_user(self.manager).action_import_now()
        self.assertEqual(action["context"]["cartum_run_awaited_after"], run.id)

    def test_import_now_on_a_store_not_connected_says_why(self):
        """After a change of its credentials the store is "not tested": its job imports nothing,
        and Import Now says so, and what to do, instead of opening an empty log."""
        self.store.connection_state = "ok"
        self.store.with_user(self.manager).password = "changed"
        self.assertEqual(self.store.connection_state, "untested")
        triggers = self.env["ir.cron.trigger"].search_count([])
        with self.assertRaisesRegex(UserError, "is not connected.*Press Test Connection"):
            self.store.with_user(self.manager).action_import_now()
        self.assertEqual(self.env["ir.cron.trigger"].search_count([]), triggers)
        self.assertFalse(self.store.import_requested_by)

    def test_a_store_never_tested_is_tested_before_its_first_import(self):
        """Saved with a wrong password and the sync on: its job tests it first, and the sync
        log says what to fix, in whole sentences, instead of a failed import."""
        self.shop.password = "not-the-one-saved"
        self.assertEqual(self.store.connection_state, "untested")
        self.store.with_user(self.manager)._request_import()
        self.run_store_job()
        self.env.invalidate_all()
        run = self.store.sync_run_ids
        self.assertEqual((run.state, run.trigger, run.user_id), ("failed", "first", self.manager))
        self.assertEqual(
            run.message,
            "Not imported: the connection test failed. The store refused the login demo-api. "
            "Check the API login and password (Settings > Users in the store's admin). Then "
            "press Test Connection on the store.",
        )
        self.assertEqual(self.store.connection_state, "error")
        self.assertFalse(self.env["repair.order"].search([("cartum_store_id", "=", self.store.id)]))
        # Fixed, the job imports (a store already tested is not tested again first).
        self.shop.password = "demo-secret"
        self.run_store_job()
        self.env.invalidate_all()
        self.assertEqual(self.store.sync_run_ids[0].state, "done")
        self.assertTrue(self.repair_of(1001))

    def test_available_languages_and_dashboard_counts_in_the_user_language(self):
        self.env["res.lang"]._activate_lang("uk_UA")
        self.env["ir.module.module"].search(
            [("name", "=", "cartum_connector")]
        )._update_translations(["uk_UA"])
        self.store.action_test_connection()
        self.assertEqual(self.store.available_languages_names, "English, Ukrainian")
        ukrainian = self.store.with_context(lang="uk_UA")
        self.assertEqual(ukrainian.available_languages_names, "Англійська, Українська")
        self.assertEqual(
            [self.store._open_failures_label(count) for count in (0, 1, 2, 5)],
            ["0 open failures", "1 open failure", "2 open failures", "5 open failures"],
        )
        self.assertEqual(
            [ukrainian._open_failures_label(count) for count in (1, 2, 5, 21)],
            ["1 відкритий збій", "2 відкриті збої", "5 відкритих збоїв", "21 відкритий збій"],
        )
        self.assertEqual(
            [ukrainian._pending_pushes_label(count) for count in (1, 3, 11)],
            ["1 статус в черзі", "3 статуси в черзі", "11 статусів в черзі"],
        )
        self.assertEqual(self.store.pending_pushes_label, "0 pending pushes")

    def test_the_store_form_says_which_repair_states_send_nothing(self):
        self.store.action_test_connection()
        # The demo store: New, Processing, Delivered, Canceled, Shipping and a custom status.
        self.assertEqual(self.store.states_sending_nothing, "Under Repair")

    def test_add_custom_group_offers_the_store_once(self):
        views = self.env["repair.order"].get_views([(False, "list"), (False, "search")])
        fields = views["models"]["repair.order"]["fields"]
        groupable = [name for name, field in fields.items() if field.get("groupable")]
        self.assertIn("cartum_store_id", groupable)
        self.assertNotIn("cartum_store_name", groupable)

    def test_inventory_users_have_no_store_menu_nor_new_button(self):
        menus = self.env["ir.ui.menu"].with_user(self.repair_user)._visible_menu_ids()
        for xmlid in ("cartum_store_menu", "cartum_sync_run_menu", "cartum_sync_failure_menu"):
            self.assertNotIn(self.env.ref(f"cartum_connector.{xmlid}").id, menus, xmlid)
        views = (
            self.env["cartum.store"]
            .with_user(self.repair_user)
            .get_views([(False, "kanban"), (False, "list"), (False, "form")])["views"]
        )
        for view_type, view in views.items():
            self.assertRegex(view["arch"], r'^<\w+[^>]* create="(0|false|False)"', view_type)


@tagged("post_install", "-at_install")
class TestConnectionErrorsInTheUserLanguage(CartumCase):
    def test_connection_errors_are_whole_sentences_in_the_store_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "=", "cartum_connector")]
        )._update_translations(["es_ES"])
        self.manager.lang = "es_ES"
        store = self.store.with_user(self.manager).with_context(lang="es_ES")
        # Typed without https://, the address of a store served over http only.
        store.url = self.sandbox.base_url.removeprefix("http://")
        self.assertTrue(store.url.startswith("https://"))
        message = store.action_test_connection()["params"]["message"]
        self.assertEqual(
            message,
            f"La tienda en {store.url} no aceptó una conexión segura (https://). Revise la URL "
            "del sitio web: si la dirección de la tienda empieza por http://, escríbala así.",
        )
        # Cartum refusing the request, or answering something else than its API.
        store.url = self.sandbox.base_url
        self.env["cartum.adapter"]._client(WorkContext(self.store)).backoff_base = 0.01
        # Refused at login, the server is not yet known to be a store's API: what failed, not
        # what it answered.
        self.shop.faults.fail_next(1, status=403)
        self.assertEqual(
            store.action_test_connection()["params"]["message"],
            f"El servidor en {store.url} no respondió como la API de una tienda Cartum. "
            "Compruebe la URL del sitio web y que la API esté incluida en el plan de la tienda.",
        )
        # Refused once logged in: the store refused the request.
        self.assertEqual(store.action_test_connection()["params"]["type"], "success")
        self.shop.faults.fail_next(1, status=403)
        self.assertIn(
            f"La tienda en {store.url} rechazó la solicitud de la API (HTTP 403). Revise la URL "
            "del sitio web y los permisos del usuario de la API en la administración de la "
            "tienda.",
            self.run_import().message,
        )
        self.assertEqual(store.action_test_connection()["params"]["type"], "success")
        self.shop.faults.garbage_next(4)
        self.assertIn("respondió algo que el conector no puede leer", self.run_import().message)
        store.url = "http://127.0.0.1:9"
        self.env["cartum.adapter"]._client(WorkContext(self.store)).backoff_base = 0.01
        message = store.action_test_connection()["params"]["message"]
        self.assertTrue(message.startswith("La tienda en http://127.0.0.1:9 rechazó"), message)
        self.assertNotRegex(message, "auth|attempt|refused")
        # A scheduled import that cannot reach the store says it too, in the store's language.
        run = self.run_import()
        self.assertEqual(run.state, "failed")
        self.assertTrue(
            run.message.startswith("La importación se detuvo: La tienda en"), run.message
        )
        self.assertNotRegex(run.message, "auth|attempt|refused")
