"""HTTP front of the sandbox: the Cartum API functions over a real werkzeug server."""

import contextlib
import json
import socket
import threading
import time
from datetime import datetime
from datetime import time as day_time

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .admin import AdminPages
from .store import DATETIME_FORMAT

STATUSES_FUNCTION = "orders/get_available_statuses"
MAX_CATALOG_LIMIT = 500
SHUTDOWN_POLL_SECONDS = 0.05
NO_API_PAGE = "<html><body><h1>404 Not Found</h1></body></html>"
# What a store's bot filter answers a client it takes for a bot, with HTTP 200.
BOT_FILTER_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body><p>Checking your browser before accessing the store.</p></body></html>"
)
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
STREAM_CHUNK_BYTES = 64 * 1024


class _BadRequest(Exception):
    """A parameter the store rejects; answered as status ERROR with the message."""


class SandboxApp:
    """WSGI application answering /api/<function>/ like a Cartum store."""

    def __init__(self, store):
        self.store = store
        self._admin = AdminPages(store)
        self._handlers = {
            "auth": self._auth,
            "orders/get": self._orders_get,
            STATUSES_FUNCTION: self._statuses,
            "orders/update": self._orders_update,
            "catalog/export": self._catalog_export,
            "catalog/import": self._catalog_import,
            "currency/export": self._currency_export,
            "pages/export": self._pages_export,
        }

    def __call__(self, environ, start_response):
        response = self._respond(Request(environ))
        return response(environ, start_response)

    def _respond(self, request):
        path = request.path.strip("/")
        admin_page = self._admin.respond(path, request)
        if admin_page is not None:
            return admin_page
        if not path.startswith("api/"):
            return Response(NO_API_PAGE, 404, mimetype="text/html")
        function = path.removeprefix("api/")
        self.store.record_request(function)
        if self.store.bot_filter and request.user_agent.string.startswith("python-requests"):
            return Response(BOT_FILTER_PAGE, 200, mimetype="text/html")

        faults = self.store.faults
        redirect = faults.take_redirect()
        if redirect is not None:
            status, location = redirect
            return Response(f"Moved to {location}", status, headers={"Location": location})
        # Content-Length is checked before reading: the real store drops big bodies unread.
        if (request.content_length or 0) > faults.max_body_bytes or faults.take_drop():
            _drop_connection(request.environ)
        error_status = faults.take_server_error()
        if error_status is not None:
            return Response(f"Sandbox fault: HTTP {error_status}", error_status)
        web_page = faults.take_web_page()
        if web_page is not None:
            body, status, content_type = web_page
            return Response(body, status, content_type=content_type)
        retry_after = faults.take_rate_limit()
        if retry_after is not None:
            return Response("Too Many Requests", 429, headers={"Retry-After": str(retry_after)})
        if faults.latency > 0:
            time.sleep(faults.latency)

        if not self.store.api_enabled:
            return Response(NO_API_PAGE, 404, mimetype="text/html")
        if request.method != "POST":
            return Response("Method Not Allowed", 405, headers={"Allow": "POST"})
        envelope = faults.take_envelope() or faults.take_call_failure(function)
        if envelope is None:
            status, payload = self._dispatch(function, request)
            envelope = {"status": status, "response": payload}
            if status == "UNAUTHORIZED" and self.store.token_refusal == "HTTP 401":
                return Response(json.dumps(envelope), 401, content_type=JSON_CONTENT_TYPE)
        oversize = faults.take_oversize()
        if oversize is not None:
            return _oversized_answer(envelope, *oversize, faults)
        text = json.dumps(envelope, ensure_ascii=False)
        depth = faults.take_deep()
        if depth is not None:
            head, tail = _split_envelope(envelope, "deep")
            levels = max(depth - 2, 0)  # the envelope and its response are two levels
            text = head + "[" * levels + "]" * levels + tail
        # A store set up to answer in Windows-1251: its Cyrillic bytes are not UTF-8.
        body = text.encode("cp1251", "replace") if faults.take_bad_utf8() else text.encode()
        if faults.take_garbage():
            body = b'["sandbox garbage: not an envelope"]'
        elif faults.take_truncation():
            body = body[: len(body) // 2]
        return Response(body, 200, content_type=JSON_CONTENT_TYPE)

    def _dispatch(self, function, request):
        handler = self._handlers.get(function)
        if handler is None or (function == STATUSES_FUNCTION and not self.store.supports_statuses):
            return "UNDEFINED_FUNCTION", {}
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if self.store.payload_error_status == "HTTP_ERROR":
                return "HTTP_ERROR", {"code": 400, "message": "payload is not json"}
            return "ERROR", {"message": "Invalid JSON"}
        if function != "auth":
            token = body.get("token")
            if not isinstance(token, str) or not self.store.token_is_valid(token):
                if self.store.token_refusal == "ERROR":
                    return "ERROR", {"message": self.store.token_refusal_message}
                return "UNAUTHORIZED", {"message": "Token is invalid or expired"}
        try:
            return handler(body)
        except _BadRequest as error:
            return "ERROR", {"message": str(error)}

    def _auth(self, body):
        if body.get("login") != self.store.login or body.get("password") != self.store.password:
            return "AUTHORIZATION_ERROR", {"message": "Incorrect login or password"}
        return "OK", {"token": self.store.issue_token()}

    def _orders_get(self, body):
        # Empty ids/status lists are ignored, as a PHP empty() check would do.
        ids = _int_list(body.get("ids"), "ids") if body.get("ids") else None
        statuses = _int_list(body.get("status"), "status") if body.get("status") else None
        limit = _optional_int(body, "limit")
        orders = self.store.find_orders(
            start=_window_bound(body.get("from"), "from", day_time.min),
            end=_window_bound(body.get("to"), "to", day_time(23, 59, 59)),
            ids=ids,
            statuses=set(statuses) if statuses else None,
            offset=_optional_int(body, "offset") or 0,
            limit=limit,
        )
        if not orders:
            return "EMPTY", {}
        return "OK", {"orders": orders}

    def _statuses(self, body):
        statuses = self.store.status_snapshot()
        return "OK", {"statuses": {str(status_id): s for status_id, s in statuses.items()}}

    def _orders_update(self, body):
        entries = body.get("orders")
        if not isinstance(entries, list) or not entries:
            raise _BadRequest("Parameter 'orders' must be a non-empty list")
        log = []
        for entry in entries:
            order_id = entry.get("order_id") if isinstance(entry, dict) else None
            try:
                order_id = int(order_id)
                status_id = int(entry["status"])
            except (KeyError, TypeError, ValueError):
                message = "Each order needs an integer order_id and status"
            else:
                message = self.store.apply_status_update(
                    order_id, status_id, entry.get("tracking_code")
                )
            if message:
                log.append({"order_id": order_id, "status": "ERROR", "message": message})
        if log:
            return "WARNING", {"log": log}
        return "OK", {}

    def _catalog_export(self, body):
        expr = body.get("expr") or {}
        if not isinstance(expr, dict):
            raise _BadRequest("Parameter 'expr' must be an object")
        article = expr.get("article")
        if article is None:
            articles = None
        elif isinstance(article, str):
            articles = [article]
        else:
            articles = [str(a) for a in article]
        limit = _optional_int(body, "limit")
        products = self.store.export_products(
            articles,
            offset=_optional_int(body, "offset") or 0,
            limit=MAX_CATALOG_LIMIT if limit is None else min(limit, MAX_CATALOG_LIMIT),
        )
        if not products:
            return "EMPTY", {}
        return "OK", {"products": products}

    def _catalog_import(self, body):
        entries = body.get("products")
        if not isinstance(entries, list) or not entries:
            raise _BadRequest("Parameter 'products' must be a non-empty list")
        if self.store.import_delay:  # a call that takes time, for the concurrency tests
            time.sleep(self.store.import_delay)
        log, refused = [], False
        for entry in entries:
            code, message = self.store.import_product_stock(entry)
            refused = refused or code != 0
            article = entry.get("article") if isinstance(entry, dict) else None
            log.append({"article": article, "info": [{"code": code, "message": message}]})
        return ("WARNING" if refused else "OK"), {"log": log}

    def _pages_export(self, body):
        parent = _optional_int(body, "parent") or 0
        pages = self.store.export_sections(parent)
        if not pages:
            return "EMPTY", {}
        return "OK", {"pages": pages}

    def _currency_export(self, body):
        return "OK", {"currencies": self.store.currency_snapshot()}


def _split_envelope(envelope, key):
    """JSON text of ``envelope`` before and after the value of a new first ``key`` of its
    response, so that a value too big or too deep for json.dumps can be put in between."""
    rest = json.dumps(envelope["response"], ensure_ascii=False)[1:-1]
    head = f'{{"status": {json.dumps(envelope["status"])}, "response": {{"{key}": '
    return head, (", " + rest if rest else "") + "}}"


def _oversized_answer(envelope, size, declare_length, faults):
    """The answer with a padding string that makes it ``size`` bytes, produced as it is sent."""
    head, tail = _split_envelope(envelope, "padding")
    head, tail = (head + '"').encode(), ('"' + tail).encode()
    padding = max(size - len(head) - len(tail), 0)

    def stream():
        for part in (head, *_padding_chunks(padding), tail):
            faults.note_streamed(len(part))
            yield part

    headers = {"Content-Length": str(len(head) + padding + len(tail))} if declare_length else {}
    return Response(stream(), 200, headers=headers, content_type=JSON_CONTENT_TYPE)


def _padding_chunks(size):
    while size > 0:
        chunk = min(size, STREAM_CHUNK_BYTES)
        yield b"x" * chunk
        size -= chunk


def _drop_connection(environ):
    """Close the socket with no answer; werkzeug then treats the request as dropped."""
    with contextlib.suppress(OSError):
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("sandbox fault: connection dropped")


def _window_bound(value, name, time_for_date):
    """A from/to value as a comparable "YYYY-MM-DD HH:MM:SS" string (None when absent)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.strptime(value, DATETIME_FORMAT).strftime(DATETIME_FORMAT)
        with contextlib.suppress(ValueError):
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time_for_date).strftime(DATETIME_FORMAT)
    raise _BadRequest(f"Invalid date in '{name}': {value!r}")


def _int_list(value, name):
    values = value if isinstance(value, list) else [value]
    try:
        return [int(item) for item in values]
    except (TypeError, ValueError):
        raise _BadRequest(f"Parameter '{name}' must hold integers") from None


def _optional_int(body, name):
    value = body.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _BadRequest(f"Parameter '{name}' must be an integer") from None
    if number < 0:
        raise _BadRequest(f"Parameter '{name}' must not be negative")
    return number


class _SandboxRequestHandler(WSGIRequestHandler):
    def connection_dropped(self, error, environ=None):
        # Keep-alive would read on, taking the dropped request's unread body for a new request.
        self.close_connection = True

    def log_request(self, code="-", size="-"):
        # Tests and benchmarks send thousands of requests: no line on the terminal for each,
        # one line in the access log file when there is one.
        access_log = self.server.access_log
        if access_log is not None:
            access_log.write(
                f"{self.address_string()} - - [{self.log_date_time_string()}] "
                f'"{self.requestline}" {code} {size}\n'
            )


    def log_error(self, format, *args):
        # A malformed request (a TLS handshake sent to this plain-http server, say) is the
        # client's doing: a line in the access log, never an error in the host program's log.
        access_log = self.server.access_log
        if access_log is not None:
            access_log.write(
                f"{self.address_string()} - - [{self.log_date_time_string()}] {format % args}\n"
            )

class _AccessLog:
    """An access log file that many server threads append lines to."""

    def __init__(self, path):
        # Open for the server's whole life, closed by close(): no context manager fits.
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, line):
        with self._lock:
            self._file.write(line)

    def close(self):
        with self._lock:
            self._file.close()


class CartumSandbox:
    """A running sandbox server; serves from a daemon thread between start() and stop().

    Requests are not logged, except to the file ``access_log`` when one is given.
    """

    def __init__(self, store, host="127.0.0.1", port=0, access_log=None):
        self.store = store
        self.host = host
        self.port = port
        self.access_log = access_log
        self._server = None
        self._thread = None

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self._server = make_server(
            self.host,
            self.port,
            SandboxApp(self.store),
            threaded=True,
            request_handler=_SandboxRequestHandler,
        )
        self._server.access_log = _AccessLog(self.access_log) if self.access_log else None
        self.port = self._server.server_port  # the real one when port 0 was asked
        # A short poll interval: stop() waits for it, and tests stop a server per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name="cartum-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        if self._server.access_log is not None:
            self._server.access_log.close()
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
