from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime

from cartum_api import CartumError

from .. import compat

# Housekeeping: runs that found nothing are kept a week, others three months (unless they
# have open failures).
EMPTY_RUN_KEEP = timedelta(days=7)
RUN_KEEP = timedelta(days=90)


class CartumSyncRun(models.Model):
    """The sync log: one import run of one store, what it did, and each order it could not
    import. The run itself is ``cartum.importer``'s work."""

    _name = "cartum.sync.run"
    _inherit = "cartum.company.check"
    _description = "Cartum Sync Run"
    _order = "id desc"
    _rec_name = "started_at"

    store_id = fields.Many2one(
        "cartum.store", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    trigger = fields.Selection(
        [
            ("first", "First import"),
            ("cron", "Scheduled"),
            ("manual", "Manual"),
            ("refresh", "Refresh of orders"),
            ("retry", "Retry of failed orders"),
            ("import", "Import of chosen orders"),
        ],
        required=True,
    )
    state = fields.Selection(
        [
            ("running", "Running"),
            ("done", "Done"),
            ("partial", "Done with failures"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
            ("interrupted", "Interrupted"),
        ],
        default="running",
        required=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Started By",
        readonly=True,
        check_company=True,
        help="Who started the run; empty for the store's scheduled job.",
    )
    started_at = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    finished_at = fields.Datetime(readonly=True)
    page_count = fields.Integer(
        string="Pages", readonly=True, help="Pages of orders read from Cartum so far."
    )
    order_count = fields.Integer(
        string="Orders So Far",
        compute="_compute_progress",
        help="Orders imported, updated, unchanged or failed so far.",
    )
    duration = fields.Float(
        compute="_compute_progress",
        help="Minutes and seconds the run took, or has taken so far while it is running.",
    )
    imported_count = fields.Integer(string="Imported", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    failed_count = fields.Integer(string="Failed Orders", readonly=True)
    message = fields.Text(readonly=True)
    line_ids = fields.One2many("cartum.sync.run.line", "run_id", string="Orders")
    failed_external_ids = fields.Text(string="Orders That Failed", compute="_compute_failed_ids")
    failure_ids = fields.One2many("cartum.sync.failure", "run_id", string="Failures")

    @api.depends("store_id", "started_at")
    @api.depends_context("tz", "lang")
    def _compute_display_name(self):
        for run in self:
            started = (
                # The user's time zone and date format, as the form shows started_at.
                format_datetime(
                    self.env, run.started_at, tz=self.env.context.get("tz"), dt_format=False
                )
                if run.started_at
                else ""
            )
            run.display_name = f"{run.store_id.name} {started}"

    @api.depends(
        "imported_count", "updated_count", "unchanged_count", "failed_count", "finished_at"
    )
    def _compute_progress(self):
        now = fields.Datetime.now()
        for run in self:
            run.order_count = (
                run.imported_count + run.updated_count + run.unchanged_count + run.failed_count
            )
            end = run.finished_at or now
            run.duration = (end - run.started_at).total_seconds() / 60 if run.started_at else 0

    @api.depends("failure_ids.external_id")
    def _compute_failed_ids(self):
        for run in self:
            ids = dict.fromkeys(run.failure_ids.sorted("id").mapped("external_id"))
            run.failed_external_ids = ", ".join(id_ for id_ in ids if id_) or False

    def _count_orders(self, imported=(), updated=(), unchanged=()):
        """Count the orders the run imported, updated or found unchanged, and keep which ones,
        by their Cartum number: one line per order, all of a call in one insert."""
        self.ensure_one()
        by_outcome = {"imported": imported, "updated": updated, "unchanged": unchanged}
        lines = [
            {"run_id": self.id, "external_id": str(external_id), "outcome": outcome}
            for outcome, external_ids in by_outcome.items()
            for external_id in external_ids
        ]
        if not lines:
            return
        self.env["cartum.sync.run.line"].create(lines)
        self.write(
            {
                f"{outcome}_count": self[f"{outcome}_count"] + len(external_ids)
                for outcome, external_ids in by_outcome.items()
                if external_ids
            }
        )

    def _finish(self, state, message=None):
        if message:
            message = self.env["cartum.adapter"]._scrub(self.store_id[:1], message)
        self.write(
            {"state": state, "finished_at": fields.Datetime.now(), "message": message or False}
        )

    def _notify_starter(self):
        """The user who started a run in the background hears how it ended, wherever they are
        in Odoo, in their language."""
        for run in self.filtered("user_id"):
            run = run.with_context(lang=run.user_id.lang)
            counts = run.env._(
                "Imported %(imported)s, updated %(updated)s, unchanged %(unchanged)s, "
                "failed %(failed)s.",
                imported=run.imported_count,
                updated=run.updated_count,
                unchanged=run.unchanged_count,
                failed=run.failed_count,
            )
            state = dict(run._fields["state"]._description_selection(run.env))[run.state]
            run.user_id._bus_send(
                "simple_notification",
                {
                    "title": run.env._(
                        "Cartum import of %(store)s: %(state)s",
                        store=run.store_id.name,
                        state=state,
                    ),
                    "message": "\n".join(filter(None, [counts, run.message])),
                    "type": {"done": "success", "partial": "warning"}.get(run.state, "danger"),
                    "sticky": run.state not in ("done", "partial"),
                },
            )

    def _close_interrupted_runs(self):
        """Runs of this store still "running" from before this one were cut off (a killed
        process): this run holds the store's lock, so none of them is working any more."""
        self.search(
            [("store_id", "=", self.store_id.id), ("state", "=", "running"), ("id", "<", self.id)]
        )._finish(
            "interrupted",
            self.env._("Interrupted: the process stopped before the run ended."),
        )

    @api.model
    def _describe(self, error):
        """A message for the log that never carries a secret: Cartum errors are built without
        them; anything else is named by its type and text."""
        if isinstance(error, (UserError, CartumError)):
            return str(error.args[0] if error.args else error)
        return f"{type(error).__name__}: {error}"

    def _record_failure(self, external_id, reason, repair=None, kind="order"):
        self.ensure_one()
        external_id = str(external_id)[:64] if external_id is not None else False
        reason = self.env["cartum.adapter"]._scrub(self.store_id, reason)
        Failure = self.env["cartum.sync.failure"].sudo()
        if external_id:
            # One open line per order: an order failing again closes its earlier line.
            Failure.search(
                [
                    ("store_id", "=", self.store_id.id),
                    ("external_id", "=", external_id),
                    ("kind", "=", kind),
                    ("state", "=", "open"),
                ]
            ).state = "superseded"
        Failure.create(
            {
                "run_id": self.id,
                "external_id": external_id,
                "reason": reason,
                "kind": kind,
                "repair_id": repair.id if repair else False,
            }
        )
        if kind == "order":
            self.failed_count += 1

    def _resolve_failures(self, external_ids, kind):
        """Open failures of ``kind`` of orders that have now gone through (kind "order"), or
        whose status is in step again (kind "status"), are marked resolved."""
        if external_ids:
            self.env["cartum.sync.failure"]._resolve(self.store_id, external_ids, kind)

    @api.autovacuum
    def _gc_old_runs(self):
        now = fields.Datetime.now()
        empty = [
            ("imported_count", "=", 0),
            ("updated_count", "=", 0),
            ("failed_count", "=", 0),
            ("state", "in", ("done", "skipped")),
        ]
        deleted, remaining = compat.unlink_in_batches(
            self, [("started_at", "<", now - EMPTY_RUN_KEEP), *empty]
        )
        if remaining:
            return deleted, remaining
        more, remaining = compat.unlink_in_batches(
            self,
            [
                ("started_at", "<", now - RUN_KEEP),
                ("state", "!=", "running"),
                "!",
                ("failure_ids.state", "=", "open"),
            ],
        )
        return deleted + more, remaining

    def action_retry_failures(self):
        return self.failure_ids.filtered(lambda failure: failure.state == "open").action_retry()
