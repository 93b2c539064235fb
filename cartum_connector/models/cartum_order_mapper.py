from dataclasses import dataclass, field

from markupsafe import Markup
from odoo import Command, api, fields, models
from odoo.tools import formatLang, plaintext2html

from cartum_api import (
    catalog_description,
    catalog_price,
    catalog_title,
    customer_key,
    customer_name,
    customers_by_key,
    lines_by_key,
    wanted_parts,
)

from .. import compat


@dataclass
class SharedValues:
    """What the orders of a page share with other orders, mapped: the contacts, the products
    and the categories of new products, and what links them to the store. The importer finds
    or creates the records (``cartum.importer._write_shared_values``)."""

    region: str | None
    # {customer key: the values of its contact}, for every customer with a phone or e-mail.
    partners: dict = field(default_factory=dict)
    # {line key: the product already in Odoo}.
    products_found: dict = field(default_factory=dict)
    # {(kind, identity): the values of a product to create}: the kind of cartum.shared.key
    # ("product_code" or "product_name"), the reference or name that identifies it.
    products: dict = field(default_factory=dict)
    # {(kind, identity): the line keys of that product}.
    product_keys: dict = field(default_factory=dict)
    # {(kind, identity): Cartum's category path of that product}.
    category_paths: dict = field(default_factory=dict)
    # {line key: article} of the lines with an article: their products' links.
    articles: dict = field(default_factory=dict)
    # {article: Cartum's catalog data} of the new products: their links' category notes.
    catalog: dict = field(default_factory=dict)


@dataclass(eq=False)  # compared and hashed as itself: the importer groups orders by it
class PreparedRecords:
    """The Odoo records one page of Cartum orders maps to, found or created in a few queries."""

    region: str | None
    partners_by_key: dict = field(default_factory=dict)
    products_by_key: dict = field(default_factory=dict)
    mappings_by_status: dict = field(default_factory=dict)

    def partner(self, customer):
        """The contact of an order's customer; None without a phone or e-mail."""
        key = customer_key(customer, self.region)
        return self.partners_by_key[key] if key else None


@dataclass
class OrderValues:
    """What one Cartum order maps to, complete: the importer writes it as it is."""

    # The values of its new repair order, but its parts (``repair_values()``).
    create: dict
    # What an existing repair order takes from it, whatever its state.
    write: dict
    # Its lines as parts, {(line key, unit price): the part's values}.
    parts: dict
    delivery_digest: str
    # Chatter notes: its delivery, and the lines that could not be imported.
    delivery_note: Markup
    skipped_lines_note: Markup

    def repair_values(self):
        """The values of its new repair order with its parts, made anew on each call: the ORM
        may change what it is given, and a refused create is tried again alone."""
        parts = [Command.create(dict(part)) for part in self.parts.values()]
        return {**self.create, "move_ids": parts}


class CartumOrderMapper(models.AbstractModel):
    """Where a Cartum order is mapped to Odoo values, once per page: the contacts, products and
    categories its orders share with others (``_map_shared``), then each order's repair and
    parts (``_map_orders``). It reads Odoo, to find what exists already, and never writes; it
    reads nothing from Cartum: the importer hands it the catalog data it fetched."""

    _name = "cartum.order.mapper"
    _description = "Cartum Order Mapper"

    @api.model
    def _map_shared(self, store, orders, existing_products, catalog):
        """The contacts, products and categories of ``orders``. ``existing_products``: what
        ``_find_products`` found; ``catalog``: Cartum's catalog data by article, of the
        articles it did not find."""
        values = SharedValues(region=store.company_id.country_id.code)
        values.partners = {
            key: self._partner_values(store, customer)
            for key, customer in customers_by_key(orders, values.region).items()
        }
        lines = lines_by_key(orders)
        values.articles = {key: line.article for key, line in lines.items() if line.article}
        values.products_found = dict(existing_products)
        missing = [key for key in lines if key not in values.products_found]
        if missing and store.product_match_key == "name":
            # The order line's title is in the buyer's language; the catalog's in the store's.
            self._match_by_name(
                store,
                {
                    key: catalog_title(catalog.get(key), store.import_language, lines[key])
                    for key in missing
                },
                values.products_found,
            )
            missing = [key for key in missing if key not in values.products_found]
        units = self.env.ref("uom.product_uom_unit")
        for key in missing:
            line = lines[key]
            catalog_product = catalog.get(key)
            product = self._product_values(store, line, catalog_product, units)
            # Two new lines that identify the same product (same reference or same name) get
            # one product.
            by_reference = line.article and store.product_match_key == "default_code"
            identity = (
                ("product_code", line.article)
                if by_reference
                else ("product_name", product["name"])
            )
            if identity not in values.products:
                values.products[identity] = product
                if catalog_product and catalog_product.category_path:
                    values.category_paths[identity] = catalog_product.category_path
            values.product_keys.setdefault(identity, []).append(key)
            if catalog_product:
                values.catalog[key] = catalog_product
        return values

    # -- contacts -----------------------------------------------------------------------------

    @api.model
    def _find_partners(self, store, customer_keys):
        """{customer key: the oldest contact with that phone (E.164) or e-mail}."""
        Partner = self.env["res.partner"].sudo()
        shared = [("company_id", "in", [False, store.company_id.id])]
        phones = [key[1:] for key in customer_keys if key.startswith("+")]
        emails = [key for key in customer_keys if not key.startswith("+")]
        found = {}
        if phones:
            for partner in Partner.search(
                [("cartum_phone_key", "in", phones), *shared], order="id"
            ):
                found.setdefault(f"+{partner.cartum_phone_key}", partner)
        if emails:
            for partner in Partner.search(
                [("email_normalized", "in", emails), *shared], order="id"
            ):
                found.setdefault(partner.email_normalized, partner)
        return found

    @api.model
    def _partner_values(self, store, customer):
        return {
            "name": customer_name(customer) or self.env._("Cartum customer"),
            "phone": customer.phone or False,
            "email": customer.email or False,
            "country_id": store.company_id.country_id.id or False,
            "company_id": store.company_id.id if store.partner_scope == "company" else False,
        }

    # -- products -----------------------------------------------------------------------------

    @api.model
    def _product_model(self, store):
        language = store._odoo_language()
        return self.env["product.product"].sudo().with_context(lang=language or "en_US")

    @api.model
    def _find_products(self, store, orders):
        """The products already in Odoo of the lines of ``orders``, by line key (by the store's
        key for lines with an article, by name for lines without one), and the articles of the
        lines without one: the importer reads their catalog data from Cartum before mapping."""
        lines = lines_by_key(orders)
        by_key = {}
        articles = [line.article for line in lines.values() if line.article]
        if articles and store.product_match_key == "default_code":
            found = self._find_products_by(store, "default_code", articles)
            for key, line in lines.items():
                if line.article in found:
                    by_key[key] = found[line.article]
        names_by_key = {
            key: line.title
            for key, line in lines.items()
            if not line.article or store.product_match_key == "name"
        }
        self._match_by_name(store, names_by_key, by_key)
        missing = sorted(
            {line.article for key, line in lines.items() if line.article and key not in by_key}
        )
        return by_key, missing

    @api.model
    def _find_products_by(self, store, field_name, values):
        """{value: the oldest product of the store's company, or shared, with that value of
        ``field_name`` (default_code or name)}."""
        Product = self._product_model(store)
        shared = [("company_id", "in", [False, store.company_id.id])]
        found = {}
        for product in Product.search([(field_name, "in", list(values)), *shared], order="id"):
            found.setdefault(product[field_name], product)
        return found

    @api.model
    def _match_by_name(self, store, names_by_key, by_key):
        names = {name for name in names_by_key.values() if name}
        if not names:
            return
        by_name = self._find_products_by(store, "name", names)
        for key, name in names_by_key.items():
            if name in by_name:
                by_key[key] = by_name[name]

    @api.model
    def _product_values(self, store, line, catalog_product, units):
        """A new product's values; its category is set when written, from Cartum's category
        path (``SharedValues.category_paths``). Without a category in Cartum, the product gets
        Odoo's default one, if any."""
        language = store.import_language
        return {
            "name": catalog_title(catalog_product, language, line),
            "default_code": line.article or False,
            "description_sale": catalog_description(catalog_product, language) or False,
            "uom_id": units.id,
            "type": "consu",
            # A line without an article is a service ("Diagnostics"): never counted in stock.
            "is_storable": bool(line.article) and store.imported_parts == "storable",
            "list_price": catalog_price(catalog_product, line),
            "company_id": False,
        }

    # -- repair order and parts ---------------------------------------------------------------

    @api.model
    def _map_orders(self, store, prepared, orders):
        """{order id: OrderValues} of ``orders``, with the records of their page
        (``prepared``)."""
        return {order.order_id: self._order_values(store, prepared, order) for order in orders}

    @api.model
    def _order_values(self, store, prepared, order):
        now = fields.Datetime.now()
        partner = prepared.partner(order.customer)
        parts = {
            key: self._part_values(store, prepared, key, quantity)
            for key, quantity in wanted_parts(order.lines).items()
        }
        delivery_digest = self._delivery_digest(order)
        write = {
            "cartum_last_sync": now,
            "cartum_digest": order.digest,
            "cartum_amount_total": order.total_sum,
            **self._discount_values(order),
        }
        create = {
            **write,
            "name": f"{store.order_prefix or ''}{order.order_id}",
            "company_id": store.company_id.id,
            "picking_type_id": store.picking_type_id.id,
            "partner_id": partner.id if partner else False,
            "user_id": store.responsible_user_ids[:1].id or False,
            # Planned when imported: Cartum's creation time is kept in cartum_created.
            "schedule_date": now,
            "internal_notes": plaintext2html(order.comment) if order.comment else False,
            "cartum_store_id": store.id,
            "cartum_external_id": str(order.order_id),
            "cartum_created": store._to_utc(order.created),
            "cartum_status_code": order.status_id,
            "cartum_delivery_digest": delivery_digest,
        }
        return OrderValues(
            create=create,
            write=write,
            parts=parts,
            delivery_digest=delivery_digest,
            delivery_note=self._delivery_message(order) if delivery_digest else Markup(),
            skipped_lines_note=self._skipped_lines_message(order),
        )

    @api.model
    def _discount_values(self, order):
        """The order's discount, which Cartum takes off its total but not off its lines."""
        return {
            "cartum_coupon_code": order.discount.coupon_code or False,
            "cartum_discount_amount": order.discount.amount,
        }

    @api.model
    def _part_values(self, store, prepared, key, quantity):
        line_key_, price = key
        product = prepared.products_by_key[line_key_]
        return {
            "product_id": product.id,
            "product_uom_qty": quantity,
            "product_uom": product.uom_id.id,
            "price_unit": price,
            "repair_line_type": "add",
            "cartum_line_key": line_key_,
            "company_id": store.company_id.id,
        }

    @api.model
    def _format_quantity(self, quantity):
        """A quantity as people read it, in the language of the context: 2, 1.5 (1,5)."""
        precision = self.env["decimal.precision"].precision_get(compat.QUANTITY_PRECISION)
        text = formatLang(self.env, quantity, digits=precision, grouping=True)
        point = self.env["res.lang"]._get_data(code=self.env.lang or "en_US").decimal_point
        if point and point in text:
            text = text.rstrip("0").removesuffix(point)
        return text

    @api.model
    def _skipped_lines_message(self, order):
        if not order.skipped_lines:
            return Markup()
        items = Markup("").join(Markup("<li>%s</li>") % line for line in order.skipped_lines)
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("These lines of the Cartum order could not be imported:"),
            items,
        )

    # -- delivery -----------------------------------------------------------------------------

    @api.model
    def _delivery_digest(self, order):
        return "|".join(order.delivery.summary_lines()) or False

    @api.model
    def _delivery_message(self, order):
        delivery = order.delivery
        rows = []
        if delivery.method:
            rows.append((self.env._("Delivery method"), delivery.method))
        if delivery.price is None:
            cost = self.env._("not calculated")
        else:
            cost = f"{delivery.price:.2f} {order.currency}"
        rows.append((self.env._("Delivery cost"), cost))
        address = ", ".join(part for part in (delivery.city, delivery.address) if part)
        if address:
            rows.append((self.env._("Delivery address"), address))
        items = Markup("").join(Markup("<li>%s: %s</li>") % (label, value) for label, value in rows)
        return Markup("<p>%s</p><ul>%s</ul>") % (self.env._("Delivery in Cartum"), items)
