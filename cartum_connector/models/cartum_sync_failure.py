from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class CartumSyncFailure(models.Model):
    _name = "cartum.sync.failure"
    _inherit = ["cartum.company.check", "cartum.action.mixin"]
    _description = "Cartum Order That Failed to Sync"
    _order = "id desc"

    run_id = fields.Many2one(
        "cartum.sync.run", required=True, ondelete="cascade", index=True, check_company=True
    )
    store_id = fields.Many2one(
        related="run_id.store_id", store=True, index=True, check_company=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    external_id = fields.Char(string="Cartum Order", index=True)
    kind = fields.Selection(
        [("order", "Order not imported"), ("status", "Status not applied")],
        required=True,
        default="order",
    )
    reason = fields.Text(required=True)
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved"), ("superseded", "Failed again later")],
        default="open",
        required=True,
        index=True,
    )
    resolved_at = fields.Datetime(readonly=True)
    repair_id = fields.Many2one(
        "repair.order", string="Repair Order", index="btree_not_null", check_company=True
    )

    @api.constrains("repair_id", "store_id")
    def _check_repair_of_store(self):
        for failure in self:
            if failure.repair_id and failure.repair_id.sudo().cartum_store_id != failure.store_id:
                raise ValidationError(
                    self.env._("A failed order's repair order must come from its store.")
                )

    @api.model
    def _resolve(self, store, external_ids, kind):
        self.sudo().search(
            [
                ("store_id", "=", store.id),
                ("external_id", "in", list(external_ids)),
                ("kind", "=", kind),
                ("state", "=", "open"),
            ]
        ).write({"state": "resolved", "resolved_at": fields.Datetime.now()})

    def action_retry(self):
        """Read the orders again from Cartum and import them; a success resolves the line."""
        self._check_cartum_manager()
        retryable = self.filtered(lambda failure: failure.state == "open" and failure.external_id)
        if not retryable:
            raise UserError(self.env._("There is no open failure with a Cartum order to retry."))
        runs = self.env["cartum.sync.run"]
        for store, failures in retryable.grouped("store_id").items():
            order_ids = sorted(set(failures.mapped("external_id")))
            runs |= self.env["cartum.importer"]._run(store, trigger="retry", order_ids=order_ids)
        return runs._get_records_action(name=self.env._("Retry"))
