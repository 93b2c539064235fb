from odoo import api, models

from .stock_move import stock_engine_at_work


class StockMoveLine(models.Model):
    """The move lines of a part of a repair from Cartum say how much of it is written off, and
    from where: a user without the parts permission creates, changes and deletes none of them
    by hand (``stock.move._cartum_check_stock_change``)."""

    _inherit = "stock.move.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.move_id._cartum_check_stock_change(lines.move_id.repair_id)
        return lines

    def write(self, vals):
        moves = self.move_id | self.env["stock.move"].browse(vals.get("move_id") or [])
        moves._cartum_check_stock_change(moves.repair_id)
        return super().write(vals)

    def unlink(self):
        self.move_id._cartum_check_stock_change(self.move_id.repair_id)
        return super().unlink()

    # The stock engine's private methods: what they write on parts' lines is the engine's.

    def _action_done(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._action_done(*args, **kwargs)

    def _free_reservation(self, *args, **kwargs):
        with stock_engine_at_work():
            return super()._free_reservation(*args, **kwargs)
