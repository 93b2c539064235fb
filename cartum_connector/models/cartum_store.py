import string
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import babel
import pytz
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import str2bool

from cartum_api import FIRST_LAST, LAST_FIRST, address_problem

from .. import compat
from ..work_context import WorkContext

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
# Odoo language (its part before "_") -> Cartum language code.
CARTUM_CODES_OF_ODOO = {odoo.split("_")[0]: cartum for cartum, odoo in ODOO_LANGUAGE_CODES.items()}
DEFAULT_ADMIN_ORDER_URL = "{url}/edit/orders/{order_id}/"
# The admin order URL is checked with this website URL, so that its own message is only about
# the template, never about a bad website URL.
SAMPLE_STORE_URL = "https://example.com"
# Set by a Settings administrator (Settings > Inventory > Cartum): stores may use plain http://
# and local or private addresses, as the sandbox, the demo and the tests do.
ALLOW_LOCAL_STORES_PARAM = "cartum_connector.allow_local_stores"
# Requests per second a store may be sent; 0 turns the ceiling off.
MIN_REQUESTS_PER_SECOND = 0.5
MAX_REQUESTS_PER_SECOND = 50.0
# Fields only the connector writes (as superuser): read-only for every user, on every path.
CONNECTOR_FIELDS = {
    "available_languages",
    "connection_message",
    "connection_state",
    "cron_id",
    "first_import_at",
    "import_cursor",
    "import_requested_by",
    "stock_signature",
}


def shop_address(url):
    """The shop a website URL points at, whatever its spelling: http or https, www. or not, a
    trailing slash, letter case."""
    parts = urlsplit((url or "").strip().lower())
    host = (parts.hostname or "").removeprefix("www.")
    try:
        port = parts.port
    except ValueError:  # not a number: the URL check says so
        port = None
    port = f":{port}" if port and port not in (80, 443) else ""
    return f"{host}{port}{parts.path.rstrip('/')}"


def cartum_language(odoo_language):
    """The Cartum language code of an Odoo language (uk_UA -> ua), or None."""
    return CARTUM_CODES_OF_ODOO.get((odoo_language or "en_US").split("_")[0])


class CartumStore(models.Model):
    _name = "cartum.store"
    _description = "Cartum Store"
    _inherit = ["mail.thread", "cartum.company.check", "cartum.action.mixin"]
    _order = "sequence, name, id"

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
        string="Available Language Codes",
        readonly=True,
        copy=False,
        help="Cartum codes of the languages the store exposes, read by Test Connection.",
    )
    available_languages_names = fields.Char(
        string="Available Languages",
        compute="_compute_available_languages_names",
        help="Languages the store exposes, read by Test Connection.",
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
        default=lambda self: self._free_order_prefix(),
        copy=False,
        help="Put before the Cartum order number to name repair orders. Each store has its "
        "own, so that two stores never give two repairs the same reference.",
    )
    partner_scope = fields.Selection(
        [("company", "Of the store's company"), ("shared", "Shared by all companies")],
        string="Imported Contacts",
        required=True,
        default="company",
        help="Contacts the import creates belong to the store's company, and only its users "
        "see them; or they are shared, seen by the users of every company (Odoo's default "
        "for contacts). Either way, orders find the shared contacts and those of the store's "
        "company.",
    )
    responsible_user_ids = fields.Many2many(
        "res.users",
        string="Responsible Users",
        check_company=True,
        domain="[('share', '=', False)]",
        help="They follow every new order; the first one is made responsible for the repair.",
    )
    sync_interval = fields.Integer(
        string="Sync Every (minutes)", default=5, required=True, tracking=True
    )
    sync_paused = fields.Boolean(
        string="Pause Sync",
        tracking=True,
        help="Stops the store's scheduled jobs (import, status pushes, product refresh) "
        "without archiving the store.",
    )
    writeoff_read_days = fields.Integer(
        string="Read Written-off Orders For (days)",
        default=30,
        required=True,
        help="After a repair's parts are written off, its Cartum order is still read for this "
        "many days: a change made in Cartum is then noted in the chatter, not applied.",
    )
    imported_parts = fields.Selection(
        [("storable", "Tracked in stock"), ("consumable", "Not tracked (consumables)")],
        string="New Products From Cartum",
        required=True,
        default="storable",
        help="Products the import creates for lines with an article are tracked in stock, so "
        "that a repair's parts are reserved and written off from the stock count; or they are "
        "consumables, never counted. A line without an article (a service such as "
        "Diagnostics) is never tracked.",
    )
    update_product_data = fields.Boolean(
        string="Cartum updates product names and sale prices",
        help="When on, the product refresh also writes Cartum's current title (in the import "
        "language) and price to the product. When off, they are only shown on its Cartum link.",
    )
    stock_export = fields.Boolean(
        string="Send Stock to Cartum",
        help="When on, Cartum receives the quantity free to use (on hand minus reserved) of "
        "every product linked to the store, in the warehouse of its repair operation type. "
        "Only changes are sent.",
    )
    stock_kind = fields.Selection(
        [
            ("residues", "Warehouse stock in Cartum"),
            ("presence", "In stock / out of stock only"),
        ],
        string="Stock in Cartum",
        required=True,
        default="presence",
        help="A store that keeps stock per warehouse receives the quantity in its warehouse "
        "named below; one that does not receives the texts below.",
    )
    stock_warehouse_name = fields.Char(
        string="Cartum Warehouse",
        size=128,
        help="The name of the warehouse in Cartum that receives the quantities.",
    )
    presence_in_stock = fields.Char(
        string="In Stock Text", size=64, required=True, default="В наявності"
    )
    presence_out_of_stock = fields.Char(
        string="Out of Stock Text", size=64, required=True, default="Немає в наявності"
    )
    stock_signature = fields.Char(
        readonly=True,
        copy=False,
        help="The stock settings Cartum last received every product with.",
    )
    stock_linked_count = fields.Integer(string="Products Linked", compute="_compute_stock_state")
    stock_waiting_count = fields.Integer(
        string="Waiting to Be Sent", compute="_compute_stock_state"
    )
    stock_refused_count = fields.Integer(string="Refused by Cartum", compute="_compute_stock_state")
    requests_per_second = fields.Float(
        default=5.0,
        help="Ceiling on API calls per second to this store: from 0.5 to 50, or 0 for none.",
    )
    admin_order_url = fields.Char(
        string="Admin Order URL",
        required=True,
        default=DEFAULT_ADMIN_ORDER_URL,
        help="Page of one order in the store's admin. {url} is the website URL and "
        "{order_id} the order number. Default: " + DEFAULT_ADMIN_ORDER_URL,
    )
    cron_id = fields.Many2one("ir.cron", string="Scheduled Job", readonly=True, copy=False)
    import_requested_by = fields.Many2one(
        "res.users",
        compute="_compute_import_requested_by",
        help="Who last pressed Import Now, until the store's job starts: it names them as "
        "the run's starter.",
    )
    first_import_at = fields.Datetime(
        string="First Import Started",
        readonly=True,
        copy=False,
        help="Orders created before this moment and finished when read are never imported.",
    )
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
    states_sending_nothing = fields.Char(
        compute="_compute_states_sending_nothing",
        help="Repair states no Cartum status is mapped to: a repair entering them sends nothing.",
    )
    sync_run_ids = fields.One2many("cartum.sync.run", "store_id", string="Sync Runs")
    repair_count = fields.Integer(compute="_compute_repair_count")
    open_failure_count = fields.Integer(compute="_compute_dashboard")
    open_failures_label = fields.Char(string="Open Failures", compute="_compute_dashboard")
    pending_push_count = fields.Integer(compute="_compute_dashboard")
    pending_pushes_label = fields.Char(string="Pending Pushes", compute="_compute_dashboard")
    imported_today_count = fields.Integer(string="Imported Today", compute="_compute_dashboard")
    imported_week_count = fields.Integer(string="Imported in 7 Days", compute="_compute_dashboard")
    last_sync_at = fields.Datetime(string="Last Sync", compute="_compute_dashboard")
    last_run_state = fields.Selection(
        selection="_last_run_states", string="Last Run", compute="_compute_dashboard"
    )
    last_run_message = fields.Text(compute="_compute_dashboard")
    next_sync_at = fields.Datetime(string="Next Sync", related="cron_id.nextcall")

    _sync_interval_positive = compat.Constraint(
        "CHECK(sync_interval > 0)", "The sync interval must be positive."
    )

    @api.model
    def _tz_get(self):
        return [(tz, tz) for tz in sorted(pytz.all_timezones)]

    @api.model
    def _last_run_states(self):
        # In the user's language: a selection given by a method is not translated by Odoo.
        return self.env["cartum.sync.run"]._fields["state"]._description_selection(self.env)

    @api.model
    def _default_picking_type(self):
        return self.env["stock.picking.type"].search(
            [("code", "=", "repair_operation"), ("company_id", "=", self.env.company.id)], limit=1
        )

    def _compute_stock_state(self):
        Export = self.env["cartum.stock.export"]
        for store in self:
            state = Export._stock_state(store) if store.id else {}
            store.stock_linked_count = state.get("linked", 0)
            store.stock_waiting_count = state.get("waiting", 0)
            store.stock_refused_count = state.get("refused", 0)

    def _compute_repair_count(self):
        counts = dict(
            self.env["repair.order"]._read_group(
                [("cartum_store_id", "in", self.ids)], ["cartum_store_id"], ["__count"]
            )
        )
        for store in self:
            store.repair_count = counts.get(store, 0)

    def _compute_dashboard(self):
        def count_by_store(model, domain):
            return dict(
                self.env[model]._read_group(
                    [("store_id", "in", self.ids), *domain], ["store_id"], ["__count"]
                )
            )

        today = fields.Datetime.to_datetime(fields.Date.context_today(self))
        failures = count_by_store("cartum.sync.failure", [("state", "=", "open")])
        pushes = count_by_store("cartum.status.push", [("state", "=", "pending")])
        week_start = today - timedelta(days=6)
        imported = [
            (store, fields.Datetime.to_datetime(day), count)
            for store, day, count in self.env["repair.order"]._read_group(
                [("cartum_store_id", "in", self.ids), ("create_date", ">=", week_start)],
                ["cartum_store_id", "create_date:day"],
                ["__count"],
            )
        ]
        last_syncs = dict(
            self.env["cartum.sync.run"]._read_group(
                [("store_id", "in", self.ids), ("state", "in", ("done", "partial"))],
                ["store_id"],
                ["finished_at:max"],
            )
        )
        last_run_ids = dict(
            self.env["cartum.sync.run"]._read_group(
                [("store_id", "in", self.ids)], ["store_id"], ["id:max"]
            )
        )
        last_runs = self.env["cartum.sync.run"].browse(last_run_ids.values()).grouped("store_id")
        for store in self:
            last_run = last_runs.get(store, self.env["cartum.sync.run"])
            store.last_run_state = last_run.state
            store.last_run_message = last_run.message
            store.open_failure_count = failures.get(store, 0)
            store.pending_push_count = pushes.get(store, 0)
            store.open_failures_label = store._open_failures_label(store.open_failure_count)
            store.pending_pushes_label = store._pending_pushes_label(store.pending_push_count)
            store.imported_today_count = sum(
                count for s, day, count in imported if s == store and day >= today
            )
            store.imported_week_count = sum(count for s, _day, count in imported if s == store)
            store.last_sync_at = last_syncs.get(store)

    def init(self):
        # Import Now only adds a row here, which the store's job takes: a click never writes
        # nor locks the store's row, which a running job writes (no foreign key, whose check
        # would lock it).
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS cartum_store_import_request (
                id serial PRIMARY KEY,
                store_id integer NOT NULL,
                user_id integer NOT NULL
            )
            """
        )

    def _compute_import_requested_by(self):
        requesters = {}
        if self.ids:
            self.env.cr.execute(
                "SELECT store_id, user_id FROM cartum_store_import_request "
                "WHERE store_id IN %s ORDER BY id",
                (tuple(self.ids),),
            )
            requesters = dict(self.env.cr.fetchall())  # the last request of each store
        for store in self:
            store.import_requested_by = requesters.get(store.id, False)

    def _request_import(self):
        """Start the store's job now, naming the current user as the run's starter."""
        self.env.cr.execute(
            "INSERT INTO cartum_store_import_request (store_id, user_id) VALUES (%s, %s)",
            (self.id, self.env.uid),
        )
        self.invalidate_recordset(["import_requested_by"])
        self.sudo().cron_id._trigger()

    def _take_import_request(self):
        """The user who last asked for the store's import, their requests taken."""
        self.env.cr.execute(
            "DELETE FROM cartum_store_import_request WHERE store_id = %s RETURNING id, user_id",
            (self.id,),
        )
        requests = sorted(self.env.cr.fetchall())
        self.invalidate_recordset(["import_requested_by"])
        return self.env["res.users"].browse(requests[-1][1] if requests else []).exists()

    def _plural(self, count, forms):
        """The text of ``forms`` ({CLDR plural category: text}) that the language of the
        context uses for ``count``: English "1 failure, 2 failures", Ukrainian "1 збій,
        2 збої, 5 збоїв". Odoo's translations have no plural forms: a category other than
        one and other is a term of its own, "few|…", whose prefix is dropped."""
        try:
            category = babel.Locale.parse(self.env.lang or "en_US").plural_form(count)
        except (ValueError, babel.UnknownLocaleError):
            category = "one" if count == 1 else "other"
        text = forms.get(category) or forms["other"]
        return text.split("|", 1)[-1]

    def _open_failures_label(self, count):
        return self._plural(
            count,
            {
                "one": self.env._("%(count)s open failure", count=count),
                "few": self.env._("few|%(count)s open failures", count=count),
                "many": self.env._("many|%(count)s open failures", count=count),
                "other": self.env._("%(count)s open failures", count=count),
            },
        )

    def _pending_pushes_label(self, count):
        return self._plural(
            count,
            {
                "one": self.env._("%(count)s pending push", count=count),
                "few": self.env._("few|%(count)s pending pushes", count=count),
                "many": self.env._("many|%(count)s pending pushes", count=count),
                "other": self.env._("%(count)s pending pushes", count=count),
            },
        )

    @api.depends("status_mapping_ids.outbound_state")
    @api.depends_context("lang")
    def _compute_states_sending_nothing(self):
        states = self.env["cartum.status.mapping"]._repair_states()
        for store in self:
            sent = set(store.status_mapping_ids.mapped("outbound_state"))
            store.states_sending_nothing = (
                ", ".join(label for state, label in states if state not in sent)
                if store.status_mapping_ids
                else False
            )

    @api.depends("available_languages")
    @api.depends_context("lang")
    def _compute_available_languages_names(self):
        names = dict(self._fields["import_language"]._description_selection(self.env))
        for store in self:
            codes = [code for code in (store.available_languages or "").split(",") if code]
            store.available_languages_names = ", ".join(names.get(code, code) for code in codes)

    @api.constrains("admin_order_url")
    def _check_admin_order_url(self):
        for store in self:
            if store._admin_order_url("1", SAMPLE_STORE_URL) is None:
                raise ValidationError(
                    self.env._(
                        "The admin order URL of %(store)s must be an http:// or https:// "
                        "address, and may use only {url} and {order_id}.",
                        store=store.name,
                    )
                )

    @api.model
    def _free_order_prefix(self):
        """WEB- for the first store, then WEB2-, WEB3-…: the first one no store uses."""
        stores = self.sudo().with_context(active_test=False)
        used = set(stores.search([("order_prefix", "!=", False)]).mapped("order_prefix"))
        number = 1
        while (prefix := f"WEB{number if number > 1 else ''}-") in used:
            number += 1
        return prefix

    @api.constrains("order_prefix")
    def _check_order_prefix(self):
        Store = self.sudo().with_context(active_test=False)
        for store in self:
            prefix = store.order_prefix or ""
            # A prefix ending in a digit would run into the order number: WEB-1 + 001 could
            # be WEB- + 1001.
            if prefix[-1:].isdigit():
                raise ValidationError(
                    self.env._(
                        "The order prefix of %(store)s must not end with a digit, so that the "
                        "order number can be told apart from it.",
                        store=store.name,
                    )
                )
            other = Store.search(
                [("id", "!=", store.id), ("order_prefix", "=", store.order_prefix)], limit=1
            )
            if other:
                raise ValidationError(
                    self.env._(
                        "The order prefix %(prefix)s is already used by the store %(other)s: "
                        "give %(store)s another, so that two stores never name two repair "
                        "orders alike.",
                        prefix=prefix or self.env._("(none)"),
                        other=other.name,
                        store=store.name,
                    )
                )

    @api.constrains("url", "company_id")
    def _check_one_store_per_shop(self):
        Store = self.sudo().with_context(active_test=False)
        for store in self:
            shop = shop_address(store.url)
            others = Store.search(
                [("id", "!=", store.id), ("company_id", "=", store.company_id.id)]
            )
            other = others.filtered(lambda other, shop=shop: shop_address(other.url) == shop)[:1]
            if other:
                raise ValidationError(
                    self.env._(
                        "The store %(other)s already connects %(url)s in this company: one shop "
                        "is one store, or every order would be imported twice.",
                        other=other.name,
                        url=store.url,
                    )
                )

    @api.constrains("url")
    def _check_url(self):
        for store in self:
            parts = urlsplit(store.url or "")
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or any(char.isspace() for char in store.url)
            ):
                raise ValidationError(
                    self.env._(
                        "The website URL of %(store)s, %(url)s, is not a web address: enter "
                        "one such as https://myshop.com.",
                        store=store.name,
                        url=store.url,
                    )
                )
            store._check_store_address()

    def _check_store_address(self):
        """A store is called at a public https:// address only, never at Odoo itself, unless
        a Settings administrator allows local test stores. Checked on the addresses the host
        name resolves to now; each connection checks again the address it reaches."""
        own = shop_address(self.env["ir.config_parameter"].sudo().get_param("web.base.url"))
        if own and shop_address(self.url).split("/")[0] == own.split("/")[0]:
            raise ValidationError(
                self.env._(
                    "The website URL of %(store)s, %(url)s, is this Odoo's own address: enter "
                    "the store's.",
                    store=self.name,
                    url=self.url,
                )
            )
        problem = address_problem(self.url, allow_local=self._allow_local_stores())
        if not problem:
            return
        if problem[0] == "scheme":
            message = self.env._(
                "The website URL of %(store)s, %(url)s, must start with https://: the API "
                "login and password are sent to it.",
                store=self.name,
                url=self.url,
            )
        else:
            message = self.env._(
                "The website URL of %(store)s, %(url)s, leads to %(address)s, a local, private "
                "or reserved address: stores are called at public addresses only.",
                store=self.name,
                url=self.url,
                address=problem[1],
            )
        raise ValidationError(
            "\n".join(
                [
                    message,
                    self.env._(
                        "A test store on this machine or network needs a Settings "
                        "administrator to allow local test stores (Settings > Inventory > Cartum)."
                    ),
                ]
            )
        )

    @api.model
    def _allow_local_stores(self):
        """Whether a Settings administrator allows local test stores (plain http:// and local
        or private addresses)."""
        value = self.env["ir.config_parameter"].sudo().get_param(ALLOW_LOCAL_STORES_PARAM)
        return str2bool(value or "False", default=False)

    @api.constrains("requests_per_second")
    def _check_requests_per_second(self):
        for store in self:
            rate = store.requests_per_second
            if rate and not MIN_REQUESTS_PER_SECOND <= rate <= MAX_REQUESTS_PER_SECOND:
                raise ValidationError(
                    self.env._(
                        "The requests per second of %(store)s must be between %(min)s and "
                        "%(max)s, or 0 for no ceiling.",
                        store=store.name,
                        min=MIN_REQUESTS_PER_SECOND,
                        max=MAX_REQUESTS_PER_SECOND,
                    )
                )

    def _check_connector_fields(self, field_names):
        """What only the connector maintains (the connection's state, the import's progress,
        the store's job) is written as superuser; any user is refused, on every path."""
        forged = CONNECTOR_FIELDS & set(field_names)
        if forged and not self.env.su:
            raise AccessError(
                self.env._(
                    "These fields of a Cartum store are maintained by the connector only: "
                    "%(fields)s.",
                    fields=", ".join(sorted(self._fields[name].string for name in forged)),
                )
            )

    @api.model
    def _normalize_url(self, vals):
        """An address typed without its scheme (myshop.com) is taken as https://myshop.com."""
        url = (vals.get("url") or "").strip()
        if url and "://" not in url:
            url = f"https://{url}"
        if url:
            vals["url"] = url
        return vals

    @api.onchange("url")
    def _onchange_url(self):
        if self.url:
            self.url = self._normalize_url({"url": self.url})["url"]

    # -- scheduled job, one per store ---------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self._check_connector_fields({name for vals in vals_list for name in vals})
        if not self.env.su:  # nor given as defaults in the context, which are dropped
            self = self.with_context(  # pylint: disable=context-overridden
                {
                    key: value
                    for key, value in self.env.context.items()
                    if key.removeprefix("default_") not in CONNECTOR_FIELDS
                }
            )
        stores = super().create([self._normalize_url(dict(vals)) for vals in vals_list])
        stores._sync_cron()
        return stores

    def write(self, vals):
        self._check_connector_fields(vals)
        result = super().write(self._normalize_url(dict(vals)))
        if {"name", "active", "sync_interval", "sync_paused"} & set(vals):
            self._sync_cron()
        if {"url", "login", "password"} & set(vals):
            self.sudo().connection_state = "untested"
        if "stock_export" in vals:
            # Stock that moved while the store did not send it: all of it is sent again.
            self.sudo().stock_signature = False
        if "password" in vals:
            # Tracked without its value, which only Cartum administrators may read; logged, not
            # mailed, so that no sender address is needed to change credentials.
            for store in self:
                store._message_log(body=self.env._("The API password was changed."))
        return result

    def unlink(self):
        crons = self.sudo().cron_id
        store_ids = self.ids
        self.env["cartum.adapter"]._forget(self)
        result = super().unlink()
        crons.unlink()
        if store_ids:
            self.env.cr.execute(
                "DELETE FROM cartum_store_import_request WHERE store_id = ANY(%s)", (store_ids,)
            )
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
                "active": store.active and not store.sync_paused,
                "user_id": self.env.ref("base.user_root").id,
            }
            # As superuser: a Cartum administrator configures stores without being a Settings
            # administrator; the job's code is fixed, naming the store by its id only.
            if store.cron_id:
                store.cron_id.write(vals)
            else:
                store.cron_id = self.env["ir.cron"].sudo().create(vals)

    def _cron_sync(self):
        """The store's scheduled job. It never raises, so that Odoo never switches it off: a
        run that fails ends as failed in the sync log, with its reason."""
        for store in self.sudo().filtered(lambda s: s.active and not s.sync_paused):
            starter = store._take_import_request()
            # A store never tested is tested first: wrong settings stop it there, with what
            # to fix, instead of a first import failing on them.
            if store.connection_state == "untested" and not store._test_before_first_run(starter):
                continue
            self.env["cartum.importer"]._run(
                store, trigger="manual" if starter else "cron", commit=True, user=starter
            )

    def _test_before_first_run(self, starter):
        """Test the connection of a store never tested; if it fails, record why in the sync
        log, in the store's language, and return False."""
        store = self.with_context(lang=self._message_lang())
        message, level = store.env["cartum.adapter"]._check_connection(WorkContext(store))
        store.write(
            {
                "connection_state": "ok" if level != "danger" else "error",
                "connection_message": message,
            }
        )
        if level != "danger":
            return True
        run = store.env["cartum.sync.run"].create(
            {"store_id": store.id, "trigger": "first", "user_id": starter.id}
        )
        run._finish(
            "failed",
            store.env._(
                "Not imported: the connection test failed. %(reason)s Then press Test "
                "Connection on the store.",
                reason=message,
            ),
        )
        run._notify_starter()
        self.env.cr.commit()  # pylint: disable=invalid-commit
        return False

    @api.model
    def _cron_refresh_products(self):
        """Daily: every active store re-reads the catalog data of its linked products."""
        for store in self.search([("sync_paused", "=", False), ("connection_state", "=", "ok")]):
            store._refresh_products_scheduled()

    def _refresh_products_scheduled(self):
        """The daily refresh of one store: it waits for the store's import, and runs again
        when what the import committed meanwhile refuses it."""
        self.env["cartum.store.job"]._retry_transient(
            lambda: self.env["cartum.product.link"]._refresh_links(self, scheduled=True),
            f"Product refresh of Cartum store {self.id}",
            give_up_until="tomorrow",
        )

    # -- helpers --------------------------------------------------------------------------------

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

    def _message_lang(self):
        """The language of what the connector writes for this store (failure reasons, chatter
        notes), when installed: its first responsible user's; else its company's, unless that
        is Odoo's default English; else the one most of the store's Cartum administrators use;
        else English."""
        installed = {code for code, _name in self.env["res.lang"].get_installed()}
        company_lang = self.company_id.partner_id.lang
        admins = (
            self.env.ref("cartum_connector.group_cartum_manager")
            .sudo()[compat.USER_IDS]
            .filtered(lambda user: not user.share and self.company_id in user.company_ids)
        )
        admin_langs = Counter(lang for lang in admins.sorted("id").mapped("lang") if lang)
        candidates = [
            *self.responsible_user_ids.mapped("lang"),
            company_lang if company_lang != "en_US" else None,
            *(lang for lang, _count in admin_langs.most_common()),
        ]
        return next((lang for lang in candidates if lang in installed), "en_US")

    def _admin_order_url(self, order_id, store_url=None):
        """The order's page in the store's admin, or None when the template is not a safe
        http(s) address made of {url} and {order_id} only."""
        template = self.admin_order_url or DEFAULT_ADMIN_ORDER_URL
        try:
            fields_used = list(string.Formatter().parse(template))
        except ValueError:
            return None
        # Plain {url} and {order_id} only: a conversion or a format spec ({url!r}, {url:d},
        # {url:<99999}) could make format() fail or blow the link up.
        if any(
            (name is not None and name not in ("url", "order_id")) or spec or conversion
            for _text, name, spec, conversion in fields_used
        ):
            return None
        link = template.format(url=(store_url or self.url or "").rstrip("/"), order_id=order_id)
        return link if link.lower().startswith(("http://", "https://")) else None

    def action_test_connection(self):
        """Log in, read statuses and currencies, and say exactly what is wrong, if anything."""
        self.ensure_one()
        self._check_cartum_manager()
        message, level = self.env["cartum.adapter"]._check_connection(WorkContext.click(self))
        self.sudo().write(
            {
                "connection_state": "ok" if level != "danger" else "error",
                "connection_message": message,
            }
        )
        if level != "danger" and not self.import_cursor:
            # The first import starts now, in the background, with the mapping as it is.
            if self.sync_paused:
                first_import = self.env._(
                    "The sync is paused: the first import starts when it is resumed."
                )
            else:
                self._request_import()
                first_import = self.env._(
                    "The first import has started in the background with this status "
                    "mapping: follow it in the Sync Log."
                )
            message = f"{message}\n{first_import}"
        return self._cartum_notification(
            self.env._("Test Connection: %(store)s", store=self.name), message, level
        )

    def action_import_now(self):
        """Start the store's scheduled job now, in the background, and open the sync log."""
        self.ensure_one()
        self._check_cartum_manager()
        if self.sync_paused:
            raise UserError(
                self.env._(
                    "The sync of %(store)s is paused: resume it to import now.", store=self.name
                )
            )
        if self.connection_state == "untested":
            raise UserError(
                self.env._(
                    "%(store)s is not connected: its website URL, API login or password is new "
                    "or was changed, and the store's job imports nothing until it is tested. "
                    "Press Test Connection: when it succeeds, the import starts.",
                    store=self.name,
                )
            )
        self._request_import()
        action = self.action_view_sync_runs()
        # The list reloads until the job's run shows: one newer than the last run now.
        last_run = self.env["cartum.sync.run"].search([("store_id", "=", self.id)], limit=1)
        action["context"] = {**action["context"], "cartum_run_awaited_after": last_run.id or 0}
        return action

    def action_refresh_products(self):
        """Re-read from Cartum the catalog data of the store's linked products."""
        self.ensure_one()
        self._check_cartum_manager()
        message, level = self.env["cartum.product.link"]._refresh_links(self)
        return self._cartum_notification(
            self.env._("Product refresh: %(store)s", store=self.name), message, level
        )

    def action_send_stock_now(self):
        """Send the stock changes now, through the scheduled job: the click never waits on
        Cartum."""
        self._check_cartum_manager()
        if not self.filtered("stock_export"):
            raise UserError(
                self.env._("Switch on Send Stock to Cartum in the store's settings first.")
            )
        self.env.ref("cartum_connector.ir_cron_cartum_stock_export").sudo()._trigger()
        return self._cartum_notification(
            self.env._("Send Stock Now"),
            self.env._("The stock changes are being sent to Cartum in the background."),
            "success",
        )

    def action_view_refused_stock(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cartum_connector.cartum_product_link_action"
        )
        action["domain"] = [("store_id", "=", self.id), ("stock_refusal", "!=", False)]
        return action

    def action_toggle_pause(self):
        self._check_cartum_manager()
        for store in self:
            store.sync_paused = not store.sync_paused

    def action_open_import_wizard(self):
        self.ensure_one()
        self._check_cartum_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import Orders"),
            "res_model": "cartum.import.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_store_id": self.id},
        }

    def _action_of_store(self, xmlid, domain, context=None):
        """The window action ``xmlid``, narrowed to this store's records."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        action["context"] = context or {}
        return action

    def action_view_repairs(self):
        return self._action_of_store(
            "repair.action_repair_order_tree", [("cartum_store_id", "=", self.id)]
        )

    def action_view_sync_runs(self):
        return self._action_of_store(
            "cartum_connector.cartum_sync_run_action",
            [("store_id", "=", self.id)],
            {"create": False},
        )

    def action_view_pending_pushes(self):
        return self._action_of_store(
            "cartum_connector.cartum_status_push_action",
            [("store_id", "=", self.id), ("state", "=", "pending")],
        )

    def action_view_open_failures(self):
        return self._action_of_store(
            "cartum_connector.cartum_sync_failure_action",
            [("store_id", "=", self.id), ("state", "=", "open")],
        )
