"""${variable} placeholders: a strict parser, the variables a text uses, and rendering.

Syntax: `${name}` where name is a letter or underscore followed by letters, digits or underscores;
`$$` is a literal dollar; a `$` followed by anything else is kept as it is ("$5 off").
Malformed placeholders (`${`, `${ name}`, `${1x}`, `${name`) are refused with their position.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 64


class PlaceholderError(ValueError):
    def __init__(self, position: int, message: str) -> None:
        # position is 1-based: the character an editor would put the cursor on.
        super().__init__(f"{message} at character {position}")
        self.position = position
        self.reason = message


@dataclass(frozen=True)
class Placeholder:
    name: str


type Part = str | Placeholder


def parse(text: str) -> list[Part]:
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 >= len(text) or text[i + 1] not in "${":
            literal.append(char)
            i += 1
            continue
        if text[i + 1] == "$":
            literal.append("$")
            i += 2
            continue
        start = i
        close = text.find("}", i + 2)
        name_match = _NAME.match(text, i + 2)
        if name_match is None:
            raise PlaceholderError(start + 1, "placeholder “${” must be followed by a variable name")
        end = name_match.end()
        if end >= len(text) or text[end] != "}":
            if close == -1:
                raise PlaceholderError(start + 1, "placeholder “${” is never closed with “}”")
            raise PlaceholderError(end + 1, "a variable name may only contain letters, digits and underscores")
        name = name_match.group()
        if len(name) > MAX_NAME_LENGTH:
            raise PlaceholderError(start + 1, f"a variable name has at most {MAX_NAME_LENGTH} characters")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Placeholder(name))
        i = end + 1
    if literal:
        parts.append("".join(literal))
    return parts


def variables(text: str) -> list[str]:
    """Names used, in order of first appearance."""
    return list(dict.fromkeys(p.name for p in parse(text) if isinstance(p, Placeholder)))


def render(text: str, values: Mapping[str, str], *, escape: Callable[[str], str] | None = None) -> str:
    """Substitute values; a variable without a value keeps its placeholder so the gap is visible."""
    out: list[str] = []
    for part in parse(text):
        if isinstance(part, str):
            out.append(part)
        elif part.name in values:
            out.append(escape(values[part.name]) if escape else values[part.name])
        else:
            out.append("${" + part.name + "}")
    return "".join(out)


def escape_html(value: str) -> str:
    return html.escape(value, quote=True)


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
                         "ul", "ol"})
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")
        if tag == "li":
            self.chunks.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(re.sub(r"\s+", " ", data))


def text_from_html(markup: str) -> str:
    """A readable plain-text part for an HTML body (placeholders pass through untouched)."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = [line.strip() for line in "".join(extractor.chunks).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
