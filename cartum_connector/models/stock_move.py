from odoo import api, fields, models

from .cartum_order_mapper import line_article
from .repair_order import REPAIRS_BEING_DONE

# Fields of a part that a user edits, the repair it is on and the keys the import finds it by;
# the stock engine's own writes (state, quantities done, reservations) stay open to everyone
# who may process the repair.
PART_FIELDS = {
    "product_id",
    "product_uom_qty",
    "product_uom",
    "price_unit",
    "repair_line_type",
    "repair_id",
    "cartum_line_key",
    "cartum_article",
}


class StockMove(models.Model):
    _inherit = "stock.move"

    cartum_article = fields.Char(
        string="Cartum SKU",
        compute="_compute_cartum_article",
        help="Item code (article) of the Cartum order line this part comes from.",
    )
    cartum_line_key = fields.Char(
        string="Cartum Line",
        readonly=True,
        copy=False,
        help="The article of the Cartum line this part comes from, or its title when it has "
        "none: with the unit price, it finds the part again when the order changes.",
    )

    @api.depends("cartum_line_key")
    def _compute_cartum_article(self):
        for move in self:
            move.cartum_article = line_article(move.cartum_line_key or "") or False

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        # Checked on the created moves, whose part type may come from a default. The one move
        # that is no part, the repaired product's, is made by the repair's completion.
        added = moves.filtered(
            lambda move: move.repair_line_type or move.repair_id.id not in REPAIRS_BEING_DONE.get()
        )
        self._cartum_check_parts(added.repair_id)
        return moves

    def write(self, vals):
        if PART_FIELDS & set(vals):
            # A move taken off a repair from Cartum, and one put on it, both change its parts.
            repairs = self.repair_id | self.env["repair.order"].browse(vals.get("repair_id") or [])
            self._cartum_check_parts(repairs)
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
        cartum_repairs = repairs.filtered(lambda repair: repair.sudo().cartum_store_id)
        if cartum_repairs:
            cartum_repairs._cartum_check_parts_permission()
