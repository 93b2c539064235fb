import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from cartum_api import CartumError

_logger = logging.getLogger(__name__)

# Advisory lock namespace of the import (first key; the store id is the second).
IMPORT_LOCK_NAMESPACE = 0x0CA7
ORDERS_PER_PAGE = 100


class ImportLockLost(Exception):
    """Another run took the store's lock while this one committed between pages."""


class CartumSyncRun(models.Model):
    """One import run of one store: what it did, and each order it could not import."""

    _name = "cartum.sync.run"
    _description = "Cartum Sync Run"
    _order = "id desc"
    _rec_name = "started_at"

    store_id = fields.Many2one("cartum.store", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    trigger = fields.Selection(
        [
            ("first", "First import"),
            ("cron", "Scheduled"),
            ("manual", "Manual"),
            ("refresh", "Refresh of orders"),
            ("retry", "Retry of failed orders"),
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
        ],
        default="running",
        required=True,
    )
    started_at = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    finished_at = fields.Datetime(readonly=True)
    imported_count = fields.Integer(string="Imported", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    failed_count = fields.Integer(string="Failed Orders", readonly=True)
    message = fields.Text(readonly=True)
    failure_ids = fields.One2many("cartum.sync.failure", "run_id", string="Failures")

    @api.depends("store_id", "started_at")
    def _compute_display_name(self):
        for run in self:
            run.display_name = f"{run.store_id.name} {fields.Datetime.to_string(run.started_at)}"

    # -- entry point ----------------------------------------------------------------------

    @api.model
    def _import_store(self, store, trigger, commit=False, order_ids=None):
        """Import new orders and refresh open ones (or just ``order_ids``) of one store.

        ``commit`` is for the scheduled job only: it commits after each page so that an
        interrupted run keeps what it did, and the next run goes on from there.
        """
        store = store.sudo()
        if not store.import_cursor and trigger in ("cron", "manual"):
            trigger = "first"
        run = self.sudo().create({"store_id": store.id, "trigger": trigger})
        if commit:
            # Cron batches only: the run record is visible while it works.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        if not self._lock_store(store):
            run._finish("skipped", self.env._("Skipped: another import of this store is running."))
            return run
        try:
            if order_ids is not None:
                run._import_order_ids(order_ids, commit)
            else:
                seen_ids = run._import_new_orders(commit)
                run._refresh_open_orders(seen_ids, commit)
        except ImportLockLost:
            run._finish("skipped", self.env._("Stopped: another import of this store took over."))
        except CartumError as error:
            _logger.warning("Cartum import of store %s stopped: %s", store.id, error)
            run._finish("failed", str(error))
        else:
            run._finish("partial" if run.failed_count else "done")
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return run

    def _lock_store(self, store):
        """Take the store's import lock for this transaction; False if another run holds it."""
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", (IMPORT_LOCK_NAMESPACE, store.id)
        )
        return self.env.cr.fetchone()[0]

    def _end_batch(self, commit):
        """End a batch of orders: in the scheduled job, commit it, so that an interruption keeps
        what it imported, and take the store's lock again (the commit released it)."""
        if not commit:
            return
        self.env.cr.commit()  # pylint: disable=invalid-commit
        if not self._lock_store(self.store_id):
            raise ImportLockLost()

    def _finish(self, state, message=None):
        self.write(
            {"state": state, "finished_at": fields.Datetime.now(), "message": message or False}
        )

    # -- where orders are fetched ---------------------------------------------------------

    def _import_new_orders(self, commit):
        """New orders by creation window; on the first run, every unfinished order of 60 days."""
        store = self.store_id
        client = store._cartum_client()
        statuses = None
        left_out = None
        if not store.import_cursor:
            if not store.status_mapping_ids:
                store._refresh_statuses()
            statuses = [m.cartum_status_id for m in store.status_mapping_ids if not m.is_successful]
        else:
            # The first import left finished orders out; the overlap of later windows reaches
            # back into its period and must leave them out too.
            finished = set(
                store.status_mapping_ids.filtered("is_successful").mapped("cartum_status_id")
            )
            cursor = store.import_cursor

            def left_out(order):
                return order.status_id in finished and store._to_utc(order.created) <= cursor

        seen_ids = set()
        window_start = store._import_window_start()
        newest = store.import_cursor
        pages = client.list_orders(
            created_from=store._to_store_time(window_start),
            statuses=statuses,
            page_size=ORDERS_PER_PAGE,
        )
        for page in pages:
            self._import_page(page, left_out)
            for order in page.items:
                seen_ids.add(str(order.order_id))
                created = store._to_utc(order.created)
                newest = max(newest, created) if newest else created
            self._end_batch(commit)
        # The cursor moves only after the whole window was read: an interrupted run reads the
        # same window again, and orders it already imported are found unchanged.
        store.import_cursor = newest or fields.Datetime.now()
        return seen_ids

    def _refresh_open_orders(self, seen_ids, commit):
        """Read again, by id, the store's orders that can still change: those not written off,
        and written-off ones whose Cartum status is not final (so that a change made in Cartum
        after the write-off is noted)."""
        store = self.store_id
        final_status_ids = store.status_mapping_ids.filtered(
            lambda mapping: mapping.is_successful or mapping.inbound_state == "cancel"
        ).mapped("cartum_status_id")
        repairs = self.env["repair.order"].search(
            [
                ("cartum_store_id", "=", store.id),
                ("state", "!=", "cancel"),
                "|",
                ("state", "!=", "done"),
                ("cartum_status_code", "not in", final_status_ids),
            ]
        )
        order_ids = [
            int(repair.cartum_external_id)
            for repair in repairs
            if repair.cartum_external_id not in seen_ids
        ]
        self._import_order_ids(order_ids, commit)

    def _import_order_ids(self, order_ids, commit=False):
        client = self.store_id._cartum_client()
        for start in range(0, len(order_ids), ORDERS_PER_PAGE):
            self._import_page(client.get_orders(order_ids[start : start + ORDERS_PER_PAGE]))
            self._end_batch(commit)

    # -- one page: map and write each order in its own savepoint ----------------------------

    def _import_page(self, page, left_out=None):
        """Import one page: new orders are created, changed ones updated; ``left_out`` tells
        which unknown orders to pass over."""
        store = self.store_id
        Repair = self.env["repair.order"].sudo().with_company(store.company_id)
        for error in page.errors:
            self._record_failure(error.record_id, str(error))
        orders = page.items
        if not orders:
            return
        known = {
            repair.cartum_external_id: repair
            for repair in Repair.search(
                [
                    ("cartum_store_id", "=", store.id),
                    ("cartum_external_id", "in", [str(order.order_id) for order in orders]),
                ]
            )
        }
        company_currency = store.company_id.currency_id.name
        fresh, changed, succeeded = [], [], []
        unchanged = Repair.browse()
        updated_count = 0
        for order in orders:
            repair = known.get(str(order.order_id))
            if order.currency != company_currency:
                self._record_failure(
                    order.order_id,
                    self.env._(
                        "Order %(order)s is in %(currency)s, but %(company)s works in "
                        "%(company_currency)s: it was not imported.",
                        order=order.order_id,
                        currency=order.currency,
                        company=store.company_id.name,
                        company_currency=company_currency,
                    ),
                )
            elif repair is None:
                if not (left_out and left_out(order)):
                    fresh.append(order)
            elif repair.cartum_digest == order.digest:
                unchanged |= repair
                succeeded.append(order)
            else:
                changed.append((repair, order))
        # Read and found the same: still a successful sync, as Last Update says.
        unchanged.with_context(cartum_inbound=True).cartum_last_sync = fields.Datetime.now()
        created = set()
        if fresh or changed:
            mapper = self.env["cartum.order.mapper"]._prepare(
                store, fresh + [order for _repair, order in changed]
            )
            created = Repair._cartum_create_orders(self, mapper, fresh)
            succeeded += [order for order in fresh if str(order.order_id) in created]
            for repair, order in changed:
                try:
                    with self.env.cr.savepoint():
                        repair._cartum_update_from_order(self, mapper, order)
                except Exception as error:
                    self._record_failure(order.order_id, self._describe(error), repair)
                else:
                    updated_count += 1
                    succeeded.append(order)
        self.write(
            {
                "imported_count": self.imported_count + len(created),
                "updated_count": self.updated_count + updated_count,
                "unchanged_count": self.unchanged_count + len(unchanged),
            }
        )
        self._resolve_failures([str(order.order_id) for order in succeeded])

    @api.model
    def _describe(self, error):
        """A message for the log that never carries a secret: Cartum errors are built without
        them; anything else is named by its type and text."""
        if isinstance(error, (UserError, CartumError)):
            return str(error.args[0] if error.args else error)
        return f"{type(error).__name__}: {error}"

    def _record_failure(self, external_id, reason, repair=None, kind="order"):
        self.ensure_one()
        external_id = str(external_id) if external_id is not None else False
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

    def _resolve_failures(self, external_ids):
        """Open failures of orders that have now gone through are marked resolved."""
        if not external_ids:
            return
        self.env["cartum.sync.failure"].sudo().search(
            [
                ("store_id", "=", self.store_id.id),
                ("external_id", "in", external_ids),
                ("kind", "=", "order"),
                ("state", "=", "open"),
            ]
        ).write({"state": "resolved", "resolved_at": fields.Datetime.now()})

    def action_retry_failures(self):
        return self.failure_ids.filtered(lambda failure: failure.state == "open").action_retry()
