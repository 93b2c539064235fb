"""Plain text out of product description HTML."""

import pytest

from cartum_api import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Good</p><script>alert('desc')</script>", "Good"),
        ("<style>p { color: red; }</style><p>Red</p>", "Red"),
        ("<p>Before</p><!-- hidden <b>note</b> --><p>After</p>", "Before\nAfter"),
        ("Tom &amp; Jerry&nbsp;&mdash; &lt;3 &#1090;&#x435;&#1089;т", "Tom & Jerry — <3 тест"),
        ("Line 1<br>Line 2<br/>Line 3", "Line 1\nLine 2\nLine 3"),
        ("<ul><li>One</li><li>Two</li></ul><div>Three</div>", "One\nTwo\nThree"),
        ("  <p>  Many \t  spaces\n\n\n and  <b>bold</b></p>  ", "Many spaces\nand bold"),
        ("<p>Оригінальна <i>OLED</i>-матриця</p>", "Оригінальна OLED-матриця"),
        ("Plain text, a < b", "Plain text, a < b"),
        ("<script>never()</script>", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_length_limit_cuts_on_a_word_boundary():
    text = html_to_text("<p>The quick brown fox jumps over the lazy dog</p>", max_length=20)
    assert text == "The quick brown fox…"
    assert len(text) <= 20


def test_length_limit_cuts_a_long_word_inside():
    text = html_to_text("Supercalifragilisticexpialidocious", max_length=10)
    assert text == "Supercali…"


def test_text_within_the_limit_is_left_whole():
    assert html_to_text("<p>Short</p>", max_length=5) == "Short"
    assert html_to_text("<p>Short text</p>", max_length=8) == "Short…"
