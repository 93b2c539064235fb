"""HTTP client of one Cartum (Horoshop) store.

Every call is ``POST https://<store>/api/<function>/`` with a JSON body that carries the token.

Retry safety: the functions used here are safe to repeat, so they are retried on connection
errors, 5xx, 429 and unreadable answers:
- ``auth``, ``orders/get``, ``orders/get_available_statuses``, ``catalog/export``,
  ``pages/export`` and ``currency/export`` only read;
- ``orders/update`` sets an absolute status, so applying it twice leaves the order as applying it
  once would.
Any other function is called with ``retry_safe=False``: it is repeated only when the store
refused it before doing anything (429, or no connection could be opened).

Redirects are never followed: the body carries the login and password (or the token), which go
to the store's own address only. A redirect answer raises CartumRedirect, naming the new address.

Answers are bounded: one larger than ``max_answer_bytes``, nested deeper than
``max_answer_depth`` or not UTF-8 is refused at once (CartumBadResponse), since asking again
would bring the same answer; so is a list of more than ``MAX_STATUSES`` statuses, and a web
page where the API's JSON belongs (CartumWebPage): a wrong address, or a bot filter in front of
the API.

The client names itself in its User-Agent: some stores' bot filters answer the default one of
``requests`` with a web page.

Token trouble comes in several shapes: ``UNAUTHORIZED``, ``AUTHORIZATION_ERROR``, HTTP 401, or
``ERROR`` (or ``HTTP_ERROR``) whose message speaks of the token or of authorisation. Each gets
one new token and one more try.

What a store says (its error messages, a redirect's address) reaches exceptions and logs
masked (the password and token never show) and capped (``safety.untrusted_text``).

Only public https:// addresses are called: the address of each new connection is checked once
connected, before anything is sent, so that a host name that later resolves to a loopback,
private, link-local or reserved address gets nothing. ``allow_local_addresses`` lifts this for
test stores (plain http:// and local addresses).
"""

import collections
import copy
import importlib.metadata
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .customer import FIRST_LAST
from .errors import (
    CartumAnswerError,
    CartumApiUnavailable,
    CartumAuthError,
    CartumBadResponse,
    CartumConnectionError,
    CartumError,
    CartumHTTPError,
    CartumRedirect,
    CartumTooManyStatuses,
    CartumUndefinedFunction,
    CartumUnsafeAddress,
    CartumWebPage,
)
from .records import (
    CARTUM_DATETIME_FORMAT,
    Page,
    StatusUpdateResult,
    StockImportResult,
    parse_currency,
    parse_orders,
    parse_products,
    parse_sections,
    parse_statuses,
)
from .safety import is_public_address, untrusted_text

_logger = logging.getLogger(__name__)

RETRY_SAFE_FUNCTIONS = frozenset(
    {
        "auth",
        "orders/get",
        "orders/get_available_statuses",
        "orders/update",
        "catalog/export",
        # Stock is sent as a value, not a change: sending it twice does no harm.
        "catalog/import",
        "pages/export",
        "currency/export",
    }
)
TOKEN_STATUSES = frozenset({"UNAUTHORIZED", "AUTHORIZATION_ERROR"})
# An ERROR about the token or the login, in the stores' English, Ukrainian or Russian wording.
TOKEN_TROUBLE = re.compile(r"token|authori[sz]|authenticat|токен|авториз|автентиф|аутентиф", re.I)
# Sections are read from the root down, one call per level's section: at most this many calls.
MAX_SECTION_CALLS = 2000
TOKEN_LIFETIME = 600.0
CATALOG_PAGE_LIMIT = 500
READ_CHUNK_BYTES = 64 * 1024
# A redirect's address is shown to users and logged: cut when longer.
MAX_LOCATION_CHARS = 200
# A store has a handful of statuses; a list longer than this is refused, not mapped.
MAX_STATUSES = 200


def _user_agent():
    try:
        version = importlib.metadata.version("cartum-connector-libs")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    return f"cartum-connector/{version} (Odoo connector; python-cartum-api)"


USER_AGENT = _user_agent()


# Why a store could not be reached (``CartumConnectionError.reason``), in the log's words.
FAILURES = {
    "timeout": "the connection timed out",
    "refused": "the connection was refused",
    "dns": "the store's host name does not resolve",
    "tls": "the secure (https) connection failed",
    "dropped": "the connection was dropped",
    "no_answer": "the store did not answer in time",
    "dropped_reading": "the connection was dropped while the answer was read",
    "rate_limited": "the store is rate-limiting (HTTP 429)",
    "server_error": "the store answered HTTP {status_code}",
    "bad_json": "the answer is not valid JSON (truncated or garbage)",
}


@dataclass(frozen=True)
class Answer:
    status: str
    response: dict


class RateLimiter:
    """One store never gets more than ``per_second`` calls in any second (below one a second:
    never two calls within 1 / ``per_second`` seconds). A call goes at once while the last
    second holds fewer, and otherwise waits until the oldest of them is a second old: the
    ceiling holds, and two calls in a row (a page of orders, then the catalog of its
    products) do not wait for each other."""

    def __init__(self, per_second, clock=time.monotonic, sleep=time.sleep):
        # A window of one second holding floor(per_second) calls never exceeds the ceiling.
        self.window = 1.0 / per_second if per_second and per_second < 1 else 1.0
        self.capacity = max(1, int(per_second)) if per_second else 0
        self.clock = clock
        self.sleep = sleep
        # When the last ``capacity`` calls go (or went): the oldest is the one to wait for.
        self._starts = collections.deque(maxlen=self.capacity or None)
        self._lock = threading.Lock()

    def wait(self):
        if not self.capacity:
            return
        with self._lock:
            now = self.clock()
            start = now
            if len(self._starts) == self.capacity:
                start = max(now, self._starts[0] + self.window)
            self._starts.append(start)
        if start > now:
            self.sleep(start - now)


class _TokenState:
    """The token of one store login, shared by a client and its interactive() copies."""

    def __init__(self):
        self.token = None
        self.expires_at = 0.0
        self.lock = threading.Lock()


class _LocalPeer(Exception):
    """A connection reached a non-public address; nothing was sent on it. Not an OSError, so
    that neither urllib3 nor requests retries it or wraps it."""

    def __init__(self, address):
        super().__init__(address)
        self.address = address


def _public_socket(sock):
    """``sock`` if its peer is a public address; otherwise closed, and _LocalPeer raised."""
    address = sock.getpeername()[0]
    if not is_public_address(address):
        sock.close()
        raise _LocalPeer(address)
    return sock


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _public_socket(super()._new_conn())


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _public_socket(super()._new_conn())


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _TimeoutAdapter(requests.adapters.HTTPAdapter):
    """Sends each request of its session with the client's (connect, read) timeouts, so that no
    call can forget them; with ``public_only``, on connections to public addresses only."""

    def __init__(self, timeout, public_only=True):
        self.public_only = public_only
        super().__init__()
        self.timeout = timeout

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        if self.public_only:
            self.poolmanager.pool_classes_by_scheme = {
                "http": _PublicHTTPPool,
                "https": _PublicHTTPSPool,
            }

    def send(self, request, timeout=None, **kwargs):
        return super().send(request, timeout=timeout or self.timeout, **kwargs)


class CartumClient:
    """One store's API: token kept and renewed, retries with backoff, a rate ceiling.

    One client may serve many threads at once: each thread gets its own HTTP session
    (requests.Session is not thread-safe) and all share the token.
    """

    def __init__(
        self,
        base_url,
        login,
        password,
        *,
        connect_timeout=5.0,
        read_timeout=30.0,
        max_attempts=4,
        backoff_base=0.5,
        backoff_cap=30.0,
        requests_per_second=5.0,
        max_body_bytes=100_000,
        max_ids_per_request=100,
        max_answer_bytes=20 * 1024 * 1024,
        max_answer_depth=32,
        token_renew_margin=60.0,
        name_order=FIRST_LAST,
        allow_local_addresses=False,
        clock=time.monotonic,
        sleep=time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.login = login
        self._password = password
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_body_bytes = max_body_bytes
        self.max_ids_per_request = max_ids_per_request
        self.max_answer_bytes = max_answer_bytes
        self.max_answer_depth = max_answer_depth
        self.token_renew_margin = token_renew_margin
        self.name_order = name_order
        self.allow_local_addresses = allow_local_addresses
        self.clock = clock
        self.sleep = sleep
        self.rate_limiter = RateLimiter(requests_per_second, clock, sleep)
        self._tokens = _TokenState()
        self._sessions = {}  # (thread, timeout) -> its requests.Session
        self._sessions_lock = threading.Lock()

    def __repr__(self):
        return f"CartumClient(base_url={self.base_url!r}, login={self.login!r})"

    @property
    def session(self):
        """The calling thread's HTTP session with this client's timeouts, opened on first use
        (again after close())."""
        key = (threading.current_thread(), self.timeout)
        with self._sessions_lock:
            session = self._sessions.get(key)
            if session is None:
                # Odoo serves each HTTP request in a new thread: close the sessions of ended ones.
                for ended in [other for other in self._sessions if not other[0].is_alive()]:
                    self._sessions.pop(ended).close()
                session = self._sessions[key] = requests.Session()
                adapter = _TimeoutAdapter(self.timeout, public_only=not self.allow_local_addresses)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
            return session

    def close(self):
        """Close every thread's session; a thread calling again later gets a new one."""
        with self._sessions_lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()  # cleared, not replaced: interactive() copies share it
        for session in sessions:
            session.close()

    def interactive(self, read_timeout=10.0, max_attempts=2):
        """A client for a call a user waits on: the same store, token and rate ceiling, with a
        shorter read timeout (on sessions of its own), fewer attempts and shorter waits between
        them."""
        quick = copy.copy(self)
        quick.timeout = (self.timeout[0], read_timeout)
        quick.max_attempts = max(1, max_attempts)
        quick.backoff_cap = min(self.backoff_cap, read_timeout)
        return quick

    def secrets(self):
        """What must never show in a message or a log: the password and the current token."""
        return (self._password, self._tokens.token)

    def scrub(self, text):
        """Store text as it may be stored, shown or logged: the password and token masked,
        capped (``safety.untrusted_text``)."""
        return untrusted_text(text, self.secrets())

    # -- transport ---------------------------------------------------------------------------

    def _backoff(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(retry_after, self.backoff_cap)
        delay = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return delay / 2 + random.uniform(0, delay / 2)  # jitter spreads workers apart

    def _post(self, function, body, retry_safe):
        """One logical request: the HTTP exchange, retried; returns the decoded JSON envelope."""
        url = f"{self.base_url}/api/{function}/"
        if not self.allow_local_addresses and urlsplit(url).scheme != "https":
            raise CartumUnsafeAddress(
                f"{function}: the store's address is not https://; nothing was sent",
                "scheme",
            )
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        failure = ""
        status_code = None
        retry_after = None
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(self._backoff(attempt - 1, retry_after))
            retry_after = None
            self.rate_limiter.wait()
            try:
                reply = self.session.post(
                    url,
                    data=data,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                )
            except _LocalPeer as refused:
                raise CartumUnsafeAddress(
                    f"{function}: the store's host name leads to {refused.address}, which is "
                    "not a public address; nothing was sent",
                    "local",
                    refused.address,
                ) from None
            except requests.ConnectTimeout:
                failure = "timeout"
                continue
            except requests.ConnectionError as error:
                failure = _connection_failure(error)
                if not retry_safe and failure != "refused":
                    break
                continue
            except requests.Timeout:
                failure = "no_answer"
                if not retry_safe:
                    break
                continue
            except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
                # Nothing was sent (e.g. an address requests cannot use): asking again is useless;
                # urllib3 lets some of its own through (an empty label in a host name).
                raise CartumConnectionError(
                    f"{function}: the request could not be sent "
                    f"({type(error).__name__}: {_bounded(str(error))})",
                    reason="unsendable",
                ) from None
            with reply:  # closing unread answers drops their connection instead of reading on
                if 300 <= reply.status_code < 400:
                    raise _redirect_error(function, url, reply, self.scrub)
                if reply.status_code == 401:
                    # Some stores refuse a token this way: told to call() as Cartum's own status.
                    return {"status": "UNAUTHORIZED", "response": self._refusal(function, reply)}
                if reply.status_code == 429:
                    retry_after = _retry_after_seconds(reply.headers.get("Retry-After"))
                    failure = "rate_limited"
                    continue
                if reply.status_code >= 500:
                    failure = "server_error"
                    status_code = reply.status_code
                    if not retry_safe:
                        break
                    continue
                if reply.status_code == 404:
                    raise CartumApiUnavailable(
                        f"{function}: {url} does not exist (HTTP 404). Check the store URL, and "
                        "that the API is included in the store's plan.",
                        404,
                    )
                try:
                    raw = self._read_answer(function, reply)
                except requests.RequestException as error:
                    if reply.status_code >= 400:
                        raw = b""
                    else:
                        failure = _read_failure(error)
                        if not retry_safe:
                            break
                        continue
                if _looks_like_html(raw):
                    raise _web_page_error(function, reply.status_code)
                if reply.status_code >= 400:
                    raise CartumHTTPError(
                        f"{function}: the store answered HTTP {reply.status_code}",
                        reply.status_code,
                    )
            envelope = self._decode_answer(function, raw)
            if envelope is None:
                failure = "bad_json"
                if not retry_safe:
                    break
                continue
            if not isinstance(envelope, dict) or "status" not in envelope:
                raise CartumBadResponse(f"{function}: the answer has no 'status' field")
            return envelope
        text = FAILURES[failure].format(status_code=status_code)
        _logger.warning("Cartum %s at %s failed: %s", function, self.base_url, text)
        raise CartumConnectionError(
            f"{function}: {text}, after {attempt + 1} attempt(s)",
            reason=failure,
            attempts=attempt + 1,
            status_code=status_code,
        )

    def _refusal(self, function, reply):
        """The store's message in an HTTP 401 answer, when it says one in JSON."""
        try:
            envelope = self._decode_answer(function, self._read_answer(function, reply))
        except (CartumError, requests.RequestException):
            envelope = None
        message = _message(envelope.get("response")) if isinstance(envelope, dict) else ""
        if not message and isinstance(envelope, dict):
            message = _message(envelope)
        return {"message": message or "HTTP 401"}

    def _read_answer(self, function, reply):
        """The answer's bytes, read no further than ``max_answer_bytes``."""
        too_big = CartumBadResponse(
            f"{function}: the store's answer is larger than {self.max_answer_bytes} bytes; "
            "it was refused"
        )
        declared = reply.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_answer_bytes:
            raise too_big
        chunks, size = [], 0
        for chunk in reply.iter_content(READ_CHUNK_BYTES):
            size += len(chunk)
            if size > self.max_answer_bytes:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode_answer(self, function, raw):
        """The JSON of an answer, or None when it is not JSON (worth asking again)."""
        try:
            # Decoded here, strictly: requests would guess a charset and mangle the text.
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            if error.reason == "unexpected end of data":
                return None  # cut inside a character: a truncated answer
            raise CartumBadResponse(
                f"{function}: the answer is not valid UTF-8 (bad byte at offset {error.start})"
            ) from None
        too_deep = CartumBadResponse(
            f"{function}: the answer is nested deeper than {self.max_answer_depth} levels; "
            "it was refused"
        )
        try:
            value = json.loads(text)
        except RecursionError:
            raise too_deep from None
        except ValueError:
            return None
        if _deeper_than(value, self.max_answer_depth):
            raise too_deep
        return value

    # -- envelope and token ------------------------------------------------------------------

    def authenticate(self):
        """Get a fresh token (600 s of life); raises CartumAuthError when the login is refused."""
        envelope = self._post(
            "auth", {"login": self.login, "password": self._password}, retry_safe=True
        )
        status = envelope.get("status")
        response = envelope.get("response") or {}
        token = response.get("token") if isinstance(response, dict) else None
        if status == "OK" and token:
            self._tokens.token = token
            self._tokens.expires_at = self.clock() + TOKEN_LIFETIME - self.token_renew_margin
            return
        if status == "UNDEFINED_FUNCTION":
            raise CartumUndefinedFunction("auth: the store has no API login function", "auth")
        message = self.scrub(_message(response) or status)
        raise CartumAuthError(f"The store refused the API login {self.login!r}: {message}")

    def _current_token(self):
        tokens = self._tokens
        with tokens.lock:
            if not tokens.token or self.clock() >= tokens.expires_at:
                self.authenticate()
            return tokens.token

    def _forget_token(self, token):
        with self._tokens.lock:
            if self._tokens.token == token:
                self._tokens.token = None

    def call(self, function, params=None, retry_safe=None):
        """Call an API function; returns an Answer for OK, WARNING and EMPTY, raises otherwise."""
        if retry_safe is None:
            retry_safe = function in RETRY_SAFE_FUNCTIONS
        for renewed in (False, True):
            token = self._current_token()
            envelope = self._post(function, {**(params or {}), "token": token}, retry_safe)
            status = envelope.get("status")
            response = envelope.get("response")
            if response in (None, "", []):  # PHP encodes an empty array as []
                response = {}
            elif not isinstance(response, dict):
                if status in ("OK", "WARNING", "EMPTY"):
                    raise CartumBadResponse(f"{function}: the answer's 'response' is not an object")
                response = {"message": str(response)[: MAX_LOCATION_CHARS * 10]}  # bare text
            if status in ("OK", "WARNING", "EMPTY"):
                return Answer(status, response)
            if status in TOKEN_STATUSES or (
                status in ("ERROR", "HTTP_ERROR") and TOKEN_TROUBLE.search(_message(response))
            ):
                # The token expired early or was revoked: one new token, one more try.
                self._forget_token(token)
                if not renewed:
                    continue
                reason = self.scrub(_message(response) or status)
                raise CartumAuthError(f"{function}: the store refused a fresh token ({reason})")
            if status == "UNDEFINED_FUNCTION":
                raise CartumUndefinedFunction(
                    f"{function}: this store does not offer the function (older store version)",
                    function,
                )
            if status in ("ERROR", "EXCEPTION", "HTTP_ERROR"):
                code = response.get("code") if status == "HTTP_ERROR" else None
                shown = f"{status} {code}" if code not in (None, "") else status
                message = self.scrub(_message(response) or "no message")
                raise CartumAnswerError(
                    f"{function}: Cartum answered {self.scrub(shown)[:80]}: {message}",
                    status,
                    code=code,
                )
            raise CartumBadResponse(
                f"{function}: unknown answer status {self.scrub(repr(status))[:80]}"
            )

    # -- functions ---------------------------------------------------------------------------

    def list_orders(self, created_from=None, created_to=None, statuses=None, page_size=100):
        """Yield one parsed Page of orders per request, by creation window and/or statuses."""
        params = {}
        if created_from is not None:
            params["from"] = _cartum_time(created_from)
        if created_to is not None:
            params["to"] = _cartum_time(created_to)
        if statuses is not None:
            params["status"] = list(statuses)
        offset = 0
        while True:
            answer = self.call("orders/get", {**params, "offset": offset, "limit": page_size})
            raw_orders = _record_list(answer, "orders/get", "orders")
            yield parse_orders(raw_orders, self.name_order)
            if answer.status == "EMPTY" or len(raw_orders) < page_size:
                return
            offset += len(raw_orders)

    def get_orders(self, order_ids):
        """Read orders by id, in requests small enough for the store's body limit."""
        page = Page()
        for batch in self._batches(sorted(set(order_ids)), key="ids"):
            answer = self.call("orders/get", {"ids": batch})
            raw_orders = _record_list(answer, "orders/get", "orders")
            page.extend(parse_orders(raw_orders, self.name_order))
        return page

    def list_statuses(self):
        """The store's statuses, custom ones included; CartumUndefinedFunction on old stores."""
        answer = self.call("orders/get_available_statuses")
        statuses = answer.response.get("statuses") or {}
        if not isinstance(statuses, (dict, list)):
            raise CartumBadResponse("orders/get_available_statuses: 'statuses' is not an object")
        if len(statuses) > MAX_STATUSES:
            raise CartumTooManyStatuses(
                f"orders/get_available_statuses: the store lists {len(statuses)} statuses, more "
                f"than the {MAX_STATUSES} a store may have; none was read",
                len(statuses),
                MAX_STATUSES,
            )
        return parse_statuses(statuses)

    def update_statuses(self, updates):
        """Set statuses: ``updates`` is a list of dicts {order_id, status[, tracking_code]}.

        Returns one StatusUpdateResult per order, in order. A WARNING answer fails only the
        orders its log names (ok=False, delivered=True: Cartum refused them). When a batch's
        call fails, that batch and the batches after it are not sent (the store is likely
        failing): their results are ok=False, delivered=False with the error, so the caller
        sends only those again; the results of earlier batches stand.
        """
        results = []
        batches = list(self._batches(list(updates), key="orders"))
        for index, batch in enumerate(batches):
            try:
                answer = self.call("orders/update", {"orders": batch})
            except CartumError as error:
                _logger.warning(
                    "Cartum orders/update at %s: %d status update(s) not delivered: %s",
                    self.base_url,
                    sum(len(rest) for rest in batches[index:]),
                    error,
                )
                results.extend(
                    StatusUpdateResult(update["order_id"], False, str(error), delivered=False)
                    for rest in batches[index:]
                    for update in rest
                )
                break
            refused = {}
            if answer.status == "WARNING":
                for entry in answer.response.get("log") or []:
                    if not isinstance(entry, dict):
                        continue
                    if str(entry.get("status", "ERROR")).upper() in ("OK", "SUCCESS"):
                        continue
                    refused[str(entry.get("order_id"))] = (
                        self.scrub(_message(entry)) or "refused by Cartum"
                    )
            for update in batch:
                message = refused.get(str(update["order_id"]))
                results.append(
                    StatusUpdateResult(update["order_id"], message is None, message or "")
                )
        return results

    def import_stock(self, products):
        """Send stock with ``catalog/import``: ``products`` is a list of dicts {article,
        residues} or {article, presence}, in requests under the store's body limit.

        Returns one StockImportResult per product, in order, from the answer's
        ``log[].info[].code`` (0 = taken; an article the log does not name was taken). When a
        call fails, its products and those of the later calls are not delivered; the results
        of the earlier calls stand.
        """
        results = []
        batches = list(self._batches(list(products), key="products"))
        for index, batch in enumerate(batches):
            try:
                answer = self.call("catalog/import", {"products": batch})
            except CartumError as error:
                _logger.warning(
                    "Cartum catalog/import at %s: %d product(s) not delivered: %s",
                    self.base_url,
                    sum(len(rest) for rest in batches[index:]),
                    error,
                )
                results.extend(
                    StockImportResult(product["article"], False, None, str(error), False)
                    for rest in batches[index:]
                    for product in rest
                )
                break
            answers = _import_log(answer.response.get("log"), self.scrub)
            for product in batch:
                code, message = answers.get(str(product["article"]), (0, ""))
                results.append(StockImportResult(product["article"], code == 0, code, message))
        return results

    def export_catalog(self, articles=None, page_size=CATALOG_PAGE_LIMIT):
        """Yield parsed Pages of products, for the given articles or the whole catalog."""
        page_size = min(page_size, CATALOG_PAGE_LIMIT)
        if articles is None:
            offset = 0
            while True:
                answer = self.call("catalog/export", {"offset": offset, "limit": page_size})
                raw_products = _record_list(answer, "catalog/export", "products")
                yield parse_products(raw_products)
                if answer.status == "EMPTY" or len(raw_products) < page_size:
                    return
                offset += len(raw_products)
        wanted = sorted(set(articles))
        for start in range(0, len(wanted), page_size):
            chunk = wanted[start : start + page_size]
            for batch in self._batches(chunk, key="expr", max_items=page_size):
                answer = self.call(
                    "catalog/export", {"expr": {"article": batch}, "limit": page_size}
                )
                yield parse_products(_record_list(answer, "catalog/export", "products"))

    def export_sections(self):
        """The store's catalog sections, ``{id: Section}``: ``pages/export`` lists the sections
        under one parent, so they are read from the root (0) down, one call per section, unless
        the root's answer already holds the whole tree. Content pages come too; nothing names
        them as such, and no product is in them."""
        sections, asked, to_read = {}, set(), [0]
        while to_read:
            parent = to_read.pop(0)
            if len(asked) >= MAX_SECTION_CALLS:
                raise CartumBadResponse(
                    f"pages/export: more than {MAX_SECTION_CALLS} sections; they were not all read"
                )
            asked.add(parent)
            answer = self.call("pages/export", {"parent": parent})
            found = parse_sections(_record_list(answer, "pages/export", "pages"))
            new = [section_id for section_id in found if section_id not in sections]
            sections.update(found)
            if parent == 0 and any(section.parent_id for section in found.values()):
                return sections  # the whole tree at once
            to_read.extend(section_id for section_id in new if section_id not in asked)
        return sections

    def list_currencies(self):
        answer = self.call("currency/export")
        currencies = _record_list(answer, "currency/export", "currencies")
        return [parse_currency(raw) for raw in currencies]

    def store_currency(self):
        """The store's main currency: the one marked default, else the only enabled one."""
        currencies = self.list_currencies()
        default = [currency for currency in currencies if currency.is_default]
        enabled = [currency for currency in currencies if currency.enabled]
        if default:
            return default[0]
        if len(enabled) == 1:
            return enabled[0]
        return None

    def _batches(self, items, key, max_items=None):
        """Split ``items`` so that each request body stays under ``max_body_bytes``."""
        max_items = max_items or self.max_ids_per_request
        envelope_size = len(json.dumps({key: [], "token": "x" * 32})) + 64
        batch, size = [], envelope_size
        for item in items:
            item_size = len(json.dumps(item, ensure_ascii=False).encode("utf-8")) + 2
            too_big = size + item_size > self.max_body_bytes
            if batch and (too_big or len(batch) >= max_items):
                yield batch
                batch, size = [], envelope_size
            batch.append(item)
            size += item_size
        if batch:
            yield batch


def _import_log(log, scrub):
    """{article: (code, message)} from catalog/import's ``log``: the first non-zero code of an
    article's ``info``, else 0. Entries that cannot be read are passed over."""
    answers = {}
    for entry in log if isinstance(log, list) else []:
        if not isinstance(entry, dict) or entry.get("article") in (None, ""):
            continue
        infos = entry.get("info")
        infos = (
            [info for info in infos if isinstance(info, dict)] if isinstance(infos, list) else []
        )
        code, message = 0, ""
        for info in infos:
            try:
                info_code = int(info.get("code", 0))
            except (TypeError, ValueError):
                info_code = -1  # a code that is no number is no "taken"
            if info_code != 0:
                code, message = info_code, _bounded(scrub(_message(info))) or "refused by Cartum"
                break
        answers[str(entry["article"])] = (code, message)
    return answers


def _cartum_time(value):
    if isinstance(value, datetime):
        return value.strftime(CARTUM_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _record_list(answer, function, key):
    records = answer.response.get(key) or []
    if not isinstance(records, list):
        raise CartumBadResponse(f"{function}: '{key}' is not a list")
    return records


def _deeper_than(value, limit):
    """Whether JSON ``value`` nests more than ``limit`` levels (the value itself is level 1)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _looks_like_html(raw):
    """Whether an answer's bytes are a web page (markup: JSON never starts with "<"), whatever
    type it declares: some stores declare their JSON as text/html."""
    return raw[:256].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _web_page_error(function, status_code):
    return CartumWebPage(
        f"{function}: the store answered with a web page instead of its API (HTTP "
        f"{status_code}): a wrong URL, or a bot filter in front of the API",
        status_code,
    )


def _message(response):
    if isinstance(response, dict):
        return str(response.get("message") or "").strip()
    return ""


def _retry_after_seconds(header):
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _bounded(text):
    return text if len(text) <= MAX_LOCATION_CHARS else text[:MAX_LOCATION_CHARS] + "…"


def _redirect_error(function, url, reply, scrub):
    """CartumRedirect for a 3xx answer to ``url``: where it points (``scrub``bed of secrets),
    and the website URL that address implies when it is the same API call elsewhere."""
    code = reply.status_code
    location = scrub(reply.headers.get("Location", "").strip()[: MAX_LOCATION_CHARS * 10])
    if not location:
        return CartumRedirect(
            f"{function}: the store answered HTTP {code}, a redirect without an address; API "
            "calls do not follow redirects",
            code,
            None,
        )
    target = urljoin(url, location)
    shown = _bounded(target)
    parts = urlsplit(target)
    api_path = f"/api/{function}/"
    suggested = None
    if parts.scheme in ("http", "https") and parts.netloc and parts.path.endswith(api_path):
        suggested = f"{parts.scheme}://{parts.netloc}{parts.path.removesuffix(api_path)}"
    old = urlsplit(url)
    to_https = (
        suggested is not None
        and (old.scheme, parts.scheme) == ("http", "https")
        and old.hostname == parts.hostname
        and parts.path == old.path
    )
    if to_https:
        advice = f"the store moved to https: use {suggested} as its website URL"
    elif suggested:
        advice = f"if that is the store's address, use {_bounded(suggested)} as its website URL"
    else:
        advice = "that is not the address of a store's API; check the website URL"
    return CartumRedirect(
        f"{function}: the store answered HTTP {code}, a redirect to {shown}; API calls do not "
        f"follow redirects, which would carry the credentials there: {advice}",
        code,
        shown,
        suggested_url=_bounded(suggested) if suggested else None,
        to_https=to_https,
    )


def _read_failure(error):
    if "timed out" in str(error).lower():
        return "no_answer"
    return "dropped_reading"


def _connection_failure(error):
    if isinstance(error, requests.exceptions.SSLError):
        return "tls"
    text = str(error).lower()
    if "refused" in text:
        return "refused"
    if "name or service" in text or "resolve" in text or "getaddrinfo" in text:
        return "dns"
    return "dropped"
