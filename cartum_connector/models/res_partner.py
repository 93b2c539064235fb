from odoo import api, fields, models

from cartum_api import phone_key

from .. import compat


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
    cartum_link_ids = fields.One2many(
        "cartum.partner.link", "partner_id", string="Cartum Links", readonly=True
    )

    @api.depends(*compat.PARTNER_PHONE_FIELDS, "country_id", "company_id.country_id")
    def _compute_cartum_phone_key(self):
        # National numbers are read in the contact's country, else its company's, else the main
        # company's: the same for whoever triggers the computation.
        main_country = self.env.ref("base.main_company").sudo().country_id
        for partner in self:
            country = partner.country_id or partner.sudo().company_id.country_id or main_country
            number = next((partner[f] for f in compat.PARTNER_PHONE_FIELDS if partner[f]), "")
            partner.cartum_phone_key = phone_key(number, country.code) or False

    def write(self, vals):
        result = super().write(vals)
        # The main company's country (its partner's) is the last fallback: contacts that rely
        # on it are recomputed when it changes.
        if "country_id" in vals and self.env.ref("base.main_company").sudo().partner_id in self:
            partners = self.sudo().with_context(active_test=False)
            fallback = partners.search(
                [
                    ("country_id", "=", False),
                    "|",
                    ("company_id", "=", False),
                    ("company_id.partner_id.country_id", "=", False),
                    *["|"] * (len(compat.PARTNER_PHONE_FIELDS) - 1),
                    *[(field, "!=", False) for field in compat.PARTNER_PHONE_FIELDS],
                ]
            )
            self.env.add_to_compute(self._fields["cartum_phone_key"], fallback)
        return result
