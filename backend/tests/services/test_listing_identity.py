"""When two listings are the same listing, and when a listing has changed."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.scrapers.base import RawJob
from app.services.listing_identity import (
    ListingIdentity,
    canonical_url,
    content_hash,
    sha256_hex,
    source_namespace,
)

BOARD_ID = uuid.UUID("00000000-0000-0000-0000-00000000b0a4")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://Jobs.Example.COM/Careers/42", "https://jobs.example.com/Careers/42"),
        ("HTTPS://example.com/jobs/42/", "https://example.com/jobs/42"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com:443/jobs/1", "https://example.com/jobs/1"),
        ("http://example.com:80/jobs/1", "http://example.com/jobs/1"),
        ("https://example.com:8443/jobs/1", "https://example.com:8443/jobs/1"),
        ("https://example.com/jobs/1#apply", "https://example.com/jobs/1"),
        ("https://example.com/careers#/jobs/1", "https://example.com/careers#/jobs/1"),
        (
            "https://example.com/jobs/1?utm_source=li&utm_medium=x&gclid=1&fbclid=2&ref=home",
            "https://example.com/jobs/1",
        ),
        (
            "https://boards.greenhouse.io/acme/jobs/1?gh_src=abc&source=feed",
            "https://boards.greenhouse.io/acme/jobs/1",
        ),
        ("https://jobs.lever.co/acme/123?lever-source=LinkedIn", "https://jobs.lever.co/acme/123"),
        (
            "https://acme.com/careers?gh_jid=123&UTM_Campaign=x",
            "https://acme.com/careers?gh_jid=123",
        ),
        ("https://example.com/search?b=2&a=1&a=0", "https://example.com/search?a=0&a=1&b=2"),
        ("  https://example.com/jobs/1  ", "https://example.com/jobs/1"),
        ("/jobs/relative/", "/jobs/relative/"),
        ("", ""),
        ("mailto:jobs@example.com", "mailto:jobs@example.com"),
        ("https://[::1]:8080/x/", "https://[::1]:8080/x"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "config", "namespace"),
    [
        ("https://boards.greenhouse.io/Acme", {"scraper_type": "greenhouse"}, "greenhouse:acme"),
        ("https://boards.greenhouse.io/acme", {"scraper_type": "auto"}, "greenhouse:acme"),
        (
            "https://acme.com/careers",
            {"scraper_type": "greenhouse", "board_token": "acme"},
            "greenhouse:acme",
        ),
        ("https://jobs.lever.co/acme", {}, "lever:acme"),
        ("https://acme.com/jobs", {"scraper_type": "lever", "site_slug": "acme"}, "lever:acme"),
        ("https://jobs.ashbyhq.com/acme", {"scraper_type": "ashby"}, "ashby:acme"),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External",
            {"scraper_type": "workday"},
            "workday:acme/external",
        ),
        (
            "https://careers.acme.com",
            {"scraper_type": "workday", "workday_tenant": "acme", "workday_site": "Ext"},
            "workday:acme/ext",
        ),
        ("https://acme.com/careers", {"scraper_type": "generic"}, f"board:{BOARD_ID}"),
        ("https://acme.com/careers", {"scraper_type": "jsonld"}, f"board:{BOARD_ID}"),
        ("https://acme.com/careers", {}, f"board:{BOARD_ID}"),
    ],
)
def test_source_ids_are_namespaced_by_their_source(
    url: str, config: dict[str, Any], namespace: str
) -> None:
    assert source_namespace(BOARD_ID, url, config) == namespace


def identity_of(board_url: str, config: dict[str, Any], **fields: Any) -> str:
    values: dict[str, Any] = {"title": "Engineer", "url": "", "location": "Berlin"}
    values.update(fields)
    return ListingIdentity(BOARD_ID, board_url, config).identity(RawJob(**values), "Acme")


def test_a_source_id_wins_over_the_url() -> None:
    board = "https://boards.greenhouse.io/acme"
    first = identity_of(board, {}, external_id="4012345", url="https://x.test/a")
    moved = identity_of(board, {}, external_id="4012345", url="https://x.test/b")
    assert first == moved == "greenhouse:acme:4012345"


def test_without_a_source_id_the_canonical_url_identifies() -> None:
    a = identity_of("https://acme.com/careers", {}, url="https://acme.com/jobs/1?utm_source=x")
    b = identity_of("https://acme.com/careers", {}, url="https://ACME.com/jobs/1/")
    assert a == b == "url:https://acme.com/jobs/1"


def test_listings_without_a_page_of_their_own_are_told_apart_by_what_they_say() -> None:
    board = "https://acme.com/careers"
    one = identity_of(board, {}, url="https://acme.com/careers/", title="Engineer")
    other = identity_of(board, {}, url="", title="Designer")
    again = identity_of(board, {}, url="", title="  ENGINEER ")
    assert one != other
    assert one == again
    assert one.startswith(f"board:{BOARD_ID}:")


def test_the_dedup_hash_is_the_sha256_of_the_identity() -> None:
    identity = ListingIdentity(BOARD_ID, "https://jobs.lever.co/acme", {})
    listing = RawJob(title="Engineer", url="https://jobs.lever.co/acme/abc", external_id=" abc ")
    assert identity.dedup_hash(listing, "Acme") == sha256_hex("lever:acme:abc")
    assert len(identity.dedup_hash(listing, "Acme")) == 64


def test_the_content_hash_sees_content_changes_only() -> None:
    listing = RawJob(title="Engineer", url="https://acme.com/jobs/1", description="Build.")
    base = content_hash(listing, "Acme")
    assert content_hash(replace(listing, posted_date=datetime(2026, 1, 1, tzinfo=UTC)), "Acme") == (
        base
    )
    assert content_hash(replace(listing, description="Build more."), "Acme") != base
    assert content_hash(replace(listing, salary_min=100000.0), "Acme") != base
    assert content_hash(replace(listing, department=""), "Acme") != base
    assert content_hash(listing, "Acme Inc") != base
