"""Plain text out of the HTML that stores keep in product descriptions."""

import re
from html.parser import HTMLParser

# Tags whose content is code or styling, never text for a person.
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})
# Tags that end a line of text where they open or close.
_BREAK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_SPACES = re.compile(r"[^\S\n]+")
ELLIPSIS = "…"


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden_depth += 1
        elif tag in _BREAK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BREAK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.hidden_depth = max(0, self.hidden_depth - 1)
        elif tag in _BREAK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden_depth:
            self.parts.append(data)

    # Comments, <!DOCTYPE> and <?...?> are dropped: HTMLParser's handlers for them do nothing.


def html_to_text(html, max_length=None):
    """The readable text of ``html``: one line per paragraph, list item or <br>.

    Script and style content and comments are dropped, entities unescaped, runs of blank space
    collapsed and empty lines removed. With ``max_length`` the text is cut to at most that many
    characters, on a word boundary when one is near, ending with "…".
    """
    if not html:
        return ""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    raw = "".join(collector.parts).replace("\r", "\n").replace("\xa0", " ")
    lines = (_SPACES.sub(" ", line).strip() for line in raw.split("\n"))
    text = "\n".join(line for line in lines if line)
    if max_length is None or len(text) <= max_length:
        return text
    return _shorten(text, max_length)


def _shorten(text, max_length):
    if max_length <= len(ELLIPSIS):
        return text[: max(0, max_length)]
    cut = text[: max_length - len(ELLIPSIS) + 1]
    # Cut at the last space when that keeps most of the text; a very long word is cut inside.
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    cut = cut[:boundary] if boundary >= len(cut) * 2 // 3 else cut[:-1]
    return cut.rstrip(" \n,;:-") + ELLIPSIS
