from dataclasses import dataclass, field

from markupsafe import Markup
from odoo import Command, api, fields, models
from odoo.tools import formatLang, plaintext2html

from cartum_api import (
    catalog_description,
    catalog_price,
    catalog_title,
    category_key,
    category_key_name,
    category_levels,
    customer_key,
    customer_name,
    customers_by_key,
    lines_by_key,
    part_label,
    wanted_parts,
)

from .. import compat


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


class CartumOrderMapper(models.AbstractModel):
    """Where a Cartum order is mapped to Odoo values: customer, products, categories, repair and
    parts. It reads nothing from Cartum: the importer hands it the catalog data it fetched."""

    _name = "cartum.order.mapper"
    _description = "Cartum Order Mapper"

    @api.model
    def _prepare(self, store, orders, existing_products, catalog):
        """Find, or create in batches, the contacts, products and categories of ``orders``, and
        link them to the store. ``existing_products``: what ``_find_products`` found;
        ``catalog``: Cartum's catalog data by article, of the articles it did not find."""
        prepared = PreparedRecords(region=store.company_id.country_id.code)
        self._prepare_partners(store, orders, prepared)
        self._prepare_products(store, orders, prepared, existing_products, catalog)
        prepared.mappings_by_status = {
            mapping.cartum_status_code: mapping for mapping in store.status_mapping_ids
        }
        return prepared

    # -- contacts -----------------------------------------------------------------------------

    @api.model
    def _prepare_partners(self, store, orders, prepared):
        customers = customers_by_key(orders, prepared.region)
        found = self._find_partners(store, list(customers))
        missing = [key for key in customers if key not in found]
        if missing:
            values = {key: self._partner_values(store, customers[key]) for key in missing}
            found.update(
                self._create_shared(
                    "partner",
                    self.env["res.partner"].sudo(),
                    values,
                    lambda keys: self._find_partners(store, keys),
                )
            )
        prepared.partners_by_key.update(found)
        self.env["cartum.partner.link"]._upsert(
            store, [(key, partner.id) for key, partner in found.items()]
        )

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
    def _create_shared(self, kind, Model, values_by_key, find):
        """Create the records of ``values_by_key`` whose key no other import has claimed, in one
        batch; returns ``{key: record}``, with the records other imports made for the rest."""
        scope_of = {key: values.get("company_id") or 0 for key, values in values_by_key.items()}
        SharedKey = self.env["cartum.shared.key"].sudo()
        records_by_key = {}
        for scope in sorted(set(scope_of.values())):
            keys = [key for key, key_scope in scope_of.items() if key_scope == scope]
            claimed, found = SharedKey._claim(kind, scope, keys, find)
            records_by_key.update(found)
            if claimed:
                created = Model.create([values_by_key[key] for key in claimed])
                new = dict(zip(claimed, created, strict=True))
                SharedKey._assign(kind, scope, new)
                records_by_key.update(new)
        return records_by_key

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
    def _match_existing(self, store, lines, by_key):
        """Fill ``by_key`` with the existing products of the lines: by the store's key for lines
        with an article, by name for lines without one."""
        Product = self._product_model(store)
        shared = [("company_id", "in", [False, store.company_id.id])]
        articles = [line.article for line in lines.values() if line.article]
        if articles and store.product_match_key == "default_code":
            found = Product.search([("default_code", "in", articles), *shared])
            for product in found.sorted("id"):
                by_key.setdefault(product.default_code, product)
        names_by_key = {
            key: line.title
            for key, line in lines.items()
            if not line.article or store.product_match_key == "name"
        }
        self._match_by_name(Product, shared, names_by_key, by_key)

    @api.model
    def _find_products(self, store, orders):
        """The products already in Odoo of the lines of ``orders``, by line key, and the
        articles of the lines without one: the importer reads their catalog data from Cartum
        before mapping."""
        lines = lines_by_key(orders)
        by_key = {}
        self._match_existing(store, lines, by_key)
        missing = sorted(
            {line.article for key, line in lines.items() if line.article and key not in by_key}
        )
        return by_key, missing

    @api.model
    def _prepare_products(self, store, orders, prepared, existing_products, catalog):
        lines = lines_by_key(orders)
        if not lines:
            return
        Product = self._product_model(store)
        shared = [("company_id", "in", [False, store.company_id.id])]
        by_key = prepared.products_by_key
        by_key.update(existing_products)
        missing = [key for key in lines if key not in by_key]
        if missing and store.product_match_key == "name":
            # The order line's title is in the buyer's language; the catalog's in the store's.
            self._match_by_name(
                Product,
                shared,
                {
                    key: catalog_title(catalog.get(key), store.import_language, lines[key])
                    for key in missing
                },
                by_key,
            )
            missing = [key for key in missing if key not in by_key]
        if missing:
            self._create_products(store, lines, missing, catalog, by_key)
        self.env["cartum.product.link"]._upsert(
            store,
            [(line.article, by_key[key].id) for key, line in lines.items() if line.article],
        )
        self.env["cartum.product.link"]._note_categories(
            store, {key: catalog[key] for key in missing if key in catalog}
        )

    @api.model
    def _create_products(self, store, lines, missing, catalog, by_key):
        categories = self._prepare_categories(
            {catalog[key].category_path for key in missing if key in catalog}
        )
        units = self.env.ref("uom.product_uom_unit")
        values_by_identity = {"product_code": {}, "product_name": {}}
        keys_by_identity = {}
        for key in missing:
            line = lines[key]
            catalog_product = catalog.get(key)
            category = categories.get(catalog_product.category_path) if catalog_product else None
            values = self._product_values(store, line, catalog_product, category, units)
            # Two new lines that identify the same product (same reference or same name) get
            # one product.
            by_reference = line.article and store.product_match_key == "default_code"
            identity = (
                ("product_code", line.article) if by_reference else ("product_name", values["name"])
            )
            values_by_identity[identity[0]].setdefault(identity[1], values)
            keys_by_identity.setdefault(identity, []).append(key)
        Product = self._product_model(store)
        shared = [("company_id", "in", [False, store.company_id.id])]

        def oldest_by(field_name):
            def find(values):
                found = Product.search([(field_name, "in", values), *shared], order="id desc")
                return {product[field_name]: product for product in found}

            return find

        finders = {"product_code": oldest_by("default_code"), "product_name": oldest_by("name")}
        for kind, values_by_key in values_by_identity.items():
            if not values_by_key:
                continue
            products = self._create_shared(kind, Product, values_by_key, finders[kind])
            for identity_key, product in products.items():
                for key in keys_by_identity[(kind, identity_key)]:
                    by_key[key] = product

    @api.model
    def _match_by_name(self, Product, shared, names_by_key, by_key):
        names = {name for name in names_by_key.values() if name}
        if not names:
            return
        by_name = {}
        for product in Product.search([("name", "in", list(names)), *shared]).sorted("id"):
            by_name.setdefault(product.name, product)
        for key, name in names_by_key.items():
            if name in by_name:
                by_key[key] = by_name[name]

    @api.model
    def _prepare_categories(self, paths):
        """The category of each path (``("Parts", "Screens")``): each level is the existing
        category of that name under the same parent, else a new one. One query reads them all,
        and one create per level makes the missing ones."""
        levels = category_levels(paths)
        if not levels:
            return {}
        Category = self.env["product.category"].sudo()
        names = {name for prefixes in levels for prefix in prefixes for name in prefix}
        by_parent_and_name = {}
        for category in Category.search([("name", "in", list(names))], order="id"):
            by_parent_and_name.setdefault((category.parent_id.id, category.name), category)
        by_path = {(): Category.browse()}
        for prefixes in levels:
            missing = []
            for prefix in prefixes:
                parent = by_path[prefix[:-1]]
                category = by_parent_and_name.get((parent.id or False, prefix[-1]))
                if category:
                    by_path[prefix] = category
                else:
                    missing.append(prefix)
            if missing:
                values = {
                    category_key(by_path[prefix[:-1]].id, prefix[-1]): self._category_values(
                        by_path[prefix[:-1]], prefix[-1]
                    )
                    for prefix in missing
                }
                categories = self._create_shared(
                    "category", Category, values, self._find_categories
                )
                for prefix in missing:
                    key = category_key(by_path[prefix[:-1]].id, prefix[-1])
                    by_path[prefix] = categories[key]
        return {path: by_path[path] for path in paths if path}

    @api.model
    def _category_values(self, parent, name):
        return {"name": name, "parent_id": parent.id}

    @api.model
    def _find_categories(self, keys):
        """{category key: the oldest category of that name under that parent}."""
        wanted = set(keys)
        names = [category_key_name(key) for key in keys]
        found = {}
        Category = self.env["product.category"].sudo()
        for category in Category.search([("name", "in", names)], order="id"):
            key = category_key(category.parent_id.id, category.name)
            if key in wanted:
                found.setdefault(key, category)
        return found

    @api.model
    def _product_values(self, store, line, catalog_product, category, units):
        language = store.import_language
        values = {
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
        # Without a category in Cartum, the product gets Odoo's default one, if any.
        return {**values, "categ_id": category.id} if category else values

    # -- repair order and parts ---------------------------------------------------------------

    @api.model
    def _repair_values(self, store, prepared, order):
        created = store._to_utc(order.created)
        partner = prepared.partner(order.customer)
        return {
            "name": f"{store.order_prefix or ''}{order.order_id}",
            "company_id": store.company_id.id,
            "picking_type_id": store.picking_type_id.id,
            "partner_id": partner.id if partner else False,
            "user_id": store.responsible_user_ids[:1].id or False,
            # Planned when imported: Cartum's creation time is kept in cartum_created.
            "schedule_date": fields.Datetime.now(),
            "internal_notes": plaintext2html(order.comment) if order.comment else False,
            "cartum_store_id": store.id,
            "cartum_external_id": str(order.order_id),
            "cartum_created": created,
            "cartum_last_sync": fields.Datetime.now(),
            "cartum_digest": order.digest,
            "cartum_status_code": order.status_id,
            "cartum_amount_total": order.total_sum,
            **self._discount_values(order),
            "cartum_delivery_digest": self._delivery_digest(order),
            "move_ids": [
                Command.create(self._part_values(store, prepared, key, quantity))
                for key, quantity in self._wanted_parts(order).items()
            ],
        }

    @api.model
    def _discount_values(self, order):
        """The order's discount, which Cartum takes off its total but not off its lines."""
        return {
            "cartum_coupon_code": order.discount.coupon_code or False,
            "cartum_discount_amount": order.discount.amount,
        }

    @api.model
    def _wanted_parts(self, order):
        """The order's parts: {(line key, unit price): quantity} (see ``wanted_parts``)."""
        return wanted_parts(order.lines)

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
    def _part_label(self, key):
        return part_label(key)

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

    # -- links of contacts and products to the store ------------------------------------------

    @api.model
    def _touch_links(self, store, orders):
        """Orders read again and unchanged: their contacts' and products' links were read too."""
        if not orders:
            return
        region = store.company_id.country_id.code
        customer_keys = {customer_key(order.customer, region) for order in orders}
        articles = {line.article for order in orders for line in order.lines if line.article}
        self.env["cartum.partner.link"]._touch(store, customer_keys - {""})
        self.env["cartum.product.link"]._touch(store, articles)

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
