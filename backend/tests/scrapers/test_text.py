"""HTML descriptions into readable plain text."""

from __future__ import annotations

import pytest

from app.scrapers.text import clean_text, html_to_text, single_line


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<p>Line<br>break</p>", "Line\nbreak"),
        ("<p>a<br><br>b</p>", "a\n\nb"),
        ("<ul>\n  <li>Go</li>\n  <li>Rust <em>or</em> C</li>\n</ul>", "- Go\n- Rust or C"),
        ("<h2>About</h2>We   build\n\n  things.", "About\n\nWe build things."),
        ("<p>Caf&eacute; &amp; cr&egrave;me&nbsp;br&ucirc;l&eacute;e</p>", "Café & crème brûlée"),
        ("<div><div><p>Nested</p></div></div><p>&nbsp;</p><p>Next</p>", "Nested\n\nNext"),
        ("<style>p{}</style><script>alert(1)</script><p>Visible</p>", "Visible"),
        (
            "<table><tr><td>Base</td><td>$100k</td></tr><tr><td>Bonus</td></tr></table>",
            "Base $100k\nBonus",
        ),
        ("Plain text &amp; an entity", "Plain text & an entity"),
        ("<p>Zero\u200bwidth</p>", "Zerowidth"),
        ("<!-- hidden --><p>Shown</p>", "Shown"),
        ("", ""),
        (None, ""),
    ],
)
def test_html_to_text(markup: str | None, expected: str) -> None:
    assert html_to_text(markup) == expected


def test_greenhouse_content_is_unescaped_exactly_once() -> None:
    escaped = (
        "&lt;p&gt;R&amp;amp;D &amp;lt;team&amp;gt;&lt;/p&gt;"
        "&lt;ul&gt;&lt;li&gt;x&lt;/li&gt;&lt;/ul&gt;"
    )

    assert html_to_text(escaped, escaped=True) == "R&D <team>\n\n- x"


def test_deeply_nested_markup_does_not_overflow() -> None:
    markup = "<div>" * 5000 + "deep" + "</div>" * 5000

    assert html_to_text(markup) == "deep"


def test_clean_text_and_single_line() -> None:
    assert clean_text("  a  b \n\n\n\n c\t ") == "a b\n\nc"
    assert single_line("  Senior\n  Engineer ") == "Senior Engineer"
    assert single_line(None) == ""
    assert single_line(42) == ""
