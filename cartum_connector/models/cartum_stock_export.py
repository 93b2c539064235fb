import logging

from odoo import api, fields, models

from cartum_api import CartumError

from ..work_context import WorkContext

_logger = logging.getLogger(__name__)

# The value each tracked product linked to a store should have in Cartum: its quantity free to
# use (on hand minus reserved, never below 0) in the internal locations of the warehouse of the
# store's repair operation type, as text, or the store's presence text for it. Only for the
# candidates: the links whose stock moved since the last round (cartum_stock_change), those
# never sent, and all of them when ``everything`` (the store's stock settings changed): an
# unchanged product costs nothing.
CURRENT_STOCK_SQL = """
    WITH candidate AS (
        SELECT id FROM cartum_product_link
         WHERE store_id = %(store)s AND %(everything)s
        UNION
        SELECT link.id FROM cartum_product_link link
          JOIN cartum_stock_change change ON change.product_id = link.product_id
         WHERE link.store_id = %(store)s AND change.store_id = %(store)s
        UNION
        SELECT id FROM cartum_product_link
         WHERE store_id = %(store)s AND stock_sent IS NULL AND stock_refused IS NULL
    ), free AS (
        SELECT quant.product_id, SUM(quant.quantity - quant.reserved_quantity) AS quantity
          FROM stock_quant quant
          JOIN stock_location location ON location.id = quant.location_id
         WHERE location.parent_path LIKE %(location_path)s
           AND location.usage = 'internal'
           AND quant.product_id IN (
               SELECT product_id FROM cartum_product_link
                WHERE id IN (SELECT id FROM candidate))
         GROUP BY quant.product_id
    ), current AS MATERIALIZED (
        SELECT link.id, link.external_id, link.stock_sent, link.stock_refused,
               GREATEST(FLOOR(COALESCE(free.quantity, 0)), 0)::integer AS quantity
          FROM cartum_product_link link
          JOIN product_product product ON product.id = link.product_id
          JOIN product_template template ON template.id = product.product_tmpl_id
          LEFT JOIN free ON free.product_id = link.product_id
         WHERE link.id IN (SELECT id FROM candidate) AND template.is_storable
    ), valued AS MATERIALIZED (
        SELECT id, external_id, quantity, stock_sent, stock_refused,
               CASE WHEN %(residues)s THEN quantity::text
                    WHEN quantity > 0 THEN %(in_stock)s
                    ELSE %(out_of_stock)s END AS value
          FROM current
    )
"""
# Those whose value is neither what Cartum has nor what it refused.
WAITING_SQL = """
    WHERE value IS DISTINCT FROM stock_sent AND value IS DISTINCT FROM stock_refused
"""


class CartumStockExport(models.AbstractModel):
    """Where Odoo's stock goes to Cartum: for each store that sends it, the tracked products
    linked to the store whose stock differs from what Cartum last took (or refused) are sent
    with ``catalog/import``, and Cartum's answer is kept on each product's link.

    Rounds of one store are serialised by the store's lock; each round locks the links it
    sends, so that a round reading an older state of them (its transaction began before
    another round committed) is refused by PostgreSQL and runs again on the newer state: a
    change is sent once, and an older value never after a newer one.
    """

    _name = "cartum.stock.export"
    _description = "Cartum Stock Export"

    def init(self):
        # Which linked products' stock moved, per store: written by every change of a quant
        # (``stock.quant``), read and emptied by the store's stock job. Only inserts from the
        # stock side: a stock move never waits on the job's locks.
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS cartum_stock_change (
                id bigserial PRIMARY KEY,
                store_id integer NOT NULL,
                product_id integer NOT NULL
            );
            CREATE INDEX IF NOT EXISTS cartum_stock_change_store_product_idx
                ON cartum_stock_change (store_id, product_id);
            CREATE INDEX IF NOT EXISTS cartum_product_link_stock_never_sent_idx
                ON cartum_product_link (store_id)
             WHERE stock_sent IS NULL AND stock_refused IS NULL;
            """
        )

    @api.model
    def _note_stock_moved(self, product_ids):
        """The stock of these products moved: each store they are linked to sends it."""
        if product_ids:
            self.env["cartum.store"].flush_model(["stock_export"])
            self.env.cr.execute(
                "INSERT INTO cartum_stock_change (store_id, product_id) "
                "SELECT link.store_id, link.product_id FROM cartum_product_link link "
                "JOIN cartum_store store ON store.id = link.store_id "
                "WHERE store.stock_export AND link.product_id IN %s",
                (tuple(product_ids),),
            )

    @api.model
    def _cron_export_stock(self):
        """Scheduled: every store that sends its stock sends what changed. It never raises:
        a store that fails is logged and tried again at the next run."""
        # What moved in stores that no longer send their stock is of no use.
        self.env.cr.execute(
            "DELETE FROM cartum_stock_change WHERE store_id NOT IN "
            "(SELECT id FROM cartum_store WHERE stock_export)"
        )
        self.env.cr.commit()  # pylint: disable=invalid-commit
        stores = (
            self.env["cartum.store"]
            .sudo()
            .search(
                [
                    ("stock_export", "=", True),
                    ("sync_paused", "=", False),
                    ("connection_state", "=", "ok"),
                ]
            )
        )
        for store in stores:
            try:
                self._export_store(store)
            except Exception:  # one store's trouble never stops the others
                self.env.cr.rollback()
                self.env["cartum.adapter"]._log_failure(
                    _logger, store, f"Stock export of Cartum store {store.id} failed"
                )

    @api.model
    def _export_store(self, store):
        """Send the store's stock changes, in one committed round, run again in a fresh
        transaction when another round committed the same links meanwhile."""
        self.env["cartum.store.job"]._retry_transient(
            lambda: self._export_round(store),
            f"Stock export of Cartum store {store.id}",
            give_up_until="the next run",
        )

    @api.model
    def _export_round(self, store):
        """One round: wait for the store's other jobs, lock the links whose stock changed and
        send them. Returns how many products Cartum answered for; False when the store could not
        be reached (the changes wait for the next round)."""
        store = store.sudo().with_context(lang=store._message_lang())
        work = WorkContext(store)
        self.env["cartum.store.job"]._wait_for_store(work)
        signature = self._signature(store)
        changes, waiting = self._waiting(store, everything=signature != store.stock_signature)
        if waiting:
            # A link another round changed since this transaction began is refused here
            # (PostgreSQL's serialization failure), and the round runs again, newer.
            self.env.cr.execute(
                "SELECT id FROM cartum_product_link WHERE id IN %s FOR UPDATE",
                (tuple(row[0] for row in waiting),),
            )
            products = [self._payload(store, article, qty) for _id, article, qty, _v in waiting]
            try:
                results = self.env["cartum.adapter"]._import_stock(work, products)
            except CartumError as error:
                _logger.warning("Cartum store %s: stock not sent: %s", store.id, error)
                return False
        else:
            results = []
        taken, refused, undelivered = {}, {}, set()
        Adapter = self.env["cartum.adapter"]
        for (link_id, _article, _quantity, value), result in zip(waiting, results, strict=True):
            if not result.delivered:
                undelivered.add(link_id)
            elif result.ok:
                taken[link_id] = value
            else:
                reason = Adapter._scrub(store, result.message, 200) or str(result.code)
                refused[link_id] = (value, reason)
        self._record(taken, refused)
        if undelivered:
            return len(taken) + len(refused)  # the changes stay, for the next round
        # Another round that read these changes (its transaction began before this one ended)
        # is refused by PostgreSQL when it deletes them too, and runs again.
        if changes:
            self.env.cr.execute("DELETE FROM cartum_stock_change WHERE id IN %s", (changes,))
        if signature != store.stock_signature:
            store.stock_signature = signature
        return len(taken) + len(refused)

    @api.model
    def _signature(self, store):
        """The store's stock settings: when they change, every linked product is sent again."""
        if store.stock_kind == "residues":
            return f"residues:{store.stock_warehouse_name or ''}"
        return f"presence:{store.presence_in_stock}:{store.presence_out_of_stock}"

    @api.model
    def _payload(self, store, article, quantity):
        if store.stock_kind == "residues":
            residues = [{"warehouse": store.stock_warehouse_name or "", "quantity": quantity}]
            return {"article": article, "residues": residues}
        presence = store.presence_in_stock if quantity > 0 else store.presence_out_of_stock
        return {"article": article, "presence": presence}

    @api.model
    def _query_params(self, store, everything=True):
        warehouse = store.picking_type_id.warehouse_id
        return {
            "store": store.id,
            "everything": everything,
            "location_path": f"{warehouse.view_location_id.parent_path or '-'}%",
            "residues": store.stock_kind == "residues",
            "in_stock": store.presence_in_stock,
            "out_of_stock": store.presence_out_of_stock,
        }

    @api.model
    def _flush(self):
        """What CURRENT_STOCK_SQL reads, written to the database."""
        self.env["cartum.product.link"].flush_model()
        self.env["stock.quant"].flush_model()
        self.env["product.template"].flush_model(["is_storable"])

    @api.model
    def _waiting(self, store, everything):
        """The store's stock changes read (their ids), and (link id, article, quantity, value)
        of the store's links whose stock is to send."""
        self._flush()
        self.env.cr.execute("SELECT id FROM cartum_stock_change WHERE store_id = %s", (store.id,))
        changes = tuple(row[0] for row in self.env.cr.fetchall())
        self.env.cr.execute(
            f"{CURRENT_STOCK_SQL} SELECT id, external_id, quantity, value FROM valued "
            f"{WAITING_SQL} ORDER BY id",
            self._query_params(store, everything),
        )
        return changes, self.env.cr.fetchall()

    @api.model
    def _record(self, taken, refused):
        """Keep Cartum's answer on the links: the value it took, or the value it refused and
        why (not sent again until the stock changes). One query each."""
        now = fields.Datetime.now()
        cr = self.env.cr
        if taken:
            cr.execute(
                "UPDATE cartum_product_link link SET stock_sent = answer.value, "
                "stock_sent_at = %s, stock_refused = NULL, stock_refusal = NULL "
                "FROM (VALUES " + ", ".join(["(%s, %s)"] * len(taken)) + ") "
                "AS answer(id, value) WHERE link.id = answer.id",
                [now, *(item for pair in taken.items() for item in pair)],
            )
        if refused:
            cr.execute(
                "UPDATE cartum_product_link link SET stock_refused = answer.value, "
                "stock_refusal = answer.reason "
                "FROM (VALUES " + ", ".join(["(%s, %s, %s)"] * len(refused)) + ") "
                "AS answer(id, value, reason) WHERE link.id = answer.id",
                [item for link_id, (v, r) in refused.items() for item in (link_id, v, r)],
            )
        self.env["cartum.product.link"].invalidate_model(
            ["stock_sent", "stock_sent_at", "stock_refused", "stock_refusal"]
        )
        self.env["cartum.store"].invalidate_model(
            ["stock_linked_count", "stock_waiting_count", "stock_refused_count"]
        )

    @api.model
    def _stock_state(self, store):
        """How many tracked products are linked to the store, waiting to be sent, refused."""
        if not store.stock_export:
            linked = (
                self.env["cartum.product.link"].sudo().search_count([("store_id", "=", store.id)])
            )
            return {"linked": linked, "waiting": 0, "refused": 0}
        self._flush()
        self.env.cr.execute(
            f"""{CURRENT_STOCK_SQL}
            SELECT COUNT(*),
                   COUNT(*) FILTER (WHERE value IS DISTINCT FROM stock_sent
                                      AND value IS DISTINCT FROM stock_refused),
                   COUNT(*) FILTER (WHERE stock_refused IS NOT NULL)
              FROM valued""",
            self._query_params(store.sudo()),
        )
        linked, waiting, refused = self.env.cr.fetchone()
        return {"linked": linked, "waiting": waiting, "refused": refused}

    @api.model
    def _link_catalog(self, work):
        """Link to the store the Odoo products that match an article of its catalog by the
        store's key (internal reference, or name in the store's language), reading the whole
        catalog; no product is created. Returns how many links were made."""
        store = work.store.sudo()
        catalog = self.env["cartum.adapter"]._catalog_keys(work)
        Link = self.env["cartum.product.link"].sudo()
        known = set(Link.search([("store_id", "=", store.id)]).mapped("external_id"))
        wanted = {article: title for article, title in catalog if article not in known}
        if not wanted:
            return 0
        Product = self.env["cartum.order.mapper"]._product_model(store)
        shared = [("company_id", "in", [False, store.company_id.id])]
        field = store.product_match_key
        keys = {
            article: (article if field == "default_code" else title)
            for article, title in wanted.items()
        }
        found = Product.search([(field, "in", [key for key in keys.values() if key]), *shared])
        by_key = {}
        for product in found.sorted("id"):
            by_key.setdefault(product[field], product.id)
        pairs = {article: by_key[key] for article, key in keys.items() if key in by_key}
        Link._upsert(store, pairs)
        return len(pairs)
