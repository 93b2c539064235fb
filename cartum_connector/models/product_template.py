from odoo import api, fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    # Links belong to variants; Inventory and Repairs open templates, so they are shown here.
    cartum_link_ids = fields.Many2many(
        "cartum.product.link",
        string="Cartum Links",
        compute="_compute_cartum_link_ids",
        search="_search_cartum_link_ids",
    )

    @api.depends("product_variant_ids.cartum_link_ids")
    def _compute_cartum_link_ids(self):
        for template in self:
            template.cartum_link_ids = template.product_variant_ids.cartum_link_ids

    def _search_cartum_link_ids(self, operator, value):
        return [("product_variant_ids.cartum_link_ids", operator, value)]
