from dataclasses import dataclass, field

from markupsafe import Markup
from odoo import Command, api, fields, models
from odoo.tools import html2plaintext, plaintext2html

from cartum_api import phone_key


@dataclass
class PreparedRecords:
    """The Odoo records one page of Cartum orders maps to, found or created in a few queries."""

    region: str | None
    partners_by_phone: dict = field(default_factory=dict)
    partners_by_email: dict = field(default_factory=dict)
    products_by_article: dict = field(default_factory=dict)
    mappings_by_status: dict = field(default_factory=dict)

    def partner(self, customer):
        key = phone_key(customer.phone, self.region)
        if key:
            return self.partners_by_phone[key]
        if customer.email:
            return self.partners_by_email[customer.email.lower()]
        return None


class CartumOrderMapper(models.AbstractModel):
    """Where a Cartum order is mapped to Odoo values: customer, products, repair and parts."""

    _name = "cartum.order.mapper"
    _description = "Cartum Order Mapper"

    @api.model
    def _prepare(self, store, orders):
        """Find, or create in batches, the contacts, products and categories of ``orders``."""
        prepared = PreparedRecords(region=store.company_id.country_id.code)
        self._prepare_partners(store, orders, prepared)
        self._prepare_products(store, orders, prepared)
        if {order.status_id for order in orders} - set(
            store.status_mapping_ids.mapped("cartum_status_id")
        ):
            store._refresh_statuses()  # the store added a status since the mapping was made
        prepared.mappings_by_status = {
            mapping.cartum_status_id: mapping for mapping in store.status_mapping_ids
        }
        return prepared

    # -- contacts -----------------------------------------------------------------------------

    @api.model
    def _prepare_partners(self, store, orders, prepared):
        by_phone, by_email = {}, {}
        for order in orders:
            key = phone_key(order.customer.phone, prepared.region)
            if key:
                by_phone.setdefault(key, order.customer)
            elif order.customer.email:
                by_email.setdefault(order.customer.email.lower(), order.customer)
        Partner = self.env["res.partner"].sudo()
        shared = [("company_id", "in", [False, store.company_id.id])]
        if by_phone:
            found = Partner.search(
                [("cartum_phone_key", "in", list(by_phone)), *shared], order="id"
            )
            for partner in found:
                prepared.partners_by_phone.setdefault(partner.cartum_phone_key, partner)
        if by_email:
            found = Partner.search(
                [("email_normalized", "in", list(by_email)), *shared], order="id"
            )
            for partner in found:
                prepared.partners_by_email.setdefault(partner.email_normalized, partner)
        missing_phones = [key for key in by_phone if key not in prepared.partners_by_phone]
        missing_emails = [email for email in by_email if email not in prepared.partners_by_email]
        customers = [by_phone[key] for key in missing_phones] + [
            by_email[email] for email in missing_emails
        ]
        if not customers:
            return
        created = Partner.create([self._partner_values(store, customer) for customer in customers])
        created_by_phone = created[: len(missing_phones)]
        prepared.partners_by_phone.update(zip(missing_phones, created_by_phone, strict=True))
        created_by_email = created[len(missing_phones) :]
        prepared.partners_by_email.update(zip(missing_emails, created_by_email, strict=True))

    @api.model
    def _partner_values(self, store, customer):
        name = " ".join(part for part in (customer.first_name, customer.last_name) if part)
        return {
            "name": name or customer.phone or customer.email or self.env._("Cartum customer"),
            "phone": customer.phone or False,
            "email": customer.email or False,
            "country_id": store.company_id.country_id.id or False,
        }

    # -- products -----------------------------------------------------------------------------

    @api.model
    def _prepare_products(self, store, orders, prepared):
        lines_by_article = {}
        for order in orders:
            for line in order.lines:
                lines_by_article.setdefault(line.article, line)
        if not lines_by_article:
            return
        language = store._odoo_language()
        Product = self.env["product.product"].sudo().with_context(lang=language or "en_US")
        shared = [("company_id", "in", [False, store.company_id.id])]
        by_article = prepared.products_by_article
        if store.product_match_key == "default_code":
            found = Product.search([("default_code", "in", list(lines_by_article)), *shared])
            for product in found.sorted("id"):
                by_article.setdefault(product.default_code, product)
        else:
            self._match_by_name(
                Product,
                shared,
                {article: line.title for article, line in lines_by_article.items()},
                by_article,
            )
        missing = [article for article in lines_by_article if article not in by_article]
        if not missing:
            return
        catalog = {
            product.article: product
            for page in store._cartum_client().export_catalog(missing)
            for product in page.items
        }
        if store.product_match_key == "name":
            # The order line's title is in the buyer's language; the catalog's in the store's.
            self._match_by_name(
                Product,
                shared,
                {a: self._title(store, catalog.get(a), lines_by_article[a]) for a in missing},
                by_article,
            )
            missing = [article for article in missing if article not in by_article]
        if not missing:
            return
        categories = self._prepare_categories(
            {catalog[a].category_name for a in missing if a in catalog and catalog[a].category_name}
        )
        units = self.env.ref("uom.product_uom_unit")
        default_category = self.env.ref("product.product_category_all")
        values_by_identity = {}
        for article in missing:
            catalog_product = catalog.get(article)
            category = categories.get(catalog_product.category_name) if catalog_product else None
            values = self._product_values(
                store,
                lines_by_article[article],
                catalog_product,
                category or default_category,
                units,
            )
            # Two new lines that identify the same product (same reference or same name) get
            # one product.
            identity = article if store.product_match_key == "default_code" else values["name"]
            values_by_identity.setdefault(identity, (values, []))[1].append(article)
        created = Product.create([values for values, _articles in values_by_identity.values()])
        for product, (_values, articles) in zip(created, values_by_identity.values(), strict=True):
            for article in articles:
                by_article[article] = product

    @api.model
    def _match_by_name(self, Product, shared, names_by_article, by_article):
        names = {name for name in names_by_article.values() if name}
        if not names:
            return
        by_name = {}
        for product in Product.search([("name", "in", list(names)), *shared]).sorted("id"):
            by_name.setdefault(product.name, product)
        for article, name in names_by_article.items():
            if name in by_name:
                by_article[article] = by_name[name]

    @api.model
    def _title(self, store, catalog_product, line):
        if catalog_product and catalog_product.titles.get(store.import_language):
            return catalog_product.titles[store.import_language]
        return line.title or line.article

    @api.model
    def _prepare_categories(self, names):
        """The existing category of each name (the oldest one), else a new one."""
        if not names:
            return {}
        Category = self.env["product.category"].sudo()
        by_name = {}
        for category in Category.search([("name", "in", list(names))], order="id"):
            by_name.setdefault(category.name, category)
        missing = sorted(names - set(by_name))
        if missing:
            by_name.update(
                zip(missing, Category.create([{"name": name} for name in missing]), strict=True)
            )
        return by_name

    @api.model
    def _product_values(self, store, line, catalog_product, category, units):
        description = ""
        price = line.price
        if catalog_product:
            description = catalog_product.descriptions.get(store.import_language, "")
            price = catalog_product.price or price
        return {
            "name": self._title(store, catalog_product, line),
            "default_code": line.article,
            "description_sale": html2plaintext(description) if description else False,
            "categ_id": category.id,
            "uom_id": units.id,
            "uom_po_id": units.id,
            "type": "consu",
            "list_price": price,
            "company_id": False,
        }

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
            "schedule_date": created,
            "internal_notes": plaintext2html(order.comment) if order.comment else False,
            "cartum_store_id": store.id,
            "cartum_external_id": str(order.order_id),
            "cartum_created": created,
            "cartum_last_sync": fields.Datetime.now(),
            "cartum_digest": order.digest,
            "cartum_status_code": order.status_id,
            "cartum_amount_total": order.total_sum,
            "cartum_delivery_digest": self._delivery_digest(order),
            "move_ids": [
                Command.create(self._part_values(store, prepared, article, part))
                for article, part in self._wanted_parts(order).items()
            ],
        }

    @api.model
    def _wanted_parts(self, order):
        """Cartum's lines by article (an article on two lines is one part): qty, unit price."""
        parts = {}
        for line in order.lines:
            quantity, total = parts.get(line.article, (0.0, 0.0))
            parts[line.article] = (quantity + line.quantity, total + line.total_price)
        return {
            article: (quantity, round(total / quantity, 2) if quantity else 0.0)
            for article, (quantity, total) in parts.items()
        }

    @api.model
    def _part_values(self, store, prepared, article, part):
        quantity, price = part
        product = prepared.products_by_article[article]
        return {
            "product_id": product.id,
            "product_uom_qty": quantity,
            "product_uom": product.uom_id.id,
            "price_unit": price,
            "repair_line_type": "add",
            "cartum_article": article,
            "company_id": store.company_id.id,
        }

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
        if delivery.price is not None:
            rows.append((self.env._("Delivery cost"), f"{delivery.price:.2f} {order.currency}"))
        address = ", ".join(part for part in (delivery.city, delivery.address) if part)
        if address:
            rows.append((self.env._("Delivery address"), address))
        items = Markup("").join(Markup("<li>%s: %s</li>") % (label, value) for label, value in rows)
        return Markup("<p>%s</p><ul>%s</ul>") % (self.env._("Delivery in Cartum"), items)
