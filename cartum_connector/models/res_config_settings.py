from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cartum_store_count = fields.Integer(
        string="Cartum Stores", compute="_compute_cartum_store_count"
    )

    def _compute_cartum_store_count(self):
        count = self.env["cartum.store"].search_count([])
        for settings in self:
            settings.cartum_store_count = count
