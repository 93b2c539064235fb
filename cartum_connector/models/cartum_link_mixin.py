from odoo import api, fields, models

from .. import compat


class CartumLinkMixin(models.AbstractModel):
    """A link between a record of Odoo and a Cartum store (``cartum.partner.link``,
    ``cartum.product.link``): the store, the record's external ID there, when it was first
    linked, and when an import last read it. Only the connector writes links (as superuser);
    users read them."""

    _name = "cartum.link.mixin"
    _inherit = "cartum.company.check"
    _description = "Cartum Link"
    _order = "store_id, external_id"

    store_id = fields.Many2one(
        "cartum.store",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="store_id.company_id", store=True, index=True)
    external_id = fields.Char(string="External ID", required=True, readonly=True)
    linked_at = fields.Datetime(
        string="First Linked", required=True, readonly=True, default=fields.Datetime.now
    )
    last_read_at = fields.Datetime(
        string="Last Update", readonly=True, help="The last time an import read it from Cartum."
    )

    _store_external_unique = compat.Constraint(
        "UNIQUE(store_id, external_id)", "A store links one record per external ID."
    )

    @api.model
    def _record_field(self):
        """The many2one to the linked record."""
        raise NotImplementedError

    @api.model
    def _upsert(self, store, pairs, read_since=None):
        """Link ``(external id, record id)`` pairs to the store, or move Last Update of the
        existing links, but for those read since ``read_since`` (earlier in the same run): one
        query for a whole page, which rewrites no row for nothing."""
        pairs = dict(pairs)
        if not pairs:
            return
        self.flush_model()
        now = fields.Datetime.now()
        record_column = self._record_field()
        rows = [
            (store.id, store.company_id.id, external_id, record_id, now, now, self.env.uid, now)
            for external_id, record_id in pairs.items()
        ]
        placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        params = [value for row in rows for value in (*row, self.env.uid, now)]
        self.env.cr.execute(
            f"""
            INSERT INTO {self._table} (store_id, company_id, external_id, {record_column},
                                       linked_at, last_read_at, create_uid, create_date,
                                       write_uid, write_date)
            VALUES {placeholders}
            ON CONFLICT (store_id, external_id) DO UPDATE SET last_read_at = EXCLUDED.last_read_at
            WHERE {self._not_read_since()}
            """,
            [*params, read_since or now],
        )
        self.invalidate_model()

    @api.model
    def _not_read_since(self):
        """SQL: the link was not read since the moment given as its one parameter."""
        return f"({self._table}.last_read_at IS NULL OR {self._table}.last_read_at < %s)"

    @api.model
    def _touch(self, store, external_ids, read_since=None):
        """Move Last Update of the store's links with these external IDs, but for those read
        since ``read_since``: one query."""
        if not external_ids:
            return
        self.flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            f"""
            UPDATE {self._table} SET last_read_at = %s
            WHERE store_id = %s AND external_id IN %s AND {self._not_read_since()}
            """,
            (now, store.id, tuple(external_ids), read_since or now),
        )
        self.invalidate_model(["last_read_at"])
