from odoo import fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    cartum_link_ids = fields.One2many(
        "cartum.product.link", "product_id", string="Cartum Links", readonly=True
    )
