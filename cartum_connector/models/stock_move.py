from odoo import api, fields, models

# Fields of a part that a user edits; the stock engine's own writes (state, quantities done,
# reservations) stay open to everyone who may process the repair.
PART_FIELDS = {"product_id", "product_uom_qty", "product_uom", "price_unit", "repair_line_type"}


class StockMove(models.Model):
    _inherit = "stock.move"

    cartum_article = fields.Char(
        string="Cartum SKU",
        readonly=True,
        copy=False,
        help="Item code (article) of the Cartum order line this part comes from.",
    )
    cartum_line_key = fields.Char(
        string="Cartum Line",
        readonly=True,
        copy=False,
        help="The article of the Cartum line this part comes from, or its title when it has "
        "none: with the unit price, it finds the part again when the order changes.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        repair_ids = {
            vals["repair_id"]
            for vals in vals_list
            if vals.get("repair_id") and vals.get("repair_line_type")
        }
        if repair_ids:
            self._cartum_check_parts(self.env["repair.order"].browse(repair_ids))
        return super().create(vals_list)

    def write(self, vals):
        if PART_FIELDS & set(vals):
            self._cartum_check_parts(self.repair_id)
        return super().write(vals)

    def unlink(self):
        self._cartum_check_parts(self.repair_id)
        return super().unlink()

    def _create_repair_sale_order_line(self):
        result = super()._create_repair_sale_order_line()
        # Odoo reads a zero unit price as "none" and takes the list price; a Cartum line at
        # 0.00 (a gift) stays at 0.00 in the quotation.
        free = self.filtered(
            lambda move: (
                move.cartum_line_key
                and not move.price_unit
                and move.sale_line_id
                and not move.repair_id.under_warranty
            )
        )
        free.sale_line_id.write({"price_unit": 0.0})
        return result

    def _cartum_check_parts(self, repairs):
        cartum_repairs = repairs.filtered("cartum_store_id")
        if cartum_repairs:
            cartum_repairs._cartum_check_parts_permission()
