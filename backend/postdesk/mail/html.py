"""HTML mail bodies: sanitising customer HTML before agents see it, and plain text derived from HTML.

Customer mail is hostile input shown inside the agent's browser session, so `sanitize_html` keeps
formatting but drops scripts, event handlers, forms and styles that load anything, points inline
`cid:` images at references to our stored attachments (the caller's `resolve_cid` decides the form),
and blocks remote images (tracking pixels) unless the agent chose to load them. When it blocks some,
the result ends with `REMOTE_IMAGES_BLOCKED`, so the agent can be offered to show them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import nh3

_EXTRA_TAGS = {"font", "tfoot", "center"}
_DROPPED_WITH_CONTENT = {"script", "style", "title", "noscript", "template", "object", "embed", "iframe"}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_TABLE_LAYOUT = {"width", "height", "border", "cellpadding", "cellspacing", "bgcolor", "valign", "align"}

# Style properties that cannot fetch anything (no url(), no background shorthand, no positioning tricks).
_SAFE_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "line-height", "letter-spacing", "text-align", "text-decoration", "text-indent", "text-transform",
    "vertical-align", "white-space", "word-break", "direction",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style",
    "border-width", "border-collapse", "border-spacing", "border-radius",
    "width", "min-width", "max-width", "height", "min-height", "max-height", "display", "list-style-type",
}  # fmt: skip


def _allowed_attributes() -> dict[str, set[str]]:
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"style", "dir", "lang", "title"}
    for tag in ("table", "td", "th", "tr", "tbody", "thead", "tfoot", "img"):
        attributes.setdefault(tag, set()).update(_TABLE_LAYOUT)
    attributes["font"] = {"color", "face", "size"}
    return attributes


_ALLOWED_TAGS = (set(nh3.ALLOWED_TAGS) | _EXTRA_TAGS) - _DROPPED_WITH_CONTENT
_ALLOWED_ATTRIBUTES = _allowed_attributes()

# Appended to sanitised HTML whose remote images were dropped. Customer input cannot end the output with
# it: comments are stripped and "<" in text is escaped (an attribute value is followed by its closing tag).
REMOTE_IMAGES_BLOCKED = "<!--postdesk:remote-images-blocked-->"


def sanitize_html(
    html: str,
    *,
    resolve_cid: Callable[[str], str | None] | None = None,
    allow_remote_images: bool = False,
) -> str:
    """Return `html` safe to render in the agent UI.

    `resolve_cid` maps a Content-ID (without "cid:" and angle brackets) to what the image's src becomes
    (trusted: nh3 does not check it again), or None to drop the image. Remote images are removed, and
    `REMOTE_IMAGES_BLOCKED` appended, unless `allow_remote_images`: then they are kept as https URLs.
    """
    blocked_remote = False

    def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked_remote
        if tag == "img" and attribute == "src":
            if not allow_remote_images and _is_remote(value):
                blocked_remote = True
                return None
            return _image_source(value, resolve_cid)
        if attribute in ("href", "src", "cite") and value.strip().lower().startswith("cid:"):
            return None  # cid: only makes sense for images
        return value

    safe = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=filter_attribute,
        url_schemes=_URL_SCHEMES,
        filter_style_properties=_SAFE_STYLE_PROPERTIES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return safe + REMOTE_IMAGES_BLOCKED if blocked_remote else safe


def has_blocked_remote_images(safe_html: str) -> bool:
    return safe_html.endswith(REMOTE_IMAGES_BLOCKED)


def _is_remote(source: str) -> bool:
    return source.strip().lower().startswith(("http://", "https://", "//"))


def _image_source(value: str, resolve_cid: Callable[[str], str | None] | None) -> str | None:
    source = value.strip()
    lowered = source.lower()
    if lowered.startswith("cid:"):
        content_id = source[4:].strip().strip("<>")
        return resolve_cid(content_id) if resolve_cid and content_id else None
    if _is_remote(source):
        # The agent's frame allows https images only; browsers upgrade http images on https pages anyway.
        return "https://" + source.split("//", 1)[1]
    return None  # data:, relative paths and anything else mean nothing in a received mail


_BLOCK_TAGS = {
    "p", "div", "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "hr", "section", "article", "header", "footer", "address", "dl", "dt", "dd", "center",
}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "head", "title", "noscript", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._open_links: list[tuple[str | None, int]] = []  # (href, index of the link's first chunk)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in ("td", "th"):
            self.chunks.append(" ")
        elif tag == "a":
            self._open_links.append((dict(attrs).get("href"), len(self.chunks)))
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n\n" if tag in ("p", "table", "blockquote", "pre") else "\n")
            if tag == "pre":
                self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "a" and self._open_links:
            href, first_chunk = self._open_links.pop()
            link_text = "".join(self.chunks[first_chunk:]).strip()
            if href and href.startswith(("http://", "https://")) and href != link_text:
                self.chunks.append(f" ({href})")
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.chunks.append(data if self._pre_depth else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text for the text/plain alternative of an HTML message."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (_trim(line) for line in "".join(extractor.chunks).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _trim(line: str) -> str:
    """Drop the single space left by whitespace collapsing; deeper indentation only comes from <pre>."""
    line = line.rstrip()
    return line[1:] if line.startswith(" ") and not line.startswith("  ") else line
