"""State of one imitated Cartum store, plus the faults its server injects."""

import copy
import json
import os
import random
import re
import secrets
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FIRST_ORDER_ID = 1001
# Real stores refuse to edit an order once it is cancelled.
CANCELED_STATUS_ID = 4

STANDARD_STATUSES = (
    (1, {"ua": "Нове", "en": "New"}, False),
    (2, {"ua": "В обробці", "en": "Processing"}, False),
    (3, {"ua": "Виконано", "en": "Delivered"}, True),
    (4, {"ua": "Скасовано", "en": "Canceled"}, False),
    (6, {"ua": "Відправлено", "en": "Shipping"}, False),
)
CURRENCY_TITLES = {"UAH": "Гривня", "USD": "Долар США", "EUR": "Євро", "PLN": "Злотий"}
PAYMENT_TYPE = {"id": 1, "title": "Накладений платіж"}
TOTAL_KEYS = ("total_sum", "total_default", "total_quantity")
# Keys live stores add to every order (CARTUM-API.md, "What other integrators saw on live
# stores"), with what they hold on an order without a parcel, coupon or campaign yet.
LIVE_ORDER_KEYS = {
    "delivery_city_stable": "",
    "payment_price": 0,
    "coupon_percent": 0,
    "coupon_discount_value": 0,
    "coupon_type": "",
    "order_without_callback": 0,
    "manager_discount": 0,
    "manager_discount_title": "",
    "analytics": {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": 20261107},
    "delivery_data": {"tnNumber": "", "tnStatusName": "", "tnTrackingUpdateDate": ""},
}
LIVE_MONEY_KEYS = ("delivery_price", "total_sum", "total_default", "discount_value")
LIVE_LINE_MONEY_KEYS = ("price", "total_price")
# How a live store answers an expired or unknown token: Cartum's own status, HTTP 401, or ERROR.
# catalog/import's per-article codes: 0 = imported.
IMPORT_OK = 0
IMPORT_REFUSED = 1
IMPORT_BAD_ARTICLE = 2
PRESENCE_TEXTS = ("В наявності", "Немає в наявності", "Под заказ")
TOKEN_REFUSALS = ("UNAUTHORIZED", "HTTP 401", "ERROR")


def _money(value):
    return round(float(value), 2)


class Faults:
    """Transport faults the sandbox server injects; tests switch them per store."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.latency = 0.0
            self.error_rate = 0.0
            self.seed = 0
            self.max_body_bytes = 130_000
            self._random = random.Random(self.seed)
            self._random_seed = self.seed
            self._failures_left = 0
            self._failure_status = 503
            self._rate_limits_left = 0
            self._retry_after = 1
            self._drops_left = 0
            self._truncations_left = 0
            self._garbage_left = 0
            self._envelopes_left = 0
            self._envelope = None
            self._oversize_left = 0
            self._oversize = None
            self._deep_left = 0
            self._depth = 0
            self._bad_utf8_left = 0
            self._redirects_left = 0
            self._redirect = None
            self._call_failures = {}
            self._web_pages_left = 0
            self._web_page = None
            # Bytes of oversized answers the server handed to the socket: a client that stops
            # reading early keeps this far below the answer's size.
            self.streamed_bytes = 0

    def fail_next(self, n, status=503):
        with self._lock:
            self._failures_left = n
            self._failure_status = status

    def rate_limit_next(self, n, retry_after=1):
        with self._lock:
            self._rate_limits_left = n
            self._retry_after = retry_after

    def drop_next(self, n):
        with self._lock:
            self._drops_left = n

    def truncate_next(self, n):
        with self._lock:
            self._truncations_left = n

    def garbage_next(self, n):
        """The next n requests: HTTP 200 with valid JSON that is not Cartum's envelope."""
        with self._lock:
            self._garbage_left = n

    def envelope_next(self, n, status, message="", response=None):
        """The next n requests: HTTP 200 with this answer status (e.g. EXCEPTION) and message,
        or with ``response`` as given (e.g. a string where an object belongs)."""
        with self._lock:
            self._envelopes_left = n
            self._envelope = {
                "status": status,
                "response": {"message": message} if response is None else response,
            }

    def oversize_next(self, n, size_bytes, declare_length=True):
        """The next n requests: the real answer padded to ``size_bytes`` of valid JSON, streamed;
        with ``declare_length`` False it has no Content-Length (chunked)."""
        with self._lock:
            self._oversize_left = n
            self._oversize = (size_bytes, declare_length)

    def deep_next(self, n, depth):
        """The next n requests: the real answer plus a value that makes it ``depth`` levels deep."""
        with self._lock:
            self._deep_left = n
            self._depth = depth

    def bad_utf8_next(self, n):
        """The next n requests: the real answer in Windows-1251 while the header says UTF-8
        (only an answer with non-Latin text, e.g. a Cyrillic name, holds non-UTF-8 bytes)."""
        with self._lock:
            self._bad_utf8_left = n

    def redirect_next(self, n, location, status=307):
        """The next n requests: answered ``status`` (a redirect) to ``location``, as a store
        moved to https:// or behind a misconfigured proxy does; nothing is read nor applied."""
        with self._lock:
            self._redirects_left = n
            self._redirect = (status, location)

    def fail_call(self, function, nth=1, status="ERROR", message="Sandbox refused the call"):
        """The nth call of ``function`` from now is answered ``status`` with ``message``,
        unread and unapplied; calls of other functions do not count."""
        with self._lock:
            envelope = {"status": status, "response": {"message": message}}
            self._call_failures[function] = [nth, envelope]

    def web_page_next(self, n, body, status=200, content_type="text/html; charset=utf-8"):
        """The next n requests: ``body`` (bytes, e.g. a web page) with this HTTP status and
        declared type, as a proxy or a bot filter in front of the API answers."""
        with self._lock:
            self._web_pages_left = n
            self._web_page = (body, status, content_type)

    # The take_* methods are called by the server in the documented order; each consumes
    # one unit of its fault only when that fault fires.

    def _take(self, counter):
        """Consume one unit of a counted fault; True when it fires. Call with the lock held."""
        left = getattr(self, counter)
        if left > 0:
            setattr(self, counter, left - 1)
            return True
        return False

    def take_redirect(self):
        """(HTTP status, Location) of a redirect to answer now, or None."""
        with self._lock:
            return self._redirect if self._take("_redirects_left") else None

    def take_drop(self):
        with self._lock:
            return self._take("_drops_left")

    def take_server_error(self):
        """HTTP status of a 5xx to answer now, or None."""
        with self._lock:
            if self._take("_failures_left"):
                return self._failure_status
            if self.error_rate > 0:
                if self._random_seed != self.seed:  # a test changed the seed
                    self._random = random.Random(self.seed)
                    self._random_seed = self.seed
                if self._random.random() < self.error_rate:
                    return 500
            return None

    def take_web_page(self):
        """(body, HTTP status, content type) of an answer that is not the API's, or None."""
        with self._lock:
            return self._web_page if self._take("_web_pages_left") else None

    def take_rate_limit(self):
        """Retry-After seconds of a 429 to answer now, or None."""
        with self._lock:
            return self._retry_after if self._take("_rate_limits_left") else None

    def take_envelope(self):
        """A forced answer envelope to send now, or None."""
        with self._lock:
            return dict(self._envelope) if self._take("_envelopes_left") else None

    def take_call_failure(self, function):
        """A forced answer envelope for this call of ``function``, or None."""
        with self._lock:
            armed = self._call_failures.get(function)
            if armed is None:
                return None
            armed[0] -= 1
            if armed[0] > 0:
                return None
            del self._call_failures[function]
            return armed[1]

    def take_oversize(self):
        """(size in bytes, declare the length) of an oversized answer to send now, or None."""
        with self._lock:
            return self._oversize if self._take("_oversize_left") else None

    def take_deep(self):
        with self._lock:
            return self._depth if self._take("_deep_left") else None

    def take_bad_utf8(self):
        with self._lock:
            return self._take("_bad_utf8_left")

    def note_streamed(self, size):
        with self._lock:
            self.streamed_bytes += size

    def take_garbage(self):
        with self._lock:
            return self._take("_garbage_left")

    def take_truncation(self):
        with self._lock:
            return self._take("_truncations_left")


class SandboxStore:
    """Orders, products, statuses and tokens of one store; every access holds one lock.

    The attributes below say where this store speaks like the live stores other integrators
    measured rather than like the documentation; ``speak_like_live_store()`` switches all of
    them, a test may switch each one.
    """

    # Category paths in catalog/export: "A/B" here, "A \\ B" on live stores.
    category_separator = "/"
    # catalog/export gives `parent` as {"id": N}, a section of pages/export.
    sections_as_parent = False
    # One of TOKEN_REFUSALS, and the message an ERROR refusal says.
    token_refusal = "UNAUTHORIZED"
    token_refusal_message = "Токен недійсний або прострочений"
    # A body that is not JSON: ERROR here, HTTP_ERROR (with a code) on live stores.
    payload_error_status = "ERROR"
    # A bot filter answers the default python-requests User-Agent with a web page.
    bot_filter = False
    # Orders carry the keys of LIVE_ORDER_KEYS, additional_data, and money as integers.
    live_orders = False
    # catalog/import: a store with warehouse accounting takes `residues` for its warehouses;
    # one without takes `presence`, one of PRESENCE_TEXTS.
    warehouse_stock = False
    warehouses = ("Основний склад",)
    # Seconds each catalog/import call takes before it is applied.
    import_delay = 0

    def __init__(
        self,
        login="api",
        password="secret",
        currency="UAH",
        languages=("ua", "en", "ru"),
        enabled_languages=("ua", "en"),
        timezone="Europe/Kyiv",
        api_enabled=True,
        supports_statuses=True,
        token_lifetime=600.0,
    ):
        self.login = login
        self.password = password
        self.currency = currency
        self.languages = tuple(languages)
        self.enabled_languages = tuple(enabled_languages)
        self.timezone = timezone
        self.api_enabled = api_enabled
        self.supports_statuses = supports_statuses
        self.token_lifetime = token_lifetime
        self.faults = Faults()
        self.statuses = {}
        self.orders = {}
        self.products = {}
        self.currencies = [
            {
                "id": 1,
                "iso": currency,
                "title": CURRENCY_TITLES.get(currency, currency),
                "rate": 1.0,
                "enabled": 1,
                "default": 1,
            }
        ]
        self.status_updates = []
        self.requests = []
        self._lock = threading.Lock()
        self._token_expiry = {}
        self._next_order_id = FIRST_ORDER_ID
        # Real stores give a new `user` to each order, even for the same person.
        self._next_user_id = 5001
        self._delivery_type_ids = {}
        # Catalog sections of pages/export: {id: {"id", "parent", "title": {lang: text}}}.
        self.sections = {}
        # catalog/import: {article: message} refused whatever they carry; every import asked.
        self.import_refusals = {}
        self.stock_imports = []
        for status_id, titles, is_successful in STANDARD_STATUSES:
            self.add_status(status_id, titles, is_successful)

    # --- kept across restarts -------------------------------------------------------------

    def __getstate__(self):
        """The store's data; its lock, tokens, faults and request log are this run's only."""
        state = dict(self.__dict__)
        for transient in ("_lock", "_token_expiry", "faults", "requests"):
            del state[transient]
        return state

    def __setstate__(self, state):
        state.setdefault("sections", {})  # kept by an older sandbox
        state.setdefault("import_refusals", {})
        state.setdefault("stock_imports", [])
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._token_expiry = {}
        self.faults = Faults()
        self.requests = []

    def snapshot(self):
        """A copy of the store's data, for ``restore``."""
        with self._lock:
            return copy.deepcopy(self.__getstate__())

    def restore(self, snapshot):
        """Put back the data of a ``snapshot`` (which stays as it is), with no fault armed and
        an empty request log; the tokens issued stay valid."""
        state = copy.deepcopy(snapshot)
        with self._lock:
            self.__dict__.update(state)
            self.faults.reset()
            self.requests.clear()

    def save(self, path):
        """Write the store's data to ``path``, as JSON, for load() after a restart."""
        with self._lock:
            data = json.dumps(self.__getstate__(), ensure_ascii=False)
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as file:
            file.write(data)
        os.replace(partial, path)  # a stop half-way never leaves a broken file

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as file:
            state = json.load(file)
        # JSON gives text keys and lists: orders and statuses are keyed by their number.
        for numbered in ("statuses", "orders", "sections"):
            numbers = state.get(numbered, {})
            state[numbered] = {int(key): value for key, value in numbers.items()}
        for languages in ("languages", "enabled_languages"):
            state[languages] = tuple(state[languages])
        store = cls.__new__(cls)
        store.__setstate__(state)
        return store

    # --- set-up helpers for seeds and tests -------------------------------------------

    def now(self):
        """Current store-local time, naive and rounded to seconds like stat_created."""
        local = datetime.now(ZoneInfo(self.timezone))
        return local.replace(tzinfo=None, microsecond=0)

    def add_status(self, status_id, titles, is_successful=False):
        status = {"id": status_id, "title": dict(titles), "is_successful": int(is_successful)}
        with self._lock:
            self.statuses[status_id] = status
        return status

    def add_currency(self, iso, rate, title=None):
        with self._lock:
            currency = {
                "id": len(self.currencies) + 1,
                "iso": iso,
                "title": title or CURRENCY_TITLES.get(iso, iso),
                "rate": float(rate),
                "enabled": 1,
                "default": 0,
            }
            self.currencies.append(currency)
        return currency

    def add_product(
        self,
        article,
        titles,
        price,
        descriptions=None,
        category="Запчастини",
        parent_article="",
    ):
        # Texts are kept for every language; catalog/export blanks the disabled ones, so a
        # test can switch a language off after seeding.
        descriptions = descriptions or {}
        product = {
            "article": article,
            "parent_article": parent_article,
            "title": {lang: titles.get(lang, "") for lang in self.languages},
            "description": {lang: descriptions.get(lang, "") for lang in self.languages},
            "price": _money(price),
            "parent": category,
            "presence": "В наявності",
            "quantity": 0,
            "residues": {},
            "display_in_showcase": 1,
        }
        with self._lock:
            self.products[article] = product
        return product

    def speak_like_live_store(self, token_refusal="HTTP 401"):
        """Answer as the live stores measured do, where they differ from the documentation."""
        self.category_separator = " \\ "
        self.sections_as_parent = True
        self.token_refusal = token_refusal
        self.payload_error_status = "HTTP_ERROR"
        self.bot_filter = True
        self.live_orders = True

    def add_section(self, titles, parent=0, section_id=None):
        """A catalog section (or content page) under ``parent`` (0: the root); returns its id.
        ``titles``: {lang: text}. Products are put in one with ``category={"id": its id}``."""
        with self._lock:
            return self._add_section(dict(titles), parent, section_id)

    def apply_coupon(self, order_id, code, percent):
        """A coupon on the order: Cartum takes it off the total, not off the lines."""
        with self._lock:
            order = self.orders[order_id]
            order.update(coupon_code=code, coupon_percent=percent, coupon_type="percent")
            self._recompute_totals(order)

    def track_parcel(self, order_id, status_name, number="20450000000001"):
        """The parcel's tracking moved on, as live stores write it into the order."""
        with self._lock:
            self.orders[order_id]["delivery_data"] = {
                "tnNumber": number,
                "tnStatusName": status_name,
                "tnTrackingUpdateDate": self.now().strftime(DATETIME_FORMAT),
            }

    def remove_product(self, article):
        """Take a product out of the catalog (KeyError when there is none); orders keep it."""
        with self._lock:
            del self.products[article]

    def add_order(
        self,
        order_id=None,
        *,
        lines,
        status=1,
        created=None,
        customer_name="Олена Петренко",
        phone="+380 67 123 45 67",
        email="",
        currency=None,
        delivery_type="Нова Пошта",
        delivery_price=-1,
        city="Київ",
        address="",
        comment="",
    ):
        created = created or self.now()
        with self._lock:
            # A line is (article, quantity[, price]) or a dict of _make_line's arguments.
            # KeyError (unknown article) before any change.
            order_lines = [
                self._make_line(**line) if isinstance(line, dict) else self._make_line(*line)
                for line in lines
            ]
            if order_id is None:
                order_id = self._next_order_id
                while order_id in self.orders:  # a test may have inserted orders directly
                    order_id += 1
            self._next_order_id = max(self._next_order_id, order_id + 1)
            delivery_type_id = self._delivery_type_ids.setdefault(
                delivery_type, len(self._delivery_type_ids) + 1
            )
            order = {
                "order_id": order_id,
                "stat_status": status,
                "stat_created": created.strftime(DATETIME_FORMAT),
                "currency": currency or self.currency,
                "delivery_name": customer_name,
                "delivery_email": email,
                "delivery_phone": phone,
                "delivery_city": city,
                "delivery_address": address,
                "delivery_type": {"id": delivery_type_id, "title": delivery_type},
                "delivery_price": _money(delivery_price),
                "payment_type": dict(PAYMENT_TYPE),
                "payed": 0,
                "total_sum": 0.0,
                "total_default": 0.0,
                "total_quantity": 0,
                "discount_percent": 0,
                "discount_value": 0,
                "coupon_code": "",
                "comment": comment,
                "manager_id": 0,
                "manager_comment": "",
                "user": self._next_user_id,
                "products": order_lines,
            }
            self._next_user_id += 1
            self._recompute_totals(order)
            self.orders[order_id] = order
        return order

    def set_line_quantity(self, order_id, article, quantity):
        with self._lock:
            order = self.orders[order_id]
            line = self._find_line(order, article)
            if quantity == 0:
                order["products"].remove(line)
            else:
                line["quantity"] = int(quantity)
                line["total_price"] = _money(line["price"] * line["quantity"])
            self._recompute_totals(order)

    def add_line(self, order_id, article, quantity, price=None):
        with self._lock:
            order = self.orders[order_id]
            if any(line["article"] == article for line in order["products"]):
                raise ValueError(f"{article} is already on order {order_id}")
            order["products"].append(self._make_line(article, quantity, price))
            self._recompute_totals(order)

    def remove_line(self, order_id, article):
        self.set_line_quantity(order_id, article, 0)

    def set_line_price(self, order_id, article, price):
        with self._lock:
            order = self.orders[order_id]
            line = self._find_line(order, article)
            line["price"] = _money(price)
            line["total_price"] = _money(line["price"] * line["quantity"])
            self._recompute_totals(order)

    def set_status(self, order_id, status_id):
        with self._lock:
            if status_id not in self.statuses:
                raise KeyError(f"unknown status {status_id}")
            self.orders[order_id]["stat_status"] = status_id

    def edit_order(self, order_id, **fields):
        """Set top-level keys as given, possibly to invalid values on purpose.

        Totals follow the lines, except when the caller sets the lines or a total itself.
        """
        with self._lock:
            order = self.orders[order_id]
            order.update(fields)
            if "products" not in fields and not any(key in fields for key in TOTAL_KEYS):
                self._recompute_totals(order)

    def issue_token(self):
        token = secrets.token_hex(16)
        with self._lock:
            self._token_expiry[token] = time.monotonic() + self.token_lifetime
        return token

    def expire_tokens(self):
        with self._lock:
            self._token_expiry.clear()

    # --- edits from the admin pages (admin.py) ------------------------------------------

    def set_quantities(self, order_id, articles, quantities):
        """Set the quantity of each line of an order, by the line's position; 0 removes it.
        ``articles`` are the lines' articles as the caller saw them: when the order's are no
        longer those, ValueError and nothing changed."""
        with self._lock:
            order = self.orders[order_id]
            if [line["article"] for line in order["products"]] != list(articles):
                raise ValueError(
                    f"Order {order_id} changed since its page was loaded: reload it."
                )
            kept = []
            for line, quantity in zip(order["products"], quantities, strict=True):
                if quantity:
                    line["quantity"] = int(quantity)
                    line["total_price"] = _money(line["price"] * line["quantity"])
                    kept.append(line)
            order["products"] = kept
            self._recompute_totals(order)

    def catalog_titles(self, language):
        """(article, title in ``language``) of every catalog product, by article."""
        with self._lock:
            return [
                (article, self.products[article]["title"].get(language, ""))
                for article in sorted(self.products)
            ]

    # --- used by the server -----------------------------------------------------------

    def record_request(self, function):
        with self._lock:
            self.requests.append(function)

    def token_is_valid(self, token):
        with self._lock:
            expiry = self._token_expiry.get(token)
        return expiry is not None and time.monotonic() < expiry

    def find_orders(self, start=None, end=None, ids=None, statuses=None, offset=0, limit=None):
        """Deep copies of matching orders, by (stat_created, order_id).

        start and end are inclusive "YYYY-MM-DD HH:MM:SS" strings; that format sorts like
        the dates it holds.
        """
        with self._lock:
            candidates = (
                [self.orders[i] for i in ids if i in self.orders]
                if ids is not None
                else list(self.orders.values())
            )
            found = [
                order
                for order in candidates
                if (start is None or order["stat_created"] >= start)
                and (end is None or order["stat_created"] <= end)
                and (statuses is None or order["stat_status"] in statuses)
            ]
            found.sort(key=lambda order: (order["stat_created"], order["order_id"]))
            if limit is not None:
                found = found[offset : offset + limit]
            found = copy.deepcopy(found)
        if self.live_orders:
            for order in found:
                _as_live_order(order)
        return found

    def status_snapshot(self):
        with self._lock:
            return copy.deepcopy(self.statuses)

    def apply_status_update(self, order_id, status_id, tracking_code=None):
        """Change an order's status as a client asked; returns an error message or None."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                return f"Order {order_id} not found"
            if status_id not in self.statuses:
                return f"Status {status_id} does not exist"
            if order["stat_status"] == CANCELED_STATUS_ID:
                return f"Order {order_id} is canceled and cannot be edited"
            order["stat_status"] = status_id
            self.status_updates.append(
                {"order_id": order_id, "status": status_id, "tracking_code": tracking_code}
            )
            return None

    def export_products(self, articles=None, offset=0, limit=500):
        """Products sorted by article, with disabled languages blanked as the store does."""
        with self._lock:
            if articles is None:
                chosen = sorted(self.products)
            else:
                chosen = sorted(set(articles) & self.products.keys())
            page = copy.deepcopy([self.products[a] for a in chosen[offset : offset + limit]])
            enabled = set(self.enabled_languages)
            for product in page:
                product["parent"] = self._exported_parent(product["parent"])
        for product in page:
            for field in ("title", "description"):
                product[field] = {
                    lang: text if lang in enabled else "" for lang, text in product[field].items()
                }
        return page

    def import_product_stock(self, entry):
        """Apply one product of a catalog/import call; returns (code, message), 0 = imported.
        Only stock is taken here: an article the catalog lacks is refused, as a new product
        would need its title."""
        article = entry.get("article") if isinstance(entry, dict) else None
        if not isinstance(article, str) or not article:
            return IMPORT_BAD_ARTICLE, "Each product needs an article"
        with self._lock:
            self.stock_imports.append(copy.deepcopy(entry))
            product = self.products.get(article)
            if article in self.import_refusals:
                return IMPORT_REFUSED, self.import_refusals[article]
            if product is None:
                return IMPORT_REFUSED, f"Product {article} not found: a new product needs a title"
            if "residues" in entry:
                problem = self._residues_problem(entry["residues"])
                if problem:
                    return IMPORT_REFUSED, problem
                for residue in entry["residues"]:
                    product["residues"][residue["warehouse"]] = residue["quantity"]
                product["quantity"] = sum(product["residues"].values())
                product["presence"] = PRESENCE_TEXTS[0 if product["quantity"] > 0 else 1]
            if "presence" in entry:
                if entry["presence"] not in PRESENCE_TEXTS:
                    return IMPORT_REFUSED, f"Unknown presence {entry['presence']!r}"
                product["presence"] = entry["presence"]
            return IMPORT_OK, "Product updated"

    def _residues_problem(self, residues):
        if not self.warehouse_stock:
            return "Warehouse accounting is off in this store: residues cannot be set"
        if not isinstance(residues, list):
            return "residues must be a list"
        for residue in residues:
            if not isinstance(residue, dict):
                return f"Invalid residue {residue!r}"
            if residue.get("warehouse") not in self.warehouses:
                return f"Unknown warehouse {residue.get('warehouse')!r}"
            quantity = residue.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity < 0:
                return f"Invalid quantity {quantity!r}"
        return None

    def stock_snapshot(self):
        """(article, presence, quantity, residues) of every catalog product, by article."""
        with self._lock:
            return [
                (article, p["presence"], p.get("quantity", 0), dict(p.get("residues", {})))
                for article, p in sorted(self.products.items())
            ]

    def export_sections(self, parent=0):
        """The sections under ``parent``, with disabled languages blanked."""
        with self._lock:
            found = copy.deepcopy(
                [
                    self.sections[i]
                    for i in sorted(self.sections)
                    if self.sections[i]["parent"] == parent
                ]
            )
            enabled = set(self.enabled_languages)
        for section in found:
            section["title"] = {
                lang: text if lang in enabled else "" for lang, text in section["title"].items()
            }
        return found

    def currency_snapshot(self):
        with self._lock:
            return copy.deepcopy(self.currencies)

    # --- internals (callers hold the lock) --------------------------------------------

    def _add_section(self, titles, parent, section_id=None):
        section_id = section_id or max(self.sections, default=0) + 1
        titles = {lang: titles.get(lang, "") for lang in self.languages}
        self.sections[section_id] = {"id": section_id, "parent": parent, "title": titles}
        return section_id

    def _exported_parent(self, parent):
        """A product's stored category ("A/B" or "A \\ B", or {"id": N} as set) as this store
        exports it."""
        if not isinstance(parent, str) or not parent:
            return parent
        names = [name.strip() for name in re.split(r"[/\\]", parent) if name.strip()]
        if not self.sections_as_parent:
            return self.category_separator.join(names)
        section_id = 0
        for name in names:  # the section of each level, made on first export
            section_id = next(
                (
                    other["id"]
                    for other in self.sections.values()
                    if other["parent"] == section_id and name in other["title"].values()
                ),
                None,
            ) or self._add_section(dict.fromkeys(self.languages, name), section_id)
        return {"id": section_id}

    def _make_line(self, article="", quantity=1, price=None, title=None):
        """A line of a catalog product, or, given a title and a price, of anything at all
        (a service line without article, an article the catalog no longer has)."""
        product = self.products[article] if title is None or price is None else None
        price = product["price"] if price is None else _money(price)
        if title is None:
            title = product["title"].get(self.enabled_languages[0], "")
        return {
            "article": article,
            "title": title,
            "price": price,
            "quantity": int(quantity),
            "total_price": _money(price * int(quantity)),
            "discount_marker": "",
            "type": "product",
            "storage_id": 1,
            "parent_storage_id": 0,
        }

    @staticmethod
    def _find_line(order, article):
        for line in order["products"]:
            if line["article"] == article:
                return line
        raise KeyError(f"{article} is not on order {order['order_id']}")

    @staticmethod
    def _recompute_totals(order):
        total = _money(sum(line["total_price"] for line in order["products"]))
        coupon = round(total * order.get("coupon_percent", 0) / 100)
        if coupon:
            order["coupon_discount_value"] = coupon
        order["total_sum"] = _money(total - coupon)
        order["total_default"] = total
        order["total_quantity"] = sum(line["quantity"] for line in order["products"])


def _as_live_order(order):
    """An order as live stores send it: their extra keys, and money as whole numbers."""
    for key, value in LIVE_ORDER_KEYS.items():
        order.setdefault(key, copy.deepcopy(value))
    # PHP gives an empty array for empty additional data, an object otherwise.
    order.setdefault("additional_data", {"source": "site"} if order["order_id"] % 2 else [])
    lines = [line for line in order.get("products") or [] if isinstance(line, dict)]
    for record, keys in (
        (order, LIVE_MONEY_KEYS),
        *((line, LIVE_LINE_MONEY_KEYS) for line in lines),
    ):
        for key in keys:
            value = record.get(key)
            if isinstance(value, float) and value.is_integer():
                record[key] = int(value)
