import re

from odoo import api, fields, models
from odoo.exceptions import UserError


class CartumImportWizard(models.TransientModel):
    """Import orders…: chosen Cartum order numbers, or every order created in a date range,
    through the normal import and its rules."""

    _name = "cartum.import.wizard"
    _inherit = "cartum.company.check"
    _description = "Import Cartum Orders"

    store_id = fields.Many2one(
        "cartum.store", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="store_id.company_id")
    mode = fields.Selection(
        [("numbers", "Order numbers"), ("dates", "Orders created between two dates")],
        required=True,
        default="numbers",
    )
    order_numbers = fields.Text(help="Cartum order numbers, separated by spaces, commas or lines.")
    date_from = fields.Datetime(string="Created From")
    date_to = fields.Datetime(string="Created To")

    @api.model
    def _parse_numbers(self, text):
        numbers = [word for word in re.split(r"[\s,;]+", text or "") if word]
        wrong = [word for word in numbers if not word.isdigit()]
        if wrong:
            raise UserError(self.env._("These are not Cartum order numbers: %s", ", ".join(wrong)))
        if not numbers:
            raise UserError(self.env._("Enter at least one Cartum order number."))
        return numbers

    def action_import(self):
        self.ensure_one()
        self.store_id._check_cartum_manager()
        Importer = self.env["cartum.importer"]
        if self.mode == "numbers":
            numbers = self._parse_numbers(self.order_numbers)
            run = Importer._run(self.store_id, trigger="import", order_ids=numbers)
        else:
            if not (self.date_from and self.date_to) or self.date_from > self.date_to:
                raise UserError(self.env._("Choose a start date before the end date."))
            run = Importer._run(
                self.store_id, trigger="import", created_between=(self.date_from, self.date_to)
            )
        return run._get_records_action(name=self.env._("Import Orders"))
