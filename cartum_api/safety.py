"""What the connector does with what a store says, and where it lets a store be.

Store text (an error message, a redirect's address, an order's value) is untrusted: it is
masked (the store's password and token never show) and capped before it is stored, shown or
logged. A store's address must be a public https:// one: never a loopback, private,
link-local, reserved or multicast address, unless local test stores are allowed.
"""

import ipaddress
import json
import socket
from urllib.parse import quote, quote_plus, urlsplit

# Store text kept in messages and failure reasons, in characters.
MAX_STORE_TEXT = 500
MASK = "********"


def mask_secrets(text, secrets):
    """``text`` with every occurrence of each secret (as sent: plain, JSON-escaped or
    URL-encoded) replaced by a mask."""
    text = str(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return text


def cap_text(text, limit=MAX_STORE_TEXT):
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


def untrusted_text(text, secrets=(), limit=MAX_STORE_TEXT):
    """Store text made safe to store, show and log: secrets masked, then capped."""
    return cap_text(mask_secrets(text, secrets), limit)


# -- addresses ----------------------------------------------------------------------------------


def is_public_address(address):
    """Whether an IP address (text) is a public unicast one: not loopback, private,
    link-local, reserved, shared, unspecified or multicast, IPv4-mapped forms included."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host, port):
    """Every address ``host`` resolves to (any spelling the system takes: 127.1, 0x7f000001,
    2130706433, [::1]); an empty set when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return set()
    return {info[4][0] for info in infos}


def address_problem(url, allow_local=False, resolver=resolve):
    """What is wrong with ``url`` as a store's address, or None:

    - ``("scheme", scheme)``: not https:// (http:// only with ``allow_local``);
    - ``("local", address)``: the host is, or resolves to, a non-public address.

    A host that does not resolve now passes: each connection checks the address it reaches.
    """
    parts = urlsplit(url or "")
    allowed = ("http", "https") if allow_local else ("https",)
    if parts.scheme not in allowed:
        return ("scheme", parts.scheme)
    if allow_local:
        return None
    try:
        port = parts.port or 443
    except ValueError:
        return ("scheme", parts.scheme)  # not a number: the URL check says what is wrong
    for address in sorted(resolver(parts.hostname or "", port)):
        if not is_public_address(address):
            return ("local", address)
    return None
