"""HTML and messy text into clean plain text: paragraphs and list items on their own lines."""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "iframe"})
_PARAGRAPHS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "dl",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "figure",
        "form",
        "fieldset",
        "address",
        "details",
        "hr",
    }
)
_LINES = frozenset({"br", "li", "tr", "dt", "dd", "summary", "figcaption", "option"})
_CELLS = frozenset({"td", "th"})
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[^\S\n]+")
_WHITESPACE = re.compile(r"\s+")
_BR = -1


def single_line(value: object) -> str:
    """A one-line field (title, location) with whitespace collapsed; non-strings become ""."""
    if not isinstance(value, str):
        return ""
    return " ".join(_INVISIBLE.sub("", value).split())


def clean_text(value: object) -> str:
    """Plain text with runs of spaces collapsed, lines trimmed and at most one blank line."""
    if not isinstance(value, str):
        return ""
    lines = [_SPACES.sub(" ", line).strip() for line in _INVISIBLE.sub("", value).splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def html_to_text(markup: object, *, escaped: bool = False) -> str:
    """Readable plain text from HTML; `escaped=True` first undoes one level of HTML escaping.

    Greenhouse sends its `content` as escaped HTML (`&lt;p&gt;...`), which must be unescaped
    exactly once before parsing; unescaping anything else would corrupt literal `&lt;` text.
    """
    if not isinstance(markup, str) or not markup.strip():
        return ""
    if escaped:
        markup = html.unescape(markup)
    if "<" not in markup:
        return clean_text(html.unescape(markup))
    root = LexborHTMLParser(markup).body
    if root is None:
        return ""
    # Text, or a break: 1 = new line, 2 = new paragraph, _BR = one more line break.
    pieces: list[str | int] = []
    # Elements still to visit; a plain string marks the end of the element with that tag.
    stack: list[LexborNode | str] = list(reversed(list(root.iter(include_text=True))))
    in_pre = 0
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item == "pre":
                in_pre -= 1
            pieces.append(2 if item in _PARAGRAPHS else 1 if item in _LINES - {"br"} else 0)
            continue
        tag = item.tag or ""
        if tag == "-text":
            text = item.text_content or ""
            pieces.append(text if in_pre else _WHITESPACE.sub(" ", text))
            continue
        if tag in _SKIPPED or not tag[:1].isalpha():
            continue  # scripts, styles, comments
        if tag == "br":
            pieces.append(_BR)
        elif tag in _PARAGRAPHS:
            pieces.append(2)
        elif tag in _LINES:
            pieces.append(1)
        elif tag in _CELLS:
            pieces.append(" ")
        if tag == "li":
            pieces.append("- ")
        if tag == "pre":
            in_pre += 1
        stack.append(tag)
        stack.extend(reversed(list(item.iter(include_text=True))))
    return clean_text(_join(pieces))


def _join(pieces: list[str | int]) -> str:
    """Concatenate text, merging adjacent breaks so `</li><li>` is one line break, not two."""
    out: list[str] = []
    pending = 0
    for piece in pieces:
        if piece == _BR:
            pending = min(2, pending + 1)
        elif isinstance(piece, int):
            pending = max(pending, piece)
        elif pending and not piece.strip():
            continue
        else:
            if pending and out:
                out.append("\n" * pending)
            pending = 0
            out.append(piece)
    return "".join(out)
