"""GET /api/export and POST /api/import: a person's whole Hunter, out to one file and back."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import uuid
import zipfile
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.models import (
    Application,
    ApplicationLog,
    Education,
    Job,
    JobBoard,
    JobScore,
    UserProfile,
    WorkExperience,
)
from app.models.base import utcnow
from app.schemas.portability import ExportDocument
from app.services import portability
from tests.factories import make_application, make_board, make_job, make_profile

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


async def _export(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/export")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _state(document: dict[str, Any]) -> dict[str, Any]:
    """What a document says about the data, without the moment it was made."""
    return {key: value for key, value in document.items() if key != "exported_at"}


async def _import(client: httpx.AsyncClient, document: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/import", content=json.dumps(document))


async def _count(session: AsyncSession, model: type[Any]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _populate(session: AsyncSession) -> None:
    """A small but complete Hunter: profile, two boards, jobs, applications with logs."""
    profile = await make_profile(session, skills=["python", "sql"], desired_title="Engineer")
    session.add_all(
        [
            Education(profile_id=profile.id, school="MIT", degree="BSc", graduation_year=2015),
            WorkExperience(
                profile_id=profile.id, company="Acme", title="Dev", start_date="2016-01"
            ),
        ]
    )
    board = await make_board(
        session,
        keyword_filters=["python", "rust"],
        scraper_config={"scraper_type": "greenhouse", "board_token": "acme"},
        last_scan_status="success",
        last_scanned_at=utcnow(),
        jobs_found_last_scan=2,
    )
    other_board = await make_board(session, enabled=False)
    job = await make_job(
        session,
        board,
        salary_min=120000.0,
        salary_max=150000.0,
        salary_currency="USD",
        match_details={"keyword": 80.0, "title": 60.5},
        workplace_type="remote",
        is_new=False,
    )
    await make_job(session, board, is_hidden=True, closed_at=utcnow())
    await make_job(session, other_board, posted_date=utcnow())
    await make_application(session, job, status="interviewing", notes="Call on Monday")
    await make_application(session)  # found elsewhere: no job
    await session.commit()


async def test_export_of_an_empty_hunter(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/export")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    day = datetime.fromisoformat(document["exported_at"]).strftime("%Y%m%d")
    disposition = f'attachment; filename="hunter-export-{day}.json"'
    assert response.headers["content-disposition"] == disposition
    assert _state(document) == {
        "format": "hunter-export",
        "version": 1,
        "profile": None,
        "boards": [],
        "jobs": [],
        "applications": [],
    }


async def test_export_holds_every_column(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await _populate(session)

    document = await _export(client)

    ExportDocument.model_validate(document)
    # Every column of every table the person owns, so nothing is lost on the way back.
    assert set(document["boards"][0]) == set(JobBoard.__table__.c.keys())
    # A job's score lives in job_scores (its key, job_id, and the derived `visible` aside).
    score_columns = set(JobScore.__table__.c.keys()) - {"job_id", "visible"}
    assert set(document["jobs"][0]) == {*Job.__table__.c.keys(), *score_columns}
    application = document["applications"][0]
    assert set(application) == {*Application.__table__.c.keys(), "logs"}
    assert set(application["logs"][0]) == set(ApplicationLog.__table__.c.keys())
    resume_columns = {"resume_path", "resume_filename", "resume_content_type"}
    profile_columns = set(UserProfile.__table__.c.keys()) - resume_columns
    assert set(document["profile"]) == {*profile_columns, "education", "work_experience", "resume"}
    assert len(document["boards"]) == 2
    assert len(document["jobs"]) == 3
    board = next(b for b in document["boards"] if b["keyword_filters"])
    assert board["scraper_config"] == {"scraper_type": "greenhouse", "board_token": "acme"}
    assert board["last_scan_status"] == "success"
    assert {"consecutive_failures", "current_scan_id", "scan_lease_until"} <= set(board)
    job = next(j for j in document["jobs"] if j["salary_min"])
    assert job["match_details"] == {"keyword": 80.0, "title": 60.5}
    assert {"dedup_hash", "first_seen_at", "last_seen_at", "closed_at", "board_id"} <= set(job)
    profile = document["profile"]
    assert profile["skills"] == ["python", "sql"]
    assert [e["school"] for e in profile["education"]] == ["MIT"]
    assert [w["company"] for w in profile["work_experience"]] == ["Acme"]
    assert profile["resume"] is None
    assert "resume_path" not in profile
    interviewing = next(a for a in document["applications"] if a["status"] == "interviewing")
    assert interviewing["job_id"] == job["id"]
    assert interviewing["notes"] == "Call on Monday"
    assert [log["action"] for log in interviewing["logs"]] == ["created"]


async def test_round_trip_changes_nothing_and_restores_deleted_rows(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _populate(session)
    before = await _export(client)

    first = await _import(client, before)
    again = await _import(client, before)

    assert first.status_code == 200, first.text
    assert first.json() == {
        "imported": {
            "profile": True,
            "boards": 2,
            "jobs": 3,
            "applications": 2,
            "application_logs": 2,
        }
    }
    assert again.json() == first.json()
    assert _state(await _export(client)) == _state(before)
    assert await _count(session, Job) == 3
    assert await _count(session, Application) == 2
    assert await _count(session, UserProfile) == 1

    # Lose some data, then restore it from the file.
    await session.execute(delete(Application))
    await session.execute(delete(Job).where(Job.id == uuid.UUID(before["jobs"][0]["id"])))
    await session.execute(delete(Education))
    await session.commit()
    assert _state(await _export(client)) != _state(before)

    restored = await _import(client, before)

    assert restored.status_code == 200
    assert _state(await _export(client)) == _state(before)


async def test_import_into_an_empty_hunter_recreates_everything(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _populate(session)
    document = await _export(client)
    for model in (Application, Job, UserProfile):
        await session.execute(delete(model))
    await session.commit()

    response = await _import(client, document)

    assert response.status_code == 200
    assert _state(await _export(client)) == _state(document)


async def test_profile_merges_into_the_existing_one(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    mine = await make_profile(session, first_name="Grace", email="grace@example.com")
    session.add(Education(profile_id=mine.id, school="Old School"))
    await session.commit()
    document = _empty_document()
    document["profile"] = _profile(
        first_name="Ada",
        remote_preference="remote",
        education=[{"id": str(uuid.uuid4()), "school": "Cambridge", **STAMPS}],
    )

    response = await _import(client, document)

    assert response.status_code == 200
    profile = (await _export(client))["profile"]
    assert profile["id"] == str(mine.id)
    assert profile["first_name"] == "Ada"
    assert profile["remote_preference"] == "remote"
    assert [e["school"] for e in profile["education"]] == ["Cambridge"]
    assert await _count(session, UserProfile) == 1


MOMENT = "2026-01-02T03:04:05Z"
STAMPS = {"created_at": MOMENT, "updated_at": MOMENT}


def _empty_document() -> dict[str, Any]:
    return {
        "format": "hunter-export",
        "version": 1,
        "exported_at": MOMENT,
        "profile": None,
        "boards": [],
        "jobs": [],
        "applications": [],
    }


def _board(**fields: Any) -> dict[str, Any]:
    board_id = str(uuid.uuid4())
    return {"id": board_id, "name": "Acme", "url": "https://acme.example/jobs", **STAMPS, **fields}


def _job(board_id: str, **fields: Any) -> dict[str, Any]:
    job_id = str(uuid.uuid4())
    return {
        "id": job_id,
        "board_id": board_id,
        "title": "Engineer",
        "dedup_hash": hashlib.sha256(job_id.encode()).hexdigest(),
        "first_seen_at": MOMENT,
        "last_seen_at": MOMENT,
        **STAMPS,
        **fields,
    }


def _profile(**fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), **STAMPS, **fields}


def _application(**fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "applied_at": MOMENT, **STAMPS, **fields}


def _break_last_job(document: dict[str, Any]) -> None:
    document["jobs"][-1]["workplace_type"] = "on the moon"


def _orphan_last_job(document: dict[str, Any]) -> None:
    document["jobs"][-1]["board_id"] = str(uuid.uuid4())


def _misfile_a_log(document: dict[str, Any]) -> None:
    document["applications"][0]["logs"][0]["application_id"] = str(uuid.uuid4())


def _repeat_a_job(document: dict[str, Any]) -> None:
    document["jobs"].append(copy.deepcopy(document["jobs"][0]))


MALFORMED = {
    "wrong format": lambda d: d.update(format="something-else"),
    "future version": lambda d: d.update(version=2),
    "jobs not a list": lambda d: d.update(jobs="many"),
    "score not a number": lambda d: d["jobs"][0].update(match_score="high"),
    "score out of range": lambda d: d["jobs"][0].update(match_score=250),
    "unknown status": lambda d: d["applications"][0].update(status="ghosted"),
    "missing title": lambda d: d["jobs"][0].pop("title"),
    "unknown field": lambda d: d["boards"][0].update(colour="blue"),
    "board url not http": lambda d: d["boards"][0].update(url="ftp://acme.example"),
    "bad scraper config": lambda d: d["boards"][0].update(scraper_config={"max_pages": -1}),
    "title too long": lambda d: d["jobs"][0].update(title="x" * 501),
    "last job invalid": _break_last_job,
    "last job on an unknown board": _orphan_last_job,
    "log of another application": _misfile_a_log,
    "repeated job": _repeat_a_job,
}


@pytest.mark.parametrize("damage", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_document_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: AsyncSession, damage: Any
) -> None:
    await _populate(session)
    document = await _export(client)
    before = copy.deepcopy(_state(document))
    # Changes the import would make if it were (wrongly) half-applied.
    for job in document["jobs"]:
        job["title"] = "Changed"
    document["boards"].append(_board())
    document["jobs"].append(_job(document["boards"][-1]["id"]))
    damage(document)

    response = await _import(client, document)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert response.json()["detail"]
    assert _state(await _export(client)) == before


@pytest.mark.parametrize(
    "body",
    [b"", b"not json at all", b'{"format": "hunter-export", "version": 1', b"[1, 2, 3]"],
    ids=["empty", "text", "truncated", "array"],
)
async def test_a_body_that_is_not_a_document_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/api/import", content=body)

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"


async def test_a_nul_character_is_refused(client: httpx.AsyncClient) -> None:
    document = _empty_document()
    board = _board(name="Acme\u0000")
    document["boards"] = [board]

    response = await _import(client, document)

    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]
    assert (await _export(client))["boards"] == []


async def test_a_document_over_the_cap_is_413(client: httpx.AsyncClient) -> None:
    too_big = str(portability.MAX_DOCUMENT_BYTES + 1)
    response = await client.post("/api/import", content=b"{}", headers={"Content-Length": too_big})

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_same_listing_under_another_id_is_merged_not_duplicated(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    stored = await make_job(session, board, title="Stored title")
    await session.commit()
    document = _empty_document()
    imported = _job(str(board.id), title="Imported title", dedup_hash=stored.dedup_hash)
    document["jobs"] = [imported]
    log = {"id": str(uuid.uuid4()), "action": "created", "to_status": "applied"}
    document["applications"] = [
        _application(job_id=imported["id"], logs=[{**log, "timestamp": MOMENT}])
    ]
    application_id = document["applications"][0]["id"]

    first = await _import(client, document)
    after_first = _state(await _export(client))
    second = await _import(client, document)

    assert first.status_code == 200, first.text
    assert first.json()["imported"]["jobs"] == 0
    assert second.json() == first.json()
    assert _state(await _export(client)) == after_first
    jobs = after_first["jobs"]
    assert [(job["id"], job["title"]) for job in jobs] == [(str(stored.id), "Stored title")]
    [application] = after_first["applications"]
    assert application["id"] == application_id
    assert application["job_id"] == str(stored.id)
    assert len(application["logs"]) == 1


async def test_application_for_an_unknown_job_keeps_its_copy_without_a_link(
    client: httpx.AsyncClient,
) -> None:
    document = _empty_document()
    document["applications"] = [_application(job_id=str(uuid.uuid4()), company="Gone Inc")]

    response = await _import(client, document)

    assert response.status_code == 200
    [application] = (await _export(client))["applications"]
    assert application["job_id"] is None
    assert application["company"] == "Gone Inc"


async def test_jobs_may_belong_to_a_board_already_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    await session.commit()
    document = _empty_document()
    document["jobs"] = [_job(str(board.id))]

    response = await _import(client, document)

    assert response.status_code == 200
    assert [job["board_id"] for job in (await _export(client))["jobs"]] == [str(board.id)]


async def test_large_imports_are_written_in_batches(client: httpx.AsyncClient) -> None:
    document = _empty_document()
    board = _board()
    document["boards"] = [board]
    document["jobs"] = [_job(board["id"], title=f"Job {n}") for n in range(1203)]

    response = await _import(client, document)
    again = await _import(client, document)

    assert response.json()["imported"]["jobs"] == 1203
    assert again.status_code == 200
    exported = await _export(client)
    assert len(exported["jobs"]) == 1203
    assert {job["title"] for job in exported["jobs"]} == {f"Job {n}" for n in range(1203)}


async def _stored_resume(session: AsyncSession) -> str | None:
    result = await session.execute(select(UserProfile.resume_path))
    return result.scalar_one()


async def test_resume_travels_with_the_export(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    upload_dir = settings.effective_upload_dir
    upload_dir.mkdir(parents=True, exist_ok=True)
    old_name = f"{uuid.uuid4().hex}.pdf"
    (upload_dir / old_name).write_bytes(PDF_BYTES)
    await make_profile(
        session,
        resume_path=old_name,
        resume_filename="Ada CV.pdf",
        resume_content_type="application/pdf",
    )
    await session.commit()

    document = await _export(client)
    response = await _import(client, document)

    assert document["profile"]["resume"] == {
        "filename": "Ada CV.pdf",
        "content_type": "application/pdf",
        "data_base64": base64.b64encode(PDF_BYTES).decode(),
    }
    assert response.status_code == 200
    new_name = await _stored_resume(session)
    assert new_name is not None
    assert new_name != old_name
    assert new_name.endswith(".pdf")
    assert (upload_dir / new_name).read_bytes() == PDF_BYTES
    assert not (upload_dir / old_name).exists()
    assert _state(await _export(client)) == _state(document)


async def test_a_docx_resume_is_accepted(client: httpx.AsyncClient, session: AsyncSession) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    document = _empty_document()
    document["profile"] = _profile(
        resume={
            "filename": "../../etc/cv.docx",
            "content_type": "application/pdf",
            "data_base64": base64.b64encode(buffer.getvalue()).decode(),
        },
    )

    response = await _import(client, document)

    assert response.status_code == 200
    resume = (await _export(client))["profile"]["resume"]
    assert resume["filename"] == "cv.docx"
    assert resume["content_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    stored = await _stored_resume(session)
    assert stored is not None
    assert stored.endswith(".docx")


async def test_missing_resume_file_exports_without_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_profile(session, resume_path=f"{uuid.uuid4().hex}.pdf", resume_filename="cv.pdf")
    await session.commit()

    document = await _export(client)

    assert document["profile"]["resume"] is None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (base64.b64encode(b"MZ\x90\x00 an executable").decode(), 422),
        (base64.b64encode(b"PK\x03\x04 not really a zip").decode(), 422),
        ("%%% not base64 %%%", 422),
        (base64.b64encode(b"%PDF-" + b"0" * settings.max_upload_bytes).decode(), 413),
    ],
    ids=["executable", "broken zip", "not base64", "too large"],
)
async def test_a_bad_resume_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: AsyncSession, data: str, status: int
) -> None:
    await make_profile(session, first_name="Grace")
    await session.commit()
    upload_dir = settings.effective_upload_dir
    files_before = set(upload_dir.iterdir()) if upload_dir.exists() else set()
    document = _empty_document()
    document["profile"] = _profile(
        first_name="Ada", resume={"filename": "cv.pdf", "data_base64": data}
    )

    response = await _import(client, document)

    assert response.status_code == status
    assert (await _export(client))["profile"]["first_name"] == "Grace"
    assert (set(upload_dir.iterdir()) if upload_dir.exists() else set()) == files_before


async def test_a_rolled_back_import_leaves_no_resume_file_behind(session: AsyncSession) -> None:
    document = ExportDocument.model_validate(
        {
            **_empty_document(),
            "profile": _profile(
                resume={"filename": "cv.pdf", "data_base64": base64.b64encode(PDF_BYTES)}
            ),
        }
    )

    await portability.import_document(session, document)
    stored = await _stored_resume(session)
    assert stored is not None
    assert (settings.effective_upload_dir / stored).exists()
    await session.rollback()

    assert not (settings.effective_upload_dir / stored).exists()
