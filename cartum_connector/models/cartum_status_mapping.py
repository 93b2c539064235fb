from odoo import api, fields, models

from .. import compat
from .cartum_store import cartum_language

CANCEL_WORDS = ("cancel", "скасов", "отмен", "anulad", "cancelad")


class CartumStatusMapping(models.Model):
    _name = "cartum.status.mapping"
    _inherit = "cartum.company.check"
    _description = "Cartum Status Mapping"
    _order = "store_id, cartum_status_code"

    store_id = fields.Many2one(
        "cartum.store", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    cartum_status_code = fields.Integer(string="Cartum Status ID", required=True, readonly=True)
    name = fields.Char(string="Cartum Status", required=True, readonly=True)
    titles = fields.Json(
        string="Titles in Cartum", readonly=True, help="The status title in each store language."
    )
    title = fields.Char(
        string="Cartum Status Title",
        compute="_compute_title",
        help="The status title in the user's language when Cartum has one, else in the store's.",
    )
    is_successful = fields.Boolean(
        string="Successful in Cartum",
        readonly=True,
        help="Cartum counts orders in this status as finished (delivered).",
    )
    inbound_state = fields.Selection(
        selection="_repair_states",
        string="Set Repair To",
        help="When a Cartum order enters this status, the repair order is moved to this "
        "state with its own actions. Empty: the repair order is left as it is.",
    )
    outbound_state = fields.Selection(
        selection="_repair_states",
        string="Send When Repair Is",
        help="When a repair order from this store enters this state in Odoo, this status "
        "is set on the Cartum order. Empty: nothing is sent.",
    )

    _cartum_status_unique = compat.Constraint(
        "UNIQUE(store_id, cartum_status_code)", "Each Cartum status is mapped once per store."
    )
    _outbound_state_unique = compat.Constraint(
        "UNIQUE(store_id, outbound_state)", "Each repair state can send only one Cartum status."
    )

    @api.model
    def _repair_states(self):
        """The states of a repair order, as its own field has them, in the user's language (a
        selection given by a method is not translated by Odoo)."""
        return self.env["repair.order"]._fields["state"]._description_selection(self.env)

    @api.depends("name", "titles")
    @api.depends_context("lang")
    def _compute_title(self):
        language = cartum_language(self.env.lang)
        for mapping in self:
            mapping.title = (mapping.titles or {}).get(language) or mapping.name

    @api.model
    def _sync_from_statuses(self, store, statuses):
        """Create a line, with defaults, for each status not mapped yet; refresh the titles."""
        existing = {mapping.cartum_status_code: mapping for mapping in store.status_mapping_ids}
        new_lines = []
        taken_outbound = {m.outbound_state for m in existing.values() if m.outbound_state}
        first_status_id = min((status.status_id for status in statuses), default=None)
        for status in statuses:
            title = status.title(store.import_language)
            titles = {language: text for language, text in status.titles.items() if text}
            mapping = existing.get(status.status_id)
            if mapping:
                current = (mapping.name, mapping.titles, mapping.is_successful)
                if current != (title, titles, status.is_successful):
                    mapping.write(
                        {"name": title, "titles": titles, "is_successful": status.is_successful}
                    )
                continue
            inbound = self._default_state(status, first_status_id)
            outbound = inbound if inbound and inbound not in taken_outbound else False
            taken_outbound.add(outbound)
            new_lines.append(
                {
                    "store_id": store.id,
                    "cartum_status_code": status.status_id,
                    "name": title,
                    "titles": titles,
                    "is_successful": status.is_successful,
                    "inbound_state": inbound,
                    "outbound_state": outbound,
                }
            )
        self.sudo().create(new_lines)

    @api.model
    def _default_state(self, status, first_status_id):
        """Sensible default: first status New, successful Repaired, cancel-like Cancelled,
        and any other status Confirmed."""
        titles = " ".join(status.titles.values()).lower()
        if status.is_successful:
            return "done"
        if any(word in titles for word in CANCEL_WORDS):
            return "cancel"
        if status.status_id == first_status_id:
            return "draft"
        return "confirmed"
