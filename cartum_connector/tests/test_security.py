import logging
from contextlib import closing
from types import SimpleNamespace
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from cartum_api import DESCRIPTION_LIMIT
from cartum_sandbox import CartumSandbox, SandboxStore

from ..models.cartum_store import ALLOW_LOCAL_STORES_PARAM
from ..models.repair_order import CARTUM_LINK_FIELDS
from ..work_context import WorkContext
from . import series
from .common import CartumCase

DEBUG_REQUEST = SimpleNamespace(session=SimpleNamespace(debug="1"))


@tagged("post_install", "-at_install")
class TestCartumLinkCannotBeForged(CartumCase):
    first_import_in_class = True

    def setUp(self):
        super().setUp()
        self.admin = self.env.ref("base.user_admin")

    def link_values(self, repair):
        self.env.invalidate_all()
        return {name: repair.sudo()[name] for name in sorted(CARTUM_LINK_FIELDS)}

    def test_nobody_but_the_connector_writes_the_link(self):
        repair = self.repair_of(1001)
        other = self.store.copy({"name": "Forged shop", "url": "https://forged.example"})
        before = self.link_values(repair)
        forged = {
            "cartum_store_id": other.id,
            "cartum_external_id": "1002",
            "cartum_created": "2020-01-01 00:00:00",
            "cartum_last_sync": "2020-01-01 00:00:00",
            "cartum_last_refresh": "2020-01-01 00:00:00",
            "cartum_amount_total": 1.0,
            "cartum_done_at": "2020-01-01 00:00:00",
        }
        for user in (self.admin, self.manager, self.parts_user, self.repair_user):
            for name, value in forged.items():
                with (
                    self.subTest(user=user.login, field=name),
                    self.assertRaises(AccessError) as caught,
                    self.env.cr.savepoint(),
                ):
                    repair.with_user(user).write({name: value})
                self.assertIn("Cartum connector only", str(caught.exception))
        # The form saves through web_save, RPC through write: both refused.
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            repair.with_user(self.admin).web_save({"cartum_external_id": "4242"}, {})
        # Fields shown in debug mode only: an administrator in debug mode is refused too.
        with patch("odoo.addons.base.models.res_users.request", DEBUG_REQUEST):
            for name in (
                "cartum_status_code",
                "cartum_digest",
                "cartum_delivery_digest",
                "cartum_unapplied_digest",
            ):
                value = 4 if name == "cartum_status_code" else "forged"
                with (
                    self.subTest(field=name),
                    self.assertRaises(AccessError),
                    self.env.cr.savepoint(),
                ):
                    repair.with_user(self.admin).write({name: value})
        # Nor can a repair order be created already linked to a Cartum order.
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.env["repair.order"].with_user(self.admin).create(
                {"cartum_store_id": self.store.id, "cartum_external_id": "4242"}
            )
        self.assertEqual(self.link_values(repair), before)
        # Other fields stay editable, and the connector's own writes still go through.
        repair.with_user(self.manager).internal_notes = "<p>Call first</p>"
        self.shop.set_line_quantity(1001, "DSP-IP12", 2)
        run = self.run_import()
        self.assertEqual(run.updated_count, 1)
        self.assertEqual(self.repair_of(1001), repair)

    def test_copy_never_carries_the_link(self):
        repair = self.repair_of(1001)
        for user in (self.parts_user, self.admin):
            duplicate = repair.with_user(user).copy()
            values = self.link_values(duplicate)
            self.assertFalse(any(values.values()), values)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            repair.with_user(self.parts_user).copy({"cartum_external_id": "4242"})

    def test_only_parts_permission_deletes_or_duplicates_cartum_orders(self):
        draft = self.repair_of(1006)
        self.assertEqual(draft.state, "draft")
        as_repair_user = draft.with_user(self.repair_user)
        # The refusal says what was refused: no word of parts.
        duplicate_refused = self.assertRaisesRegex(AccessError, "can duplicate repair orders")
        with duplicate_refused, self.env.cr.savepoint():
            as_repair_user.copy()
        delete_refused = self.assertRaisesRegex(AccessError, "can delete repair orders")
        with delete_refused, self.env.cr.savepoint():
            as_repair_user.unlink()
        self.assertTrue(draft.exists())
        # Their own repair orders, not from Cartum, they still duplicate and delete.
        own = self.env["repair.order"].with_user(self.repair_user).create({})
        own.copy().unlink()
        own.unlink()
        # With the permission (or as an administrator), they can.
        draft.with_user(self.parts_user).copy().unlink()
        draft.with_user(self.parts_user).unlink()
        self.assertFalse(draft.exists())
        cancelled = self.repair_of(1004)
        cancelled.with_user(self.admin).copy()
        cancelled.with_user(self.admin).unlink()
        self.assertFalse(cancelled.exists())

    def test_product_and_contact_links_are_read_only(self):
        product_link = self.env["cartum.product.link"].search(
            [("store_id", "=", self.store.id), ("external_id", "=", "DSP-IP12")]
        )
        partner_link = self.env["cartum.partner.link"].search(
            [("store_id", "=", self.store.id), ("external_id", "=", "+380671234567")]
        )
        self.assertTrue(product_link and partner_link)
        links = [(product_link, "product_id"), (partner_link, "partner_id")]
        snapshot = [link.read()[0] for link, _field in links]
        for user in (self.admin, self.manager, self.parts_user, self.repair_user):
            for link, record_field in links:
                Link = self.env[link._name].with_user(user)
                with self.subTest(user=user.login, model=link._name):
                    self.assertEqual(Link.search([("id", "=", link.id)]), link)  # users read
                    with self.assertRaises(AccessError), self.env.cr.savepoint():
                        link.with_user(user).write({"external_id": "forged"})
                    with self.assertRaises(AccessError), self.env.cr.savepoint():
                        Link.create(
                            {
                                "store_id": self.store.id,
                                "external_id": "forged",
                                record_field: link[record_field].id,
                            }
                        )
                    with self.assertRaises(AccessError), self.env.cr.savepoint():
                        link.with_user(user).unlink()
        # Nor through the product's or contact's form.
        for link, record_field in links:
            record = link[record_field].with_user(self.admin)
            for command in (
                Command.update(link.id, {"external_id": "forged"}),
                Command.create({"store_id": self.store.id, "external_id": "forged"}),
                Command.delete(link.id),
                Command.unlink(link.id),
                Command.clear(),
            ):
                with (
                    self.subTest(model=link._name, command=command[0].name),
                    self.assertRaises(AccessError),
                    self.env.cr.savepoint(),
                ):
                    record.write({"cartum_link_ids": [command]})
        self.env.invalidate_all()
        self.assertEqual([link.read()[0] for link, _field in links], snapshot)
        # Deleting the store, as its administrator, still takes its links along.
        self.store.with_user(self.manager).unlink()
        self.assertFalse(product_link.exists() or partner_link.exists())


@tagged("post_install", "-at_install")
class TestSafeLinksAndTexts(CartumCase):
    BAD_TEMPLATES = (
        "{url.__class__}/{order_id}",
        "{url}/{order_id}/{user}",
        "{0}/{order_id}",
        "{}/{order_id}",
        "{url[0]}/{order_id}",
        "{url!r}/{order_id}",
        "{url!x}/{order_id}",
        "{url:d}/{order_id}",
        "{url:<3000}/{order_id}",
        "{url:<99999999999999999999}/{order_id}",
        "{url/{order_id}",
        "{url}}/{order_id}",
        "javascript:alert(1)//{order_id}",
        "ftp://files.example.com/{order_id}",
        "{order_id}",
    )

    def test_admin_order_url_template_is_validated_when_saved(self):
        for template in (
            "{url}/edit/orders/{order_id}/",
            "https://admin.example.com/orders/{order_id}",
            "{url}/admin/order?id={order_id}",
        ):
            self.store.admin_order_url = template
            self.env.flush_all()
        for template in self.BAD_TEMPLATES:
            with (
                self.subTest(template=template),
                self.assertRaises(ValidationError),
                self.env.cr.savepoint(),
            ):
                self.store.with_user(self.manager).admin_order_url = template

    def test_bad_template_in_the_database_leaves_the_link_out(self):
        self.run_import()
        domain = [("cartum_store_id", "=", self.store.id)]
        count = self.env["repair.order"].search_count(domain)
        self.assertEqual(
            self.repair_of(1001).cartum_admin_url, f"{self.sandbox.base_url}/edit/orders/1001/"
        )
        for template in self.BAD_TEMPLATES:
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE cartum_store SET admin_order_url = %s WHERE id = %s",
                (template, self.store.id),
            )
            self.env.invalidate_all()
            for user in (self.manager, self.repair_user):
                Repair = self.env["repair.order"].with_user(user)
                with self.subTest(template=template, user=user.login):
                    answer = Repair.web_search_read(domain, {"name": {}, "cartum_admin_url": {}})
                    self.assertEqual(answer["length"], count)
                    self.assertEqual(
                        {row["cartum_admin_url"] for row in answer["records"]}, {False}
                    )
                    rows = Repair.search_read(domain, ["name", "cartum_admin_url"])
                    self.assertEqual(len(rows), count)
                    self.assertEqual({row["cartum_admin_url"] for row in rows}, {False})
                self.env.invalidate_all()

    def test_product_descriptions_are_plain_bounded_text(self):
        self.shop.add_product(
            "XSS-1",
            {"ua": "Шлейф", "en": "Flex"},
            100.0,
            descriptions={
                "ua": "<p>Good</p><script>alert('desc')</script>"
                "<style>p { color: red }</style><p>Fits <b>iPhone&nbsp;12</b></p>",
            },
        )
        self.shop.add_product(
            "LONG-1",
            {"ua": "Довгий опис"},
            100.0,
            descriptions={"ua": "<p>" + "слово " * 2000 + "</p>"},
        )
        self.shop.add_order(lines=[("XSS-1", 1), ("LONG-1", 1)], phone="+380 63 000 00 01")
        run = self.run_import()
        self.assertEqual(run.state, "done", run.message)
        product = self.env["product.product"].search([("default_code", "=", "XSS-1")])
        text = product.description_sale
        self.assertIn("Good", text)
        self.assertIn("Fits iPhone 12", text)
        for unwanted in ("alert", "color", "<", ">", "&nbsp;"):
            self.assertNotIn(unwanted, text)
        long_text = self.env["product.product"].search([("default_code", "=", "LONG-1")])
        self.assertTrue(long_text.description_sale.startswith("слово слово"))
        self.assertLessEqual(len(long_text.description_sale), DESCRIPTION_LIMIT)

    def test_oversized_deep_or_non_utf8_answers_fail_the_run_and_store_nothing(self):
        self.run_import()
        self.shop.add_product("BIG-1", {"ua": "Нова деталь"}, 10.0)
        self.shop.add_order(
            lines=[("BIG-1", 1)], phone="+380 63 000 00 02", customer_name="Новий Клієнт"
        )
        new_id = max(self.shop.orders)
        cursor = self.store.import_cursor
        Partner = self.env["res.partner"]
        partners = Partner.search_count([])
        faults = self.shop.faults
        for name, arm, expected in (
            ("oversize", lambda: faults.oversize_next(1, 21 * 1024 * 1024), "larger than"),
            ("deep", lambda: faults.deep_next(1, 100), "nested deeper"),
            ("bad utf-8", lambda: faults.bad_utf8_next(1), "not valid UTF-8"),
        ):
            with self.subTest(fault=name):
                arm()
                run = self.run_import()
                self.assertEqual(run.state, "failed")
                self.assertIn(expected, run.message)
                self.assertEqual((run.imported_count, run.updated_count), (0, 0))
                self.assertFalse(self.repair_of(new_id))
                self.assertFalse(
                    self.env["product.product"].search([("default_code", "=", "BIG-1")])
                )
                self.assertFalse(
                    self.env["cartum.product.link"].search([("external_id", "=", "BIG-1")])
                )
                self.assertEqual(Partner.search_count([]), partners)
                self.assertEqual(self.store.import_cursor, cursor)
        run = self.run_import()  # the store answers normally again: the order comes in
        self.assertEqual((run.state, run.imported_count), ("done", 1), run.message)
        self.assertTrue(self.repair_of(new_id))


@tagged("post_install", "-at_install")
class TestApiPassword(CartumCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_allow_export"
        cls.outsiders = (
            new_test_user(cls.env, "cartum_exporter", groups=f"stock.group_stock_user,{groups}"),
            new_test_user(
                cls.env,
                "cartum_parts_exporter",
                groups=f"cartum_connector.group_cartum_parts,{groups}",
            ),
        )

    def test_outside_the_administrator_group_nobody_gets_the_password(self):
        self.run_import()
        for user in self.outsiders:
            self.env.invalidate_all()
            Store = self.env["cartum.store"].with_user(user)
            store = self.store.with_user(user)
            with self.subTest(user=user.login):
                self.assertNotIn("password", store.read()[0])
                self.assertNotIn("password", Store.search_read([])[0])
                self.assertEqual(store.export_data(["name"])["datas"], [["Demo shop"]])
                calls = {
                    "read": lambda store=store: store.read(["password"]),
                    "search_read": lambda Store=Store: Store.search_read([], ["password"]),
                    "web_search_read": lambda Store=Store: Store.web_search_read(
                        [], {"password": {}}
                    ),
                    "web_read": lambda store=store: store.web_read({"password": {}}),
                    "export_data": lambda store=store: store.export_data(["name", "password"]),
                    "search": lambda Store=Store: Store.search([("password", "=", "demo-secret")]),
                    "read_group": lambda Store=Store: series.read_group(Store, [], "password"),
                    "export through a repair order": lambda user=user: (
                        self.env["repair.order"]
                        .with_user(user)
                        .search([("cartum_store_id", "!=", False)])
                        .export_data(["name", "cartum_store_id/password"])
                    ),
                    "search through a repair order": lambda user=user: (
                        self.env["repair.order"]
                        .with_user(user)
                        .search([("cartum_store_id.password", "=like", "demo%")])
                    ),
                }
                for name, call in calls.items():
                    with self.subTest(call=name), self.assertRaises(AccessError):
                        call()
        # A Cartum administrator does read it.
        self.assertEqual(
            self.store.with_user(self.manager).read(["password"])[0]["password"], "demo-secret"
        )

    def test_password_change_is_tracked_without_its_value(self):
        secret = "n3w-s3cret-value"
        self.store.with_user(self.manager).password = secret
        self.env.flush_all()
        notes = self.store.message_ids.filtered(
            lambda message: "password was changed" in (message.body or "")
        )
        self.assertEqual(len(notes), 1)
        for user in (*self.outsiders, self.manager):
            messages = (
                self.env["mail.message"]
                .with_user(user)
                .search_read(
                    [("model", "=", "cartum.store"), ("res_id", "=", self.store.id)],
                    ["body", "subject", "preview"],
                )
            )
            self.assertTrue(messages)
            for message in messages:
                for value in (message["body"], message["subject"], message["preview"]):
                    for password in (secret, "demo-secret"):
                        self.assertNotIn(password, str(value))
        Tracking = self.env["mail.tracking.value"].sudo()
        for password in (secret, "demo-secret"):
            self.assertFalse(
                Tracking.search(
                    [
                        "|",
                        "|",
                        ("old_value_char", "ilike", password),
                        ("new_value_char", "ilike", password),
                        "|",
                        ("old_value_text", "ilike", password),
                        ("new_value_text", "ilike", password),
                    ]
                )
            )
            self.assertFalse(self.env["mail.message"].sudo().search([("body", "ilike", password)]))

    def test_an_administrator_without_email_changes_the_credentials(self):
        """The note of a password change is logged, not mailed: no sender address needed."""
        admin = new_test_user(
            self.env,
            "cartum_admin_no_email",
            groups="cartum_connector.group_cartum_manager",
            email=False,
        )
        self.assertFalse(admin.email)
        messages = self.store.message_ids
        self.store.with_user(admin).write(
            {"password": "n3w-s3cret-value", "login": "new-login", "url": "https://new.example"}
        )
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking is logged when the transaction commits
        self.env.invalidate_all()
        self.assertEqual(self.store.with_user(self.manager).password, "n3w-s3cret-value")
        self.assertEqual(self.store.connection_state, "untested")
        notes = self.store.message_ids - messages
        note = notes.filtered(lambda message: "password was changed" in message.body)
        self.assertEqual(note.author_id, admin.partner_id)
        self.assertNotIn("n3w-s3cret-value", str(notes.read(["body"])))


@tagged("post_install", "-at_install")
class TestSecretsStayHidden(CartumCase):
    def test_secrets_stay_out_of_logs_chatter_and_messages(self):
        self.store.password = "s3cret-that-must-not-leak"
        self.shop.expire_tokens()
        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        for name in ("cartum_api", "odoo.addons.cartum_connector"):
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            self.addCleanup(logger.removeHandler, handler)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(logging.DEBUG)
        message = self.store.action_test_connection()["params"]["message"]
        run = self.run_import()
        self.assertIn("refused the login", message)
        self.assertIn("refused the login demo-api", run.message)
        self.assertTrue(records, "the refused login is logged")
        texts = [message, run.message, self.store.connection_message]
        texts += [record.getMessage() for record in records]
        texts += self.store.message_ids.mapped("body")
        texts += self.store.message_ids.tracking_value_ids.mapped("new_value_char")
        for text in texts:
            self.assertNotIn("s3cret-that-must-not-leak", str(text))

    def test_plain_repair_user_cannot_read_the_password(self):
        store = self.store.with_user(self.repair_user)
        self.assertEqual(store.name, "Demo shop")
        with self.assertRaises(AccessError):
            store.read(["password"])
        self.assertEqual(self.store.with_user(self.manager).password, "demo-secret")
        for button in ("action_test_connection", "action_import_now"):
            with self.assertRaises(AccessError):
                getattr(store, button)()


@tagged("post_install", "-at_install")
class TestCompaniesApart(CartumCase):
    """Two companies, each with its store and orders imported; a Cartum administrator of
    company B only sees, reads and acts on nothing of company A."""

    first_import_in_class = True

    @classmethod
    def _set_up_the_class_import(cls):
        uah, ua = cls.env.ref("base.UAH"), cls.env.ref("base.ua")
        cls.company_b = cls.env["res.company"].create(
            {"name": "Repair shop B", "currency_id": uah.id, "country_id": ua.id}
        )
        cls.picking_type_b = cls.env["stock.picking.type"].search(
            [("code", "=", "repair_operation"), ("company_id", "=", cls.company_b.id)], limit=1
        )
        cls.store_b = cls.env["cartum.store"].create(
            {
                "name": "Shop B",
                "url": cls.sandbox.base_url,
                "login": "demo-api",
                "password": "demo-secret",
                "company_id": cls.company_b.id,
                "picking_type_id": cls.picking_type_b.id,
            }
        )
        cls.user_b = new_test_user(
            cls.env,
            "cartum_admin_b",
            groups="cartum_connector.group_cartum_manager,base.group_allow_export",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        # A USD order fails in both stores; a state change in each queues a push.
        cls.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        cls.first_runs = cls.env["cartum.sync.run"]
        for store in (cls.store, cls.store_b):
            cls.env["cartum.adapter"]._client(WorkContext(store)).backoff_base = 0.01
            cls.first_runs |= cls.env["cartum.importer"]._run(store, trigger="manual")
            cls.env["repair.order"].search(
                [("cartum_store_id", "=", store.id), ("cartum_external_id", "=", "1006")]
            ).action_validate()
        cls.env.flush_all()

    def setUp(self):
        super().setUp()
        self.env["cartum.adapter"]._client(WorkContext(self.store_b)).backoff_base = 0.01

    def test_each_company_starts_with_its_store_a_failed_order_and_a_push(self):
        self.assertTrue(self.picking_type_b)
        self.assertEqual(self.first_runs.mapped("state"), ["partial", "partial"])
        for store in (self.store, self.store_b):
            pushes = self.env["cartum.status.push"].search([("store_id", "=", store.id)])
            self.assertEqual(pushes.repair_id, self.repair_of(1006, store))

    def records_of(self, store):
        Env = self.env
        runs = Env["cartum.sync.run"].search([("store_id", "=", store.id)])
        return {
            "cartum.store": store,
            "cartum.sync.run": runs,
            "cartum.sync.run.line": runs.line_ids,
            "cartum.sync.failure": Env["cartum.sync.failure"].search([("store_id", "=", store.id)]),
            "cartum.status.push": Env["cartum.status.push"].search([("store_id", "=", store.id)]),
            "cartum.status.mapping": store.status_mapping_ids,
            "cartum.product.link": Env["cartum.product.link"].search([("store_id", "=", store.id)]),
            "cartum.partner.link": Env["cartum.partner.link"].search([("store_id", "=", store.id)]),
            "repair.order": Env["repair.order"].search([("cartum_store_id", "=", store.id)]),
        }

    def as_b(self, records):
        """``records`` as user B sees them in a new request: nothing in the cache."""
        self.env.invalidate_all()
        return records.with_user(self.user_b)

    def test_user_of_company_b_sees_nothing_of_company_a(self):
        mine, theirs = self.records_of(self.store_b), self.records_of(self.store)
        for model, records in theirs.items():
            self.assertTrue(records and mine[model], model)
            Model = self.as_b(self.env[model])
            with self.subTest(model=model):
                found = Model.search([])
                self.assertFalse(found & records)
                self.assertEqual(found & mine[model], mine[model])
                self.assertFalse(Model.search([("id", "in", records.ids)]))
                self.assertEqual(Model.search_count([("id", "in", records.ids)]), 0)
                self.assertFalse(Model.search_read([("id", "in", records.ids)], ["create_date"]))
                with self.assertRaises(AccessError):
                    self.as_b(records).read(["create_date"])
                with self.assertRaises(AccessError):
                    self.as_b(records).export_data(["create_date"])
                with self.assertRaises(AccessError):
                    self.as_b(records[:1]).web_read({"display_name": {}})
                self.assertEqual(
                    len(self.as_b(mine[model]).export_data(["create_date"])["datas"]),
                    len(mine[model]),
                )
                groups = series.read_group(Model, [], "company_id")
                self.assertEqual({group["company_id"][0] for group in groups}, {self.company_b.id})
        # Grouped by store, the repair orders and the logs show store B only.
        for model, field in (
            ("repair.order", "cartum_store_id"),
            ("cartum.sync.run", "store_id"),
            ("cartum.sync.failure", "store_id"),
            ("cartum.status.push", "store_id"),
            ("cartum.product.link", "store_id"),
            ("cartum.partner.link", "store_id"),
        ):
            groups = series.read_group(self.as_b(self.env[model]), [(field, "!=", False)], field)
            self.assertEqual({group[field][0] for group in groups}, {self.store_b.id}, model)
        # A customer both stores know is a contact of each company (the stores' default):
        # user B sees company B's only. A product both know shows user B store B's link only.
        olena_a = self.repair_of(1001).partner_id
        olena_b = self.repair_of(1001, self.store_b).partner_id
        self.assertEqual((olena_a.company_id, olena_b.company_id), (self.company, self.company_b))
        self.assertFalse(self.as_b(self.env["res.partner"]).search([("id", "=", olena_a.id)]))
        self.assertEqual(self.as_b(olena_b).cartum_link_ids.store_id, self.store_b)
        product = self.env["product.product"].search([("default_code", "=", "DSP-IP12")])
        self.assertEqual(self.as_b(product).cartum_link_ids.store_id, self.store_b)
        self.assertFalse(
            self.as_b(self.env["product.product"]).search(
                [("cartum_link_ids.store_id", "=", self.store.id)]
            )
        )
        # Store B's password is theirs to read; store A's is not.
        self.assertEqual(self.as_b(self.store_b).password, "demo-secret")
        with self.assertRaises(AccessError):
            self.as_b(self.store).read(["password"])

    def test_user_of_company_b_cannot_refresh_nor_retry_anything_of_company_a(self):
        theirs = self.records_of(self.store)
        store_a = self.store
        cron_a = store_a.cron_id
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron_a.id)])
        runs = theirs["cartum.sync.run"]
        requests = len(self.shop.requests)
        pending = theirs["cartum.status.push"].filtered(lambda push: push.state == "pending")
        self.assertTrue(pending)
        pending.write({"state": "failed"})
        self.env.flush_all()
        actions = {
            "refresh repair": lambda: self.as_b(self.repair_of(1001)).action_cartum_refresh(),
            "retry failure": lambda: self.as_b(theirs["cartum.sync.failure"]).action_retry(),
            "retry run": lambda: self.as_b(runs[:1]).action_retry_failures(),
            "retry push": lambda: self.as_b(pending).action_retry_now(),
            "test connection": lambda: self.as_b(store_a).action_test_connection(),
            "import now": lambda: self.as_b(store_a).action_import_now(),
            "refresh products": lambda: self.as_b(store_a).action_refresh_products(),
            "pause": lambda: self.as_b(store_a).action_toggle_pause(),
            "import wizard": lambda: self.as_b(store_a).action_open_import_wizard(),
            "import orders": lambda: (
                self.as_b(self.env["cartum.import.wizard"])
                .create({"store_id": store_a.id, "order_numbers": "1001"})
                .action_import()
            ),
            "edit mapping": lambda: self.as_b(theirs["cartum.status.mapping"][:1]).write(
                {"inbound_state": "cancel"}
            ),
            "new mapping": lambda: self.as_b(self.env["cartum.status.mapping"]).create(
                {"store_id": store_a.id, "cartum_status_code": 99, "name": "Forged"}
            ),
        }
        for name, action in actions.items():
            with self.subTest(action=name), self.assertRaises(AccessError), self.env.cr.savepoint():
                action()
        self.env.invalidate_all()
        self.assertEqual(len(self.shop.requests), requests, "nothing reached Cartum")
        self.assertEqual(self.env["cartum.sync.run"].search([("store_id", "=", store_a.id)]), runs)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron_a.id)]), triggers)
        self.assertEqual(set(pending.mapped("state")), {"failed"})
        self.assertFalse(store_a.sync_paused)
        # Their own store's buttons work.
        self.as_b(self.store_b).action_toggle_pause()
        self.assertTrue(self.store_b.sync_paused)
        action = (
            self.as_b(self.env["cartum.import.wizard"])
            .create({"store_id": self.store_b.id, "order_numbers": "1001"})
            .action_import()
        )
        self.assertTrue(action)

    def test_records_of_company_b_never_point_at_company_a(self):
        """Whatever the Cartum administrator of company B creates or changes points at records
        of company B only, and the refusal names nothing of company A."""
        theirs, mine = self.records_of(self.store), self.records_of(self.store_b)
        repair_a, run_a = self.repair_of(1001), theirs["cartum.sync.run"][:1]
        push_b, failure_b = mine["cartum.status.push"][:1], mine["cartum.sync.failure"][:1]
        run_b, mapping_b = mine["cartum.sync.run"][:1], mine["cartum.status.mapping"][:1]
        link_b, line_b = mine["cartum.partner.link"][:1], mine["cartum.sync.run.line"][:1]
        Env = self.as_b(self.env["cartum.store"]).env
        wizard_b = Env["cartum.import.wizard"].create(
            {"store_id": self.store_b.id, "order_numbers": "1001"}
        )
        company_a = self.company.id
        attempts = {
            "push for A's repair": lambda: Env["cartum.status.push"].create(
                {"repair_id": repair_a.id, "store_id": self.store_b.id, "cartum_status_code": 2}
            ),
            "push moved to A's repair": lambda: push_b.with_env(Env).write(
                {"repair_id": repair_a.id}
            ),
            "push moved to A's store": lambda: push_b.with_env(Env).write(
                {"store_id": self.store.id}
            ),
            "push moved to A's company": lambda: push_b.with_env(Env).write(
                {"company_id": company_a}
            ),
            "failure of A's repair": lambda: Env["cartum.sync.failure"].create(
                {"run_id": run_b.id, "reason": "Forged", "repair_id": repair_a.id}
            ),
            "failure moved to A's repair": lambda: failure_b.with_env(Env).write(
                {"repair_id": repair_a.id}
            ),
            "failure moved to A's run": lambda: failure_b.with_env(Env).write({"run_id": run_a.id}),
            "failure moved to A's store": lambda: failure_b.with_env(Env).write(
                {"store_id": self.store.id}
            ),
            "run of A's store": lambda: Env["cartum.sync.run"].create(
                {"store_id": self.store.id, "trigger": "manual"}
            ),
            "run moved to A's store": lambda: run_b.with_env(Env).write(
                {"store_id": self.store.id}
            ),
            "order of A's run": lambda: Env["cartum.sync.run.line"].create(
                {"run_id": run_a.id, "external_id": "1001", "outcome": "imported"}
            ),
            "order moved to A's run": lambda: line_b.with_env(Env).write({"run_id": run_a.id}),
            "mapping moved to A's store": lambda: mapping_b.with_env(Env).write(
                {"store_id": self.store.id}
            ),
            "import wizard on A's store": lambda: Env["cartum.import.wizard"].create(
                {"store_id": self.store.id, "order_numbers": "1001"}
            ),
            "import wizard moved to A's store": lambda: wizard_b.write({"store_id": self.store.id}),
            "store moved to A's company": lambda: self.store_b.with_env(Env).write(
                {"company_id": company_a}
            ),
            "store with a responsible user of A": lambda: self.store_b.with_env(Env).write(
                {"responsible_user_ids": [Command.link(self.manager.id)]}
            ),
            "store with responsible users set to A's": lambda: self.store_b.with_env(Env).write(
                {"responsible_user_ids": [Command.set([self.manager.id])]}
            ),
            "new store with a responsible user of A": lambda: Env["cartum.store"].create(
                {
                    "name": "Shop B2",
                    "url": "https://shop-b2.example",
                    "login": "b2",
                    "company_id": self.company_b.id,
                    "picking_type_id": self.picking_type_b.id,
                    "responsible_user_ids": [Command.set([self.manager.id])],
                }
            ),
            "run started by a user of A": lambda: run_b.with_env(Env).write(
                {"user_id": self.manager.id}
            ),
        }
        secrets = (repair_a.name, self.store.name, self.company.name)
        for name, attempt in attempts.items():
            with self.subTest(attempt=name):
                with closing(self.env.cr.savepoint()), self.assertRaises(UserError) as caught:
                    attempt()
                for secret in secrets:
                    self.assertNotIn(secret, str(caught.exception))
        self.env.invalidate_all()
        self.assertEqual(push_b.repair_id.company_id, self.company_b)
        self.assertEqual(failure_b.run_id.store_id, self.store_b)
        self.assertEqual(line_b.run_id.store_id, self.store_b)
        self.assertEqual(wizard_b.store_id, self.store_b)
        self.assertEqual(self.records_of(self.store)["cartum.sync.run"], theirs["cartum.sync.run"])
        # Even the connector, as superuser, keeps a record and what it points at in one company.
        for name, field, value in (
            ("push", "repair_id", repair_a),
            ("failure", "repair_id", repair_a),
            ("link", "partner_id", self.repair_of(1001).partner_id),
        ):
            record = {"push": push_b, "failure": failure_b, "link": link_b}[name]
            with (
                self.subTest(superuser=name),
                self.assertRaises(UserError),
                self.env.cr.savepoint(),
            ):
                record.sudo().write({field: value.id})
        with self.assertRaises(UserError) as caught, self.env.cr.savepoint():
            repair_a.sudo().cartum_store_id = self.store_b
        # Odoo's own company check ("Incompatible companies…", 19.0: "company inconsistencies").
        self.assertRegex(str(caught.exception), "(?i)compan(y|ies)")
        self.assertIn("Shop B", str(caught.exception))

    def test_imported_contacts_are_the_store_company_s_or_shared(self):
        self.assertEqual(self.env["cartum.store"].new({}).partner_scope, "company")
        Partner = self.env["res.partner"]

        def contacts_of(phone):
            self.shop.add_order(lines=[("DSP-IP12", 1)], phone=phone)
            order_id = max(self.shop.orders)
            contacts = []
            for store in (self.store, self.store_b):
                self.run_import(store)  # the USD order fails again; this one comes in
                contacts.append(self.repair_of(order_id, store).partner_id)
            self.assertTrue(all(contacts))
            return contacts

        # Store B shares its contacts, store A keeps them to company A.
        self.store_b.partner_scope = "shared"
        contact_a, contact_b = contacts_of("+380 63 111 22 33")
        self.assertEqual(contact_a.company_id, self.company)
        self.assertFalse(contact_b.company_id)
        self.assertNotEqual(contact_a, contact_b)
        self.assertEqual(self.as_b(Partner).search([("id", "in", contact_a.ids)]), Partner)
        self.assertEqual(self.as_b(Partner).search([("id", "in", contact_b.ids)]), contact_b)
        # Both share: one contact, seen by both companies.
        self.store.partner_scope = "shared"
        contact_a, contact_b = contacts_of("+380 63 444 55 66")
        self.assertEqual(contact_a, contact_b)
        self.assertFalse(contact_a.company_id)
        self.assertEqual(self.as_b(Partner).search([("id", "=", contact_a.id)]), contact_a)

    def test_the_push_job_sends_a_push_to_its_repair_s_store_only(self):
        """A push recorded for a store other than its repair's (before this check existed, or
        written straight in the database) is not sent, and its repair is left alone."""
        repair_a = self.repair_of(1001)
        push_b = self.records_of(self.store_b)["cartum.status.push"].filtered(
            lambda push: push.state == "pending"
        )
        self.assertEqual(len(push_b), 1)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE cartum_status_push SET repair_id = %s, cartum_status_name = %s WHERE id = %s",
            (repair_a.id, "Text of B", push_b.id),
        )
        self.env.invalidate_all()
        status_a, messages_a = repair_a.cartum_status_code, len(repair_a.message_ids)
        requests = len(self.shop.requests)
        push_b._send()  # what the push job does with its due pushes
        self.env.invalidate_all()
        self.assertEqual(push_b.state, "failed")
        self.assertIn("does not come from this store", push_b.last_error)
        self.assertEqual(len(self.shop.requests), requests, "nothing reached Cartum")
        self.assertEqual(repair_a.cartum_status_code, status_a)
        self.assertEqual(len(repair_a.message_ids), messages_a)
        self.assertFalse(
            self.shop.status_updates, "order 1001 of company A was not sent to store B's API"
        )


@tagged("post_install", "-at_install")
class TestPartsStayLocked(CartumCase):
    """An Inventory user without “Can add products without deduction” adds, takes away or
    alters no part of a repair order from Cartum, whatever the path; the import still does."""

    first_import_in_class = True

    def setUp(self):
        super().setUp()
        self.repair = self.repair_of(1006)  # a draft
        self.part = self.repair.move_ids[:1]
        self.product = self.part.product_id
        # The user's own repair order, with a part of theirs.
        self.own = (
            self.env["repair.order"]
            .with_user(self.repair_user)
            .create(
                {
                    "picking_type_id": self.store.picking_type_id.id,
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "product_uom_qty": 1,
                                "repair_line_type": "add",
                            }
                        )
                    ],
                }
            )
        )
        self.own_part = self.own.move_ids

    def moves_of(self, repairs):
        self.env.invalidate_all()
        fields = ["repair_id", "product_id", "product_uom_qty", "price_unit", "repair_line_type"]
        fields += ["cartum_line_key", "cartum_article", "state"]
        moves = self.env["stock.move"].search([("repair_id", "in", repairs.ids)], order="id")
        return moves.read(fields)

    def test_no_path_changes_the_parts_without_the_permission(self):
        repair = self.repair.with_user(self.repair_user)
        own = self.own.with_user(self.repair_user)
        part = self.part.with_user(self.repair_user)
        own_part = self.own_part.with_user(self.repair_user)
        Move = self.env["stock.move"].with_user(self.repair_user)
        new_move = {
            **series.STOCK_MOVE_DESCRIPTION,
            "repair_id": repair.id,
            "product_id": self.product.id,
            "product_uom_qty": 1,
            "location_id": repair.location_id.id,
            "location_dest_id": repair.location_dest_id.id,
        }
        before = self.moves_of(self.repair | self.own)
        attacks = {
            "take a part away": lambda: part.write({"repair_id": False}),
            "move a part to their repair": lambda: part.write({"repair_id": own.id}),
            "put their part on it": lambda: own_part.write({"repair_id": repair.id}),
            "relabel the keys": lambda: part.write({"cartum_line_key": "X", "cartum_article": "X"}),
            "relabel the line key": lambda: part.write({"cartum_line_key": "X"}),
            "relabel the article": lambda: part.write({"cartum_article": "X"}),
            "create without a part type": lambda: Move.create(new_move),
            "create, type by default": lambda: Move.with_context(
                default_repair_line_type="add"
            ).create(new_move),
            "create with a type": lambda: Move.create({**new_move, "repair_line_type": "add"}),
            "copy a part": lambda: part.copy({"repair_id": repair.id}),
            "copy their part onto it": lambda: own_part.copy({"repair_id": repair.id}),
            "command 0": lambda: repair.write(
                {"move_ids": [Command.create({**new_move, "repair_line_type": "add"})]}
            ),
            "command 1": lambda: repair.write(
                {"move_ids": [Command.update(part.id, {"product_uom_qty": 9})]}
            ),
            "command 2": lambda: repair.write({"move_ids": [Command.delete(part.id)]}),
            "command 3": lambda: repair.write({"move_ids": [Command.unlink(part.id)]}),
            "command 4": lambda: repair.write({"move_ids": [Command.link(own_part.id)]}),
            "command 5": lambda: repair.write({"move_ids": [Command.clear()]}),
            "command 6": lambda: repair.write({"move_ids": [Command.set(own_part.ids)]}),
            "command 6, parts kept": lambda: repair.write(
                {"move_ids": [Command.set((repair.move_ids | own_part).ids)]}
            ),
            "command 4 from their repair": lambda: own.write({"move_ids": [Command.link(part.id)]}),
            "command 6 from their repair": lambda: own.write(
                {"move_ids": [Command.set((own_part | part).ids)]}
            ),
            "unlink": lambda: part.unlink(),
        }
        for name, attack in attacks.items():
            # Each attack on the same parts: rolled back whether it is refused or not.
            with self.subTest(attack=name):
                with closing(self.env.cr.savepoint()), self.assertRaises(AccessError) as caught:
                    attack()
                self.assertIn("Can add products without deduction", str(caught.exception))
        self.assertEqual(self.moves_of(self.repair | self.own), before)
        # Their own repair order's parts stay theirs to change.
        own_part.product_uom_qty = 2
        own.write(
            {
                "move_ids": [
                    Command.create({**new_move, "repair_id": own.id, "repair_line_type": "add"})
                ]
            }
        )
        self.assertEqual(len(own.move_ids), 2)

    def test_with_the_permission_and_for_the_import_the_parts_move(self):
        part = self.part.with_user(self.parts_user)
        part.write({"cartum_line_key": self.part.cartum_line_key, "product_uom_qty": 3})
        own_part = self.own_part.with_user(self.parts_user)
        self.repair.with_user(self.parts_user).write({"move_ids": [Command.link(own_part.id)]})
        self.assertIn(self.own_part, self.repair.move_ids)
        own_part.repair_id = self.own
        # The import changes the parts as Cartum's lines change.
        self.shop.set_line_quantity(1006, self.part.cartum_article, 4)
        run = self.run_import()
        self.assertEqual(run.updated_count, 1, run.message)
        self.assertEqual(self.parts_of(self.repair)[self.part.cartum_article][0], 4)

    def test_the_repair_still_moves_on_in_their_hands(self):
        """The repaired product's own move, made when the repair ends, is no part."""
        phone = self.env["product.product"].create({"name": "Customer's phone", "type": "consu"})
        repair = self.repair.with_user(self.repair_user)
        repair.product_id = phone
        repair.action_validate()
        repair.action_repair_start()
        repair.action_repair_end()
        self.assertEqual(repair.state, "done")
        self.assertEqual(repair.move_id.product_id, phone)
        self.assertEqual(repair.move_id.repair_id, self.repair)
        self.assertNotIn(repair.move_id, repair.move_ids)


@tagged("post_install", "-at_install")
class TestPartsNeedThePermission(CartumCase):
    first_import_in_class = True

    def test_plain_repair_user_cannot_touch_parts_nor_refresh(self):
        repair = self.repair_of(1006).with_user(self.repair_user)
        move = repair.move_ids[0]
        with self.assertRaises(AccessError):
            move.product_uom_qty = 7
        with self.assertRaises(AccessError):
            move.unlink()
        with self.assertRaises(AccessError):
            self.env["stock.move"].with_user(self.repair_user).create(
                {
                    "repair_id": repair.id,
                    "repair_line_type": "add",
                    "product_id": move.product_id.id,
                    "product_uom_qty": 1,
                }
            )
        with self.assertRaises(AccessError):
            repair.action_cartum_refresh()
        self.assertTrue(repair.cartum_parts_locked)
        # The repair itself still moves on in their hands, up to the write-off.
        repair.action_validate()
        self.assertEqual(repair.state, "confirmed")
        other = self.repair_of(1001).with_user(self.repair_user)
        other.action_repair_start()
        other.action_repair_end()
        self.assertEqual(other.state, "done")
        # With the permission, parts can be changed.
        parts_move = move.with_user(self.parts_user)
        parts_move.product_uom_qty = 7
        self.assertEqual(move.product_uom_qty, 7)


@tagged("post_install", "-at_install")
class TestReadOnlyOnTheServer(CartumCase):
    def test_a_related_display_field_written_over_rpc_changes_and_tracks_nothing(self):
        self.run_import()
        repair = self.repair_of(1001)
        messages = repair.message_ids
        for user in (self.repair_user, self.parts_user, self.manager):
            with self.subTest(user=user.login):
                repair.with_user(user).write({"cartum_store_name": "Forged"})
                self.env.flush_all()
                self.env.cr.precommit.run()  # tracking is logged when the transaction commits
                self.env.invalidate_all()
                self.assertEqual(repair.cartum_store_name, "Demo shop")
        self.assertEqual(self.store.name, "Demo shop")
        self.assertFalse((repair.message_ids - messages).tracking_value_ids)
        # Every related field of the connector's models is read-only and untracked.
        for model in self.env.registry.values():
            if not model._name.startswith("cartum.") and model._name != "repair.order":
                continue
            for field in model._fields.values():
                if field.related and (model._name != "repair.order" or field.name[:7] == "cartum_"):
                    with self.subTest(field=f"{model._name}.{field.name}"):
                        self.assertTrue(field.readonly)
                        self.assertFalse(getattr(field, "tracking", None))


@tagged("post_install", "-at_install")
class TestCredentialsNeverFollowARedirect(CartumCase):
    def press_test_connection(self):
        params = self.store.with_user(self.manager).action_test_connection()["params"]
        self.env.invalidate_all()
        return params["type"], params["message"]

    def test_test_connection_names_where_the_store_redirects_and_sends_nothing_there(self):
        elsewhere = CartumSandbox(SandboxStore(login="demo-api", password="demo-secret"))
        elsewhere.start()
        self.addCleanup(elsewhere.stop)
        https_url = self.sandbox.base_url.replace("http://", "https://")
        faults = self.shop.faults
        # A store moved to https://.
        faults.redirect_next(1, f"{https_url}/api/auth/", status=301)
        level, message = self.press_test_connection()
        self.assertEqual((level, self.store.connection_state), ("danger", "error"))
        self.assertIn(f"moved to https://: use {https_url} as the website URL", message)
        # A redirect to another host: the login and password never go there.
        faults.redirect_next(1, f"{elsewhere.base_url}/api/auth/", status=307)
        level, message = self.press_test_connection()
        self.assertEqual(level, "danger")
        self.assertIn(f"redirects to {elsewhere.base_url}/api/auth/", message)
        self.assertIn(f"use {elsewhere.base_url} as the website URL", message)
        self.assertNotIn("demo-secret", message)
        self.assertEqual(elsewhere.store.requests, [])
        # A redirect to a local file: a clear message, no server error.
        faults.redirect_next(1, "file:///etc/passwd", status=302)
        level, message = self.press_test_connection()
        self.assertEqual(level, "danger")
        self.assertIn("redirects to file:///etc/passwd, which is not a store's API", message)
        # The import run ends failed, saying where the store redirects.
        faults.redirect_next(1, f"{https_url}/api/auth/", status=308)
        run = self.run_import()
        self.assertEqual(run.state, "failed")
        self.assertIn(f"moved to https://: use {https_url} as the website URL", run.message)
        self.assertEqual(self.shop.requests.count("orders/get"), 0)
        self.assertEqual(self.shop.status_updates, [])
        # The store answers again: connected.
        self.assertEqual(self.press_test_connection()[0], "success")
        self.assertEqual(self.store.connection_state, "ok")

    def test_an_address_requests_cannot_use_is_a_clear_message(self):
        self.env.flush_all()
        for url in ("http://[::1", "http://"):
            with self.subTest(url=url):
                # Written in the database: the form refuses addresses without http(s)://.
                self.env.cr.execute(
                    "UPDATE cartum_store SET url = %s WHERE id = %s", (url, self.store.id)
                )
                self.env.invalidate_all()
                level, message = self.press_test_connection()
                self.assertEqual(level, "danger")
                self.assertEqual(
                    message, f"No request could be sent to {url}. Check the website URL."
                )


@tagged("post_install", "-at_install")
class TestSharedKeysReadByNoUser(CartumCase):
    first_import_in_class = True

    def test_no_user_reads_the_shared_keys(self):
        keys = self.env["cartum.shared.key"].sudo().search([])
        self.assertTrue(keys.filtered(lambda key: key.kind == "partner"))
        for user in (self.manager, self.env.ref("base.user_admin")):
            Key = self.env["cartum.shared.key"].with_user(user)
            for name, call in {
                "search_read": lambda Key=Key: Key.search_read([], ["key", "res_id"]),
                "read": lambda Key=Key: keys.with_env(Key.env).read(["key"]),
                "search": lambda Key=Key: Key.search([]),
            }.items():
                with self.subTest(user=user.login, call=name), self.assertRaises(AccessError):
                    call()


@tagged("post_install", "-at_install")
class TestPartsStockStaysLocked(CartumCase):
    """A user without the parts permission neither cancels, re-quantifies, re-locates nor
    adds, changes or deletes move lines of the parts of a repair from Cartum, by any path; the
    repair's own flow and the stock engine (reservations made by another document) still do."""

    first_import_in_class = True

    def setUp(self):
        super().setUp()
        self.repair = self.repair_of(1006)  # a draft
        self.part = self.repair.move_ids[:1]
        self.product = self.part.product_id
        self.product.sudo().is_storable = True
        self.stock = self.repair.location_id
        self.other_location = self.env["stock.location"].create(
            {"name": "Shelf X", "location_id": self.stock.id}
        )

    def assert_refused(self, attacks):
        for name, attack in attacks.items():
            with self.subTest(attack=name):
                with closing(self.env.cr.savepoint()), self.assertRaises(AccessError) as caught:
                    attack()
                    self.env.flush_all()
                self.assertIn("Can add products without deduction", str(caught.exception))

    def test_no_path_changes_the_stock_of_the_parts(self):
        self.env["stock.quant"]._update_available_quantity(self.product, self.stock, 10)
        repair = self.repair.with_user(self.repair_user)
        part = self.part.with_user(self.repair_user)
        repair.action_validate()  # the repair's own flow reserves the parts
        self.assertEqual(part.state, "assigned")
        line = part.move_line_ids
        self.assertTrue(line)
        Line = self.env["stock.move.line"].with_user(self.repair_user)
        new_line = {
            "move_id": part.id,
            "product_id": self.product.id,
            "product_uom_id": self.product.uom_id.id,
            "location_id": self.stock.id,
            "location_dest_id": part.location_dest_id.id,
            "quantity": 25,
        }
        before = (part.state, part.quantity, part.location_id, line.read(["quantity"]))
        self.assert_refused(
            {
                "cancel": lambda: part.write({"state": "cancel"}),
                "quantity": lambda: part.write({"quantity": 25}),
                "picked": lambda: part.write({"picked": True}),
                "source location": lambda: part.write({"location_id": self.other_location.id}),
                "destination": lambda: part.write({"location_dest_id": self.other_location.id}),
                "move line created": lambda: Line.create(new_line),
                "move line command": lambda: part.write(
                    {"move_line_ids": [Command.create(new_line)]}
                ),
                "move line command on the repair": lambda: repair.write(
                    {"move_ids": [Command.update(part.id, {"quantity": 25})]}
                ),
                "move line changed": lambda: line.with_user(self.repair_user).write(
                    {"quantity": 25}
                ),
                "move line moved": lambda: line.with_user(self.repair_user).write(
                    {"location_id": self.other_location.id}
                ),
                "move line deleted": lambda: line.with_user(self.repair_user).unlink(),
                "the repair re-located": lambda: repair.write(
                    {"location_id": self.other_location.id}
                ),
            }
        )
        self.env.invalidate_all()
        self.assertEqual(
            (part.state, part.quantity, part.location_id, line.read(["quantity"])), before
        )
        # The repair's own flow goes on in their hands: unreserve, reserve, start, end.
        repair.action_unreserve()
        repair.action_assign()
        repair.action_repair_start()
        repair.action_repair_end()
        self.assertEqual(repair.state, "done")
        self.assertEqual((part.state, part.quantity), ("done", part.product_uom_qty))
        # Written off, the part's lines stay as they are.
        self.assert_refused(
            {
                "done line changed": lambda: part.move_line_ids.with_user(self.repair_user).write(
                    {"quantity": 25}
                )
            }
        )
        # With the permission, the parts' quantities are theirs to change.
        self.repair_of(1001).move_ids[:1].with_user(self.parts_user).quantity = 1

    def test_a_receipt_reserves_waiting_parts_and_a_cancel_cancels_them(self):
        """Stock received by a user without the permission reserves the parts waiting for it
        (the stock engine at work); cancelling the repair cancels its parts."""
        repair = self.repair.with_user(self.repair_user)
        repair.action_validate()
        self.assertEqual(self.part.state, "confirmed")  # nothing in stock: it waits
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        receipt = (
            self.env["stock.picking"]
            .with_user(self.repair_user)
            .create(
                {
                    "picking_type_id": warehouse.in_type_id.id,
                    "location_id": self.env.ref("stock.stock_location_suppliers").id,
                    "location_dest_id": self.stock.id,
                    "move_ids": [
                        Command.create(
                            {
                                **series.STOCK_MOVE_DESCRIPTION,
                                "product_id": self.product.id,
                                "product_uom_qty": 5,
                                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                                "location_dest_id": self.stock.id,
                            }
                        )
                    ],
                }
            )
        )
        receipt.action_confirm()
        receipt.move_ids.write({"quantity": 5, "picked": True})
        receipt.button_validate()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(self.part.state, "assigned")
        repair.action_repair_cancel()
        self.assertEqual((repair.state, self.part.state), ("cancel", "cancel"))


@tagged("post_install", "-at_install")
class TestStoreText(CartumCase):
    """What a store says is masked and capped before it is stored, shown or logged."""

    def capture_logs(self):
        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        for name in ("cartum_api", "odoo.addons.cartum_connector"):
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            self.addCleanup(logger.removeHandler, handler)
        return records

    def test_a_store_echoing_the_password_and_huge_texts_is_masked_and_capped(self):
        logs = self.capture_logs()
        self.run_import()
        # An error message that echoes the request, password included, and goes on and on.
        echo = 'you sent {"password": "demo-secret"} ' + "x" * 200_000
        # Every request for a while: a retry after a dropped connection gets it too.
        self.shop.faults.envelope_next(5, "ERROR", echo)
        run = self.run_import()
        self.shop.faults.envelope_next(0, "ERROR")  # the store answers normally again
        self.assertEqual(run.state, "failed")
        self.env.invalidate_all()
        dashboard = self.store.with_user(self.repair_user).last_run_message
        # A redirect to an address carrying the password.
        self.shop.faults.redirect_next(1, "https://elsewhere.example/?p=demo-secret", status=302)
        notification = self.store.with_user(self.manager).action_test_connection()
        # An order with a five-million-character comment, and one of 501 lines.
        self.shop.add_order(lines=[("DSP-IP12", 1)], comment="c" * 5_000_000)
        huge = max(self.shop.orders)
        self.shop.add_order(lines=[("DSP-IP12", 1)] * 501, phone="+380 63 000 00 09")
        many = max(self.shop.orders)
        orders_run = self.run_import()
        failures = orders_run.failure_ids
        self.assertEqual(set(failures.mapped("external_id")), {str(huge), str(many)})
        self.assertIn("longer than", failures.filtered(lambda f: f.external_id == str(huge)).reason)
        self.assertIn("501 lines", failures.filtered(lambda f: f.external_id == str(many)).reason)
        texts = {
            "run message": run.message,
            "dashboard": dashboard,
            "test connection": notification["params"]["message"],
            "connection message": self.store.connection_message,
            **{f"failure {f.external_id}": f.reason for f in failures},
        }
        self.assertIn("cut]", run.message)
        self.assertIn("********", run.message)
        for name, text in texts.items():
            with self.subTest(text=name):
                self.assertNotIn("demo-secret", text)
                self.assertLess(len(text), 1000)
        for record in logs:
            self.assertNotIn("demo-secret", record.getMessage())
            self.assertLess(len(record.getMessage()), 25_000)

    def test_an_unknown_server_s_answers_are_not_echoed(self):
        self.shop.faults.fail_next(1, status=418)
        message = self.store.with_user(self.manager).action_test_connection()["params"]["message"]
        self.assertIn("did not answer as a Cartum store's API", message)
        self.assertNotIn("418", message)


@tagged("post_install", "-at_install")
class TestStoreAddresses(CartumCase):
    """Stores are called at public https:// addresses only, unless a Settings administrator
    allows local test stores (as the tests' fixtures do)."""

    LOCAL_URLS = (
        "https://127.0.0.1:5432",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/",
        "https://0x7f000001/",
        "https://2130706433/",
        "https://127.1/",
        "https://localhost:5432/",
        "https://10.1.2.3/",
        "https://192.168.0.1/",
    )

    def allow_local_stores(self, allowed):
        self.env["ir.config_parameter"].set_param(ALLOW_LOCAL_STORES_PARAM, str(allowed))

    def test_local_and_plain_http_addresses_are_refused(self):
        self.allow_local_stores(False)
        store = self.store.with_user(self.manager)
        for url in self.LOCAL_URLS:
            with (
                self.subTest(url=url),
                self.assertRaisesRegex(ValidationError, "local, private or reserved address"),
                self.env.cr.savepoint(),
            ):
                store.url = url
        with self.assertRaisesRegex(ValidationError, "must start with https://"):
            store.url = "http://shop.example.com"
        with self.assertRaisesRegex(ValidationError, "local, private or reserved"):
            self.env["cartum.store"].with_user(self.manager).create(
                {"name": "Inside", "url": "https://127.0.0.1", "login": "a", "password": "b"}
            )
        store.url = "https://shop.example.com"  # public (or not resolvable now): accepted

    def test_a_store_that_leads_inside_later_gets_nothing(self):
        """Saved while local stores were allowed (or while its name pointed outside): each
        call checks the address it reaches, and sends nothing there."""
        port = self.sandbox.base_url.rsplit(":", 1)[1]
        for url in (self.sandbox.base_url, f"https://localhost:{port}"):
            with self.subTest(url=url):
                self.allow_local_stores(True)
                self.store.url = url
                self.allow_local_stores(False)
                params = self.store.with_user(self.manager).action_test_connection()["params"]
                self.assertEqual(params["type"], "danger")
                self.assertIn(
                    "was not called: only public https:// addresses are", params["message"]
                )
                run = self.run_import()
                self.assertEqual(run.state, "failed")
                self.assertIn("was not called: only public https:// addresses are", run.message)
        self.assertEqual(self.shop.requests, [])

    def test_odoo_s_own_address_is_refused(self):
        own = self.env["ir.config_parameter"].get_param("web.base.url")
        with self.assertRaisesRegex(ValidationError, "this Odoo's own address"):
            self.store.url = own

    def test_only_a_settings_administrator_allows_local_stores(self):
        self.allow_local_stores(False)
        Settings = self.env["res.config.settings"]
        with self.assertRaises(AccessError):
            Settings.with_user(self.manager).create({"cartum_allow_local_stores": True}).execute()
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.manager).set_param(
                ALLOW_LOCAL_STORES_PARAM, "True"
            )
        self.assertFalse(self.store._allow_local_stores())
        admin = self.env.ref("base.user_admin")
        Settings.with_user(admin).create({"cartum_allow_local_stores": True}).execute()
        self.assertTrue(self.store._allow_local_stores())
        self.store.with_user(self.manager).url = "http://127.0.0.1:8765"


@tagged("post_install", "-at_install")
class TestStoreSettingsAndBounds(CartumCase):
    def test_a_cartum_administrator_creates_and_duplicates_stores(self):
        """Not a Settings administrator: the store's scheduled job is made by the connector."""
        self.assertFalse(self.manager.has_group("base.group_system"))
        Store = self.env["cartum.store"].with_user(self.manager)
        store = Store.create(
            {"name": "New shop", "url": "https://new-shop.example", "login": "a", "password": "b"}
        )
        duplicate = store.copy({"url": "https://other-shop.example"})
        for created in (store, duplicate):
            self.assertEqual(
                created.sudo().cron_id.code, f"model.browse({created.id})._cron_sync()"
            )
            self.assertEqual(created.sudo().cron_id.user_id, self.env.ref("base.user_root"))
        store.name = "Renamed shop"
        self.assertIn("Renamed shop", store.sudo().cron_id.name)
        store.unlink()

    def test_connector_fields_are_read_only_on_every_path(self):
        store = self.store.with_user(self.manager)
        forged = {
            "connection_state": "ok",
            "connection_message": "Connected.",
            "import_cursor": "2020-01-01 00:00:00",
            "first_import_at": "2020-01-01 00:00:00",
            "available_languages": "ua",
            "cron_id": self.env["ir.cron"].search([], limit=1).id,
            "import_requested_by": self.manager.id,
        }
        before = self.store.read(list(forged))
        for name, value in forged.items():
            with self.subTest(field=name):
                for call in (
                    lambda name=name, value=value: store.write({name: value}),
                    lambda name=name, value=value: store.web_save({name: value}, {}),
                    lambda name=name, value=value: store.copy({name: value}),
                ):
                    with self.assertRaises(AccessError), self.env.cr.savepoint():
                        call()
        Store = self.env["cartum.store"].with_user(self.manager)
        new_shop = {"name": "New shop", "url": "https://new.example", "login": "a"}
        with self.assertRaises(AccessError):
            Store.create({**new_shop, "connection_state": "ok"})
        created = Store.with_context(
            default_connection_state="ok", default_import_cursor="2020-01-01 00:00:00"
        ).create(new_shop)
        self.assertEqual((created.connection_state, created.import_cursor), ("untested", False))
        self.env.invalidate_all()
        self.assertEqual(self.store.read(list(forged)), before)

    def test_requests_per_second_is_bounded(self):
        store = self.store.with_user(self.manager)
        for rate in (1e-9, -5, 0.05, 0.4, 51, 1e9):
            with (
                self.subTest(rate=rate),
                self.assertRaisesRegex(ValidationError, "between 0.5 and 50.0, or 0"),
                self.env.cr.savepoint(),
            ):
                store.requests_per_second = rate
        for rate in (0.5, 5, 50, 0):
            store.requests_per_second = rate

    def test_too_many_statuses_are_refused_with_a_message(self):
        for status_id in range(100, 301):  # 201 more: 206 in all
            self.shop.add_status(status_id, {"ua": f"Статус {status_id}"})
        params = self.store.with_user(self.manager).action_test_connection()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("more than the 200 a store may have: none was read", params["message"])
        self.assertFalse(self.store.status_mapping_ids)
        run = self.run_import()
        self.assertEqual(run.state, "failed")
        self.assertFalse(self.store.status_mapping_ids)
