"""Full-text search over jobs: one parser for the search box, one renderer per database.

The language is lenient and websearch-like: every word must match; "a quoted phrase" must match
as written (an unbalanced quote is closed at the end); -word or -"phrase" excludes; OR (upper
case, between two terms) accepts either side; AND (upper case) changes nothing. Any string is
accepted: what cannot be read as a term is dropped, and a query left with no terms at all
matches nothing.

Text is normalized exactly as the 001 migration normalizes indexed text (`search_prepare`), so
C++, C#, F# and .NET are searchable words. Every term, quoted or not, is matched as a phrase of
the words the database's tokenizer finds in it, so "full-time" finds "full-time" on both
databases. User text only ever reaches the database as bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    TextClause,
    and_,
    column,
    exists,
    func,
    literal_column,
    not_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY, TSVECTOR

# (pattern, spelling) pairs; keep in step with SPECIAL_TOKENS in alembic/versions/001_initial.py.
SPECIAL_TOKENS: tuple[tuple[str, str], ...] = (
    ("c++", " cplusplus "),
    ("c#", " csharp "),
    ("f#", " fsharp "),
    (".net", " dotnet "),
)

# An optional leading '-', then a quoted phrase (closing quote optional) or a bare word.
# A '-' inside a word ("full-time") is part of the word.
_TOKEN = re.compile(r'(?P<exclude>-)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')

# The text search configuration of description_tsv. Spelled as a run-time cast from text on
# purpose: that keeps phraseto_tsquery() out of constant folding, so the planner charges its
# cost per row to a sequential scan. Otherwise, for a word in half the jobs, it picks a scan
# that decompresses every row's tsvector (about 1 s at 100k jobs) over the GIN index (~0.15 s).
PG_CONFIG = literal_column("'english'::text::regconfig", REGCONFIG)
# Kept by a trigger and GIN-indexed; not mapped on the model because SQLite has no such column.
TSV = literal_column("jobs.description_tsv", TSVECTOR)
# The lexeme the trigger adds to description_tsv of hidden or closed jobs (migration 004), so
# the GIN index can tell visible hits. Search text is lower-cased, so no term can be it.
PG_INVISIBLE = literal_column("'INVISIBLE'::tsquery", TSQUERY)
# The contentless FTS5 table (title, company, description, state), kept by triggers; rowid =
# jobs.rowid. `state` holds 'invisible' for hidden or closed jobs (migration 003), so the index
# alone can tell visible hits; user terms are only ever matched against the three text columns.
JOBS_FTS = table("jobs_fts", column("rowid"))
JOBS_ROWID: ColumnElement[int] = literal_column("jobs.rowid")
# bm25 weights per jobs_fts column (title, company, description, state): lower scores rank
# higher; state carries no relevance.
FTS_RANK = literal_column("bm25(jobs_fts, 10.0, 4.0, 1.0, 0.0)", Float)
FTS_TEXT_COLUMNS = "{title company description}"
FTS_ONLY_VISIBLE = "NOT state:invisible"


# A SELECT over jobs, whatever its columns.
JobsSelect = TypeVar("JobsSelect", bound=Select[*tuple[Any, ...]])


def search_prepare(value: str) -> str:
    """Lower-case `value` and spell C++, C#, F# and .NET as words, as the search index does."""
    prepared = value.lower()
    for pattern, spelling in SPECIAL_TOKENS:
        prepared = prepared.replace(pattern, spelling)
    return prepared


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: every group in `required` must match (a group matches when any of its
    terms does) and no `excluded` term may match. Terms are normalized text, matched as phrases.
    """

    required: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def matches_nothing(self) -> bool:
        """Nothing readable was left: the text held only operators, quotes or punctuation."""
        return not self.required and not self.excluded

    @property
    def ranks(self) -> bool:
        """Relevance needs something to look for; an exclusion-only query has nothing."""
        return bool(self.required)


def _term(raw: str) -> str | None:
    # NUL cannot be sent to PostgreSQL in text; it is no word character anyway.
    normalized = " ".join(search_prepare(raw.replace("\x00", " ")).split())
    return normalized if any(ch.isalnum() for ch in normalized) else None


def parse_search(value: str) -> SearchQuery:
    """Read a search box string best-effort; never fails."""
    required: list[list[str]] = []
    excluded: list[str] = []
    last_was_term = False  # the previous token was a required term, so an OR may extend it
    pending_or = False
    for match in _TOKEN.finditer(value):
        exclude, phrase, word = match.group("exclude", "phrase", "word")
        if word == "OR" and not exclude:
            pending_or = last_was_term
            continue
        if word == "AND" and not exclude:
            continue  # terms are ANDed anyway
        term = _term(phrase if phrase is not None else word)
        if term is None:
            continue
        if exclude:
            # "a OR -b" has no FTS5 form; the OR is dropped and -b excludes as usual.
            excluded.append(term)
            last_was_term = pending_or = False
        elif pending_or:
            required[-1].append(term)
            pending_or = False
        else:
            required.append([term])
            last_was_term = True
    return SearchQuery(tuple(tuple(group) for group in required), tuple(excluded))


class JobSearch(Protocol):
    """A SearchQuery rendered for one database."""

    query: SearchQuery

    def condition(self) -> ColumnElement[bool]:
        """Restricts `jobs` to the jobs the search matches."""
        ...

    def ranked(self, statement: JobsSelect, descending: bool) -> JobsSelect:
        """`statement` (over jobs) restricted to matches and ordered by relevance, most
        relevant first when `descending`. Only for queries that rank (`query.ranks`)."""
        ...

    def count_visible(self) -> Select[int]:
        """How many visible jobs match, with visibility told by the search index, not read
        from each job (searches that rank)."""
        ...


def _combine(parts: list[ColumnElement[Any]], operator: str) -> ColumnElement[Any]:
    """Join tsqueries pairwise, so a query of 250 terms nests 8 levels deep rather than 250."""
    while len(parts) > 1:
        pairs = [
            a.op(operator, return_type=TSQUERY)(b)
            for a, b in zip(parts[::2], parts[1::2], strict=False)
        ]
        parts = pairs + parts[len(pairs) * 2 :]
    return parts[0]


def _tsquery_any(terms: tuple[str, ...]) -> ColumnElement[Any]:
    return _combine([func.phraseto_tsquery(PG_CONFIG, term) for term in terms], "||")


class PostgresSearch:
    """Matches against the weighted `jobs.description_tsv` column; ranks with ts_rank."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        self._wanted = (
            _combine([_tsquery_any(group) for group in query.required], "&&")
            if query.required
            else None
        )

    def condition(self) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = []
        if self._wanted is not None:
            clauses.append(TSV.bool_op("@@")(self._wanted))
        if self.query.excluded:
            # NOT (tsv @@ q) rather than tsv @@ !!q: a stop word ("-the") becomes an empty
            # tsquery, which matches nothing, so here it excludes nothing instead of everything.
            clauses.append(not_(self.excluded_match()))
        return and_(*clauses)

    def count_visible(self) -> Select[int]:
        """How many visible jobs match, without reading is_hidden and closed_at from each
        matching row: the tsquery itself rules out the INVISIBLE marker."""
        assert self._wanted is not None
        # An excluded stop word is an empty tsquery, which || leaves out: it excludes nothing,
        # as in condition().
        unwanted: list[ColumnElement[Any]] = [PG_INVISIBLE]
        if self.query.excluded:
            unwanted.append(_tsquery_any(self.query.excluded))
        ruled_out = func.tsquery_not(_combine(unwanted, "||"), type_=TSQUERY)
        wanted = self._wanted.op("&&", return_type=TSQUERY)(ruled_out)
        return (
            select(func.count())
            .select_from(table("jobs"))
            # Search words that are all stop words make an empty tsquery, which matches nothing
            # but which && would drop; the planner tests this once, not per row.
            .where(func.numnode(self._wanted) > 0, TSV.bool_op("@@")(wanted))
        )

    def excluded_match(self) -> ColumnElement[bool]:
        """Jobs matching any excluded term (the ones the search leaves out)."""
        return TSV.bool_op("@@")(_tsquery_any(self.query.excluded))

    def ranked(self, statement: JobsSelect, descending: bool) -> JobsSelect:
        assert self._wanted is not None
        rank = func.ts_rank(TSV, self._wanted)
        return statement.where(self.condition()).order_by(rank.desc() if descending else rank.asc())


HitPlan = Literal["fetch", "probe", "seek"]


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_any(terms: tuple[str, ...]) -> str:
    return "(" + " OR ".join(_fts_string(term) for term in terms) + ")"


class SqliteSearch:
    """Matches with FTS5 over the contentless `jobs_fts` table (rowid = jobs.rowid)."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        wanted = " AND ".join(_fts_any(group) for group in query.required)
        if wanted and query.excluded:
            terms = f"{wanted} NOT {_fts_any(query.excluded)}"
        else:
            # Exclusion-only: match the excluded terms here; condition() negates the result.
            terms = wanted or _fts_any(query.excluded)
        self.expression = f"{FTS_TEXT_COLUMNS}: ({terms})"

    def _match(self) -> TextClause:
        return text("jobs_fts MATCH :fts_query").bindparams(fts_query=self.expression)

    def hits(self) -> Select[int]:
        """The rowids the FTS expression matches."""
        return select(JOBS_FTS.c.rowid).where(self._match())

    def condition(self, plan: HitPlan = "fetch") -> ColumnElement[bool]:
        """Jobs matching the search, written for one of three plans.

        The jobs table is wide (descriptions), so each job SQLite fetches costs a page read:
        - "fetch": walk the hits and fetch each job by rowid; best for a handful of hits.
        - "probe": collect the hits once, then test each entry of whatever index the query
          walks against them (unary + hides the rowid from the planner); for counting many.
        - "seek": look each entry of the index the query walks up in the FTS index; for one
          page of many hits in index order, where only a few entries are ever visited.
        """
        matched: ColumnElement[bool]
        if plan == "seek":
            matched = exists(
                select(JOBS_FTS.c.rowid).where(self._match(), JOBS_FTS.c.rowid == JOBS_ROWID)
            )
        else:
            rowid = literal_column("+jobs.rowid") if plan == "probe" else JOBS_ROWID
            matched = rowid.in_(self.hits())
        return matched if self.query.ranks else not_(matched)

    def count_visible(self) -> Select[int]:
        """How many visible jobs match, counted from the FTS index alone (searches that rank)."""
        assert self.query.ranks
        visible = text("jobs_fts MATCH :fts_visible_query").bindparams(
            fts_visible_query=f"{self.expression} {FTS_ONLY_VISIBLE}"
        )
        return select(func.count()).select_from(JOBS_FTS).where(visible)

    def has_many_hits(self, threshold: int) -> ColumnElement[bool]:
        """True when the FTS expression has at least `threshold` hits (reads at most that)."""
        first = self.hits().limit(threshold).subquery()
        return select(func.count()).select_from(first).scalar_subquery() >= threshold

    def ranked(self, statement: JobsSelect, descending: bool) -> JobsSelect:
        # bm25 is only defined in a query that runs the MATCH itself, hence the join.
        return (
            statement.join(JOBS_FTS, JOBS_FTS.c.rowid == JOBS_ROWID)
            .where(self._match())
            .order_by(FTS_RANK.asc() if descending else FTS_RANK.desc())
        )


def render_search(query: SearchQuery, dialect: str) -> PostgresSearch | SqliteSearch:
    """The renderer for the session's database (`postgresql` or `sqlite`)."""
    return PostgresSearch(query) if dialect == "postgresql" else SqliteSearch(query)
