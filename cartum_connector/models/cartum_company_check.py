from odoo import api, models
from odoo.exceptions import AccessError


class CartumCompanyCheck(models.AbstractModel):
    """The connector's records point only at records of their own company.

    ``check_company`` on their many2ones (``_check_company_auto``) keeps a record and what it
    points at in one company. Before that check can name anything, the records a user points
    at must be ones they may read: record rules keep other companies' records out, and the
    error names none of them."""

    _name = "cartum.company.check"
    _description = "Cartum Company Check"
    _check_company_auto = True

    @api.model_create_multi
    def create(self, vals_list):
        self._cartum_check_linked_records(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._cartum_check_linked_records([vals])
        return super().write(vals)

    @api.model
    def _cartum_check_linked_records(self, vals_list):
        if self.env.su:
            return
        for name, field in self._fields.items():
            if field.type != "many2one":
                continue
            ids = {vals[name] for vals in vals_list if vals.get(name)}
            if ids and not self.env[field.comodel_name].browse(ids).has_access("read"):
                raise AccessError(
                    self.env._(
                        "%(model)s: %(field)s must be a record of one of your companies.",
                        model=self.env["ir.model"]._get(self._name).name,
                        field=field._description_string(self.env),
                    )
                )
