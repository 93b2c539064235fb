"""Exceptions raised by the Cartum client.

Messages name the store function and what Cartum said, never the token, the password or the
request body: callers put these messages in logs, sync runs and chatter as they are.
"""

# The id of a bad record, as the store sent it, is kept to this many characters.
MAX_RECORD_ID_CHARS = 40


class CartumError(Exception):
    """Base class of everything the Cartum layer raises."""


class CartumConnectionError(CartumError):
    """The store could not be reached, or dropped the connection, after every retry.
    ``reason`` says why, as a key of ``cartum_api.client.FAILURES`` (or "unsendable": the
    request could not be sent at all), ``attempts`` how many times it was tried, and
    ``status_code`` the HTTP status of a "server_error"."""

    def __init__(self, message, reason=None, attempts=1, status_code=None):
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts
        self.status_code = status_code


class CartumUnsafeAddress(CartumError):
    """The store's address is not one the connector calls: not https:// (``kind`` "scheme"),
    or a connection reached a non-public ``address`` (``kind`` "local"). Nothing was sent."""

    def __init__(self, message, kind, address=None):
        super().__init__(message)
        self.kind = kind
        self.address = address


class CartumHTTPError(CartumError):
    """The store answered with an HTTP error status after every retry."""

    def __init__(self, message, status_code):
        super().__init__(message)
        self.status_code = status_code


class CartumRedirect(CartumHTTPError):
    """The store answered a redirect, which API calls never follow: they would carry the login
    and password to the new address. ``location`` is that address (absolute, cut when long),
    ``suggested_url`` the website URL it implies when it is the same API elsewhere, and
    ``to_https`` whether it only moves the same address from http:// to https://."""

    def __init__(self, message, status_code, location, suggested_url=None, to_https=False):
        super().__init__(message, status_code)
        self.location = location
        self.suggested_url = suggested_url
        self.to_https = to_https


class CartumApiUnavailable(CartumHTTPError):
    """The store has no API at this URL: wrong address, or the API is not in the store's plan."""


class CartumWebPage(CartumApiUnavailable):
    """The store answered a web page (HTML) where its API's JSON belongs: a wrong address, or a
    bot filter in front of the API. Asking again would bring the same page."""


class CartumBadResponse(CartumError):
    """The store answered something that is not the documented JSON envelope."""


class CartumTooManyStatuses(CartumBadResponse):
    """The store lists more statuses (``count``) than a store may have (``limit``)."""

    def __init__(self, message, count, limit):
        super().__init__(message)
        self.count = count
        self.limit = limit


class CartumAuthError(CartumError):
    """The login or password was refused."""


class CartumUndefinedFunction(CartumError):
    """The store does not know this function (an older store version)."""

    def __init__(self, message, function):
        super().__init__(message)
        self.function = function


class CartumAnswerError(CartumError):
    """The store answered ERROR, EXCEPTION or HTTP_ERROR for a call; ``code`` is the code an
    HTTP_ERROR answer gives."""

    def __init__(self, message, status, code=None):
        super().__init__(message)
        self.status = status
        self.code = code


class InvalidPayload(CartumError):
    """A record in an answer is missing a field or has one of the wrong kind."""

    def __init__(self, kind, record_id, field, problem):
        if record_id is not None and len(str(record_id)) > MAX_RECORD_ID_CHARS:
            record_id = f"{str(record_id)[:MAX_RECORD_ID_CHARS]}…"
        self.kind = kind
        self.record_id = record_id
        self.field = field
        self.problem = problem
        super().__init__(f"{kind} {record_id}: field '{field}' {problem}")


class InvalidOrder(InvalidPayload):
    """An order in an answer cannot be used; it names the order and the field."""

    def __init__(self, order_id, field, problem):
        super().__init__("Order", order_id, field, problem)
