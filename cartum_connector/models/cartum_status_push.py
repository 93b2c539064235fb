import logging
from datetime import timedelta

from odoo import api, fields, models

from cartum_api import CartumError

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_RETRY_DELAY = timedelta(hours=6)


class CartumStatusPush(models.Model):
    """Outbox of status changes to send to Cartum.

    A push is stored in the same transaction as the state change that caused it, sent right
    after that transaction commits, and retried by the scheduled job while Cartum fails: the
    user's action never waits for Cartum nor fails because of it.
    """

    _name = "cartum.status.push"
    _description = "Cartum Status Push"
    _order = "id desc"

    repair_id = fields.Many2one("repair.order", required=True, ondelete="cascade", index=True)
    store_id = fields.Many2one("cartum.store", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    cartum_status_id = fields.Integer(string="Cartum Status ID", required=True)
    cartum_status_name = fields.Char(string="Cartum Status")
    repair_state = fields.Char()
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sent", "Sent"),
            ("refused", "Refused by Cartum"),
            ("failed", "Gave up"),
            ("superseded", "Superseded"),
        ],
        default="pending",
        required=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(default=fields.Datetime.now, index=True)
    sent_at = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)

    @api.model
    def _enqueue(self, repairs):
        """Queue the Cartum status mapped to each repair's new state, if any and if new."""
        pushes = []
        for repair in repairs:
            mapping = repair.cartum_store_id.status_mapping_ids.filtered(
                lambda m, state=repair.state: m.outbound_state == state
            )[:1]
            if not mapping or mapping.cartum_status_id == repair.cartum_status_code:
                continue
            pushes.append(
                {
                    "repair_id": repair.id,
                    "store_id": repair.cartum_store_id.id,
                    "cartum_status_id": mapping.cartum_status_id,
                    "cartum_status_name": mapping.name,
                    "repair_state": repair.state,
                }
            )
        if not pushes:
            return self.browse()
        # Only the newest state matters: an older push still waiting is not sent.
        self.sudo().search(
            [("repair_id", "in", [push["repair_id"] for push in pushes]), ("state", "=", "pending")]
        ).state = "superseded"
        created = self.sudo().create(pushes)
        self._send_after_commit(created)
        return created

    @api.model
    def _send_after_commit(self, pushes):
        pending_ids = self.env.cr.postcommit.data.setdefault("cartum.status.push.ids", set())
        if not pending_ids:
            dbname, uid, context = self.env.cr.dbname, self.env.uid, dict(self.env.context)

            registry = self.env.registry

            def send():
                try:
                    with registry.cursor() as cr:
                        env = api.Environment(cr, uid, context)
                        env["cartum.status.push"].browse(sorted(pending_ids))._send()
                except Exception:
                    # The scheduled job sends it later; the user's transaction is already saved.
                    _logger.exception("Sending Cartum statuses after commit failed (db %s)", dbname)

            self.env.cr.postcommit.add(send)
        pending_ids.update(pushes.ids)

    @api.model
    def _cron_send_pending(self, limit=500):
        due = self.search(
            [("state", "=", "pending"), ("next_attempt_at", "<=", fields.Datetime.now())],
            limit=limit,
            order="next_attempt_at, id",
        )
        due._send()

    def _send(self):
        """Send pending pushes, one request per store; lock rows so that a push goes once."""
        if not self:
            return
        self.flush_model(["state"])
        self.env.cr.execute(
            "SELECT id FROM cartum_status_push WHERE id IN %s AND state = 'pending' "
            "FOR UPDATE SKIP LOCKED",
            (tuple(self.ids),),
        )
        pushes = self.browse(row[0] for row in self.env.cr.fetchall()).sudo()
        for store, store_pushes in pushes.grouped("store_id").items():
            updates = [
                {
                    "order_id": int(push.repair_id.cartum_external_id),
                    "status": push.cartum_status_id,
                }
                for push in store_pushes
            ]
            try:
                results = store._cartum_client().update_statuses(updates)
            except CartumError as error:
                store_pushes._retry_later(str(error))
                continue
            for push, result in zip(store_pushes, results, strict=True):
                push._record_result(result)

    def _record_result(self, result):
        now = fields.Datetime.now()
        if result.ok:
            self.write(
                {
                    "state": "sent",
                    "sent_at": now,
                    "attempts": self.attempts + 1,
                    "last_error": False,
                }
            )
            self.repair_id.with_context(
                cartum_inbound=True
            ).cartum_status_code = self.cartum_status_id
            return
        message = self.env._(
            "Cartum refused the status %(status)s: %(reason)s",
            status=self.cartum_status_name or self.cartum_status_id,
            reason=result.message,
        )
        self.write({"state": "refused", "attempts": self.attempts + 1, "last_error": message})
        self.repair_id.message_post(body=message, subtype_xmlid="mail.mt_note")

    def _retry_later(self, error):
        now = fields.Datetime.now()
        for push in self:
            attempts = push.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                push.write({"state": "failed", "attempts": attempts, "last_error": error})
                push.repair_id.message_post(
                    body=self.env._(
                        "The status %(status)s could not be sent to Cartum: %(error)s",
                        status=push.cartum_status_name,
                        error=error,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            delay = min(MAX_RETRY_DELAY, timedelta(minutes=2**attempts))
            push.write({"attempts": attempts, "last_error": error, "next_attempt_at": now + delay})

    def action_retry_now(self):
        self.env["cartum.store"]._check_cartum_manager()
        self.filtered(lambda push: push.state in ("pending", "failed")).write(
            {"state": "pending", "next_attempt_at": fields.Datetime.now()}
        )
        self._send()
