from odoo import api, fields, models

from cartum_api import phone_key


class ResPartner(models.Model):
    _inherit = "res.partner"

    cartum_phone_key = fields.Char(
        string="Phone Match Key",
        compute="_compute_cartum_phone_key",
        store=True,
        index=True,
        help="The phone number in international digits, so that the same number written "
        "in any format finds this contact when Cartum orders are imported.",
    )

    @api.depends("phone", "mobile", "country_id")
    def _compute_cartum_phone_key(self):
        default_country = self.env.company.country_id
        for partner in self:
            region = (partner.country_id or default_country).code
            partner.cartum_phone_key = phone_key(partner.phone or partner.mobile, region) or False
