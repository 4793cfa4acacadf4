"""How well a listing fits the person: a 0-100 score with the breakdown behind it.

40% keywords, 35% title similarity, 25% location (SPEC §5). A component the person has expressed
no preference for is left out and the others are reweighted, so the score stays on 0-100.
A `Matcher` is built once per profile (patterns compiled once) and then scores many listings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from app.services.keywords import KeywordFinder

WEIGHTS = {"keywords": 0.40, "title": 0.35, "location": 0.25}

# Seniority and filler words say nothing about what the job *is*.
TITLE_NOISE = frozenset(
    [
        "senior",
        "sr",
        "junior",
        "jr",
        "staff",
        "principal",
        "lead",
        "head",
        "chief",
        "associate",
        "intern",
        "entry",
        "level",
        "mid",
        "i",
        "ii",
        "iii",
        "iv",
        "v",
        "vi",
        "1",
        "2",
        "3",
        "4",
        "5",
        "the",
        "a",
        "an",
        "of",
        "and",
        "or",
        "for",
        "to",
        "in",
        "at",
        "with",
        "remote",
        "hybrid",
        "onsite",
        "contract",
        "contractor",
        "fulltime",
        "full",
        "time",
        "part",
        "parttime",
        "temporary",
        "new",
        "grad",
        "graduate",
    ]
)
# Spellings of the same role word, so "Python Developer" matches "Software Engineer, Python".
TITLE_SYNONYMS = {
    "developer": "engineer",
    "dev": "engineer",
    "eng": "engineer",
    "engineering": "engineer",
    "programmer": "engineer",
    "swe": "engineer",
    "sde": "engineer",
    "mgr": "manager",
    "ml": "machine learning",
    "ai": "artificial intelligence",
    "frontend": "front end",
    "backend": "back end",
    "fullstack": "full stack",
    "sre": "site reliability engineer",
    "devops": "dev ops",
}
_TITLE_TOKEN = re.compile(r"[a-z0-9+#]+(?:\.[a-z0-9]+)*")

US_STATES = frozenset(
    [
        "al",
        "ak",
        "az",
        "ar",
        "ca",
        "co",
        "ct",
        "de",
        "fl",
        "ga",
        "hi",
        "id",
        "il",
        "in",
        "ia",
        "ks",
        "ky",
        "la",
        "me",
        "md",
        "ma",
        "mi",
        "mn",
        "ms",
        "mo",
        "mt",
        "ne",
        "nv",
        "nh",
        "nj",
        "nm",
        "ny",
        "nc",
        "nd",
        "oh",
        "ok",
        "or",
        "pa",
        "ri",
        "sc",
        "sd",
        "tn",
        "tx",
        "ut",
        "vt",
        "va",
        "wa",
        "wv",
        "wi",
        "wy",
        "dc",
    ]
)
COUNTRY_ALIASES = {
    "usa": "us",
    "united states": "us",
    "united states of america": "us",
    "u.s.": "us",
    "uk": "gb",
    "united kingdom": "gb",
    "england": "gb",
    "great britain": "gb",
    "deutschland": "germany",
}
REMOTE_WORDS = re.compile(r"\b(remote|anywhere|work from home|wfh|distributed)\b", re.IGNORECASE)

RemotePreference = Literal["remote", "hybrid", "onsite", "any"]


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the person asked for, as the matcher reads it."""

    keywords: Sequence[str] = ()
    desired_title: str | None = None
    desired_locations: str | None = None
    remote_preference: str = "any"


@dataclass(frozen=True, slots=True)
class MatchResult:
    score: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Place:
    city: str | None
    region: str | None


def title_tokens(title: str) -> frozenset[str]:
    words: list[str] = []
    for token in _TITLE_TOKEN.findall(title.lower()):
        words.extend(TITLE_SYNONYMS.get(token, token).split())
    return frozenset(w for w in words if w not in TITLE_NOISE)


def _region_key(text: str) -> str:
    key = text.strip().lower().strip(".")
    return COUNTRY_ALIASES.get(key, key)


def _is_region(text: str) -> bool:
    key = _region_key(text)
    return key in US_STATES or key in COUNTRY_ALIASES.values() or len(key) == 2


def parse_places(text: str | None) -> list[Place]:
    """Read "San Francisco, CA, Berlin, Germany, Remote" as places (city with its region)."""
    if not text:
        return []
    places: list[Place] = []
    for raw in re.split(r"[,;/|]| - ", text):
        part = raw.strip()
        if not part or REMOTE_WORDS.fullmatch(part):
            continue
        if places and places[-1].region is None and places[-1].city and _is_region(part):
            places[-1] = Place(places[-1].city, _region_key(part))
        elif _is_region(part) or _region_key(part) in COUNTRY_ALIASES.values():
            places.append(Place(None, _region_key(part)))
        else:
            places.append(Place(part.lower(), None))
    return places


def _is_remote(location: str, workplace_type: str | None) -> bool:
    return workplace_type == "remote" or bool(REMOTE_WORDS.search(location or ""))


def _holds_words(text: str, words: str) -> bool:
    """Whether `words` occur in `text` as whole words ("paris" is not in "parish, la")."""
    start = text.find(words)
    while start != -1:
        end = start + len(words)
        if (start == 0 or not text[start - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        ):
            return True
        start = text.find(words, start + 1)
    return False


def _workplace_fit(preference: str, workplace_type: str | None) -> tuple[float, str]:
    """How well a job that is not remote fits an onsite or hybrid preference given no place:
    full marks for the kind of work preferred, half for the other kind or an unstated one."""
    if workplace_type == preference:
        return 1.0, f"{preference}, as you prefer"
    if workplace_type in ("onsite", "hybrid"):
        return 0.5, f"{workplace_type}, you prefer {preference}"
    return 0.5, f"workplace not stated, you prefer {preference}"


_MEMO_SIZE = 10_000
_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


class Matcher:
    """Scores listings against one set of preferences."""

    def __init__(self, preferences: Preferences) -> None:
        self._keywords = KeywordFinder(preferences.keywords)
        self.keywords = self._keywords.keywords
        self.independent_keywords = self._keywords.independent
        self._title = title_tokens(preferences.desired_title or "")
        self._places = parse_places(preferences.desired_locations)
        self._wants_remote_too = bool(REMOTE_WORDS.search(preferences.desired_locations or ""))
        self.remote_preference = preferences.remote_preference or "any"
        # Which components count is fixed per matcher; so are their weights.
        used = (bool(self._keywords), bool(self._title), self._uses_location)
        self._total_weight = sum(w for w, on in zip(WEIGHTS.values(), used, strict=True) if on)
        self._shares = tuple(
            round(w / self._total_weight, 3) if on and self._total_weight else 0.0
            for w, on in zip(WEIGHTS.values(), used, strict=True)
        )
        # Titles and locations repeat across a board's listings: score each distinct one once.
        self._title_scores: dict[str, float] = {}
        self._location_scores: dict[tuple[str, str | None], tuple[float, str]] = {}
        self._results: dict[tuple[frozenset[str], float, tuple[float, str]], MatchResult] = {}

    @property
    def has_preferences(self) -> bool:
        return bool(self.keywords or self._title or self._uses_location)

    @property
    def _uses_location(self) -> bool:
        return bool(self._places) or self.remote_preference != "any" or self._wants_remote_too

    def score(
        self,
        title: str,
        description: str = "",
        location: str = "",
        workplace_type: str | None = None,
    ) -> MatchResult:
        found = self._keywords.find(f"{title}\n{description}") if self._keywords else set()
        return self.score_found(found, title, location, workplace_type)

    def score_found(
        self,
        found: AbstractSet[str],
        title: str,
        location: str = "",
        workplace_type: str | None = None,
    ) -> MatchResult:
        """The score of a listing whose keywords found (of `keywords`) are already known."""
        return self.score_facets(found, *self.facets(title, location, workplace_type))

    def facets(
        self, title: str, location: str, workplace_type: str | None
    ) -> tuple[float, tuple[float, str]]:
        """How well the title and the place fit, each worked out once per distinct value.

        Listings with the same keywords found and the same facets score the same, whatever
        their exact title or place, so a caller scoring many can reuse one result for them.
        """
        title_value = 0.0
        if self._title:
            title_value = self._title_scores.get(title, -1.0)
            if title_value < 0:
                title_value = _remember(self._title_scores, title, self._title_similarity(title))
        fit = (0.0, "")
        if self._uses_location:
            place = (location, workplace_type)
            known = self._location_scores.get(place)
            fit = known or _remember(self._location_scores, place, self._location(*place))
        return title_value, fit

    def score_facets(
        self, found: AbstractSet[str], title_value: float, fit: tuple[float, str]
    ) -> MatchResult:
        """The score from the keywords found and the `facets` of a listing.

        Results are shared between listings that score alike: treat `details` as read-only.
        """
        outcome = (frozenset(found), title_value, fit)
        known = self._results.get(outcome)
        if known is None:
            known = _remember(self._results, outcome, self._score_facets(*outcome))
        return known

    def _score_facets(
        self, found: AbstractSet[str], title_value: float, fit: tuple[float, str]
    ) -> MatchResult:
        if not self._total_weight:
            return MatchResult(0.0, {"components": {}, "reason": "no preferences set"})
        details: dict[str, Any] = {}
        components: dict[str, dict[str, float]] = {}
        weighted = 0.0
        if self._keywords:
            value = len(found) / len(self.keywords)
            details["keywords_matched"] = sorted(found)
            details["keywords_missing"] = [k for k in self.keywords if k not in found]
            weighted += WEIGHTS["keywords"] * value
            components["keywords"] = {"score": round(value * 100, 1), "weight": self._shares[0]}
        if self._title:
            weighted += WEIGHTS["title"] * title_value
            components["title"] = {
                "score": round(title_value * 100, 1),
                "weight": self._shares[1],
            }
        if self._uses_location:
            value, details["location_reason"] = fit
            weighted += WEIGHTS["location"] * value
            components["location"] = {"score": round(value * 100, 1), "weight": self._shares[2]}
        details["components"] = components
        return MatchResult(round(weighted / self._total_weight * 100, 1), details)

    def _title_similarity(self, title: str) -> float:
        job = title_tokens(title)
        if not job:
            return 0.0
        shared = len(job & self._title)
        coverage = shared / len(self._title)
        jaccard = shared / len(job | self._title)
        return 0.7 * coverage + 0.3 * jaccard

    def _location(self, location: str, workplace_type: str | None) -> tuple[float, str]:
        preference = self.remote_preference
        if _is_remote(location, workplace_type):
            if preference in ("remote", "any") or self._wants_remote_too:
                return 1.0, "remote job"
            return 0.25, f"remote, you prefer {preference}"
        if preference == "remote":
            if workplace_type == "hybrid":
                return 0.3, "hybrid, you prefer remote"
            return 0.0, "not remote, you prefer remote"
        if not self._places:  # no place wanted, only onsite or hybrid work
            return _workplace_fit(preference, workplace_type)
        return self._place_match(location)

    def _place_match(self, location: str) -> tuple[float, str]:
        """Full marks in a desired city or region, half in the same region, else none."""
        job_places = parse_places(location)
        best, reason = 0.0, "no desired location matches"
        lowered = location.lower()
        for wanted in self._places:
            if wanted.city and _holds_words(lowered, wanted.city):
                return 1.0, f"in {wanted.city}"
            for place in job_places:
                if wanted.city is None and wanted.region == place.region:
                    return 1.0, f"in {place.region}"
                if wanted.region and wanted.region == place.region:
                    best, reason = 0.5, f"same region ({place.region})"
        return best, reason
