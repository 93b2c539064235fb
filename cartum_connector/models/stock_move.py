from contextlib import contextmanager
from contextvars import ContextVar

from odoo import api, fields, models

from cartum_api import line_article

from .repair_order import REPAIRS_BEING_DONE, REPAIRS_IN_FLOW

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
# What the stock engine sets on a part: its state, quantities, locations and move lines. On
# the parts of a repair from Cartum, a user without the parts permission sets none of them by
# hand; the repair's own flow (REPAIRS_IN_FLOW) and the stock engine's private methods do.
STOCK_FIELDS = {
    "state",
    "quantity",
    "picked",
    "location_id",
    "location_dest_id",
    "location_final_id",
    "move_line_ids",
    "picking_id",
    "lot_ids",
}
# True while a private method of the stock engine runs in this thread (reservation, its
# release, completion, cancellation): what it writes comes from the engine, not from a user,
# whichever document started it (a receipt validated, an inventory applied). Not a context
# key, which RPC could send; private methods are not callable over RPC.
STOCK_ENGINE_AT_WORK = ContextVar("cartum_stock_engine_at_work", default=False)


@contextmanager
def stock_engine_at_work():
    token = STOCK_ENGINE_AT_WORK.set(True)
    try:
        yield
    finally:
        STOCK_ENGINE_AT_WORK.reset(token)


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
        if STOCK_FIELDS & set(vals):
            self._cartum_check_stock_change(self.repair_id)
        return super().write(vals)

    def unlink(self):
        self._cartum_check_parts(self.repair_id)
        return super().unlink()

    # The stock engine's private methods: what they write on parts is the engine's.

    def _action_confirm(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._action_confirm(*args, **kwargs)

    def _action_assign(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._action_assign(*args, **kwargs)

    def _do_unreserve(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._do_unreserve(*args, **kwargs)

    def _action_done(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._action_done(*args, **kwargs)

    def _action_cancel(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._action_cancel(*args, **kwargs)

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

    @api.model
    def _cartum_check_stock_change(self, repairs):
        """The state, quantities, locations or move lines of the parts of ``repairs`` change:
        allowed to the stock engine and the repair's own flow, else only with the permission
        (it cancels, re-quantifies or re-locates what the repair writes off)."""
        if STOCK_ENGINE_AT_WORK.get() or self.env.su:
            return
        in_flow = REPAIRS_IN_FLOW.get()
        self._cartum_check_parts(repairs.filtered(lambda repair: repair.id not in in_flow))
