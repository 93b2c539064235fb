"""Customer data rules shared by the client and the Odoo addon: name split and phone key."""

import functools
import re

import phonenumbers

FIRST_LAST = "first_last"
LAST_FIRST = "last_first"


def split_full_name(full_name, order=FIRST_LAST):
    """Split Cartum's one-string recipient name into (first name, last name).

    Rule: words are separated by white space. With FIRST_LAST the first word is the first name
    and the rest (middle names, double surnames) is the last name; with LAST_FIRST the first word
    is the last name and the rest is the first name. A single word is a first name.
    """
    words = (full_name or "").split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    if order == LAST_FIRST:
        return " ".join(words[1:]), words[0]
    return words[0], " ".join(words[1:])


# An import reads each customer's phone three times (its key, its contact, the contact's stored
# key), and parsing a number is phonenumbers' slowest call: a page's phones are parsed once.
@functools.lru_cache(maxsize=4096)
def phone_key(raw_phone, region=None):
    """Return the number in international digits ("380671234567"), or "" when there is none.

    The same number in any of its usual forms (+380 67 123 45 67, 380671234567, 0671234567 with
    region "UA") gets the same key, so contacts are matched through an indexed column.
    Numbers phonenumbers cannot parse fall back to their bare digits.
    """
    if not raw_phone:
        return ""
    digits = re.sub(r"\D", "", raw_phone)
    if not digits:
        return ""
    try:
        number = phonenumbers.parse(raw_phone, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return digits
    if not phonenumbers.is_possible_number(number):
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
