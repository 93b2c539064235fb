from types import SimpleNamespace
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .. import compat
from ..models.cartum_order_mapper import DESCRIPTION_LIMIT
from ..models.repair_order import CARTUM_LINK_FIELDS
from .common import CartumCase

DEBUG_REQUEST = SimpleNamespace(session=SimpleNamespace(debug="1"))


@tagged("post_install", "-at_install")
class TestCartumLinkCannotBeForged(CartumCase):
    def setUp(self):
        super().setUp()
        self.run_import()
        self.admin = self.env.ref("base.user_admin")

    def link_values(self, repair):
        self.env.invalidate_all()
        return {name: repair.sudo()[name] for name in sorted(CARTUM_LINK_FIELDS)}

    def test_nobody_but_the_connector_writes_the_link(self):
        repair = self.repair_of(1001)
        other = self.store.copy({"name": "Forged shop"})
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
                    self.assertRaises(UserError) as caught,
                    self.env.cr.savepoint(),
                ):
                    repair.with_user(user).write({name: value})
                self.assertIn("Cartum connector only", str(caught.exception))
        # The form saves through web_save, RPC through write: both refused.
        with self.assertRaises(UserError), self.env.cr.savepoint():
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
                    self.assertRaises(UserError),
                    self.env.cr.savepoint(),
                ):
                    repair.with_user(self.admin).write({name: value})
        # Nor can a repair order be created already linked to a Cartum order.
        with self.assertRaises(UserError), self.env.cr.savepoint():
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
        with self.assertRaises(UserError), self.env.cr.savepoint():
            repair.with_user(self.parts_user).copy({"cartum_external_id": "4242"})

    def test_only_parts_permission_deletes_or_duplicates_cartum_orders(self):
        draft = self.repair_of(1006)
        self.assertEqual(draft.state, "draft")
        as_repair_user = draft.with_user(self.repair_user)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            as_repair_user.copy()
        with self.assertRaises(AccessError), self.env.cr.savepoint():
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
                    self.subTest(model=link._name, command=command[0]),
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
                    "read_group": lambda Store=Store: compat.read_group(Store, [], "password"),
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


@tagged("post_install", "-at_install")
class TestPhoneKey(CartumCase):
    PHONE = "501 234 567"  # a national number: its key depends on the country

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ua, cls.pl, cls.de = (cls.env.ref(f"base.{code}") for code in ("ua", "pl", "de"))
        cls.main_company = cls.env.ref("base.main_company")
        cls.main_company.country_id = cls.ua
        cls.polish = cls.env["res.company"].create({"name": "Polish shop", "country_id": cls.pl.id})
        cls.polish_user = new_test_user(
            cls.env,
            "polish_user",
            groups="base.group_user,base.group_partner_manager",
            company_id=cls.polish.id,
            company_ids=[cls.polish.id],
        )

    def test_key_follows_contact_then_company_then_main_company_country(self):
        Partner = self.env["res.partner"].with_user(self.polish_user)
        self.assertEqual(Partner.env.company, self.polish)
        # Created by a user of the Polish company: still read in the main company's country.
        loose = Partner.create({"name": "No country", "phone": self.PHONE})
        self.assertFalse(loose.company_id or loose.country_id)
        self.assertEqual(loose.cartum_phone_key, "380501234567")
        # Computed the same by a user of the main company.
        same = self.env["res.partner"].create({"name": "No country either", "phone": self.PHONE})
        self.assertEqual(same.cartum_phone_key, "380501234567")
        # The contact's company's country, then its own country, first.
        of_company = Partner.create(
            {"name": "Of the Polish shop", "phone": self.PHONE, "company_id": self.polish.id}
        )
        self.assertEqual(of_company.cartum_phone_key, "48501234567")
        of_company.country_id = self.de
        self.assertEqual(of_company.cartum_phone_key, "49501234567")
        of_company.country_id = False
        self.assertEqual(of_company.cartum_phone_key, "48501234567")
        # Recomputed when the company's country changes.
        self.polish.country_id = self.de
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(of_company.cartum_phone_key, "49501234567")
        self.assertEqual(loose.cartum_phone_key, "380501234567")
        self.assertEqual(
            self.env["res.partner"].search([("cartum_phone_key", "=", "49501234567")]), of_company
        )

    def test_key_follows_the_main_company_country(self):
        loose = (
            self.env["res.partner"]
            .with_user(self.polish_user)
            .create({"name": "No country", "phone": self.PHONE})
        )
        own = self.env["res.partner"].create(
            {"name": "Own country", "phone": self.PHONE, "country_id": self.ua.id}
        )
        self.assertEqual(loose.cartum_phone_key, "380501234567")
        self.main_company.country_id = self.pl
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(loose.cartum_phone_key, "48501234567")
        self.assertEqual(own.cartum_phone_key, "380501234567")
        self.assertEqual(
            self.env["res.partner"].search([("cartum_phone_key", "=", "48501234567")]), loose
        )


@tagged("post_install", "-at_install")
class TestCompaniesApart(CartumCase):
    """Two companies, each with its store and orders imported; a Cartum administrator of
    company B only sees, reads and acts on nothing of company A."""

    def setUp(self):
        super().setUp()
        uah, ua = self.env.ref("base.UAH"), self.env.ref("base.ua")
        self.company_b = self.env["res.company"].create(
            {"name": "Repair shop B", "currency_id": uah.id, "country_id": ua.id}
        )
        picking_type_b = self.env["stock.picking.type"].search(
            [("code", "=", "repair_operation"), ("company_id", "=", self.company_b.id)], limit=1
        )
        self.assertTrue(picking_type_b)
        self.store_b = self.env["cartum.store"].create(
            {
                "name": "Shop B",
                "url": self.sandbox.base_url,
                "login": "demo-api",
                "password": "demo-secret",
                "company_id": self.company_b.id,
                "picking_type_id": picking_type_b.id,
            }
        )
        self.env["cartum.adapter"]._client(self.store_b).backoff_base = 0.01
        self.user_b = new_test_user(
            self.env,
            "cartum_admin_b",
            groups="cartum_connector.group_cartum_manager,base.group_allow_export",
            company_id=self.company_b.id,
            company_ids=[self.company_b.id],
        )
        # A USD order fails in both stores; a state change in each queues a push.
        self.shop.add_order(lines=[("DSP-IP13", 1)], currency="USD")
        for store in (self.store, self.store_b):
            run = self.run_import(store)
            self.assertEqual(run.state, "partial", run.message)
            self.repair_of(1006, store).action_validate()
        self.env.flush_all()

    def records_of(self, store):
        Env = self.env
        runs = Env["cartum.sync.run"].search([("store_id", "=", store.id)])
        return {
            "cartum.store": store,
            "cartum.sync.run": runs,
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
                groups = compat.read_group(Model, [], "company_id")
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
            groups = compat.read_group(self.as_b(self.env[model]), [(field, "!=", False)], field)
            self.assertEqual({group[field][0] for group in groups}, {self.store_b.id}, model)
        # A contact or a product both stores know shows user B store B's link only.
        olena = self.repair_of(1001).partner_id
        self.assertEqual(self.repair_of(1001, self.store_b).partner_id, olena)
        self.assertEqual(self.as_b(olena).cartum_link_ids.store_id, self.store_b)
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
                {"store_id": store_a.id, "cartum_status_id": 99, "name": "Forged"}
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
