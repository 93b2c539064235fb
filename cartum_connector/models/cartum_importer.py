import json
import logging
from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import groupby

from cartum_api import (
    DIGEST_PREFIX,
    CartumError,
    category_key,
    category_key_name,
    category_levels,
    customer_key,
    part_key,
    part_label,
    wanted_parts,
)

from ..work_context import WorkContext
from .cartum_order_mapper import PreparedRecords
from .cartum_store_job import RETRYABLE_DB_ERRORS

_logger = logging.getLogger(__name__)

ORDERS_PER_PAGE = 100
# New orders are searched by creation time from the newest one seen, minus this overlap, so that
# an order saved late in Cartum (or on a clock at the window's edge) is never missed.
IMPORT_OVERLAP = timedelta(minutes=30)
FIRST_IMPORT_PERIOD = timedelta(days=60)
# The runs a user's click starts, in the user's request: the refresh of a repair's order, the
# retry of failed orders, Import Orders…
CLICK_TRIGGERS = ("refresh", "retry", "import")


class CartumImporter(models.AbstractModel):
    """Where orders are fetched from Cartum and written into Odoo.

    One run of one store: its import window, its pages, a savepoint around the orders of a
    page, else around each order (``_at_once_else_each``), the cursor of new orders, and the
    sync log (``cartum.sync.run``) of what it did. Each step takes the run's ``WorkContext`` (store,
    run, whether it commits, whether a user waits). The store's lock, the commits and the runs
    again after PostgreSQL refused a step are ``cartum.store.job``'s. Orders and catalog data
    come from ``cartum.adapter``; the values to write, once per page, from
    ``cartum.order.mapper``, which reads nothing from Cartum and writes nothing.
    """

    _name = "cartum.importer"
    _description = "Cartum Order Importer"

    # -- entry point ----------------------------------------------------------------------

    @api.model
    def _run(self, store, trigger, commit=False, order_ids=None, created_between=None, user=None):
        """Import new orders and refresh open ones (or just ``order_ids``, or the orders created
        in ``created_between``) of one store; returns the sync run. ``user`` started it (by
        default the current user, unless it is the scheduled job's run).

        ``commit`` is for the scheduled job only: it commits after each page so that an
        interrupted run keeps what it did, and the next run goes on from there. The triggers
        of ``CLICK_TRIGGERS`` are a user's clicks: Cartum's calls wait less and try less.
        Whatever goes wrong ends the run as failed, with its reason: this method never raises.
        """
        starter = user or (self.env.user if trigger != "cron" else self.env["res.users"])
        caller_env = self.env
        # What the run writes (failure reasons, chatter notes) is read by the store's people.
        self = self.with_context(lang=store.sudo()._message_lang())
        store = store.with_env(self.env).sudo()
        # A run names a user of its store's company only (the superuser of another company's
        # test or script names no one).
        starter = starter.filtered(lambda user: store.company_id in user.sudo().company_ids)
        if not store.import_cursor and trigger in ("cron", "manual"):
            trigger = "first"
        run = (
            self.env["cartum.sync.run"]
            .sudo()
            .create({"store_id": store.id, "trigger": trigger, "user_id": starter.id})
        )
        work = WorkContext(store, run, commit=commit, interactive=trigger in CLICK_TRIGGERS)
        if commit:
            # Cron batches only: the run record is visible while it works.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        Job = self.env["cartum.store.job"]
        if not Job._lock_store(work):
            run._finish(
                "skipped",
                self.env._(
                    "Skipped: another job of this store (an import or the product refresh) is "
                    "running. The next run goes on from where the last one ended."
                ),
            )
            if commit:
                run._notify_starter()
                self.env.cr.commit()  # pylint: disable=invalid-commit
            return run.with_env(caller_env)
        try:
            run._close_interrupted_runs()
            self._import(work, order_ids, created_between)
        except Exception as error:
            if not commit and isinstance(error, RETRYABLE_DB_ERRORS):
                raise  # a user's click: Odoo runs the whole request again
            if commit:
                self.env.cr.rollback()  # the page being written; committed pages stay
            self._finish_stopped(run, error)
        else:
            run._finish("partial" if run.failed_count else "done")
        finally:
            if commit:
                Job._unlock_store(work)
        if not commit:
            # The caller's language: the screens the run opens in are the user's.
            return run.with_env(caller_env)
        run._notify_starter()  # sent when the run's end is committed
        if run.state in ("done", "partial"):
            Job._commit_progress(run.order_count, remaining=0)  # nothing left for the job
        else:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return run.with_env(caller_env)

    @api.model
    def _finish_stopped(self, run, error):
        store_id = run.store_id.id
        if isinstance(error, RETRYABLE_DB_ERRORS):
            _logger.warning("Cartum import of store %s kept colliding: %s", store_id, error)
            run._finish(
                "skipped",
                self.env._(
                    "Stopped: other jobs kept writing the same records at the same time. "
                    "Nothing was lost: the next run goes on from here."
                ),
            )
            return
        Adapter = self.env["cartum.adapter"]
        if isinstance(error, CartumError):
            _logger.warning(
                "Cartum import of store %s stopped: %s",
                store_id,
                Adapter._scrub(run.store_id, error),
            )
            # What is wrong and what to check, in the store's language.
            reason = Adapter._error_message(run.store_id, error)
        else:
            Adapter._log_failure(_logger, run.store_id, f"Cartum import of store {store_id} failed")
            reason = run._describe(error)
        run._finish("failed", self.env._("The import stopped: %s", reason))

    def _import(self, work, order_ids, created_between):
        if order_ids is not None:
            self._import_order_ids(work, order_ids, report_missing=True)
        elif created_between is not None:
            self._import_new_orders(work, created_between)
        else:
            seen_ids = self._import_new_orders(work)
            self._refresh_open_orders(work, seen_ids)

    @api.model
    def _end_page(self, work):
        """Count a page of orders done: in the scheduled job, commit, so that an interruption
        keeps what it imported."""
        work.run.page_count += 1
        if work.commit:
            self.env["cartum.store.job"]._commit_progress(work.run.order_count, remaining=1)

    # -- the import window ---------------------------------------------------------------

    @api.model
    def _window_start(self, store):
        """Where the next search for new orders starts, in UTC: the newest order seen, minus an
        overlap; before the first import, 60 days ago."""
        if store.import_cursor:
            return store.import_cursor - IMPORT_OVERLAP
        return fields.Datetime.now() - FIRST_IMPORT_PERIOD

    @api.model
    def _written_off_read_since(self, store):
        """Written-off orders are read again while written off after this moment (UTC)."""
        return fields.Datetime.now() - timedelta(days=max(store.writeoff_read_days, 0))

    # -- where orders are fetched ---------------------------------------------------------

    @api.model
    def _import_new_orders(self, work, created_between=None):
        """New orders by creation window; on the first run, every unfinished order of 60 days.

        An order created before the first import started, and finished when read, is never
        imported; any order created after that moment is, whatever its status.
        """
        store = work.store
        Adapter = self.env["cartum.adapter"]
        if not store.status_mapping_ids:
            Adapter._refresh_statuses(work)
        finished = set(
            store.status_mapping_ids.filtered("is_successful").mapped("cartum_status_code")
        )
        if not store.first_import_at:
            store.first_import_at = work.run.started_at
        first_import_at = store.first_import_at
        statuses = None
        if not store.import_cursor:  # the first import asks Cartum for unfinished orders only
            statuses = [
                m.cartum_status_code for m in store.status_mapping_ids if not m.is_successful
            ]

        def left_out(order):
            return order.status_id in finished and store._to_utc(order.created) < first_import_at

        seen_ids = set()
        window_start, window_end = created_between or (self._window_start(store), None)
        newest = store.import_cursor
        pages = Adapter._list_orders(
            work, window_start, window_end, statuses=statuses, page_size=ORDERS_PER_PAGE
        )
        for page in pages:
            self._import_page(work, page, left_out)
            for order in page.items:
                seen_ids.add(str(order.order_id))
                created = store._to_utc(order.created)
                newest = max(newest, created) if newest else created
            self._end_page(work)
        if created_between is None:
            # The cursor moves only after the whole window was read: an interrupted run reads
            # the same window again, and orders it already imported are found unchanged.
            store.import_cursor = newest or fields.Datetime.now()
        return seen_ids

    @api.model
    def _refresh_open_orders(self, work, seen_ids):
        """Read again, by id, the store's orders that can still change in Cartum: those not
        written off, and written-off ones for the store's days after the write-off, so that a
        change made in Cartum then is noted."""
        store = work.store
        repairs = (
            self.env["repair.order"]
            .sudo()
            .search(
                [
                    ("cartum_store_id", "=", store.id),
                    ("state", "!=", "cancel"),
                    "|",
                    ("state", "!=", "done"),
                    ("cartum_done_at", ">=", self._written_off_read_since(store)),
                ]
            )
        )
        external_ids = [id_ for id_ in repairs.mapped("cartum_external_id") if id_ not in seen_ids]
        self._import_order_ids(work, external_ids)

    @api.model
    def _import_order_ids(self, work, order_ids, report_missing=False):
        """Read orders by number. ``report_missing``: a number Cartum does not return is a
        failure of the run, named by its number (the user asked for it)."""
        run = work.run
        order_ids = [str(order_id).strip() for order_id in order_ids]
        for order_id in order_ids:
            if not order_id.isdigit():
                run._record_failure(
                    order_id, self.env._("%s is not a Cartum order number.", order_id)
                )
        numbers = sorted({int(order_id) for order_id in order_ids if order_id.isdigit()})
        for start in range(0, len(numbers), ORDERS_PER_PAGE):
            batch = numbers[start : start + ORDERS_PER_PAGE]
            page = self.env["cartum.adapter"]._get_orders(work, batch)
            self._import_page(work, page)
            if report_missing:
                returned = {str(order.order_id) for order in page.items}
                returned |= {str(error.record_id) for error in page.errors}
                for number in batch:
                    if str(number) not in returned:
                        run._record_failure(
                            number, self.env._("Order %s was not found in Cartum.", number)
                        )
            self._end_page(work)

    # -- one page: map and write each order in its own savepoint ----------------------------

    @api.model
    def _import_page(self, work, page, left_out=None):
        """Import one page: new orders are created, changed ones updated; ``left_out`` tells
        which unknown orders to pass over. Whatever fails unforeseen rolls back this page only,
        and ends the run.

        The scheduled job writes a page in two steps, each committed: the page's shared records
        (contacts, products, categories, links; with the unchanged orders and the failures
        found meanwhile), then its repair orders. Another store's import waiting for the same
        contact or product waits only for the first step. A step that PostgreSQL refused
        because another job wrote the same rows at the same time is rolled back and run again
        alone, in a fresh transaction that sees what the other job committed: what a step
        counts and records is rolled back with it, so a step run again never counts twice. A
        click lets Odoo run its whole request again."""
        if not work.commit:
            with self.env.cr.savepoint():
                shared = self._write_shared_records(work, page, left_out)
                self._write_page_repairs(work, *shared)
            return
        # What the run wrote before this page is kept whatever becomes of the page's steps.
        self.env.cr.commit()  # pylint: disable=invalid-commit
        store_id = work.store.id
        Job = self.env["cartum.store.job"]
        shared = Job._retry_transient(
            lambda: self._write_shared_records(work, page, left_out),
            f"Cartum store {store_id}: the shared records of a page",
        )
        Job._retry_transient(
            lambda: self._write_page_repairs(work, *shared),
            f"Cartum store {store_id}: the repair orders of a page",
        )

    @api.model
    def _write_shared_records(self, work, page, left_out):
        """The first step of a page: sort its orders, record its failures, mark the unchanged
        ones read and find or create what the new and changed ones share with other orders.
        Returns ``(pairs, prepared_pairs, unchanged_orders)`` for ``_write_page_repairs``."""
        store, run = work.store, work.run
        Repair = self.env["repair.order"].sudo().with_company(store.company_id)
        for error in page.errors:
            run._record_failure(error.record_id, str(error))
        orders = page.items
        if not orders:
            return [], [], []
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
        to_write, unchanged_orders, adopted = [], [], {}
        unchanged = Repair.browse()
        for order in orders:
            repair = known.get(str(order.order_id))
            if order.currency != company_currency:
                run._record_failure(
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
                    to_write.append((order, None))
            elif repair.cartum_digest == order.digest:
                unchanged |= repair
                unchanged_orders.append(order)
            elif self._shows_as_imported_before(store, repair, order):
                unchanged |= repair
                unchanged_orders.append(order)
                adopted[repair.id] = order.digest
            else:
                to_write.append((order, repair))
        self._mark_read(unchanged, adopted)
        self._touch_links(work, unchanged_orders)
        run._count_orders(unchanged=[order.order_id for order in unchanged_orders])
        # The page's contacts, products and categories at once, else for each order alone.
        prepared_pairs = (
            self._at_once_else_each(
                work,
                to_write,
                lambda pairs: (
                    [self._shared_records(work, [order for order, _repair in pairs])] * len(pairs)
                ),
            )
            if to_write
            else []
        )
        return to_write, prepared_pairs, unchanged_orders

    @api.model
    def _write_page_repairs(self, work, pairs, prepared_pairs, unchanged_orders):
        """The second step of a page: write the repair orders of its new and changed orders,
        ``(order, repair or None)`` pairs, with what ``_write_shared_records`` prepared, and
        resolve the earlier failures of the orders that went through."""
        repair_of = {order.order_id: repair for order, repair in pairs}
        Mapper = self.env["cartum.order.mapper"]
        written = []
        # One group for the whole page, or one for each order when the page was refused.
        for prepared, group in groupby(prepared_pairs, key=lambda pair: pair[1]):
            orders = [order for order, _prepared in group]
            values = Mapper._map_orders(work.store, prepared, orders)
            new = [order for order in orders if not repair_of[order.order_id]]
            changed = [(o, repair_of[o.order_id]) for o in orders if repair_of[o.order_id]]
            written += self._create_repairs(work, prepared, values, new)
            written += self._update_repairs(work, prepared, values, changed)
        succeeded = unchanged_orders + written
        if succeeded:
            run = work.run
            run._resolve_failures([str(order.order_id) for order in succeeded], "order")
            run._resolve_failures(self._orders_in_step(work.store, succeeded), "status")

    @api.model
    def _touch_links(self, work, orders):
        """Orders read again and unchanged: their contacts' and products' links were read too
        (those read earlier in the run are left as they are)."""
        if not orders:
            return
        store, read_since = work.store, work.run.started_at
        region = store.company_id.country_id.code
        customer_keys = {customer_key(order.customer, region) for order in orders}
        articles = {line.article for order in orders for line in order.lines if line.article}
        self.env["cartum.partner.link"]._touch(store, customer_keys - {""}, read_since)
        self.env["cartum.product.link"]._touch(store, articles, read_since)

    @api.model
    def _mark_read(self, repairs, digests):
        """Read and found the same: still a successful sync, as Last Update says. Written
        without the ORM, so that the repair itself is not modified (its write date stays);
        ``digests``: {repair id: the digest it takes instead of one of an older version}."""
        if not repairs:
            return
        repairs.flush_recordset(["cartum_last_sync", "cartum_digest"])
        self.env.cr.execute(
            "UPDATE repair_order SET cartum_last_sync = %s WHERE id IN %s",
            (fields.Datetime.now(), tuple(repairs.ids)),
        )
        for repair_id, digest in digests.items():
            self.env.cr.execute(
                "UPDATE repair_order SET cartum_digest = %s WHERE id = %s", (digest, repair_id)
            )
        repairs.invalidate_recordset(["cartum_last_sync", "cartum_digest"])

    @api.model
    def _shows_as_imported_before(self, store, repair, order):
        """Whether a repair imported by an older version, whose digest covered all Cartum sent
        (tracking included), shows all the order says: then only its digest is renewed, and it
        is not written again for nothing after the upgrade."""
        if not repair.cartum_digest or repair.cartum_digest.startswith(DIGEST_PREFIX):
            return False
        Mapper = self.env["cartum.order.mapper"]
        discount = Mapper._discount_values(order)
        customer = customer_key(order.customer, store.company_id.country_id.code)
        partner = repair.partner_id
        partner_phone = f"+{partner.cartum_phone_key}" if partner.cartum_phone_key else ""
        parts = {part: move.product_uom_qty for part, move in repair._cartum_parts().items()}
        currency = repair.cartum_currency_id
        return (
            repair.cartum_status_code == order.status_id
            and currency.compare_amounts(repair.cartum_amount_total, order.total_sum) == 0
            and (repair.cartum_coupon_code or False) == discount["cartum_coupon_code"]
            and currency.is_zero(repair.cartum_discount_amount - discount["cartum_discount_amount"])
            and (repair.cartum_delivery_digest or False) == Mapper._delivery_digest(order)
            and (not customer or customer in (partner_phone, partner.email_normalized))
            and parts == wanted_parts(order.lines)
        )

    @api.model
    def _orders_in_step(self, store, orders):
        """External ids of the orders whose repair is in the state their Cartum status maps to."""
        targets = {m.cartum_status_code: m.inbound_state for m in store.status_mapping_ids}
        repairs = (
            self.env["repair.order"]
            .sudo()
            .search(
                [
                    ("cartum_store_id", "=", store.id),
                    ("cartum_external_id", "in", [str(order.order_id) for order in orders]),
                ]
            )
        )
        state_of = {repair.cartum_external_id: repair.state for repair in repairs}
        return [
            str(order.order_id)
            for order in orders
            if targets.get(order.status_id) in (False, None, state_of.get(str(order.order_id)))
        ]

    # -- the orders of a page at once, else each order alone ----------------------------------

    @api.model
    def _at_once_else_each(self, work, pairs, write, each=None):
        """Run ``write(pairs)`` on ``(order, repair or None)`` pairs in one savepoint; it
        returns one result per pair. If that is refused, run ``each(order, repair)`` (by
        default ``write`` on that pair alone) for each pair in a savepoint of its own, so that
        only the orders at fault fail: each is recorded in the run with its reason, and the
        others go on. Returns ``[(order, result)]`` of the pairs that went through.

        Cartum failing, or another job writing the same rows, is no order's fault: that goes
        up, and the run stops or the page runs again."""
        try:
            with self.env.cr.savepoint():
                results = write(pairs)
            return list(zip([order for order, _repair in pairs], results, strict=True))
        except (CartumError, *RETRYABLE_DB_ERRORS):
            raise
        except Exception:  # each order alone below, where each error is recorded
            _logger.info(
                "Cartum store %s: %s orders written at once were refused; each alone",
                work.store.id,
                len(pairs),
            )
        each = each or (lambda order, repair: write([(order, repair)])[0])
        went_through = []
        for order, repair in pairs:
            try:
                with self.env.cr.savepoint():
                    went_through.append((order, each(order, repair)))
            except RETRYABLE_DB_ERRORS:
                raise  # not this order's fault: the page runs again
            except Exception as error:  # one bad order is recorded; the others go on
                work.run._record_failure(order.order_id, work.run._describe(error), repair)
        return went_through

    @api.model
    def _shared_records(self, work, orders):
        """The records ``orders`` share with other orders: fetch what the mapper needs from
        Cartum first (the catalog data of products not yet in Odoo, statuses the store added),
        let it map them, and write them."""
        store = work.store
        Mapper = self.env["cartum.order.mapper"]
        Adapter = self.env["cartum.adapter"]
        if {order.status_id for order in orders} - set(
            store.status_mapping_ids.mapped("cartum_status_code")
        ):
            Adapter._refresh_statuses(work)  # the store added a status
        existing, missing_articles = Mapper._find_products(store, orders)
        catalog = Adapter._read_catalog(work, missing_articles) if missing_articles else {}
        return self._write_shared_values(work, Mapper._map_shared(store, orders, existing, catalog))

    # -- where orders are written ----------------------------------------------------------

    @api.model
    def _write_shared_values(self, work, values):
        """Find or create the contacts, categories and products the mapper mapped
        (``SharedValues``), each key once whatever other imports run, and link them to the
        store; returns the page's ``PreparedRecords``. Links read earlier in the run are left
        as they are."""
        store, read_since = work.store, work.run.started_at
        Mapper = self.env["cartum.order.mapper"]
        SharedKey = self.env["cartum.shared.key"].sudo()
        prepared = PreparedRecords(
            region=values.region,
            mappings_by_status={m.cartum_status_code: m for m in store.status_mapping_ids},
        )
        if values.partners:

            def find_partners(keys):
                return Mapper._find_partners(store, keys)

            partners = find_partners(list(values.partners))
            missing = {key: vals for key, vals in values.partners.items() if key not in partners}
            Partner = self.env["res.partner"].sudo()
            partners.update(SharedKey._find_or_create("partner", Partner, missing, find_partners))
            prepared.partners_by_key = partners
            self.env["cartum.partner.link"]._upsert(
                store, [(key, partner.id) for key, partner in partners.items()], read_since
            )
        products = prepared.products_by_key
        products.update(values.products_found)
        categories = self._write_categories(set(values.category_paths.values()))
        Product = Mapper._product_model(store)
        for kind, field_name in (("product_code", "default_code"), ("product_name", "name")):
            new = {
                identity: {**vals, "categ_id": categories[path].id}
                if (path := values.category_paths.get((kind, identity)))
                else vals
                for (vals_kind, identity), vals in values.products.items()
                if vals_kind == kind
            }
            if not new:
                continue
            created = SharedKey._find_or_create(
                kind,
                Product,
                new,
                lambda keys, field_name=field_name: Mapper._find_products_by(
                    store, field_name, keys
                ),
            )
            for identity, product in created.items():
                for key in values.product_keys[(kind, identity)]:
                    products[key] = product
        if values.articles:
            ProductLink = self.env["cartum.product.link"]
            ProductLink._upsert(
                store,
                [(article, products[key].id) for key, article in values.articles.items()],
                read_since,
            )
            ProductLink._note_categories(store, values.catalog)
        return prepared

    @api.model
    def _write_categories(self, paths):
        """The category of each path (``("Parts", "Screens")``): each level is the existing
        category of that name under the same parent, else a new one. One query reads them all,
        and one create per level makes the missing ones."""
        levels = category_levels(paths)
        if not levels:
            return {}
        Category = self.env["product.category"].sudo()
        names = {name for prefixes in levels for prefix in prefixes for name in prefix}
        by_parent_and_name = {}
        for category in Category.search([("name", "in", list(names))], order="id"):
            by_parent_and_name.setdefault((category.parent_id.id, category.name), category)
        by_path = {(): Category.browse()}
        for prefixes in levels:
            missing = []
            for prefix in prefixes:
                parent = by_path[prefix[:-1]]
                category = by_parent_and_name.get((parent.id or False, prefix[-1]))
                if category:
                    by_path[prefix] = category
                else:
                    missing.append(prefix)
            if missing:
                values = {
                    category_key(by_path[prefix[:-1]].id, prefix[-1]): {
                        "name": prefix[-1],
                        "parent_id": by_path[prefix[:-1]].id,
                    }
                    for prefix in missing
                }
                categories = (
                    self.env["cartum.shared.key"]
                    .sudo()
                    ._find_or_create("category", Category, values, self._find_categories)
                )
                for prefix in missing:
                    by_path[prefix] = categories[category_key(by_path[prefix[:-1]].id, prefix[-1])]
        return {path: by_path[path] for path in paths if path}

    @api.model
    def _find_categories(self, keys):
        """{category key: the oldest category of that name under that parent}."""
        wanted = set(keys)
        names = [category_key_name(key) for key in keys]
        found = {}
        Category = self.env["product.category"].sudo()
        for category in Category.search([("name", "in", names)], order="id"):
            key = category_key(category.parent_id.id, category.name)
            if key in wanted:
                found.setdefault(key, category)
        return found

    @api.model
    def _create_repairs(self, work, prepared, values, orders):
        """Create the repair orders of new Cartum orders with their mapped ``values``
        ({order id: OrderValues}), all at once, else each alone; returns the orders created."""
        if not orders:
            return []
        store = work.store
        Repair = (
            self.env["repair.order"]
            .sudo()
            .with_company(store.company_id)
            .with_context(cartum_inbound=True, mail_create_nolog=True, mail_create_nosubscribe=True)
        )
        pairs = self._at_once_else_each(
            work,
            [(order, None) for order in orders],
            lambda pairs: Repair.create(
                [values[order.order_id].repair_values() for order, _repair in pairs]
            ),
        )
        created = Repair.browse([repair.id for _order, repair in pairs])
        if store.responsible_user_ids and created:
            created.message_subscribe(partner_ids=store.responsible_user_ids.partner_id.ids)
        notes = {}
        for order, repair in pairs:
            order_values = values[order.order_id]
            notes[repair.id] = order_values.delivery_note + order_values.skipped_lines_note
        notes = {repair_id: body for repair_id, body in notes.items() if body}
        if notes:
            Repair.browse(notes)._message_log_batch(bodies=notes)
        self._apply_new_statuses(work, prepared, pairs)
        work.run._count_orders(imported=[order.order_id for order, _repair in pairs])
        return [order for order, _repair in pairs]

    @api.model
    def _apply_new_statuses(self, work, prepared, pairs):
        """Move new repair orders to their mapped states: all of them at once, those of a
        state together, and one by one only when that is refused, so that each refusal is
        recorded with its order."""
        target_of = {}
        for order, repair in pairs:
            mapping = prepared.mappings_by_status.get(order.status_id)
            if mapping and mapping.inbound_state and mapping.inbound_state != repair.state:
                target_of[repair.id] = mapping.inbound_state

        def move(pairs):
            Repair = self.env["repair.order"].sudo()
            by_target = {}
            for _order, repair in pairs:
                by_target.setdefault(target_of[repair.id], []).append(repair.id)
            for target, repair_ids in by_target.items():
                # A new order starts in its state: no tracking of the way there.
                Repair.browse(repair_ids).with_context(
                    cartum_inbound=True, mail_notrack=True
                )._cartum_move_to_state(target)
            return [True] * len(pairs)

        moving = [(order, repair) for order, repair in pairs if repair.id in target_of]
        if moving:
            self._at_once_else_each(
                work,
                moving,
                move,
                lambda order, repair: self._apply_status(
                    work, prepared, repair, order, cartum_changed=True
                ),
            )

    @api.model
    def _update_repairs(self, work, prepared, values, pairs):
        """Apply what changed in Cartum to existing repair orders, all at once, else each
        alone; returns the orders updated."""
        if not pairs:
            return []

        def update(pairs):
            return [
                self._update_repair(work, prepared, repair, order, values[order.order_id])
                for order, repair in pairs
            ]

        updated = [order for order, _result in self._at_once_else_each(work, pairs, update)]
        work.run._count_orders(updated=[order.order_id for order in updated])
        return updated

    @api.model
    def _update_repair(self, work, prepared, repair, order, values):
        """Apply what changed in Cartum (the order's ``OrderValues``); after write-off, parts
        are left and the change noted."""
        vals = dict(values.write)
        if repair.state == "done":
            self._note_unapplied(repair, values)
        elif repair.state != "cancel":  # a cancelled repair's parts are left as they are
            partner_id = values.create["partner_id"]  # False without a phone or e-mail
            if partner_id and partner_id != repair.partner_id.id:
                vals["partner_id"] = partner_id
            self._sync_parts(repair, values.parts)
            if values.skipped_lines_note:
                repair.message_post(body=values.skipped_lines_note, subtype_xmlid="mail.mt_note")
        repair.with_context(cartum_inbound=True).write(vals)
        self._post_delivery(repair, values)
        cartum_changed = repair.cartum_status_code != order.status_id or work.run.trigger == "retry"
        self._apply_status(work, prepared, repair, order, cartum_changed)

    @api.model
    def _sync_parts(self, repair, parts):
        """Make the 'add' parts from Cartum match the order's lines (``parts``, {(line key,
        unit price): the part's values}): add, remove, change. A part is found by its line's
        article (or title) and unit price."""
        current = repair._cartum_parts()
        new_parts = []
        changed = self.env["stock.move"].sudo()
        for key, part in parts.items():
            move = current.pop(key, None)
            quantity = part["product_uom_qty"]
            if move is None:
                new_parts.append({**part, "repair_id": repair.id})
            elif move.product_uom_qty != quantity:
                move.sudo().product_uom_qty = quantity
                changed |= move
        self._reserve_new_demand(changed)
        if new_parts:
            self.env["stock.move"].sudo().create(new_parts)
        for move in current.values():
            move.sudo().unlink()

    @api.model
    def _reserve_new_demand(self, moves):
        """Odoo unreserves a part whose demand went down, and keeps the old reservation of one
        whose demand went up: either way the part is reserved again for its new demand (a part
        already picked takes it as its quantity), so that ending the repair writes off Cartum's
        quantities."""
        moves = moves.filtered(lambda move: move.state not in ("draft", "done", "cancel"))
        for move in moves.filtered("picked"):
            move.quantity = move.product_uom_qty
        moves.filtered(lambda move: not move.picked)._action_assign()

    @api.model
    def _note_unapplied(self, repair, values):
        """Parts are written off: say in the chatter what changed in Cartum (the order's
        ``OrderValues``), each change once, from Cartum's previous quantity to its new one."""
        Mapper = self.env["cartum.order.mapper"]
        wanted = {key: part["product_uom_qty"] for key, part in values.parts.items()}
        before = self._cartum_parts_before(repair)
        changed = sorted(
            key for key in set(wanted) | set(before) if before.get(key, 0.0) != wanted.get(key, 0.0)
        )
        if not changed:
            return
        rows = [
            Markup("<li>%s</li>")
            % self.env._(
                "%(part)s: %(before)s before, %(after)s now",
                part=part_label(key),
                before=Mapper._format_quantity(before.get(key, 0.0)),
                after=Mapper._format_quantity(wanted.get(key, 0.0)),
            )
            for key in changed
        ]
        body = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._(
                "The parts were already written off, so these changes made in Cartum were not "
                "applied:"
            ),
            Markup("").join(rows),
        )
        repair.message_post(body=body, subtype_xmlid="mail.mt_note")
        noted = [[line_key, price, quantity] for (line_key, price), quantity in wanted.items()]
        repair.with_context(cartum_inbound=True).cartum_unapplied_digest = json.dumps(sorted(noted))

    @api.model
    def _cartum_parts_before(self, repair):
        """Cartum's parts as the last note said them, else as they were written off (the
        parts' demand, which followed Cartum until then): {(line key, unit price): quantity}."""
        try:
            noted = json.loads(repair.cartum_unapplied_digest or "")
        except ValueError:  # none yet, or noted before quantities were kept
            noted = None
        if isinstance(noted, list):
            return {part_key(line_key, price): quantity for line_key, price, quantity in noted}
        parts = {}
        for move in repair.move_ids:
            if move.cartum_line_key and move.repair_line_type == "add":
                key = part_key(move.cartum_line_key, move.price_unit)
                parts[key] = parts.get(key, 0.0) + move.product_uom_qty
        return parts

    @api.model
    def _post_delivery(self, repair, values):
        """Post the delivery method, cost and address when first seen, and again on a change."""
        digest = values.delivery_digest
        if not digest or digest == repair.cartum_delivery_digest:
            return
        repair.message_post(body=values.delivery_note, subtype_xmlid="mail.mt_note")
        repair.with_context(cartum_inbound=True).cartum_delivery_digest = digest

    # -- inbound status ---------------------------------------------------------------------

    @api.model
    def _apply_status(self, work, prepared, repair, order, cartum_changed):
        """The last change wins. When Cartum's status differs from the one Odoo last read or
        sent (``cartum_changed``), Cartum changed it: a waiting push is cancelled and the mapped
        state applied. Otherwise Odoo's own state, and any waiting push, stand.

        A move Odoo refuses is recorded on the repair and in the run, never forced; a retry
        from the log applies the mapped state again.
        """
        if not cartum_changed:
            return
        mapping = prepared.mappings_by_status.get(order.status_id)
        if repair.cartum_status_code != order.status_id:
            repair.with_context(cartum_inbound=True).cartum_status_code = order.status_id
            repair._message_log(
                body=self.env._(
                    "Status changed in Cartum to %s.",
                    mapping.title if mapping else order.status_id,
                )
            )
            self.env["cartum.status.push"]._cancel_for_cartum_change(repair, mapping)
        target = mapping.inbound_state if mapping else False
        if not target or target == repair.state:
            return
        try:
            with self.env.cr.savepoint():
                repair.with_context(cartum_inbound=True)._cartum_move_to_state(target)
        except (UserError, ValidationError) as error:
            note = self.env._(
                "Cartum status %(status)s maps to %(state)s, but Odoo refused the change: "
                "%(error)s",
                status=mapping.name,
                state=repair._cartum_state_label(target),
                error=work.run._describe(error),
            )
            note = self.env["cartum.adapter"]._scrub(work.store, note)
            repair.message_post(body=note, subtype_xmlid="mail.mt_note")
            work.run._record_failure(order.order_id, note, repair, kind="status")
