"""The import's plain rules: keys of lines, parts, customers and categories; catalog titles,
prices and descriptions."""

from types import SimpleNamespace

import pytest

from cartum_api import (
    DESCRIPTION_LIMIT,
    TITLE_KEY_PREFIX,
    Customer,
    OrderLine,
    Product,
    catalog_description,
    catalog_price,
    catalog_title,
    category_key,
    category_key_name,
    category_levels,
    customer_key,
    customer_name,
    customers_by_key,
    line_article,
    line_key,
    lines_by_key,
    part_key,
    part_label,
    wanted_parts,
)


def line(article="", title="", price=10.0, quantity=1.0):
    return OrderLine(article, title, price, quantity, price * quantity)


def customer(phone="", email="", first_name="", last_name=""):
    full_name = " ".join(part for part in (first_name, last_name) if part)
    return Customer(full_name, first_name, last_name, phone, email)


def product(titles=None, price=0.0, descriptions=None):
    return Product("DSP-1", "", titles or {}, descriptions or {}, price, ())


def order(customer_, *lines):
    """What the rules read of an order: its customer and its lines."""
    return SimpleNamespace(customer=customer_, lines=lines)


# -- lines and parts -------------------------------------------------------------------------


def test_a_line_is_keyed_by_its_article():
    assert line_key(line("DSP-1", "Display")) == "DSP-1"


def test_a_line_without_article_is_keyed_by_its_title():
    key = line_key(line("", "Diagnostics"))
    assert key == f"{TITLE_KEY_PREFIX}Diagnostics" == "title:Diagnostics"


def test_the_article_of_a_line_key():
    assert line_article("DSP-1") == "DSP-1"
    assert line_article(line_key(line("", "Diagnostics"))) == ""
    # An article is never read as a title, even one that looks like a prefix.
    assert line_article("titles:1") == "titles:1"


def test_lines_by_key_keeps_the_first_line_of_each_key():
    first, again, service = line("A", "First"), line("A", "Again"), line("", "Fix")
    orders = [order(customer(), first, service), order(customer(), again)]
    assert lines_by_key(orders) == {"A": first, "title:Fix": service}


@pytest.mark.parametrize(
    ("price", "rounded"),
    [(12.5, 12.5), (0.1 + 0.2, 0.3), (9.99994, 9.9999), (9.99996, 10.0), (1.23456, 1.2346)],
)
def test_a_part_key_rounds_the_price_to_four_places(price, rounded):
    assert part_key("DSP-1", price) == ("DSP-1", rounded)


def test_prices_equal_to_four_places_make_one_part():
    assert part_key("A", 0.1 + 0.2) == part_key("A", 0.3)
    assert part_key("A", 0.3001) != part_key("A", 0.3)


def test_wanted_parts_adds_lines_of_one_article_at_one_price():
    lines = [
        line("A", price=10.0, quantity=1),
        line("A", price=10.0, quantity=2),
        line("A", price=12.0, quantity=1),
        line("", "Diagnostics", price=5.0, quantity=1),
    ]
    assert wanted_parts(lines) == {
        ("A", 10.0): 3.0,
        ("A", 12.0): 1.0,
        ("title:Diagnostics", 5.0): 1.0,
    }
    assert wanted_parts([]) == {}


def test_part_label_shows_the_article_or_title_and_the_price():
    assert part_label(("DSP-1", 1200.0)) == "DSP-1 @ 1200.00"
    assert part_label(("title:Diagnostics", 5.5)) == "Diagnostics @ 5.50"


# -- customers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    ["+380 67 123 45 67", "380671234567", "067 123-45-67", "(067) 1234567", "+38 (067) 123 45 67"],
)
def test_a_customer_is_keyed_by_the_phone_in_e164(phone):
    assert customer_key(customer(phone, "ann@example.com"), "UA") == "+380671234567"


def test_a_national_number_is_read_in_the_region():
    assert customer_key(customer("0671234567"), "UA") == "+380671234567"
    assert customer_key(customer("030 1234567"), "DE") == "+49301234567"
    # Without a region a national number keeps its bare digits.
    assert customer_key(customer("0671234567"), None) == "+0671234567"


def test_a_customer_without_phone_is_keyed_by_the_email_in_lower_case():
    assert customer_key(customer("", "Ann.Smith@Example.COM"), "UA") == "ann.smith@example.com"
    assert customer_key(customer("no phone", "Ann@Example.com"), "UA") == "ann@example.com"


def test_a_customer_without_phone_or_email_has_no_key():
    assert customer_key(customer(), "UA") == ""


def test_customers_by_key_keeps_the_first_order_of_each_and_leaves_out_the_keyless():
    first = customer("+380671234567", first_name="Ann")
    again = customer("0671234567", first_name="Anna")
    nobody = customer()
    by_email = customer("", "Bob@Example.com")
    orders = [order(first), order(nobody), order(again), order(by_email)]
    assert customers_by_key(orders, "UA") == {
        "+380671234567": first,
        "bob@example.com": by_email,
    }


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"first_name": "Ann", "last_name": "Smith", "phone": "+380671234567"}, "Ann Smith"),
        ({"last_name": "Smith"}, "Smith"),
        ({"phone": "+380671234567", "email": "ann@example.com"}, "+380671234567"),
        ({"email": "ann@example.com"}, "ann@example.com"),
        ({}, ""),
    ],
)
def test_customer_name_falls_back_to_phone_then_email(values, name):
    assert customer_name(customer(**values)) == name


# -- catalog ---------------------------------------------------------------------------------


def test_catalog_title_in_the_store_language():
    display = product({"ua": "Дисплей", "en": "Display"})
    assert catalog_title(display, "ua") == "Дисплей"
    assert catalog_title(display, "en", line("DSP-1", "Screen")) == "Display"


def test_catalog_title_falls_back_to_the_line_title_then_its_article():
    display = product({"en": "Display"})
    assert catalog_title(display, "ua", line("DSP-1", "Екран")) == "Екран"
    assert catalog_title(None, "ua", line("DSP-1", "Екран")) == "Екран"
    assert catalog_title(product({"ua": ""}), "ua", line("DSP-1", "")) == "DSP-1"


def test_catalog_title_without_a_line_is_none_when_the_catalog_has_none():
    assert catalog_title(product({"en": "Display"}), "ua") is None
    assert catalog_title(None, "ua") is None


def test_catalog_price_or_the_line_price():
    assert catalog_price(product(price=1200.0), line(price=999.0)) == 1200.0
    assert catalog_price(product(price=0.0), line(price=999.0)) == 999.0
    assert catalog_price(None, line(price=999.0)) == 999.0
    # Without a line the catalog's price stands, even 0.
    assert catalog_price(product(price=0.0)) == 0.0


def test_catalog_description_as_plain_text_in_the_language_cut_to_the_limit():
    long_html = "<p>" + "word " * 2000 + "</p>"
    described = product(descriptions={"ua": "<p>Оригінальний <b>OLED</b></p>", "en": long_html})
    assert catalog_description(described, "ua") == "Оригінальний OLED"
    assert len(catalog_description(described, "en")) <= DESCRIPTION_LIMIT
    assert catalog_description(described, "ru") == ""
    assert catalog_description(None, "ua") == ""


# -- categories ------------------------------------------------------------------------------


def test_category_key_and_its_name():
    assert category_key(False, "Parts") == "0/Parts"
    assert category_key(7, "Screens/Glass") == "7/Screens/Glass"
    assert category_key_name(category_key(7, "Screens/Glass")) == "Screens/Glass"


def test_category_levels_give_parents_before_children():
    paths = {("Parts", "Screens", "OLED"), ("Parts", "Batteries"), ("Tools",), ()}
    assert category_levels(paths) == [
        [("Parts",), ("Tools",)],
        [("Parts", "Batteries"), ("Parts", "Screens")],
        [("Parts", "Screens", "OLED")],
    ]


def test_no_category_levels_without_paths():
    assert category_levels([]) == []
    assert category_levels([()]) == []
