"""Typed records parsed and validated from Cartum's JSON answers.

Every parser either returns a record or raises InvalidPayload naming the record and the field;
``parse_orders`` keeps the good orders of a page and lists the bad ones separately. Inside an
order, one odd line never rejects the order: it is left out and described in ``skipped_lines``.
"""

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from .customer import FIRST_LAST, split_full_name
from .errors import InvalidOrder, InvalidPayload

CARTUM_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_MISSING = object()
# Order digests start with this: a digest without it was made by version 1.2 of the connector,
# of the whole payload.
DIGEST_PREFIX = "v2:"
# Horoshop writes category paths "A \\ B" (spaces or not); older data "A/B".
_PATH_SEPARATORS = re.compile(r"\s*[\\/]\s*")
# Documented sizes: a text field of an order, product or status longer than MAX_FIELD_CHARS,
# or an order of more than MAX_ORDER_LINES lines, makes that record an error (the order a
# recorded failure), never a huge record.
MAX_FIELD_CHARS = 100_000
MAX_ORDER_LINES = 500
MAX_INTEGER = 2**31 - 1  # ids and statuses: what a database integer holds
# How much of a bad value an error message quotes.
SHOWN_VALUE_CHARS = 80


def _shown(value):
    """A bad value as an error message quotes it: its repr, cut."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else f"{text[:SHOWN_VALUE_CHARS]}…"


@dataclass(frozen=True)
class OrderLine:
    article: str
    title: str
    price: float
    quantity: float
    total_price: float


@dataclass(frozen=True)
class Delivery:
    method: str
    price: float | None  # None where Cartum says -1: not calculated
    city: str
    address: str

    def summary_lines(self):
        """Human-readable lines, empty when the order carries no delivery data."""
        lines = []
        if self.method:
            lines.append(self.method)
        if self.price is not None:
            lines.append(f"{self.price:.2f}")
        place = ", ".join(part for part in (self.city, self.address) if part)
        if place:
            lines.append(place)
        return lines


@dataclass(frozen=True)
class Discount:
    """An order-level discount, which Cartum takes off the total but not off the lines."""

    coupon_code: str = ""
    amount: float = 0.0
    percent: float = 0.0


@dataclass(frozen=True)
class Customer:
    full_name: str
    first_name: str
    last_name: str
    phone: str
    email: str


@dataclass(frozen=True)
class Order:
    order_id: int
    status_id: int
    created: datetime  # naive, in the store's local time
    currency: str
    customer: Customer
    delivery: Delivery
    total_sum: float
    lines: tuple[OrderLine, ...]
    comment: str
    # One human text per line that could not be read, e.g. "products[2] ('Gift box'): ..."
    skipped_lines: tuple[str, ...] = ()
    discount: Discount = field(default_factory=Discount)

    @property
    def digest(self):
        """Changes when anything the connector reads of the order changes, and only then: a
        parcel's tracking or the order's analytics moving leave it as it was."""
        return DIGEST_PREFIX + payload_digest(asdict(self), default=str)


@dataclass(frozen=True)
class Page:
    """What parsing one answer gave: the usable records and one error per bad record."""

    items: list = field(default_factory=list)
    errors: list[InvalidPayload] = field(default_factory=list)

    def extend(self, other):
        self.items.extend(other.items)
        self.errors.extend(other.errors)


@dataclass(frozen=True)
class Status:
    status_id: int
    titles: dict[str, str]
    is_successful: bool

    def title(self, language):
        """The title in ``language``, else the first non-empty one, else the id."""
        if self.titles.get(language):
            return self.titles[language]
        return next((text for text in self.titles.values() if text), str(self.status_id))


@dataclass(frozen=True)
class Product:
    article: str
    parent_article: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    price: float
    category_path: tuple[str, ...]
    availability: str = ""  # the store's own words, e.g. "В наявності"; "" when not sent
    # The catalog section given as {"id": 17} instead of a path: pages/export names it.
    section_id: int | None = None

    @property
    def category_name(self):
        return self.category_path[-1] if self.category_path else ""


@dataclass(frozen=True)
class Section:
    """A catalog section of ``pages/export``; parent 0 is the catalog's root."""

    section_id: int
    parent_id: int
    titles: dict[str, str]

    def title(self, language):
        """The title in ``language``, else the first non-empty one, else empty."""
        return self.titles.get(language) or next(
            (text for text in self.titles.values() if text), ""
        )


def section_path(sections, section_id, language):
    """The path of titles, from the root, of section ``section_id`` among ``sections``
    ({id: Section}), in ``language``; None when it or one of its parents is unknown, has no
    title, or the parents loop."""
    path = []
    seen = set()
    while section_id:
        section = sections.get(section_id)
        if section is None or section_id in seen:
            return None
        title = section.title(language).strip()
        if not title:
            return None
        seen.add(section_id)
        path.append(title)
        section_id = section.parent_id
    return tuple(reversed(path)) or None


@dataclass(frozen=True)
class Currency:
    currency_id: int
    iso: str
    title: str
    enabled: bool
    is_default: bool


@dataclass(frozen=True)
class StatusUpdateResult:
    order_id: int
    ok: bool
    message: str = ""
    # False when the update never reached Cartum (the call failed): send it again later.
    # ok=False with delivered=True means Cartum refused this order's status.
    delivered: bool = True


@dataclass(frozen=True)
class StockImportResult:
    """Cartum's answer to one product of ``catalog/import``: ``code`` 0 means taken.
    ``delivered`` is False when the call failed: the product was not sent, send it again."""

    article: str
    ok: bool
    code: int | None = None
    message: str = ""
    delivered: bool = True


def payload_digest(payload, default=None):
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default
    )
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()


class _FieldReader:
    """Reads typed fields out of one JSON object, raising InvalidPayload that names them."""

    def __init__(self, error_factory, data, prefix=""):
        self.error_factory = error_factory
        self.data = data
        self.prefix = prefix

    def _fail(self, name, problem):
        raise self.error_factory(self.prefix + name, problem)

    def _get(self, name, default):
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                self._fail(name, "is missing")
            return default
        return value

    def integer(self, name, default=_MISSING):
        value = self._get(name, default)
        if isinstance(value, bool):
            self._fail(name, f"is not a whole number: {_shown(value)}")
        try:
            number = int(str(value).strip())
        except ValueError:
            self._fail(name, f"is not a whole number: {_shown(value)}")
        if abs(number) > MAX_INTEGER:
            self._fail(name, f"is out of range: {_shown(value)}")
        return number

    def number(self, name, default=_MISSING):
        value = self._get(name, default)
        if isinstance(value, bool):
            self._fail(name, f"is not a number: {_shown(value)}")
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            self._fail(name, f"is not a number: {_shown(value)}")
        if not math.isfinite(number):
            self._fail(name, f"is not a finite number: {_shown(value)}")
        return number

    def text(self, name, default=_MISSING, required=False):
        value = self._get(name, default)
        if isinstance(value, (dict, list)):
            self._fail(name, f"is not text: {_shown(value)}")
        text = self._bounded(name, str(value).strip())
        if required and not text:
            self._fail(name, "is empty")
        return text

    def _bounded(self, name, text):
        if len(text) > MAX_FIELD_CHARS:
            self._fail(name, f"is longer than {MAX_FIELD_CHARS} characters ({len(text)})")
        return text

    def datetime(self, name):
        value = self.text(name, required=True)
        for fmt in (CARTUM_DATETIME_FORMAT, "%Y-%m-%d"):
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        self._fail(name, f"is not a date and time: {_shown(value)}")

    def titled(self, name):
        """Cartum sends some references as {"id": .., "title": ..}; older stores as plain text."""
        value = self.data.get(name)
        if isinstance(value, dict):
            return self._bounded(name, str(value.get("title") or "").strip())
        return self._bounded(name, str(value or "").strip())

    def translations(self, name):
        value = self.data.get(name)
        if value in (None, ""):
            return {}
        if isinstance(value, str):
            return {"": self._bounded(name, value)}
        if not isinstance(value, dict):
            self._fail(name, f"is not a set of translations: {_shown(value)}")
        return {
            self._bounded(name, str(lang))[:16]: self._bounded(name, str(text or ""))
            for lang, text in value.items()
        }


def parse_order(data, name_order=FIRST_LAST):
    """Validate one order of ``orders/get`` and return an Order, or raise InvalidOrder."""
    if not isinstance(data, dict):
        raise InvalidOrder(None, "order", f"is not an object: {_shown(data)}")
    raw_id = data.get("order_id")

    def order_error(field_name, problem):
        return InvalidOrder(raw_id, field_name, problem)

    reader = _FieldReader(order_error, data)
    order_id = reader.integer("order_id")
    if order_id <= 0:
        raise order_error("order_id", f"is not a positive number: {order_id}")
    raw_lines = data.get("products") or []
    if not isinstance(raw_lines, list):
        raise order_error("products", "is not a list")
    if len(raw_lines) > MAX_ORDER_LINES:
        raise order_error(
            "products",
            f"has {len(raw_lines)} lines, more than the {MAX_ORDER_LINES} an order may have",
        )
    lines, skipped = [], []
    for index, raw_line in enumerate(raw_lines):
        try:
            lines.append(_parse_line(raw_line))
        except _BadLine as problem:
            skipped.append(f"{_line_label(index, raw_line)}: {problem}")
    full_name = reader.text("delivery_name", "")
    first_name, last_name = split_full_name(full_name, name_order)
    delivery_price = reader.number("delivery_price", -1.0)
    return Order(
        order_id=order_id,
        status_id=reader.integer("stat_status"),
        created=reader.datetime("stat_created"),
        currency=reader.text("currency", required=True).upper(),
        customer=Customer(
            full_name=full_name,
            first_name=first_name,
            last_name=last_name,
            phone=reader.text("delivery_phone", ""),
            email=reader.text("delivery_email", ""),
        ),
        delivery=Delivery(
            method=reader.titled("delivery_type"),
            price=None if delivery_price < 0 else delivery_price,
            city=reader.text("delivery_city", ""),
            address=reader.text("delivery_address", ""),
        ),
        total_sum=reader.number("total_sum", sum(line.total_price for line in lines)),
        lines=tuple(lines),
        comment=reader.text("comment", ""),
        skipped_lines=tuple(skipped),
        discount=_parse_discount(reader),
    )


def _parse_discount(reader):
    """The coupon's code and value, else the order's discount value, else what the totals
    before and after order-level discounts differ by."""

    def number(name, default=0.0):
        # Read only to be shown: an odd value is no reason to refuse the order.
        try:
            return reader.number(name, default)
        except InvalidOrder:
            return default

    amount = number("coupon_discount_value") or number("discount_value")
    if amount <= 0:
        total_default = number("total_default")
        amount = max(total_default - number("total_sum", total_default), 0.0)
    coupon_code = reader.data.get("coupon_code")
    return Discount(
        coupon_code=_plain_text(coupon_code) if not isinstance(coupon_code, (dict, list)) else "",
        amount=round(amount, 2),
        percent=number("coupon_percent") or number("discount_percent"),
    )


class _BadLine(Exception):
    """A line of an order that cannot be read; the order keeps its other lines."""


def _line_error(field_name, problem):
    return _BadLine(f"field '{field_name}' {problem}")


def _line_label(index, data):
    names = (data.get("title"), data.get("article")) if isinstance(data, dict) else ()
    name = next((n.strip() for n in names if isinstance(n, str) and n.strip()), "")
    return f"products[{index}] ({_shown(name)})" if name else f"products[{index}]"


def _parse_line(data):
    if not isinstance(data, dict):
        raise _BadLine(f"is not an object: {_shown(data)}")
    reader = _FieldReader(_line_error, data)
    quantity = reader.number("quantity")
    if quantity < 0:
        raise _line_error("quantity", f"is negative: {quantity:g}")
    article = reader.text("article", "")  # service lines ("Diagnostics") have no article
    title = reader.text("title", "")
    if not article and not title:
        raise _BadLine("has no article and no title")
    price = reader.number("price")
    return OrderLine(
        article=article,
        title=title,
        price=price,
        quantity=quantity,
        total_price=reader.number("total_price", price * quantity),
    )


def parse_orders(raw_orders, name_order=FIRST_LAST):
    """Parse a page of orders: every good order is kept, every bad one becomes an error."""
    return _parse_each(raw_orders, lambda raw: parse_order(raw, name_order))


def parse_products(raw_products):
    """Parse a page of the catalog: every good product is kept, every bad one is an error."""
    return _parse_each(raw_products, parse_product)


def _parse_each(raw_records, parser):
    page = Page()
    for raw in raw_records:
        try:
            page.items.append(parser(raw))
        except InvalidPayload as error:
            page.errors.append(error)
    return page


def parse_statuses(raw_statuses):
    """``orders/get_available_statuses`` gives an object keyed by id (a list is tolerated)."""
    items = raw_statuses.values() if isinstance(raw_statuses, dict) else (raw_statuses or [])
    return sorted((parse_status(raw) for raw in items), key=lambda status: status.status_id)


def _record_reader(kind, raw, id_key):
    """A field reader for one record of ``kind``; its errors name the record by ``id_key``."""
    if not isinstance(raw, dict):
        raise InvalidPayload(kind, None, kind.lower(), f"is not an object: {_shown(raw)}")

    def record_error(field_name, problem):
        return InvalidPayload(kind, raw.get(id_key), field_name, problem)

    return _FieldReader(record_error, raw)


def parse_status(raw):
    reader = _record_reader("Status", raw, "id")
    return Status(
        status_id=reader.integer("id"),
        titles=reader.translations("title"),
        is_successful=bool(reader.integer("is_successful", 0)),
    )


def parse_product(raw):
    reader = _record_reader("Product", raw, "article")
    parent = raw.get("parent")
    section_id, path = None, ""
    if isinstance(parent, bool):
        pass  # a flag is no category
    elif (
        isinstance(parent, dict)
        and "id" in parent
        and not _plain_text(parent.get("value") or parent.get("title"))
    ):
        section_id = _section_id(parent["id"])
    else:
        path = _plain_text(parent)
        if path.isascii() and path.isdigit():  # a section id (0: the root): never a name
            section_id, path = _section_id(path), ""
    parts = _PATH_SEPARATORS.split(path)
    return Product(
        article=reader.text("article", required=True),
        parent_article=reader.text("parent_article", ""),
        titles=reader.translations("title"),
        descriptions=reader.translations("description"),
        price=reader.number("price", 0.0),
        category_path=tuple(part.strip() for part in parts if part.strip()),
        availability=_plain_text(raw.get("presence")),
        section_id=section_id,
    )


def _section_id(value):
    text = _plain_text(value)
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def parse_sections(raw_pages):
    """``pages/export``'s pages as {id: Section}; a page without a usable id is left out."""
    sections = {}
    for raw in raw_pages:
        if not isinstance(raw, dict):
            continue
        section_id = _section_id(raw.get("id"))
        if section_id is None:
            continue
        parent = raw.get("parent", raw.get("parent_id"))
        if isinstance(parent, dict):
            parent = parent.get("id")
        titles = raw.get("title", raw.get("name"))
        if not isinstance(titles, dict):
            titles = {"": titles}
        sections[section_id] = Section(
            section_id=section_id,
            parent_id=_section_id(parent) or 0,
            titles={str(lang): _plain_text(text) for lang, text in titles.items()},
        )
    return sections


def _plain_text(value):
    """Text of a field stores send in several shapes: text, a number or a flag,
    {"id": .., "value": ..} (or "title"), or translations {lang: text}."""
    if isinstance(value, dict):
        if "value" in value or "title" in value:
            return _plain_text(value.get("value") or value.get("title"))
        return next((_plain_text(text) for text in value.values() if _plain_text(text)), "")
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None or isinstance(value, list):
        return ""
    return str(value).strip()[:MAX_FIELD_CHARS]


def parse_currency(raw):
    reader = _record_reader("Currency", raw, "iso")
    return Currency(
        currency_id=reader.integer("id", 0),
        iso=reader.text("iso", required=True).upper(),
        title=reader.text("title", ""),
        enabled=bool(reader.integer("enabled", 1)),
        is_default=bool(reader.integer("default", 0)),
    )
