import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from cartum_api import CartumError

from .. import compat
from ..work_context import WorkContext
from .cartum_store_job import RETRYABLE_DB_ERRORS

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_RETRY_DELAY = timedelta(hours=6)
# Housekeeping: pushes that are no longer pending are kept 30 days.
FINISHED_PUSH_KEEP = timedelta(days=30)


class CartumStatusPush(models.Model):
    """Outbox of status changes to send to Cartum.

    A push is stored in the same transaction as the state change that caused it, and that
    transaction triggers the scheduled job that sends it, seconds after the commit; the job
    retries while Cartum fails. The user's action never waits for Cartum nor fails because of
    it. When Cartum changes the order meanwhile, the last change wins: the import cancels the
    waiting push and says so in the chatter.
    """

    _name = "cartum.status.push"
    _inherit = ["cartum.company.check", "cartum.action.mixin"]
    _description = "Cartum Status Push"
    _order = "id desc"

    repair_id = fields.Many2one(
        "repair.order", required=True, ondelete="cascade", index=True, check_company=True
    )
    store_id = fields.Many2one(
        "cartum.store", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    cartum_status_code = fields.Integer(string="Cartum Status ID", required=True)
    cartum_status_name = fields.Char(string="Cartum Status")
    repair_state = fields.Selection(selection="_repair_states")
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sent", "Sent"),
            ("refused", "Refused by Cartum"),
            ("failed", "Gave up"),
            ("superseded", "Superseded"),
            ("cancelled", "Cancelled: changed in Cartum"),
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
    def _repair_states(self):
        return self.env["cartum.status.mapping"]._repair_states()

    @api.constrains("repair_id", "store_id")
    def _check_repair_of_store(self):
        if self.filtered(lambda push: push.repair_id.sudo().cartum_store_id != push.store_id):
            raise ValidationError(
                self.env._("A status push goes to the store its repair order came from.")
            )

    @api.model
    def _enqueue(self, repairs):
        """Queue the Cartum status mapped to each repair's new state, if any and if new."""
        pushes = []
        unmapped = {}
        for repair in repairs.sudo():
            mapping = repair.cartum_store_id.status_mapping_ids.filtered(
                lambda m, state=repair.state: m.outbound_state == state
            )[:1]
            if not mapping:
                unmapped.setdefault(repair.cartum_store_id, []).append(repair)
                continue
            if mapping.cartum_status_code == repair.cartum_status_code:
                continue
            pushes.append(
                {
                    "repair_id": repair.id,
                    "store_id": repair.cartum_store_id.id,
                    "cartum_status_code": mapping.cartum_status_code,
                    "cartum_status_name": mapping.name,
                    "repair_state": repair.state,
                }
            )
        self._note_nothing_sent(unmapped)
        if not pushes:
            return self.browse()
        # Only the newest state matters: an older push still waiting is not sent.
        self.sudo().search(
            [("repair_id", "in", [push["repair_id"] for push in pushes]), ("state", "=", "pending")]
        ).state = "superseded"
        created = self.sudo().create(pushes)
        # Sent by the scheduled job, started right after this transaction commits.
        self.env.ref("cartum_connector.ir_cron_cartum_status_push").sudo()._trigger()
        return created

    @api.model
    def _note_nothing_sent(self, repairs_by_store):
        """A state no Cartum status is mapped to sends nothing: the chatter says so, in the
        store's language, so that nobody waits for Cartum to follow."""
        for store, repairs in repairs_by_store.items():
            store = store.with_context(lang=store._message_lang())
            bodies = {
                repair.id: store.env._(
                    "Nothing was sent to Cartum: no Cartum status is mapped to %(state)s in "
                    "the status mapping of %(store)s.",
                    state=repair.with_env(store.env)._cartum_state_label(repair.state),
                    store=store.name,
                )
                for repair in repairs
            }
            self.env["repair.order"].sudo().browse(bodies)._message_log_batch(bodies=bodies)

    @api.model
    def _cancel_for_cartum_change(self, repair, mapping):
        """Cartum changed the order's status after Odoo queued its own: Cartum's, the later
        change, wins, and the chatter says which status from Odoo was not sent."""
        waiting = self.sudo().search([("repair_id", "=", repair.id), ("state", "=", "pending")])
        if not waiting:
            return
        waiting.write({"state": "cancelled"})
        repair.message_post(
            body=self.env._(
                "The order's status was changed in Cartum to %(cartum)s after Odoo queued "
                "%(odoo)s: the later change, Cartum's, was kept and %(odoo)s was not sent.",
                cartum=mapping.name if mapping else repair.cartum_status_code,
                odoo=waiting[0].cartum_status_name or waiting[0].cartum_status_code,
            ),
            subtype_xmlid="mail.mt_note",
        )

    @api.model
    def _cron_send_pending(self, limit=500):
        due = self.search(
            [
                ("state", "=", "pending"),
                ("next_attempt_at", "<=", fields.Datetime.now()),
                ("store_id.sync_paused", "=", False),
            ],
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
        # Only a repair's own store hears of it: a push recorded for another store is not sent.
        astray = pushes.filtered(lambda push: push.repair_id.cartum_store_id != push.store_id)
        astray.write(
            {
                "state": "failed",
                "last_error": self.env._(
                    "Not sent: the repair order does not come from this store."
                ),
            }
        )
        Job = self.env["cartum.store.job"]
        for store, store_pushes in (pushes - astray).grouped("store_id").items():
            # While the store's import runs, its pushes wait for the next round: the import
            # may be applying a later change from Cartum to the same orders.
            work = WorkContext(store)
            if not Job._lock_store(work):
                continue
            # Errors and chatter notes are read by the store's people, in their language.
            store_pushes = store_pushes.with_context(lang=store._message_lang())
            try:
                with self.env.cr.savepoint():
                    store_pushes._send_to_store(work)
            except RETRYABLE_DB_ERRORS as error:
                _logger.info("Cartum store %s: pushes collided (%s), next round", store.id, error)
            except CartumError as error:  # the store could not be reached: it says what to check
                _logger.warning("Cartum store %s: pushes failed: %s", store.id, error)
                store_pushes._retry_later(
                    store_pushes.env["cartum.adapter"]._error_message(store, error)
                )
            except Exception as error:  # the job never raises: the batch waits and says why
                Adapter = self.env["cartum.adapter"]
                Adapter._log_failure(_logger, store, f"Cartum store {store.id}: pushes failed")
                store_pushes._retry_later(f"{type(error).__name__}: {error}")

    def _send_to_store(self, work):
        updates = [
            {"order_id": int(push.repair_id.cartum_external_id), "status": push.cartum_status_code}
            for push in self
        ]
        # Batches Cartum applied keep their results when a later batch fails.
        results = self.env["cartum.adapter"]._update_statuses(work, updates)
        sent = self.browse()
        for push, result in zip(self, results, strict=True):
            if not result.delivered:
                push._retry_later(result.message)
            elif result.ok:
                sent |= push
            else:
                push._record_refusal(result.message)
        sent._record_sent(work.store)

    def _record_sent(self, store):
        """Cartum applied these statuses: the repairs now show them, in one write a status,
        and their status failures are resolved."""
        if not self:
            return
        now = fields.Datetime.now()
        for attempts, pushes in self.grouped(lambda push: push.attempts + 1).items():
            pushes.write(
                {"state": "sent", "sent_at": now, "attempts": attempts, "last_error": False}
            )
        for status_id, pushes in self.grouped("cartum_status_code").items():
            pushes.repair_id.with_context(cartum_inbound=True).cartum_status_code = status_id
        mappings = store.with_env(self.env).status_mapping_ids  # titles in the notes' language
        titles = {mapping.cartum_status_code: mapping.title for mapping in mappings}
        self.repair_id._message_log_batch(
            bodies={
                push.repair_id.id: self.env._(
                    "Status sent to Cartum as %s.",
                    titles.get(push.cartum_status_code) or push.cartum_status_code,
                )
                for push in self
            }
        )
        self.env["cartum.sync.failure"]._resolve(
            store, self.repair_id.mapped("cartum_external_id"), "status"
        )

    def _record_refusal(self, reason):
        reason = self.env["cartum.adapter"]._scrub(self.store_id, reason)
        message = self.env._(
            "Cartum refused the status %(status)s: %(reason)s",
            status=self.cartum_status_name or self.cartum_status_code,
            reason=reason,
        )
        self.write({"state": "refused", "attempts": self.attempts + 1, "last_error": message})
        self.repair_id.message_post(body=message, subtype_xmlid="mail.mt_note")

    def _retry_later(self, error):
        error = self.env["cartum.adapter"]._scrub(self.store_id[:1], error)
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

    @api.autovacuum
    def _gc_finished_pushes(self):
        return compat.unlink_in_batches(
            self,
            [
                ("state", "!=", "pending"),
                ("write_date", "<", fields.Datetime.now() - FINISHED_PUSH_KEEP),
            ],
        )

    def action_retry_now(self):
        """Send again now, through the scheduled job: the click does not wait on Cartum."""
        self._check_cartum_manager()
        self.filtered(lambda push: push.state in ("pending", "failed")).sudo().write(
            {"state": "pending", "next_attempt_at": fields.Datetime.now()}
        )
        self.env.ref("cartum_connector.ir_cron_cartum_status_push").sudo()._trigger()
