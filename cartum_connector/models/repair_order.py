from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

REFRESH_INTERVAL = timedelta(minutes=10)
PARTS_GROUP = "cartum_connector.group_cartum_parts"


class RepairOrder(models.Model):
    _inherit = "repair.order"

    cartum_store_id = fields.Many2one(
        "cartum.store", string="Store", readonly=True, index="btree_not_null", copy=False
    )
    cartum_store_name = fields.Char(related="cartum_store_id.name", string="Store Name")
    cartum_external_id = fields.Char(string="External ID", readonly=True, copy=False)
    cartum_created = fields.Datetime(string="Created in Cartum", readonly=True, copy=False)
    cartum_last_sync = fields.Datetime(
        string="Last Update", readonly=True, copy=False, help="Last successful sync with Cartum."
    )
    cartum_last_refresh = fields.Datetime(string="Last Manual Refresh", readonly=True, copy=False)
    cartum_status_code = fields.Integer(
        string="Cartum Status ID",
        readonly=True,
        copy=False,
        help="The order's status in Cartum, as last read or sent.",
    )
    cartum_status_name = fields.Char(string="Cartum Status", compute="_compute_cartum_status_name")
    cartum_amount_total = fields.Monetary(
        string="Cartum Total",
        readonly=True,
        copy=False,
        currency_field="cartum_currency_id",
        help="Total of the order's lines in Cartum, without delivery.",
    )
    cartum_currency_id = fields.Many2one(related="company_id.currency_id")
    # Digests tell, without a field-by-field comparison, whether anything changed in Cartum.
    cartum_digest = fields.Char(string="Cartum Payload Digest", readonly=True, copy=False)
    cartum_delivery_digest = fields.Char(string="Delivery Digest", readonly=True, copy=False)
    cartum_unapplied_digest = fields.Char(
        string="Unapplied Changes Digest", readonly=True, copy=False
    )
    cartum_admin_url = fields.Char(string="Order in Cartum", compute="_compute_cartum_admin_url")
    cartum_parts_locked = fields.Boolean(
        string="Parts Locked", compute="_compute_cartum_parts_locked"
    )

    _sql_constraints = [
        (
            "cartum_order_unique",
            "UNIQUE(cartum_store_id, cartum_external_id)",
            "A Cartum order is imported only once per store.",
        )
    ]

    @api.depends("cartum_store_id.status_mapping_ids.name", "cartum_status_code")
    def _compute_cartum_status_name(self):
        for repair in self:
            mapping = repair.cartum_store_id.status_mapping_ids.filtered(
                lambda m, code=repair.cartum_status_code: m.cartum_status_id == code
            )
            repair.cartum_status_name = mapping[:1].name or (
                str(repair.cartum_status_code) if repair.cartum_store_id else False
            )

    @api.depends("cartum_store_id.url", "cartum_store_id.admin_order_url", "cartum_external_id")
    def _compute_cartum_admin_url(self):
        for repair in self:
            store = repair.cartum_store_id
            repair.cartum_admin_url = (
                store._admin_order_url(repair.cartum_external_id) if store else False
            )

    @api.depends_context("uid")
    @api.depends("cartum_store_id")
    def _compute_cartum_parts_locked(self):
        allowed = self.env.user.has_group(PARTS_GROUP)
        for repair in self:
            repair.cartum_parts_locked = bool(repair.cartum_store_id) and not allowed

    # -- status push: every state change, whatever made it --------------------------------------

    def write(self, vals):
        if "state" not in vals or self.env.context.get("cartum_inbound"):
            return super().write(vals)
        previous = {repair.id: repair.state for repair in self if repair.cartum_store_id}
        result = super().write(vals)
        moved = self.filtered(
            lambda repair: repair.id in previous and previous[repair.id] != repair.state
        )
        if moved:
            self.env["cartum.status.push"]._enqueue(moved)
        return result

    # -- where orders are written ----------------------------------------------------------

    @api.model
    def _cartum_create_orders(self, run, prepared, orders):
        """Create the repair orders of new Cartum orders; returns the external ids created.

        All at once in one savepoint; if any order is refused, each again in its own savepoint
        so that the others still go in.
        """
        Mapper = self.env["cartum.order.mapper"]
        store = run.store_id
        values = []
        for order in orders:
            try:
                values.append((order, Mapper._repair_values(store, prepared, order)))
            except Exception as error:  # one bad order is recorded; the others go on
                run._record_failure(order.order_id, run._describe(error))
        Repair = self.with_context(
            cartum_inbound=True, mail_create_nolog=True, mail_create_nosubscribe=True
        )
        created = self.browse()
        try:
            with self.env.cr.savepoint():
                created = Repair.create([vals for _order, vals in values])
            pairs = list(zip([order for order, _vals in values], created, strict=True))
        except Exception:  # retried one by one below, where each error is recorded
            pairs = []
            for order, vals in values:
                try:
                    with self.env.cr.savepoint():
                        pairs.append((order, Repair.create(vals)))
                except Exception as error:  # one bad order is recorded; the others go on
                    run._record_failure(order.order_id, run._describe(error))
            created = self.browse([repair.id for _order, repair in pairs])
        if store.responsible_user_ids and created:
            created.message_subscribe(partner_ids=store.responsible_user_ids.partner_id.ids)
        delivery_notes = {
            repair.id: Mapper._delivery_message(order)
            for order, repair in pairs
            if repair.cartum_delivery_digest
        }
        if delivery_notes:
            self.browse(delivery_notes)._message_log_batch(bodies=delivery_notes)
        self._cartum_apply_new_statuses(run, prepared, pairs)
        return {repair.cartum_external_id for repair in created}

    @api.model
    def _cartum_apply_new_statuses(self, run, prepared, pairs):
        """Move new repair orders to their mapped states: one batch per state, and one by one
        only when a batch is refused, so that each refusal is recorded with its order."""
        by_target = {}
        for order, repair in pairs:
            mapping = prepared.mappings_by_status.get(order.status_id)
            if mapping and mapping.inbound_state and mapping.inbound_state != repair.state:
                by_target.setdefault(mapping.inbound_state, []).append((order, repair))
        for target, group in by_target.items():
            repairs = self.browse([repair.id for _order, repair in group])
            try:
                with self.env.cr.savepoint():
                    # A new order starts in its state: no tracking of the way there.
                    repairs.with_context(
                        cartum_inbound=True, mail_notrack=True
                    )._cartum_move_to_state(target)
            except (UserError, ValidationError):
                for order, repair in group:
                    repair._cartum_apply_status(run, prepared, order)

    def _cartum_update_from_order(self, run, prepared, order):
        """Apply what changed in Cartum; after write-off, parts are left and the change noted."""
        self.ensure_one()
        vals = {
            "cartum_last_sync": fields.Datetime.now(),
            "cartum_digest": order.digest,
            "cartum_amount_total": order.total_sum,
        }
        if self.state == "done":
            self._cartum_note_unapplied(order)
        else:
            partner = prepared.partner(order.customer)
            if partner and partner != self.partner_id:
                vals["partner_id"] = partner.id
            self._cartum_sync_parts(prepared, order)
        self.with_context(cartum_inbound=True).write(vals)
        self._cartum_post_delivery(order)
        self._cartum_apply_status(run, prepared, order)

    def _cartum_parts(self):
        """The live parts that came from the Cartum order's lines, by article."""
        return {
            move.cartum_article: move
            for move in self.move_ids
            if move.cartum_article and move.repair_line_type == "add" and move.state != "cancel"
        }

    def _cartum_sync_parts(self, prepared, order):
        """Make the 'add' parts from Cartum match the order's lines: add, remove, change."""
        Mapper = self.env["cartum.order.mapper"]
        store = self.cartum_store_id
        current = self._cartum_parts()
        new_parts = []
        for article, (quantity, price) in Mapper._wanted_parts(order).items():
            move = current.pop(article, None)
            if move is None:
                values = Mapper._part_values(store, prepared, article, (quantity, price))
                new_parts.append({**values, "repair_id": self.id})
            elif (move.product_uom_qty, move.price_unit) != (quantity, price):
                move.sudo().write({"product_uom_qty": quantity, "price_unit": price})
        if new_parts:
            self.env["stock.move"].sudo().create(new_parts)
        for move in current.values():
            move.sudo().unlink()

    def _cartum_note_unapplied(self, order):
        """Parts are written off: say once in the chatter what changed in Cartum."""
        Mapper = self.env["cartum.order.mapper"]
        wanted = Mapper._wanted_parts(order)
        current = {
            article: (move.product_uom_qty, move.price_unit)
            for article, move in self._cartum_parts().items()
        }
        if wanted == current:
            return
        digest = repr(sorted(wanted.items()))
        if digest == self.cartum_unapplied_digest:
            return
        rows = []
        for article in sorted(set(wanted) | set(current)):
            before = current.get(article, (0.0, 0.0))
            after = wanted.get(article, (0.0, 0.0))
            if before != after:
                rows.append(
                    Markup("<li>%s: %s × %s → %s × %s</li>")
                    % (article, before[0], before[1], after[0], after[1])
                )
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "The parts were already written off, so these changes made in Cartum were not "
                "applied:"
            ),
            Markup("").join(rows),
        )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        self.with_context(cartum_inbound=True).cartum_unapplied_digest = digest

    def _cartum_post_delivery(self, order):
        """Post the delivery method, cost and address when first seen, and again on a change."""
        Mapper = self.env["cartum.order.mapper"]
        digest = Mapper._delivery_digest(order)
        if not digest or digest == self.cartum_delivery_digest:
            return
        self.message_post(body=Mapper._delivery_message(order), subtype_xmlid="mail.mt_note")
        self.with_context(cartum_inbound=True).cartum_delivery_digest = digest

    # -- inbound status ---------------------------------------------------------------------

    def _cartum_apply_status(self, run, prepared, order):
        """Move the repair to the state mapped to the Cartum status, with its own actions.

        A move Odoo refuses is recorded on the repair and in the run, never forced.
        """
        self.ensure_one()
        if self.cartum_status_code != order.status_id:
            self.with_context(cartum_inbound=True).cartum_status_code = order.status_id
        mapping = prepared.mappings_by_status.get(order.status_id)
        target = mapping.inbound_state if mapping else False
        if not target or target == self.state:
            return
        try:
            with self.env.cr.savepoint():
                self.with_context(cartum_inbound=True)._cartum_move_to_state(target)
        except (UserError, ValidationError) as error:
            note = self.env._(
                "Cartum status %(status)s maps to %(state)s, but Odoo refused the change: "
                "%(error)s",
                status=mapping.name,
                state=self._cartum_state_label(target),
                error=run._describe(error),
            )
            self.message_post(body=note, subtype_xmlid="mail.mt_note")
            run._record_failure(order.order_id, note, self, kind="status")

    def _cartum_state_label(self, state):
        return dict(self._fields["state"]._description_selection(self.env)).get(state, state)

    def _cartum_move_to_state(self, target):
        """Reach ``target`` through repair.order's own actions, or raise UserError."""
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
                    state=self._cartum_state_label(refused[0].state),
                    target=self._cartum_state_label(target),
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
            self.action_repair_end()
        else:
            self.action_repair_cancel()

    # -- manual refresh ---------------------------------------------------------------------

    def _cartum_check_parts_permission(self):
        if self.env.su or self.env.user.has_group(PARTS_GROUP):
            return
        raise AccessError(
            self.env._(
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
            order_ids = [int(repair.cartum_external_id) for repair in store_repairs]
            runs |= runs._import_store(store, trigger="refresh", order_ids=order_ids)
        return self._cartum_refresh_notification(allowed, repairs - allowed, runs)

    def _cartum_refresh_notification(self, refreshed, skipped, runs):
        lines = []
        failed = runs.filtered(lambda run: run.state in ("failed", "skipped"))
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
        for repair in skipped:
            if repair.cartum_last_refresh:
                available = fields.Datetime.context_timestamp(
                    self, repair.cartum_last_refresh + REFRESH_INTERVAL
                )
                lines.append(
                    self.env._(
                        "Skipped %(order)s: refreshed less than 10 minutes ago; it can be "
                        "refreshed again at %(time)s.",
                        order=repair.display_name,
                        time=available.strftime("%H:%M"),
                    )
                )
            else:
                lines.append(
                    self.env._(
                        "Skipped %(order)s: someone else is refreshing it right now.",
                        order=repair.display_name,
                    )
                )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Update from Cartum"),
                "message": "\n".join(lines),
                "type": "warning" if skipped or failed else "success",
                "sticky": bool(skipped or failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
