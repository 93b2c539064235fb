from odoo import api, fields, models


class CartumPartnerLink(models.Model):
    """A contact as a Cartum store knows it: Cartum has no stable customer id, so the external
    ID is the key the contact is matched by, the phone in E.164, else the e-mail."""

    _name = "cartum.partner.link"
    _inherit = "cartum.link.mixin"
    _description = "Cartum Contact Link"

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )

    @api.model
    def _record_field(self):
        return "partner_id"
