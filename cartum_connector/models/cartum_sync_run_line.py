from odoo import api, fields, models


class CartumSyncRunLine(models.Model):
    """One order a sync run went through, by its Cartum number, and what the run did with it.
    The orders it could not import are its failures (``cartum.sync.failure``)."""

    _name = "cartum.sync.run.line"
    _inherit = "cartum.company.check"
    _description = "Cartum Order of a Sync Run"
    _order = "id"
    _rec_name = "external_id"

    run_id = fields.Many2one(
        "cartum.sync.run", required=True, ondelete="cascade", index=True, check_company=True
    )
    # Computed before the insert, so that a page's lines are one INSERT and no UPDATE.
    company_id = fields.Many2one(related="run_id.company_id", store=True, precompute=True)
    external_id = fields.Char(string="Cartum Order", required=True)
    outcome = fields.Selection(
        [("imported", "Imported"), ("updated", "Updated"), ("unchanged", "Unchanged")],
        required=True,
    )
    repair_id = fields.Many2one("repair.order", string="Repair Order", compute="_compute_repair_id")

    @api.depends("run_id.store_id", "external_id")
    def _compute_repair_id(self):
        # Found when shown, not kept: the import writes only numbers, and a repair order
        # deleted since is simply no longer there.
        repairs = {}
        for store, lines in self.grouped(lambda line: line.run_id.store_id).items():
            for repair in self.env["repair.order"].search(
                [
                    ("cartum_store_id", "=", store.id),
                    ("cartum_external_id", "in", list(set(lines.mapped("external_id")))),
                ]
            ):
                repairs[store.id, repair.cartum_external_id] = repair.id
        for line in self:
            line.repair_id = repairs.get((line.run_id.store_id.id, line.external_id), False)
