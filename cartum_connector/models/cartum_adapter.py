import dataclasses
import threading
import traceback

from odoo import api, models

from cartum_api import (
    MAX_STORE_TEXT,
    CartumAnswerError,
    CartumApiUnavailable,
    CartumAuthError,
    CartumBadResponse,
    CartumClient,
    CartumConnectionError,
    CartumError,
    CartumHTTPError,
    CartumRedirect,
    CartumTooManyStatuses,
    CartumUndefinedFunction,
    CartumUnsafeAddress,
    CartumWebPage,
    Status,
    section_path,
    untrusted_text,
)

# Statuses every Cartum store has; used when an older store cannot list its own.
STANDARD_STATUSES = [
    Status(1, {"ua": "Нове", "en": "New"}, False),
    Status(2, {"ua": "В обробці", "en": "Processing"}, False),
    Status(3, {"ua": "Виконано", "en": "Delivered"}, True),
    Status(4, {"ua": "Скасовано", "en": "Canceled"}, False),
    Status(6, {"ua": "Відправлено", "en": "Shipping"}, False),
]
# A click waits on Cartum no longer than this (seconds), and tries at most twice.
INTERACTIVE_READ_TIMEOUT = 10.0
INTERACTIVE_ATTEMPTS = 2
# A logged traceback is cut to this many characters (a store's huge value could be in it).
TRACEBACK_CHARS = 20_000

# One client per store and process, shared by HTTP threads, cron threads and post-commit hooks
# (the client gives each thread its own HTTP session). It keeps the store's token (600 s)
# between runs, in memory only.
_clients = {}
_clients_lock = threading.Lock()
# Each store's catalog sections (pages/export), per process: read when a product of the catalog
# is in a section not read yet, then kept, with the ids that even that read did not find (not
# asked for again). {(database, store id, url): (sections, ids not found)}
_sections = {}


class CartumAdapter(models.AbstractModel):
    """The one place that talks to a store's Cartum API for the addon: the client cache, the
    connection test, and every read and write of orders, statuses and the catalog. Each call
    takes the ``WorkContext`` it works for: its store, and whether a user waits on it (then it
    waits less and tries less). Dates go in and out in Odoo's UTC.
    The HTTP API itself is ``cartum_api``'s, which knows nothing of Odoo."""

    _name = "cartum.adapter"
    _description = "Cartum API Adapter"

    @api.model
    def _client(self, work):
        """The API client of ``work``'s store; rebuilt when the store's settings change, else
        reused with its token. A user's click (``work.interactive``) gets a short read timeout
        and one retry."""
        store = work.store.sudo()
        allow_local = store._allow_local_stores()
        settings = (
            store.url,
            store.login,
            store.password,
            store.name_order,
            store.requests_per_second,
            allow_local,
        )
        key = (self.env.cr.dbname, store.id)
        with _clients_lock:
            cached = _clients.get(key)
            if not cached or cached[0] != settings:
                if cached:
                    cached[1].close()
                client = CartumClient(
                    store.url,
                    store.login or "",
                    store.password or "",
                    name_order=store.name_order,
                    requests_per_second=store.requests_per_second or None,
                    allow_local_addresses=allow_local,
                )
                cached = _clients[key] = (settings, client)
        client = cached[1]
        if work.interactive:
            return client.interactive(
                read_timeout=INTERACTIVE_READ_TIMEOUT, max_attempts=INTERACTIVE_ATTEMPTS
            )
        return client

    # -- reads and writes ------------------------------------------------------------------------

    @api.model
    def _list_orders(self, work, created_from, created_to=None, statuses=None, page_size=100):
        """Pages of the store's orders created from ``created_from`` to ``created_to`` (UTC;
        None: up to now), only in ``statuses`` when given."""
        store = work.store
        return self._client(work).list_orders(
            created_from=store._to_store_time(created_from),
            created_to=store._to_store_time(created_to) if created_to else None,
            statuses=statuses,
            page_size=page_size,
        )

    @api.model
    def _get_orders(self, work, order_numbers):
        """One page of the orders with these numbers; Cartum leaves out those it does not have."""
        return self._client(work).get_orders(order_numbers)

    @api.model
    def _read_catalog(self, work, articles, fresh_sections=False):
        """Cartum's catalog data of ``articles``: ``{article: Product}``, without the articles
        the catalog does not have. A product whose category is given as a section id gets that
        section's path, in the store's import language; one whose section is not found keeps an
        empty path, with its ``section_id``. ``fresh_sections``: read the sections again even
        when they are all known."""
        store = work.store
        client = self._client(work)
        products = {
            product.article: product
            for page in client.export_catalog(articles)
            for product in page.items
        }
        wanted = {product.section_id for product in products.values() if product.section_id}
        if not wanted:
            return products
        sections = self._sections(store, client, wanted, fresh_sections)
        for article, product in products.items():
            if product.section_id:
                path = section_path(sections, product.section_id, store.import_language)
                products[article] = dataclasses.replace(product, category_path=path or ())
        return products

    @api.model
    def _sections(self, store, client, wanted, fresh=False):
        """The store's sections, read again only when one of ``wanted`` was neither found nor
        missing at the last read (or ``fresh``)."""
        key = (self.env.cr.dbname, store.id, store.url)
        with _clients_lock:
            sections, not_found = _sections.get(key, ({}, frozenset()))
        if not fresh and not (wanted - sections.keys() - not_found):
            return sections
        sections = client.export_sections()
        with _clients_lock:
            _sections[key] = (sections, frozenset(wanted - sections.keys()))
        return sections

    @api.model
    def _update_statuses(self, work, updates):
        """Set ``[{"order_id": int, "status": int}]`` in Cartum; one result per update, in order.
        Batches Cartum applied keep their results when a later batch fails."""
        return self._client(work).update_statuses(updates)

    @api.model
    def _catalog_keys(self, work):
        """(article, title in the store's import language) of every product of the store's
        catalog, read in pages of 500."""
        language = work.store.import_language
        return [
            (product.article, product.titles.get(language) or "")
            for page in self._client(work).export_catalog()
            for product in page.items
        ]

    @api.model
    def _import_stock(self, work, products):
        """Send ``[{"article", "residues" | "presence"}]`` to Cartum; one StockImportResult per
        product, in order. Batches Cartum took keep their results when a later batch fails."""
        return self._client(work).import_stock(products)

    # -- clients ----------------------------------------------------------------------------------

    @api.model
    def _forget(self, stores):
        """Drop the clients of deleted stores."""
        with _clients_lock:
            for store_id in stores.ids:
                cached = _clients.pop((self.env.cr.dbname, store_id), None)
                if cached:
                    cached[1].close()
                for key in [key for key in _sections if key[:2] == (self.env.cr.dbname, store_id)]:
                    del _sections[key]

    @api.model
    def _scrub(self, store, text, limit=MAX_STORE_TEXT):
        """Text that may carry what the store said, as it may be stored, shown or logged: the
        store's password and token masked, capped to ``limit`` characters."""
        secrets = [store.sudo().password]
        cached = _clients.get((self.env.cr.dbname, store.id))
        if cached:
            secrets += cached[1].secrets()
        return untrusted_text(text, secrets, limit)

    @api.model
    def _log_failure(self, logger, store, what):
        """Log the exception being handled, at ERROR, its traceback scrubbed of secrets."""
        logger.error("%s:\n%s", what, self._scrub(store, traceback.format_exc(), TRACEBACK_CHARS))

    @api.model
    def _check_connection(self, work):
        """Log in, read currencies and statuses; returns (message, level) where level is
        success, warning or danger, and says exactly what is wrong, if anything."""
        try:
            return self._check_connection_steps(work)
        except CartumError as error:
            return self._error_message(work.store, error), "danger"

    @api.model
    def _error_message(self, store, error):
        """What a user reads of a Cartum error: what is wrong and what to check; what the
        store said is masked and capped."""
        return self._scrub(store, self._error_text(store, error))

    @api.model
    def _error_text(self, store, error):
        if isinstance(error, CartumWebPage):
            return self.env._(
                "The store at %(url)s answered with a web page instead of its API. Check the "
                "website URL; if it is right, a bot filter in front of the store turns the "
                "connector away: ask the store's support to let its API calls through.",
                url=store.url,
            )
        if isinstance(error, CartumUnsafeAddress):
            return self.env._(
                "The store at %(url)s was not called: only public https:// addresses are, and "
                "%(address)s is not one. A test store on this machine or network needs a "
                "Settings administrator to allow local test stores (Settings > Inventory > "
                "Cartum).",
                url=store.url,
                address=error.address or store.url,
            )
        if isinstance(error, CartumTooManyStatuses):
            return self.env._(
                "The store lists %(count)s order statuses, more than the %(limit)s a store may "
                "have: none was read. Check the statuses in the store's admin.",
                count=error.count,
                limit=error.limit,
            )
        if isinstance(error, CartumApiUnavailable):
            return self.env._(
                "The store at %(url)s answers, but not its API. Check the website URL, and "
                "that the API is included in the store's plan.",
                url=store.url,
            )
        if isinstance(error, CartumAuthError):
            return self.env._(
                "The store refused the login %(login)s. Check the API login and password "
                "(Settings > Users in the store's admin).",
                login=store.login,
            )
        if isinstance(error, CartumRedirect):
            return self._redirect_message(store, error)
        if isinstance(error, CartumConnectionError):
            return self._connection_error_message(store, error)
        if isinstance(error, CartumBadResponse):
            # What Cartum's answer broke (its size, depth, encoding, envelope) stays named.
            return self.env._(
                "The store at %(url)s answered something the connector cannot read "
                "(%(error)s). Check the website URL; if it is right, contact Cartum's support.",
                url=store.url,
                error=error,
            )
        if isinstance(error, CartumHTTPError):
            return self.env._(
                "The store at %(url)s refused the API's request (HTTP %(status)s). Check the "
                "website URL, and the rights of the API login in the store's admin.",
                url=store.url,
                status=error.status_code,
            )
        return self.env._("Cartum answered an error: %(error)s", error=error)

    @api.model
    def _connection_error_message(self, store, error):
        """Why the store could not be reached, and what to check, in whole sentences."""
        url = store.url
        messages = {
            "timeout": self.env._(
                "The store at %(url)s did not accept the connection in time. Check the website "
                "URL, and that the store is online.",
                url=url,
            ),
            "refused": self.env._(
                "The store at %(url)s refused the connection. Check the website URL (its "
                "address and port), and that the store is online.",
                url=url,
            ),
            "dns": self.env._(
                "The address %(url)s does not exist: no server has that name. Check the "
                "spelling of the website URL.",
                url=url,
            ),
            "tls": self.env._(
                "The store at %(url)s did not accept a secure (https://) connection. Check the "
                "website URL: if the store's address starts with http://, type it so.",
                url=url,
            ),
            "no_answer": self.env._(
                "The store at %(url)s did not answer in time. It may be busy: try again in a "
                "few minutes.",
                url=url,
            ),
            "rate_limited": self.env._(
                "The store at %(url)s refuses more requests for now (too many requests). Try "
                "again in a few minutes, or lower the requests per second of this store.",
                url=url,
            ),
            "server_error": self.env._(
                "The store at %(url)s answered with a server error (HTTP %(status)s). Try "
                "again later; if it lasts, contact Cartum's support.",
                url=url,
                status=error.status_code,
            ),
            "bad_json": self.env._(
                "The store at %(url)s answered something that is not Cartum's API. Check the "
                "website URL.",
                url=url,
            ),
            "unsendable": self.env._(
                "No request could be sent to %(url)s. Check the website URL.",
                url=url,
            ),
        }
        return messages.get(
            error.reason,
            self.env._(
                "The connection to the store at %(url)s was dropped. Check the website URL, "
                "and try again in a few minutes.",
                url=url,
            ),
        )

    @api.model
    def _redirect_message(self, store, error):
        if error.to_https:
            return self.env._(
                "The store at %(url)s moved to https://: use %(new_url)s as the website URL.",
                url=store.url,
                new_url=error.suggested_url,
            )
        if error.suggested_url:
            return self.env._(
                "The store at %(url)s redirects to %(location)s. The connector does not follow "
                "redirects, which would carry the API login and password to another address. "
                "If that is the store's address, use %(new_url)s as the website URL.",
                url=store.url,
                location=error.location,
                new_url=error.suggested_url,
            )
        return self.env._(
            "The store at %(url)s redirects to %(location)s, which is not a store's API. "
            "Check the website URL.",
            url=store.url,
            location=error.location or self.env._("an unknown address"),
        )

    @api.model
    def _check_connection_steps(self, work):
        store = work.store
        client = self._client(work)
        try:
            client.authenticate()
        except (CartumAnswerError, CartumBadResponse, CartumHTTPError) as error:
            if isinstance(error, (CartumApiUnavailable, CartumRedirect)):
                raise
            # A server not yet known to be a store's API: what failed, not what it answered.
            return (
                self.env._(
                    "The server at %(url)s did not answer as a Cartum store's API. Check the "
                    "website URL, and that the API is included in the store's plan.",
                    url=store.url,
                ),
                "danger",
            )
        notes = []
        currency = client.store_currency()
        if currency and currency.iso != store.currency_id.name:
            return (
                self.env._(
                    "The store sells in %(store_currency)s but %(company)s works in "
                    "%(company_currency)s. Orders in another currency are not imported.",
                    store_currency=currency.iso,
                    company=store.company_id.name,
                    company_currency=store.currency_id.name,
                ),
                "danger",
            )
        self._refresh_statuses(work, notes)
        if store.import_language not in (store.available_languages or "").split(","):
            notes.append(
                self.env._(
                    "The import language %(language)s is not among the store's languages "
                    "(%(available)s).",
                    language=store.import_language,
                    available=store.available_languages_names,
                )
            )
        message = self.env._(
            "Connected. %(count)s statuses read.", count=len(store.status_mapping_ids)
        )
        return "\n".join([message, *notes]), "warning" if notes else "success"

    @api.model
    def _refresh_statuses(self, work, notes=None):
        """Read the store's statuses and add a mapping line for each one not mapped yet."""
        store = work.store
        try:
            statuses = self._client(work).list_statuses()
        except CartumUndefinedFunction:
            statuses = STANDARD_STATUSES
            if notes is not None:
                notes.append(
                    self.env._(
                        "This store version cannot list its statuses: the standard ones are used."
                    )
                )
        languages = sorted(
            {lang for status in statuses for lang, text in status.titles.items() if text}
        )
        store.sudo().available_languages = ",".join(languages)
        self.env["cartum.status.mapping"]._sync_from_statuses(store, statuses)
