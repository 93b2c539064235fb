"""The store admin's pages of the sandbox: its orders, read and edited by hand.

A person trying the connector changes an order's status or quantities here, or adds an order,
as a shop does in Cartum's admin, and watches Odoo follow. The pages answer clients on the
loopback interface only; what they show comes from the store and is escaped, and a change is
a POST that carries the page's form token, so another site open in the same browser cannot make
one.
"""

import html
import ipaddress
import re
import secrets

from werkzeug.wrappers import Response

ORDERS_PATH = "edit/orders"
ORDER_PATH = re.compile(r"edit/orders/(\d+)")
ACTION_PATH = re.compile(r"edit/orders/(\d+)/(status|quantities)")
NEW_ORDER_PATH = "edit/orders/new"
NOT_FOUND_PAGE = "<html><body><h1>404 Not Found</h1></body></html>"
MAX_FORM_BYTES = 16 * 1024
MAX_QUANTITY = 9999
NEW_ORDER_LINES = 3
TEXT_LIMITS = {"customer_name": 128, "phone": 32, "email": 128}
LOOPBACK_NAMES = ("localhost",)
SECURITY_HEADERS = {
    # The pages run no script and load nothing; their forms post to the sandbox only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class _Refused(Exception):
    """A change the admin refuses: answered with its HTTP status and message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _text(value):
    """Store text (untrusted) as inert HTML, in element content and in quoted attributes."""
    return html.escape(str(value), quote=True)


class AdminPages:
    """Answers the admin's paths (``edit/orders...``); ``respond`` gives None for the others."""

    def __init__(self, store):
        self.store = store
        # New at each start: a page loaded before a restart must be reloaded to post.
        self.form_token = secrets.token_urlsafe(24)

    def respond(self, path, request):
        if not (path == ORDERS_PATH or path.startswith(ORDERS_PATH + "/")):
            return None
        action = ACTION_PATH.fullmatch(path)
        order_page = ORDER_PATH.fullmatch(path)
        if not (path in (ORDERS_PATH, NEW_ORDER_PATH) or action or order_page):
            return None
        if not _from_loopback(request):
            return _page("Forbidden", "<p>The sandbox's admin answers on loopback only.</p>", 403)
        if path == NEW_ORDER_PATH or action:
            return self._change(request, action)
        if request.method not in ("GET", "HEAD"):
            return Response("Method Not Allowed", 405, headers={"Allow": "GET"})
        if order_page:
            return self._order_page(int(order_page.group(1)))
        return self._orders_page()

    # --- pages --------------------------------------------------------------------------

    def _orders_page(self):
        statuses = self.store.status_snapshot()
        language = self.store.enabled_languages[0]
        rows = "".join(
            "<tr>"
            f'<td><a href="/edit/orders/{_text(order["order_id"])}/">'
            f"{_text(order['order_id'])}</a></td>"
            f"<td>{_text(order.get('stat_created', ''))}</td>"
            f"<td>{_text(_status_title(statuses, order.get('stat_status'), language))}</td>"
            f"<td>{_text(order.get('delivery_name', ''))}</td>"
            f"<td>{_text(order.get('total_sum', ''))} {_text(order.get('currency', ''))}</td>"
            "</tr>"
            for order in self.store.find_orders()
        )
        body = (
            "<table><tr><th>Order</th><th>Created</th><th>Status</th><th>Customer</th>"
            f"<th>Total</th></tr>{rows}</table>"
            f"{self._new_order_form(statuses, language)}"
            f"{self._stock_table()}"
        )
        return _page("Orders", body)

    def _stock_table(self):
        """The catalog's stock, as catalog/import last set it."""
        rows = "".join(
            f"<tr><td>{_text(article)}</td><td>{_text(presence)}</td><td>{_text(quantity)}</td>"
            f"<td>{_text(', '.join(f'{w}: {q}' for w, q in residues.items()))}</td></tr>"
            for article, presence, quantity, residues in self.store.stock_snapshot()
        )
        return (
            '<h2>Stock in the catalog</h2><table class="stock"><tr><th>Article</th>'
            f"<th>Presence</th><th>Quantity</th><th>Warehouses</th></tr>{rows}</table>"
        )

    def _order_page(self, order_id):
        found = self.store.find_orders(ids=[order_id])
        if not found:
            return Response(NOT_FOUND_PAGE, 404, mimetype="text/html")
        order = found[0]
        statuses = self.store.status_snapshot()
        language = self.store.enabled_languages[0]
        customer = ", ".join(
            str(order.get(key) or "")
            for key in ("delivery_name", "delivery_phone", "delivery_email")
            if order.get(key)
        )
        status_title = _status_title(statuses, order.get("stat_status"), language)
        lines = [line for line in order.get("products") or [] if isinstance(line, dict)]
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{_text(line.get(key, ''))}</td>"
                for key in ("article", "title", "quantity", "price", "total_price")
            )
            + f'<td><input name="line-{index}" type="hidden" '
            f'value="{_text(line.get("article", ""))}">'
            f'<input name="quantity-{index}" type="number" min="0" max="{MAX_QUANTITY}" '
            f'value="{_text(line.get("quantity", ""))}" required></td>'
            "</tr>"
            for index, line in enumerate(lines)
        )
        action = f"/edit/orders/{_text(order['order_id'])}"
        body = (
            f"<p>Status: {_text(status_title)}</p>"
            f"<p>Customer: {_text(customer)}</p>"
            f'<form method="post" action="{action}/quantities/">{self._token_field()}'
            "<table><tr><th>Article</th><th>Title</th><th>Quantity</th><th>Price</th>"
            f"<th>Total</th><th>New quantity</th></tr>{rows}</table>"
            '<button type="submit">Save quantities</button> (0 removes the line)</form>'
            f"<p>Total: {_text(order.get('total_sum'))} {_text(order.get('currency'))}</p>"
            f'<form method="post" action="{action}/status/">{self._token_field()}'
            f"<label>Status {_status_select(statuses, order.get('stat_status'), language)}"
            '</label> <button type="submit">Change status</button></form>'
            '<p><a href="/edit/orders/">All orders</a></p>'
        )
        return _page(f"Order {order['order_id']}", body)

    def _new_order_form(self, statuses, language):
        options = '<option value="">-</option>' + "".join(
            f'<option value="{_text(article)}">{_text(article)}: {_text(title)}</option>'
            for article, title in self.store.catalog_titles(language)
        )
        lines = "".join(
            f'<p><select name="article-{index}">{options}</select> '
            f'<input name="quantity-{index}" type="number" min="1" max="{MAX_QUANTITY}" '
            'value="1"></p>'
            for index in range(NEW_ORDER_LINES)
        )
        fields = "".join(
            f'<p><label>{label} <input name="{name}" maxlength="{TEXT_LIMITS[name]}"'
            f"{' required' if name == 'customer_name' else ''}></label></p>"
            for name, label in (
                ("customer_name", "Customer"),
                ("phone", "Phone"),
                ("email", "Email"),
            )
        )
        return (
            "<h2>Add an order</h2>"
            f'<form method="post" action="/{NEW_ORDER_PATH}/">{self._token_field()}{fields}'
            f"<p><label>Status {_status_select(statuses, 1, language)}</label></p>"
            f'{lines}<button type="submit">Add the order</button></form>'
        )

    def _token_field(self):
        return f'<input type="hidden" name="form_token" value="{_text(self.form_token)}">'

    # --- changes --------------------------------------------------------------------------

    def _change(self, request, action):
        if request.method != "POST":
            return Response("Method Not Allowed", 405, headers={"Allow": "POST"})
        # Browsers send a form's length; a body without one (chunked) would be read whole.
        if request.content_length is None:
            return _page("Length required", "<p>The form has no Content-Length.</p>", 411)
        if request.content_length > MAX_FORM_BYTES:
            return _page("Too large", "<p>The form is too large.</p>", 413)
        form = request.form
        posted_token = form.get("form_token", "").encode()
        if not secrets.compare_digest(posted_token, self.form_token.encode()):
            return _page(
                "Forbidden", "<p>The page is out of date: reload it and try again.</p>", 403
            )
        try:
            if action is None:
                order_id = self._add_order(form)
            else:
                order_id = int(action.group(1))
                if action.group(2) == "status":
                    self._set_status(order_id, form)
                else:
                    self._set_quantities(order_id, form)
        except _Refused as refused:
            return _page("Not changed", f"<p>{_text(refused)}</p>", refused.status)
        return Response("", 303, headers={"Location": f"/edit/orders/{order_id}/"})

    def _set_status(self, order_id, form):
        status_id = _number(form.get("status"), "The status")
        if status_id not in self.store.status_snapshot():
            raise _Refused(400, f"Status {status_id} does not exist.")
        try:
            self.store.set_status(order_id, status_id)
        except KeyError:
            raise _Refused(404, f"Order {order_id} does not exist.") from None

    def _set_quantities(self, order_id, form):
        # The page's lines, as it showed them: the quantities go to those lines or nowhere.
        articles = []
        while f"line-{len(articles)}" in form:
            articles.append(form[f"line-{len(articles)}"])
        quantities = [
            _number(form.get(f"quantity-{index}"), f"Line {index + 1}'s quantity", 0)
            for index in range(len(articles))
        ]
        if not any(quantities):
            raise _Refused(400, "An order keeps at least one line.")
        try:
            self.store.set_quantities(order_id, articles, quantities)
        except KeyError:
            raise _Refused(404, f"Order {order_id} does not exist.") from None
        except ValueError as error:
            raise _Refused(409, str(error)) from None

    def _add_order(self, form):
        values = {name: form.get(name, "").strip()[:limit] for name, limit in TEXT_LIMITS.items()}
        if not values["customer_name"]:
            raise _Refused(400, "The customer's name is required.")
        status_id = _number(form.get("status"), "The status")
        if status_id not in self.store.status_snapshot():
            raise _Refused(400, f"Status {status_id} does not exist.")
        catalog = {article for article, _title in self.store.catalog_titles("")}
        lines = []
        for index in range(NEW_ORDER_LINES):
            article = form.get(f"article-{index}", "")
            if not article:
                continue
            if article not in catalog:
                raise _Refused(400, f"{article} is not in the catalog.")
            lines.append((article, _number(form.get(f"quantity-{index}"), "A quantity", 1)))
        if not lines:
            raise _Refused(400, "Choose at least one product.")
        order = self.store.add_order(
            lines=lines,
            status=status_id,
            customer_name=values["customer_name"],
            phone=values["phone"],
            email=values["email"],
        )
        return order["order_id"]


def _number(value, what, minimum=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Refused(400, f"{what} must be a whole number.") from None
    if minimum is not None and not minimum <= number <= MAX_QUANTITY:
        raise _Refused(400, f"{what} must be between {minimum} and {MAX_QUANTITY}.")
    return number


def _status_title(statuses, status_id, language):
    # A test may have given the order any value as its status, even a list.
    status = statuses.get(status_id) if isinstance(status_id, int) else None
    title = status["title"].get(language, "") if status else ""
    return title or str(status_id)


def _status_select(statuses, selected, language):
    options = "".join(
        f'<option value="{_text(status_id)}"{" selected" if status_id == selected else ""}>'
        f"{_text(_status_title(statuses, status_id, language))}</option>"
        for status_id in sorted(statuses)
    )
    return f'<select name="status">{options}</select>'


def _from_loopback(request):
    """The client is on this machine, and the page was asked by a loopback name: a page
    elsewhere cannot reach the admin through a name it points at 127.0.0.1 (DNS rebinding)."""
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    host = host.strip("[]").lower()
    if host not in LOOPBACK_NAMES:
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return client.is_loopback


def _page(title, body, status=200):
    page = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{_text(title)}</title></head>'
        f"<body><h1>{_text(title)}</h1>{body}</body></html>"
    )
    return Response(page, status, mimetype="text/html", headers=SECURITY_HEADERS)
