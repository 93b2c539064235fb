from odoo import api, fields, models


class CartumSharedKey(models.Model):
    """The key of a contact, product or category the connector created: one row per key, made
    unique by the database, so that two imports running at the same time (two stores, two
    workers) never create two records for one key.

    A key is claimed in the transaction that creates its record. A second transaction claiming
    the same key waits for the first; once the first has committed, PostgreSQL refuses the
    second at REPEATABLE READ (a serialization failure), and the importer runs that page again
    in a fresh transaction, which finds the record. Only the connector (as superuser) writes
    keys, and no user reads them (their access grants nothing): they hold the phones and
    e-mails of every company's customers."""

    _name = "cartum.shared.key"
    _description = "Cartum Shared Record Key"
    _log_access = False

    kind = fields.Selection(
        [
            ("partner", "Contact"),
            ("product_code", "Product by Internal Reference"),
            ("product_name", "Product by Name"),
            ("category", "Product Category"),
        ],
        required=True,
        readonly=True,
    )
    scope = fields.Integer(
        required=True, readonly=True, help="The company of the record, 0 when it is shared."
    )
    key = fields.Char(required=True, readonly=True)
    res_id = fields.Integer(string="Record ID", readonly=True)

    def init(self):
        # Plain SQL, not a model constraint: the same on every Odoo series.
        self.env.cr.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS cartum_shared_key_unique "
            f"ON {self._table} (kind, scope, key)"
        )

    @api.model
    def _claim(self, kind, scope, keys, find):
        """Claim ``keys`` before their records are created. Returns ``(claimed, found)``:
        the keys this transaction now owns, whose records it must create and then
        ``_assign``, and ``{key: record}`` for keys another import created a record for
        (``find(keys)``, the caller's own search, gives ``{key: record}``).

        A key whose record was deleted, or no longer answers to it (a contact whose phone
        changed), is taken over. A key claimed by a transaction that committed after this one
        began raises a serialization failure: the caller's page is run again."""
        # Always in the same order, so that two imports claiming the same keys cannot deadlock.
        keys = sorted(set(keys))
        if not keys:
            return [], {}
        cr = self.env.cr
        # A refusal is expected when two imports meet: the page runs again, nothing to log.
        cr.execute(
            f"""
            INSERT INTO {self._table} (kind, scope, key)
            SELECT %s, %s, unnest(%s::varchar[])
            ON CONFLICT (kind, scope, key) DO NOTHING
            RETURNING key
            """,
            (kind, scope, keys),
            log_exceptions=False,
        )
        claimed = {row[0] for row in cr.fetchall()}
        taken = [key for key in keys if key not in claimed]
        found = find(taken) if taken else {}
        stale = [key for key in taken if key not in found]
        if stale:
            # Writing the row makes a second import taking over the same key wait, then fail.
            cr.execute(
                f"UPDATE {self._table} SET res_id = NULL WHERE kind = %s AND scope = %s "
                "AND key = ANY(%s)",
                (kind, scope, stale),
                log_exceptions=False,
            )
            claimed.update(stale)
        return [key for key in keys if key in claimed], found

    @api.model
    def _assign(self, kind, scope, records_by_key):
        """Point claimed keys at the records just created for them."""
        if not records_by_key:
            return
        keys = list(records_by_key)
        self.env.cr.execute(
            f"""
            UPDATE {self._table} AS shared SET res_id = new.res_id
            FROM unnest(%s::varchar[], %s::int[]) AS new(key, res_id)
            WHERE shared.kind = %s AND shared.scope = %s AND shared.key = new.key
            """,
            (keys, [records_by_key[key].id for key in keys], kind, scope),
        )

    @api.model
    def _find_or_create(self, kind, Model, values_by_key, find):
        """Create the records of ``values_by_key`` whose key no other import has claimed, in one
        batch per company; returns ``{key: record}``, with the records other imports made for
        the rest (``find(keys)`` gives ``{key: record}``)."""
        scope_of = {key: values.get("company_id") or 0 for key, values in values_by_key.items()}
        records_by_key = {}
        for scope in sorted(set(scope_of.values())):
            keys = [key for key, key_scope in scope_of.items() if key_scope == scope]
            claimed, found = self._claim(kind, scope, keys, find)
            records_by_key.update(found)
            if claimed:
                created = Model.create([values_by_key[key] for key in claimed])
                new = dict(zip(claimed, created, strict=True))
                self._assign(kind, scope, new)
                records_by_key.update(new)
        return records_by_key
