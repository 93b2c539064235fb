from datetime import timedelta

import pytz
from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from cartum_api import (
    FIRST_LAST,
    LAST_FIRST,
    CartumApiUnavailable,
    CartumAuthError,
    CartumClient,
    CartumConnectionError,
    CartumError,
    CartumUndefinedFunction,
    Status,
)

# Cartum's language codes and the Odoo languages they fill.
CARTUM_LANGUAGES = [
    ("ua", "Ukrainian"),
    ("en", "English"),
    ("ru", "Russian"),
    ("pl", "Polish"),
    ("es", "Spanish"),
    ("de", "German"),
    ("ro", "Romanian"),
    ("cs", "Czech"),
]
ODOO_LANGUAGE_CODES = {
    "ua": "uk_UA",
    "en": "en_US",
    "ru": "ru_RU",
    "pl": "pl_PL",
    "es": "es_ES",
    "de": "de_DE",
    "ro": "ro_RO",
    "cs": "cs_CZ",
}
# Statuses every Cartum store has; used when an older store cannot list its own.
STANDARD_STATUSES = [
    Status(1, {"ua": "Нове", "en": "New"}, False),
    Status(2, {"ua": "В обробці", "en": "Processing"}, False),
    Status(3, {"ua": "Виконано", "en": "Delivered"}, True),
    Status(4, {"ua": "Скасовано", "en": "Canceled"}, False),
    Status(6, {"ua": "Відправлено", "en": "Shipping"}, False),
]
DEFAULT_ADMIN_ORDER_URL = "{url}/edit/orders/{order_id}/"
# New orders are searched by creation time from the newest one seen, minus this overlap, so that
# an order saved late in Cartum (or on a clock at the window's edge) is never missed.
IMPORT_OVERLAP = timedelta(minutes=30)
FIRST_IMPORT_PERIOD = timedelta(days=60)

# One client per store and process: it keeps the store's token (600 s) between runs, in
# memory only.
_clients = {}


class CartumStore(models.Model):
    _name = "cartum.store"
    _description = "Cartum Store"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, size=64, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    url = fields.Char(
        string="Website URL",
        required=True,
        tracking=True,
        help="The store's address, such as https://myshop.com. The API answers under /api/.",
    )
    login = fields.Char(string="API Login", required=True, tracking=True)
    password = fields.Char(
        string="API Password",
        groups="cartum_connector.group_cartum_manager",
        copy=False,
        help="Only Cartum administrators can read or change it. It is never logged.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    picking_type_id = fields.Many2one(
        "stock.picking.type",
        string="Repair Operation Type",
        required=True,
        check_company=True,
        domain="[('code', '=', 'repair_operation'), ('company_id', '=', company_id)]",
        default=lambda self: self._default_picking_type(),
        help="Where imported orders are created: their location and order type.",
    )
    import_language = fields.Selection(
        CARTUM_LANGUAGES,
        required=True,
        default="ua",
        help="Language of the product names and descriptions that are imported.",
    )
    available_languages = fields.Char(
        readonly=True, help="Languages the store exposes, read by Test Connection."
    )
    product_match_key = fields.Selection(
        [("default_code", "Internal Reference"), ("name", "Name")],
        string="Identify Products By",
        required=True,
        default="default_code",
    )
    name_order = fields.Selection(
        [(FIRST_LAST, "First name, then last name"), (LAST_FIRST, "Last name, then first name")],
        string="Customer Name Order",
        required=True,
        default=FIRST_LAST,
        help="How Cartum's one-string recipient name is split: the first word is the first "
        "name (or the last name), the rest is the other part.",
    )
    timezone = fields.Selection(
        "_tz_get",
        required=True,
        default="Europe/Kyiv",
        help="Time zone of the dates Cartum sends.",
    )
    order_prefix = fields.Char(
        default="WEB-", help="Put before the Cartum order number to name repair orders."
    )
    responsible_user_ids = fields.Many2many(
        "res.users",
        string="Responsible Users",
        domain="[('share', '=', False)]",
        help="They follow every new order; the first one is made responsible for the repair.",
    )
    sync_interval = fields.Integer(
        string="Sync Every (minutes)", default=5, required=True, tracking=True
    )
    requests_per_second = fields.Float(
        default=5.0, help="Ceiling on API calls per second to this store."
    )
    admin_order_url = fields.Char(
        string="Admin Order URL",
        required=True,
        default=DEFAULT_ADMIN_ORDER_URL,
        help="Page of one order in the store's admin. {url} is the website URL and "
        "{order_id} the order number. Default: " + DEFAULT_ADMIN_ORDER_URL,
    )
    cron_id = fields.Many2one("ir.cron", string="Scheduled Job", readonly=True, copy=False)
    import_cursor = fields.Datetime(
        string="Orders Imported Up To",
        readonly=True,
        copy=False,
        help="Creation time of the newest order seen. Empty until the first import, which "
        "reads every unfinished order of the last 60 days.",
    )
    connection_state = fields.Selection(
        [("untested", "Not tested"), ("ok", "Connected"), ("error", "Error")],
        default="untested",
        readonly=True,
        copy=False,
    )
    connection_message = fields.Text(readonly=True, copy=False)
    status_mapping_ids = fields.One2many("cartum.status.mapping", "store_id", copy=False)
    sync_run_ids = fields.One2many("cartum.sync.run", "store_id", string="Sync Runs")
    repair_count = fields.Integer(compute="_compute_repair_count")
    open_failure_count = fields.Integer(compute="_compute_open_failure_count")

    _sql_constraints = [
        (
            "sync_interval_positive",
            "CHECK(sync_interval > 0)",
            "The sync interval must be positive.",
        )
    ]

    @api.model
    def _tz_get(self):
        return [(tz, tz) for tz in sorted(pytz.all_timezones)]

    @api.model
    def _default_picking_type(self):
        return self.env["stock.picking.type"].search(
            [("code", "=", "repair_operation"), ("company_id", "=", self.env.company.id)], limit=1
        )

    def _compute_repair_count(self):
        counts = dict(
            self.env["repair.order"]._read_group(
                [("cartum_store_id", "in", self.ids)], ["cartum_store_id"], ["__count"]
            )
        )
        for store in self:
            store.repair_count = counts.get(store, 0)

    def _compute_open_failure_count(self):
        counts = dict(
            self.env["cartum.sync.failure"]._read_group(
                [("store_id", "in", self.ids), ("state", "=", "open")], ["store_id"], ["__count"]
            )
        )
        for store in self:
            store.open_failure_count = counts.get(store, 0)

    @api.constrains("url")
    def _check_url(self):
        for store in self:
            if not (store.url or "").startswith(("http://", "https://")):
                raise ValidationError(
                    self.env._(
                        "The website URL of %(store)s must start with https:// (or http://).",
                        store=store.name,
                    )
                )

    # -- scheduled job, one per store ---------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        stores = super().create(vals_list)
        stores._sync_cron()
        return stores

    def write(self, vals):
        result = super().write(vals)
        if {"name", "active", "sync_interval"} & set(vals):
            self._sync_cron()
        if {"url", "login", "password"} & set(vals):
            self.sudo().connection_state = "untested"
        return result

    def unlink(self):
        crons = self.sudo().cron_id
        result = super().unlink()
        crons.unlink()
        return result

    def _sync_cron(self):
        model_id = self.env["ir.model"]._get_id("cartum.store")
        for store in self.sudo():
            vals = {
                "name": self.env._("Cartum: sync %(store)s", store=store.name),
                "model_id": model_id,
                "state": "code",
                "code": f"model.browse({store.id})._cron_sync()",
                "interval_number": store.sync_interval,
                "interval_type": "minutes",
                "active": store.active,
                "user_id": self.env.ref("base.user_root").id,
            }
            if store.cron_id:
                store.cron_id.write(vals)
            else:
                store.cron_id = self.env["ir.cron"].create(vals)

    def _cron_sync(self):
        # A store never connected waits for its Test Connection, which starts the first import.
        for store in self.filtered(lambda s: s.active and s.connection_state != "untested"):
            self.env["cartum.sync.run"]._import_store(store, trigger="cron", commit=True)

    # -- Cartum API ---------------------------------------------------------------------------

    def _cartum_client(self):
        """The store's API client; rebuilt when its settings change, else reused with its token."""
        self.ensure_one()
        store = self.sudo()
        settings = (
            store.url,
            store.login,
            store.password,
            store.name_order,
            store.requests_per_second,
        )
        key = (self.env.cr.dbname, store.id)
        cached = _clients.get(key)
        if cached and cached[0] == settings:
            return cached[1]
        if cached:
            cached[1].close()
        client = CartumClient(
            store.url,
            store.login or "",
            store.password or "",
            name_order=store.name_order,
            requests_per_second=store.requests_per_second or None,
        )
        _clients[key] = (settings, client)
        return client

    def _to_store_time(self, utc_datetime):
        """Naive UTC (Odoo) -> naive store-local time (Cartum)."""
        zone = pytz.timezone(self.timezone or "UTC")
        return pytz.utc.localize(utc_datetime).astimezone(zone).replace(tzinfo=None)

    def _to_utc(self, store_datetime):
        """Naive store-local time (Cartum) -> naive UTC (Odoo)."""
        zone = pytz.timezone(self.timezone or "UTC")
        return zone.localize(store_datetime).astimezone(pytz.utc).replace(tzinfo=None)

    def _odoo_language(self):
        """The installed Odoo language that matches the import language, if any."""
        code = ODOO_LANGUAGE_CODES.get(self.import_language)
        installed = {code for code, _name in self.env["res.lang"].get_installed()}
        return code if code in installed else None

    def _admin_order_url(self, order_id):
        return (self.admin_order_url or DEFAULT_ADMIN_ORDER_URL).format(
            url=(self.url or "").rstrip("/"), order_id=order_id
        )

    @api.model
    def _check_cartum_manager(self):
        """Buttons that reach Cartum are for Cartum administrators, also when called by RPC."""
        if not self.env.su and not self.env.user.has_group("cartum_connector.group_cartum_manager"):
            raise AccessError(self.env._("Only Cartum administrators can do this."))

    def action_test_connection(self):
        """Log in, read statuses and currencies, and say exactly what is wrong, if anything."""
        self.ensure_one()
        self._check_cartum_manager()
        try:
            message, level = self._check_connection()
        except CartumApiUnavailable:
            message, level = (
                self.env._(
                    "The store at %(url)s answers, but not its API. Check the website URL, and "
                    "that the API is included in the store's plan.",
                    url=self.url,
                ),
                "danger",
            )
        except CartumAuthError:
            message, level = (
                self.env._(
                    "The store refused the login %(login)s. Check the API login and password "
                    "(Settings > Users in the store's admin).",
                    login=self.login,
                ),
                "danger",
            )
        except CartumConnectionError as error:
            message, level = (
                self.env._(
                    "The store at %(url)s cannot be reached: %(error)s", url=self.url, error=error
                ),
                "danger",
            )
        except CartumError as error:
            message, level = (
                self.env._("Cartum answered an error: %(error)s", error=error),
                "danger",
            )
        self.sudo().write(
            {
                "connection_state": "ok" if level != "danger" else "error",
                "connection_message": message,
            }
        )
        if level != "danger" and not self.import_cursor:
            self.sudo().cron_id._trigger()  # the first import starts now, in the background
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Test Connection: %(store)s", store=self.name),
                "message": message,
                "type": level,
                "sticky": level != "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _check_connection(self):
        client = self._cartum_client()
        client.authenticate()
        notes = []
        currency = client.store_currency()
        if currency and currency.iso != self.currency_id.name:
            return (
                self.env._(
                    "The store sells in %(store_currency)s but %(company)s works in "
                    "%(company_currency)s. Orders in another currency are not imported.",
                    store_currency=currency.iso,
                    company=self.company_id.name,
                    company_currency=self.currency_id.name,
                ),
                "danger",
            )
        self._refresh_statuses(notes)
        if self.import_language not in (self.available_languages or "").split(","):
            notes.append(
                self.env._(
                    "The import language %(language)s is not among the store's languages "
                    "(%(available)s).",
                    language=self.import_language,
                    available=self.available_languages,
                )
            )
        message = self.env._(
            "Connected. %(count)s statuses read.", count=len(self.status_mapping_ids)
        )
        return " ".join([message, *notes]), "warning" if notes else "success"

    def _refresh_statuses(self, notes=None):
        """Read the store's statuses and add a mapping line for each one not mapped yet."""
        client = self._cartum_client()
        try:
            statuses = client.list_statuses()
        except CartumUndefinedFunction:
            statuses = STANDARD_STATUSES
            if notes is not None:
                notes.append(
                    self.env._(
                        "This store version cannot list its statuses: the standard ones are used."
                    )
                )
        languages = sorted(
            {lang for status in statuses for lang, text in status.titles.items() if text}
        )
        self.sudo().available_languages = ",".join(languages)
        self.env["cartum.status.mapping"]._sync_from_statuses(self, statuses)

    def action_import_now(self):
        self.ensure_one()
        self._check_cartum_manager()
        run = self.env["cartum.sync.run"]._import_store(self, trigger="manual")
        return run._get_formview_action()

    def action_view_repairs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("repair.action_repair_order_tree")
        action["domain"] = [("cartum_store_id", "=", self.id)]
        action["context"] = {"default_cartum_store_id": self.id}
        return action

    def action_view_open_failures(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cartum_connector.cartum_sync_failure_action"
        )
        action["domain"] = [("store_id", "=", self.id), ("state", "=", "open")]
        return action

    def _import_window_start(self):
        """Where the next search for new orders starts, in UTC (with an overlap)."""
        if self.import_cursor:
            return self.import_cursor - IMPORT_OVERLAP
        return fields.Datetime.now() - FIRST_IMPORT_PERIOD
