from odoo import api, models


class StockQuant(models.Model):
    _inherit = "stock.quant"

    # What changes a product's quantity free to use somewhere.
    _CARTUM_STOCK_FIELDS = {"quantity", "reserved_quantity", "location_id", "product_id"}

    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        self.env["cartum.stock.export"]._note_stock_moved(set(quants.product_id.ids))
        return quants

    def write(self, vals):
        if self._CARTUM_STOCK_FIELDS & vals.keys():
            self.env["cartum.stock.export"]._note_stock_moved(set(self.product_id.ids))
        result = super().write(vals)
        if "product_id" in vals:
            self.env["cartum.stock.export"]._note_stock_moved({vals["product_id"]})
        return result

    def unlink(self):
        self.env["cartum.stock.export"]._note_stock_moved(set(self.product_id.ids))
        return super().unlink()
