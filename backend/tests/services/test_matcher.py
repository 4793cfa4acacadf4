"""The matcher's score, component by component, as a person would judge it."""

from __future__ import annotations

import random
import re
import string
import sys

import pytest

from app.services.keywords import ASCII_CASE_ODDITIES, KeywordFinder, keyword_matcher
from app.services.matcher import (
    Matcher,
    Place,
    Preferences,
    RemotePreference,
    parse_places,
)


def test_keywords_are_whole_words() -> None:
    matcher = Matcher(Preferences(keywords=["java", "c++", "go"]))
    result = matcher.score("Engineer", "We write JavaScript and C++ daily; going far.")
    assert result.details["keywords_matched"] == ["c++"]
    assert result.score == pytest.approx(100 / 3, abs=0.1)


def test_title_similarity_ignores_seniority_order_and_punctuation() -> None:
    matcher = Matcher(Preferences(desired_title="Backend Engineer"))
    assert matcher.score("Senior Engineer, Backend").score == 100.0
    assert matcher.score("Backend Developer (Sr.)").score == 100.0
    assert 0 < matcher.score("Frontend Engineer").score < 100
    assert matcher.score("Office Manager").score == 0.0


def test_location_rules() -> None:
    matcher = Matcher(
        Preferences(desired_locations="San Francisco, CA, Berlin", remote_preference="any")
    )
    assert matcher.score("x", location="San Francisco, CA").score == 100.0
    assert matcher.score("x", location="Remote - US").score == 100.0
    assert matcher.score("x", location="Oakland, CA").score == 50.0
    assert matcher.score("x", location="Berlin, Germany").score == 100.0
    assert matcher.score("x", location="Tokyo, Japan").score == 0.0


def test_remote_preference_scores_onsite_zero() -> None:
    matcher = Matcher(Preferences(remote_preference="remote"))
    assert matcher.score("x", location="Anywhere", workplace_type="remote").score == 100.0
    assert matcher.score("x", location="Austin, TX", workplace_type="onsite").score == 0.0


def test_a_city_matches_as_whole_words() -> None:
    matcher = Matcher(Preferences(desired_locations="Paris"))
    assert matcher.score("x", location="Paris, France").score == 100.0
    assert matcher.score("x", location="Paris").score == 100.0
    assert matcher.score("x", location="Parish, LA").score == 0.0
    assert matcher.score("x", location="Montparisien").score == 0.0


@pytest.mark.parametrize(
    ("preference", "workplace_type", "expected"),
    [
        ("onsite", "onsite", 100.0),
        ("onsite", "hybrid", 50.0),
        ("onsite", "unknown", 50.0),
        ("onsite", "remote", 25.0),
        ("hybrid", "hybrid", 100.0),
        ("hybrid", "onsite", 50.0),
        ("hybrid", "remote", 25.0),
    ],
)
def test_a_workplace_preference_without_places_scores_the_kind_of_work(
    preference: RemotePreference, workplace_type: str, expected: float
) -> None:
    """Someone who wants onsite work, anywhere, is not told every onsite job misses."""
    matcher = Matcher(Preferences(remote_preference=preference))
    result = matcher.score("x", location="Austin, TX", workplace_type=workplace_type)
    assert result.score == expected
    assert set(result.details["components"]) == {"location"}


def test_missing_components_are_reweighted() -> None:
    only_title = Matcher(Preferences(desired_title="Data Engineer"))
    result = only_title.score("Data Engineer", "anything", "Mars")
    assert result.score == 100.0
    assert set(result.details["components"]) == {"title"}
    all_three = Matcher(
        Preferences(keywords=["sql"], desired_title="Data Engineer", desired_locations="Paris")
    )
    breakdown = all_three.score("Data Engineer", "sql", "Paris, France").details["components"]
    assert {name: c["weight"] for name, c in breakdown.items()} == {
        "keywords": 0.4,
        "title": 0.35,
        "location": 0.25,
    }


def test_no_preferences_scores_zero_and_says_why() -> None:
    result = Matcher(Preferences()).score("Anything")
    assert result.score == 0.0
    assert result.details["reason"] == "no preferences set"


def test_places_keep_city_with_region() -> None:
    assert parse_places("San Francisco, CA, Germany") == [
        Place("san francisco", "ca"),
        Place(None, "germany"),
    ]


def test_keyword_finder_finds_what_the_whole_word_regex_finds() -> None:
    rng = random.Random(7)
    words = [
        "java",
        "javascript",
        "c++",
        "c#",
        "go",
        "going",
        "machine learning",
        "learning",
        "node.js",
        ".net",
        "rust_",
        "\u017fs",
        "k\u0131",
    ]
    separators = [" ", "", ",", ".", "\n", "_", "-", "+", "#", "\u00e9", "\u0130", "\u017f", "K"]
    for _ in range(5000):
        keywords = rng.sample(words, rng.randint(1, 6))
        text = "".join(
            rng.choice(words) + rng.choice(separators) for _ in range(rng.randint(0, 12))
        )
        text = rng.choice([text, text.upper(), text.title()])
        pattern = keyword_matcher(keywords)
        assert pattern is not None
        assert KeywordFinder(keywords).find(text) == {m.lower() for m in pattern.findall(text)}
        assert KeywordFinder(keywords).search(text) == bool(pattern.search(text))


def test_only_the_known_oddities_fold_onto_ascii_letters() -> None:
    """A rescore's first look at descriptions trusts that only these non-ASCII characters can
    make the matcher find an ASCII keyword: by lower() or by the regex's case folding."""
    letters = {letter: re.compile(letter, re.IGNORECASE) for letter in string.ascii_lowercase}
    folding = {}
    for character in map(chr, range(0x80, sys.maxunicode + 1)):
        onto = {c for c in character.lower() if c.isascii()}
        onto.update(letter for letter, regex in letters.items() if regex.fullmatch(character))
        if onto:
            folding[character] = onto
    assert folding == {odd: {letter} for odd, letter in ASCII_CASE_ODDITIES.items()}
