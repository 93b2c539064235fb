from odoo import api, fields, models

from cartum_api import CartumError, catalog_price, catalog_title

from ..work_context import WorkContext


class CartumProductLink(models.Model):
    """A product as a Cartum store knows it (its article), with the store's current catalog
    data as the last product refresh read it."""

    _name = "cartum.product.link"
    _inherit = "cartum.link.mixin"
    _description = "Cartum Product Link"

    product_id = fields.Many2one(
        "product.product",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    cartum_title = fields.Char(string="Title in Cartum", readonly=True)
    cartum_price = fields.Float(string="Price in Cartum", readonly=True, digits="Product Price")
    cartum_category = fields.Char(string="Category in Cartum", readonly=True)
    category_note = fields.Char(
        readonly=True,
        help="Set when Cartum's category of the product could not be read: the product was "
        "left in Odoo's default category.",
    )
    cartum_availability = fields.Char(string="Availability in Cartum", readonly=True)
    gone_from_catalog = fields.Boolean(
        string="No Longer in Cartum's Catalog",
        readonly=True,
        help="Set when the store's catalog no longer has this article. The product is kept.",
    )

    stock_sent = fields.Char(
        string="Stock Cartum Has",
        readonly=True,
        help="The quantity (or presence text) Cartum last took for this product.",
    )
    stock_sent_at = fields.Datetime(string="Stock Sent On", readonly=True)
    stock_refused = fields.Char(
        readonly=True,
        help="The value Cartum refused: it is not sent again until the stock changes.",
    )
    stock_refusal = fields.Char(string="Why Cartum Refused the Stock", readonly=True)

    @api.model
    def _record_field(self):
        return "product_id"

    @api.model
    def _category_note(self, product):
        """What the link says of a Cartum product whose section could not be found."""
        if product.category_path or not product.section_id:
            return False
        return self.env._(
            "Cartum's section %(section)s is not among the store's catalog sections: the product "
            "was left in the default category.",
            section=product.section_id,
        )

    @api.model
    def _note_categories(self, store, catalog):
        """Say on the links of ``catalog``'s products ({article: Product}) whose section could
        not be found that their category is Odoo's default one."""
        notes = {
            article: note
            for article, product in catalog.items()
            if (note := self._category_note(product))
        }
        if notes:
            links = self.sudo().search(
                [("store_id", "=", store.id), ("external_id", "in", list(notes))]
            )
            for link in links:
                link.category_note = notes[link.external_id]

    @api.model
    def _refresh_links(self, store, scheduled=False):
        """Re-read from Cartum the catalog data of the products linked to ``store`` (by article,
        500 a call): the link keeps Cartum's title, price, category and availability, and
        Last Update moves. With the store's option on, the product's name (in the store's
        language) and sale price follow. An article gone from the catalog is marked, never
        deleted. Returns (message, level) for the user."""
        store = store.sudo()
        # A click (not ``scheduled``) is waited on: short timeouts, nothing committed.
        work = WorkContext(store) if scheduled else WorkContext.click(store)
        Job = self.env["cartum.store.job"]
        if scheduled:
            Job._wait_for_store(work)
        elif not Job._lock_store(work):
            return (
                self.env._(
                    "An import of this store is running: refresh the products when it has ended."
                ),
                "warning",
            )
        Adapter = self.env["cartum.adapter"]
        if store.stock_export:
            # The stock goes to every product of the catalog that Odoo has, not only to those
            # of the store's orders.
            try:
                self.env["cartum.stock.export"]._link_catalog(work)
            except CartumError as error:
                message = Adapter._error_message(store, error)
                return self.env._("The catalog could not be read: %s", message), "danger"
        links = self.sudo().search([("store_id", "=", store.id)])
        if not links:
            return self.env._("No product of this store is linked yet."), "warning"
        try:
            catalog = Adapter._read_catalog(work, links.mapped("external_id"), fresh_sections=True)
        except CartumError as error:
            message = Adapter._error_message(store, error)
            return self.env._("The catalog could not be read: %s", message), "danger"
        now = fields.Datetime.now()
        language = store._odoo_language() or "en_US"
        gone = links.filtered(lambda link: link.external_id not in catalog)
        gone.write({"gone_from_catalog": True, "last_read_at": now})
        for link in links - gone:
            product = catalog[link.external_id]
            title = catalog_title(product, store.import_language) or link.cartum_title
            link.write(
                {
                    "cartum_title": title,
                    "cartum_price": product.price,
                    "cartum_category": "/".join(product.category_path),
                    "category_note": self._category_note(product),
                    "cartum_availability": product.availability,
                    "gone_from_catalog": False,
                    "last_read_at": now,
                }
            )
            if store.update_product_data:
                values = {"list_price": catalog_price(product)}
                if title:
                    values["name"] = title
                link.product_id.with_context(lang=language).write(values)
        return (
            self.env._(
                "%(read)s products read from Cartum; %(gone)s no longer in its catalog.",
                read=len(links) - len(gone),
                gone=len(gone),
            ),
            "warning" if gone else "success",
        )
