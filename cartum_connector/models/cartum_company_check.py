from odoo import Command, api, models
from odoo.exceptions import AccessError


class CartumCompanyCheck(models.AbstractModel):
    """The connector's records point only at records of their own company.

    ``check_company`` on their many2ones and many2manys (``_check_company_auto``) keeps a
    record and what it points at in one company (users: the record's company among theirs).
    Before that check can name anything, the records a user points at must be ones they may
    read: record rules keep other companies' records out, and the error names none of them."""

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
            if field.type not in ("many2one", "many2many"):
                continue
            ids = set()
            for vals in vals_list:
                ids |= set(self._cartum_linked_ids(field, vals.get(name)))
            if ids and not self.env[field.comodel_name].browse(ids).has_access("read"):
                raise AccessError(
                    self.env._(
                        "%(model)s: %(field)s must be a record of one of your companies.",
                        model=self.env["ir.model"]._get(self._name).name,
                        field=field._description_string(self.env),
                    )
                )

    @api.model
    def _cartum_linked_ids(self, field, value):
        """The ids a many2one value or many2many commands point at."""
        if not value:
            return []
        if field.type == "many2one":
            return [value]
        ids = []
        for command in value:
            if isinstance(command, int):
                ids.append(command)
            elif command[0] == Command.LINK:
                ids.append(command[1])
            elif command[0] == Command.SET:
                ids += command[2]
        return ids
