from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_datetime, format_time

from cartum_api import part_key

from .. import compat

REFRESH_INTERVAL = timedelta(minutes=10)
PARTS_GROUP = "cartum_connector.group_cartum_parts"
# The Cartum link of a repair order: only the connector's own code writes it, as superuser.
CARTUM_LINK_FIELDS = {
    "cartum_store_id",
    "cartum_external_id",
    "cartum_created",
    "cartum_last_sync",
    "cartum_last_refresh",
    "cartum_status_code",
    "cartum_amount_total",
    "cartum_coupon_code",
    "cartum_discount_amount",
    "cartum_digest",
    "cartum_delivery_digest",
    "cartum_unapplied_digest",
    "cartum_done_at",
}
# Ids of the repairs whose completion (action_repair_done) runs in this thread: it creates the
# move of the repaired product, which is no part. Not a context key, which RPC could send.
REPAIRS_BEING_DONE = ContextVar("cartum_repairs_being_done", default=frozenset())
# Ids of the repairs whose own flow (confirm, start, end, cancel, reserve) runs in this thread:
# it sets their parts' state, quantities and move lines, which no user may set by hand.
REPAIRS_IN_FLOW = ContextVar("cartum_repairs_in_flow", default=frozenset())


@contextmanager
def repairs_in_flow(repairs):
    """The repair's own flow is at work on ``repairs``' parts, in this thread."""
    token = REPAIRS_IN_FLOW.set(REPAIRS_IN_FLOW.get() | set(repairs.ids))
    try:
        yield
    finally:
        REPAIRS_IN_FLOW.reset(token)


class RepairOrder(models.Model):
    _inherit = "repair.order"

    cartum_store_id = fields.Many2one(
        "cartum.store",
        string="Store",
        readonly=True,
        index="btree_not_null",
        copy=False,
        check_company=True,
    )
    cartum_store_name = fields.Char(
        related="cartum_store_id.name", string="Store Name", readonly=True, tracking=False
    )
    cartum_external_id = fields.Char(string="External ID", readonly=True, copy=False)
    cartum_created = fields.Datetime(string="Created in Cartum", readonly=True, copy=False)
    cartum_last_sync = fields.Datetime(
        string="Last Update", readonly=True, copy=False, help="Last successful sync with Cartum."
    )
    cartum_last_refresh = fields.Datetime(string="Refreshed by Hand At", readonly=True, copy=False)
    cartum_done_at = fields.Datetime(
        string="Written Off At",
        readonly=True,
        copy=False,
        help="When the repair was completed and its parts written off.",
    )
    cartum_status_code = fields.Integer(
        string="Cartum Status ID",
        readonly=True,
        copy=False,
        groups="base.group_no_one",
        help="The order's status in Cartum, as last read or sent.",
    )
    cartum_status_name = fields.Char(
        string="Cartum Status", compute="_compute_cartum_status_name", compute_sudo=True
    )
    cartum_amount_total = fields.Monetary(
        string="Cartum Total",
        readonly=True,
        copy=False,
        currency_field="cartum_currency_id",
        help="Total of the order's lines in Cartum, without delivery.",
    )
    cartum_coupon_code = fields.Char(string="Coupon", readonly=True, copy=False)
    cartum_discount_amount = fields.Monetary(
        string="Cartum Discount",
        readonly=True,
        copy=False,
        currency_field="cartum_currency_id",
        help="The order's discount (its coupon's, or the store's), which Cartum takes off the "
        "total but not off the lines: the parts keep Cartum's line prices.",
    )
    cartum_currency_id = fields.Many2one(related="company_id.currency_id")
    # Digests tell, without a field-by-field comparison, whether anything changed in Cartum.
    cartum_digest = fields.Char(
        string="Cartum Payload Digest", readonly=True, copy=False, groups="base.group_no_one"
    )
    cartum_delivery_digest = fields.Char(
        string="Delivery Digest", readonly=True, copy=False, groups="base.group_no_one"
    )
    cartum_unapplied_digest = fields.Char(
        string="Unapplied Changes Digest", readonly=True, copy=False, groups="base.group_no_one"
    )
    cartum_admin_url = fields.Char(string="Order in Cartum", compute="_compute_cartum_admin_url")
    cartum_parts_locked = fields.Boolean(
        string="Parts Locked", compute="_compute_cartum_parts_locked"
    )

    _cartum_order_unique = compat.Constraint(
        "UNIQUE(cartum_store_id, cartum_external_id)",
        "A Cartum order is imported only once per store.",
    )

    @api.depends("cartum_store_id.status_mapping_ids.title", "cartum_status_code")
    @api.depends_context("lang")
    def _compute_cartum_status_name(self):
        for repair in self:
            mapping = repair.cartum_store_id.status_mapping_ids.filtered(
                lambda m, code=repair.cartum_status_code: m.cartum_status_code == code
            )
            repair.cartum_status_name = mapping[:1].title or (
                str(repair.cartum_status_code) if repair.cartum_store_id else False
            )

    @api.depends("cartum_store_id.url", "cartum_store_id.admin_order_url", "cartum_external_id")
    def _compute_cartum_admin_url(self):
        for repair in self:
            store = repair.cartum_store_id
            repair.cartum_admin_url = (
                store._admin_order_url(repair.cartum_external_id) if store else None
            ) or False

    @api.depends_context("uid")
    @api.depends("cartum_store_id")
    def _compute_cartum_parts_locked(self):
        allowed = self.env.user.has_group(PARTS_GROUP)
        for repair in self:
            repair.cartum_parts_locked = bool(repair.cartum_store_id) and not allowed

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        # The store's name is only the Store column's link to Cartum: Add Custom Group offers
        # the store once, by Store.
        fields = super().fields_get(allfields, attributes)
        if fields.get("cartum_store_name", {}).get("groupable"):
            fields["cartum_store_name"]["groupable"] = False
        return fields

    # -- status push: every state change, whatever made it --------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self._cartum_check_link_write({key for vals in vals_list for key in vals})
        return super().create(vals_list)

    def write(self, vals):
        self._cartum_check_link_write(vals)
        if "state" not in vals:
            return super().write(vals)
        previous = {repair.id: repair.state for repair in self if repair.cartum_store_id}
        result = super().write(vals)
        moved = self.filtered(
            lambda repair: repair.id in previous and previous[repair.id] != repair.state
        )
        if moved:
            moved.filtered(lambda repair: repair.state == "done").sudo().write(
                {"cartum_done_at": fields.Datetime.now()}
            )
            if not self.env.context.get("cartum_inbound"):
                self.env["cartum.status.push"]._enqueue(moved)
        return result

    def action_repair_done(self):
        token = REPAIRS_BEING_DONE.set(REPAIRS_BEING_DONE.get() | set(self.ids))
        try:
            with repairs_in_flow(self):
                return super().action_repair_done()
        finally:
            REPAIRS_BEING_DONE.reset(token)

    # The repair's own flow: what it does to its parts (reserve, consume, cancel with the
    # repair) stays open to whoever may process the repair.

    def action_validate(self):
        with repairs_in_flow(self):
            return super().action_validate()

    def _action_repair_confirm(self):
        with repairs_in_flow(self):
            return super()._action_repair_confirm()

    def action_repair_start(self):
        with repairs_in_flow(self):
            return super().action_repair_start()

    def action_repair_end(self):
        with repairs_in_flow(self):
            return super().action_repair_end()

    def action_repair_cancel(self):
        with repairs_in_flow(self):
            return super().action_repair_cancel()

    def action_repair_cancel_draft(self):
        with repairs_in_flow(self):
            return super().action_repair_cancel_draft()

    def action_assign(self):
        with repairs_in_flow(self):
            return super().action_assign()

    def action_unreserve(self):
        with repairs_in_flow(self):
            return super().action_unreserve()

    def copy(self, default=None):
        self.filtered("cartum_store_id")._cartum_check_parts_permission(
            self.env._(
                "Only users with the permission “Can add products without deduction” can "
                "duplicate repair orders from Cartum."
            )
        )
        return super().copy(default)

    def unlink(self):
        self.filtered("cartum_store_id")._cartum_check_parts_permission(
            self.env._(
                "Only users with the permission “Can add products without deduction” can "
                "delete repair orders from Cartum."
            )
        )
        return super().unlink()

    def _cartum_check_link_write(self, field_names):
        """The link to a Cartum order is the connector's: an import, a push or a refresh writes
        it as superuser. Anyone else, administrators included, is refused."""
        forged = CARTUM_LINK_FIELDS & set(field_names)
        if forged and not self.env.su:
            raise AccessError(
                self.env._(
                    "The Cartum fields of a repair order (%(fields)s) are set by the Cartum "
                    "connector only.",
                    fields=", ".join(sorted(self._fields[name].string for name in forged)),
                )
            )

    def _cartum_parts(self):
        """The live parts that came from the Cartum order's lines, by (line key, unit price)."""
        return {
            part_key(move.cartum_line_key, move.price_unit): move
            for move in self.move_ids
            if move.cartum_line_key and move.repair_line_type == "add" and move.state != "cancel"
        }

    def _cartum_state_label(self, state):
        return dict(self._fields["state"]._description_selection(self.env)).get(state, state)

    def _cartum_move_to_state(self, target):
        """Reach ``target`` through the repair order's own actions, or raise UserError."""
        allowed_from = {
            "draft": ("cancel",),
            "confirmed": ("draft",),
            "under_repair": ("draft", "confirmed"),
            "done": ("draft", "confirmed", "under_repair"),
            "cancel": ("draft", "confirmed", "under_repair"),
        }
        refused = self.filtered(lambda repair: repair.state not in allowed_from[target])
        if refused:
            raise UserError(
                self.env._(
                    "A repair order that is %(state)s cannot become %(target)s.",
                    state=refused[0]._cartum_state_label(refused[0].state),
                    target=refused[0]._cartum_state_label(target),
                )
            )
        if target == "draft":
            self.action_repair_cancel_draft()
        elif target == "confirmed":
            self._action_repair_confirm()
        elif target == "under_repair":
            self.action_repair_start()
        elif target == "done":
            self.filtered(lambda repair: repair.state != "under_repair").action_repair_start()
            self._cartum_use_demanded_parts()
            self.action_repair_end()
        else:
            self.action_repair_cancel()

    def _cartum_use_demanded_parts(self):
        """Cartum says the order is done: its parts were used as ordered. Parts nobody picked
        are written off at their demand, also beyond the stock Odoo counts, where Odoo would
        cancel the parts it could not reserve."""
        parts = self.move_ids.filtered(
            lambda move: (
                move.repair_line_type == "add"
                and move.state not in ("draft", "done", "cancel")
                and not move.picked
                and move.quantity != move.product_uom_qty
            )
        )
        for move in parts:
            move.quantity = move.product_uom_qty

    # -- manual refresh ---------------------------------------------------------------------

    def _cartum_check_parts_permission(self, refusal=None):
        """Refuse, with ``refusal`` (by default: about parts and refreshes), users without
        the parts permission."""
        # No repair order from Cartum (copy/unlink pass only those): nothing to check.
        if not self or self.env.su or self.env.user.has_group(PARTS_GROUP):
            return
        raise AccessError(
            refusal
            or self.env._(
                "Only users with the permission “Can add products without deduction” can "
                "change the parts of repair orders from Cartum or refresh them."
            )
        )

    def action_cartum_refresh(self):
        """Read the selected orders again from Cartum, each at most once every 10 minutes."""
        self._cartum_check_parts_permission()
        repairs = self.filtered("cartum_store_id")
        if not repairs:
            raise UserError(self.env._("None of the selected repair orders came from Cartum."))
        now = fields.Datetime.now()
        self.flush_model(["cartum_last_refresh"])
        # Row locks make two users' clicks at the same time count once: the second skips them.
        self.env.cr.execute(
            """
            SELECT id FROM repair_order
             WHERE id IN %s
               AND (cartum_last_refresh IS NULL OR cartum_last_refresh <= %s)
               FOR UPDATE SKIP LOCKED
            """,
            (tuple(repairs.ids), now - REFRESH_INTERVAL),
        )
        allowed = self.browse(row[0] for row in self.env.cr.fetchall())
        allowed.sudo().with_context(cartum_inbound=True).write({"cartum_last_refresh": now})
        runs = self.env["cartum.sync.run"]
        for store, store_repairs in allowed.grouped("cartum_store_id").items():
            order_ids = store_repairs.mapped("cartum_external_id")
            runs |= self.env["cartum.importer"]._run(store, trigger="refresh", order_ids=order_ids)
        return self._cartum_refresh_notification(allowed, repairs - allowed, runs)

    def _cartum_refresh_notification(self, refreshed, skipped, runs):
        lines = []
        failed = runs.filtered(lambda run: run.state in ("failed", "skipped"))
        # Orders Cartum did not return, or that could not be imported, by their number.
        reasons = runs.failure_ids.filtered(lambda failure: failure.kind == "order")
        refreshed = refreshed.filtered(
            lambda repair: repair.cartum_external_id not in reasons.mapped("external_id")
        )
        if refreshed:
            lines.append(
                self.env._(
                    "Refreshed: %(orders)s.", orders=", ".join(refreshed.mapped("display_name"))
                )
            )
        for run in failed:
            lines.append(
                self.env._("%(store)s: %(message)s", store=run.store_id.name, message=run.message)
            )
        lines += reasons.mapped("reason")
        today = fields.Date.context_today(self)
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        for repair in skipped:
            if repair.cartum_last_refresh:
                available = repair.cartum_last_refresh + REFRESH_INTERVAL
                # The user's time, with the date when it is not today, in their language.
                if fields.Datetime.context_timestamp(self, available).date() == today:
                    when = format_time(self.env, available, tz=tz, time_format="short")
                else:
                    when = format_datetime(self.env, available, tz=tz, dt_format="short")
                lines.append(
                    self.env._(
                        "Skipped %(order)s: refreshed less than 10 minutes ago; it can be "
                        "refreshed again at %(time)s.",
                        order=repair.display_name,
                        time=when,
                    )
                )
            else:
                lines.append(
                    self.env._(
                        "Skipped %(order)s: someone else is refreshing it right now.",
                        order=repair.display_name,
                    )
                )
        return self.env["cartum.action.mixin"]._cartum_notification(
            self.env._("Update from Cartum"),
            "\n".join(lines),
            "warning" if skipped or failed or reasons else "success",
        )
