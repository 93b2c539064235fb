"""Pure-Python client of the Cartum (Horoshop) store API; imports nothing from Odoo."""

from .client import RETRY_SAFE_FUNCTIONS, Answer, CartumClient
from .customer import FIRST_LAST, LAST_FIRST, phone_key, split_full_name
from .errors import (
    CartumAnswerError,
    CartumApiUnavailable,
    CartumAuthError,
    CartumBadResponse,
    CartumConnectionError,
    CartumError,
    CartumHTTPError,
    CartumRedirect,
    CartumUndefinedFunction,
    InvalidOrder,
    InvalidPayload,
)
from .records import (
    Currency,
    Customer,
    Delivery,
    Order,
    OrderLine,
    Page,
    Product,
    Status,
    StatusUpdateResult,
    parse_order,
    parse_orders,
)
from .text import html_to_text

__all__ = [
    "FIRST_LAST",
    "LAST_FIRST",
    "RETRY_SAFE_FUNCTIONS",
    "Answer",
    "CartumAnswerError",
    "CartumApiUnavailable",
    "CartumAuthError",
    "CartumBadResponse",
    "CartumClient",
    "CartumConnectionError",
    "CartumError",
    "CartumHTTPError",
    "CartumRedirect",
    "CartumUndefinedFunction",
    "Currency",
    "Customer",
    "Delivery",
    "InvalidOrder",
    "InvalidPayload",
    "Order",
    "OrderLine",
    "Page",
    "Product",
    "Status",
    "StatusUpdateResult",
    "html_to_text",
    "parse_order",
    "parse_orders",
    "phone_key",
    "split_full_name",
]
