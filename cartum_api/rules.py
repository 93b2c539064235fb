"""The import's plain rules: how Cartum's lines, parts, customers, catalog entries and category
paths become keys, names and prices in Odoo. Plain values in, plain values out: no Odoo."""

from .customer import phone_key
from .text import html_to_text

# Lines without an article are identified by their title, under this prefix.
TITLE_KEY_PREFIX = "title:"
# A part's unit price is compared at this many decimals, the precision of the stored price.
PRICE_DIGITS = 4
# Product descriptions from Cartum are cut to this many characters.
DESCRIPTION_LIMIT = 4000


def line_key(line):
    """What identifies an order line's product: its article, else its title."""
    return line.article or f"{TITLE_KEY_PREFIX}{line.title}"


def lines_by_key(orders):
    """The first line of ``orders`` of each line key: {line key: line}."""
    lines = {}
    for order in orders:
        for line in order.lines:
            lines.setdefault(line_key(line), line)
    return lines


def line_article(key):
    """The article of a line key; empty for a line identified by its title."""
    return "" if key.startswith(TITLE_KEY_PREFIX) else key


def part_key(key, price):
    """A part of a repair from Cartum is one line key at one unit price."""
    return key, round(price, PRICE_DIGITS)


def part_label(key):
    """A part key as people read it: its article or title, and its unit price."""
    line_key_, price = key
    return f"{line_key_.removeprefix(TITLE_KEY_PREFIX)} @ {price:.2f}"


def wanted_parts(lines):
    """Cartum's order lines as parts: {(line key, unit price): quantity}. Lines with the same
    article and unit price are one part; another price is another part."""
    parts = {}
    for line in lines:
        key = part_key(line_key(line), line.price)
        parts[key] = parts.get(key, 0.0) + line.quantity
    return parts


def customer_key(customer, region):
    """How a contact is known to a store (Cartum has no customer id): its phone in E.164 with
    its "+", else its e-mail in lower case; empty without either. ``region``: the country code
    national numbers are read in."""
    phone = phone_key(customer.phone, region)
    if phone:
        return f"+{phone}"
    return (customer.email or "").lower()


def customers_by_key(orders, region):
    """The customer of the first order of ``orders`` of each customer key: {key: customer};
    customers without a phone or e-mail are left out."""
    customers = {}
    for order in orders:
        key = customer_key(order.customer, region)
        if key:
            customers.setdefault(key, order.customer)
    return customers


def customer_name(customer):
    """A contact's name from Cartum: first and last name, else phone, else e-mail; empty
    without any of them (the caller names the contact then)."""
    name = " ".join(part for part in (customer.first_name, customer.last_name) if part)
    return name or customer.phone or customer.email or ""


def catalog_title(catalog_product, language, line=None):
    """A product's name from Cartum: the catalog's title in ``language`` (the store's import
    language), else the order line's title, else its article."""
    title = catalog_product.titles.get(language) if catalog_product else None
    if title or line is None:
        return title
    return line.title or line.article


def catalog_price(catalog_product, line=None):
    """A product's sale price from Cartum: the catalog's, else the order line's unit price."""
    if catalog_product and (catalog_product.price or line is None):
        return catalog_product.price
    return line.price


def catalog_description(catalog_product, language):
    """A product's description from Cartum as plain text, cut to DESCRIPTION_LIMIT; empty
    without a catalog entry or a description in ``language``."""
    if not catalog_product:
        return ""
    return html_to_text(catalog_product.descriptions.get(language, ""), DESCRIPTION_LIMIT)


def category_key(parent_id, name):
    """What identifies a category among all: its parent's id (0 at the root) and its name."""
    return f"{parent_id or 0}/{name}"


def category_key_name(key):
    """The name in a category key."""
    return key.split("/", 1)[1]


def category_levels(paths):
    """The category paths to make for ``paths`` (``("Parts", "Screens")``), level by level
    from the root, each level sorted: parents always come before their children. Empty paths
    have no category."""
    paths = {path for path in paths if path}
    depth = max((len(path) for path in paths), default=0)
    return [
        sorted({path[:level] for path in paths if len(path) >= level})
        for level in range(1, depth + 1)
    ]
