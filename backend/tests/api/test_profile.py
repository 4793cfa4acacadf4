from __future__ import annotations

import io
import stat
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.errors import PayloadTooLarge, UnsupportedMediaType
from app.models.base import utcnow
from app.schemas.profile import ProfileUpdate
from app.services import profile as profiles
from app.services import resume_storage
from tests.factories import make_job, make_profile

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><w:body/></w:document>")
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/holiday.jpg", b"\xff\xd8\xff")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test stores resumes in its own directory (created by the upload itself)."""
    directory = tmp_path / "uploads"
    monkeypatch.setattr(settings, "upload_dir", directory)
    return directory


def stored_files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir()) if directory.exists() else []


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    filename: str = "resume.pdf",
    content_type: str = "application/pdf",
) -> httpx.Response:
    return await client.post(
        "/api/profile/resume", files={"file": (filename, content, content_type)}
    )


# --- GET / PUT /api/profile ---------------------------------------------------------------


async def test_get_creates_the_profile_once(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/profile")
    assert first.status_code == 200
    body = first.json()
    assert body["remote_preference"] == "any"
    assert body["skills"] == []
    assert body["education"] == []
    assert body["work_experience"] == []
    assert body["resume_uploaded"] is False
    assert body["resume_filename"] is None
    assert "resume_path" not in body
    second = await client.get("/api/profile")
    assert second.json()["id"] == body["id"]


async def test_get_has_every_wire_field(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/profile")).json()
    seed_fields = {
        "id", "first_name", "last_name", "email", "phone", "linkedin_url", "website_url",
        "us_citizen", "sponsorship_needed", "veteran_status", "disability_status", "gender",
        "ethnicity", "resume_filename", "cover_letter_template", "desired_title",
        "desired_locations", "min_salary", "remote_preference", "education",
        "work_experience", "created_at", "updated_at",
    }  # fmt: skip
    ours = {
        "github_url", "city", "region", "country", "skills", "summary",
        "resume_content_type", "resume_uploaded",
    }  # fmt: skip
    assert set(body) == seed_fields | ours


async def test_get_answers_with_the_oldest_profile(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_profile(session, first_name="Newer", created_at=utcnow())
    oldest = await make_profile(session, first_name="Older", created_at=utcnow() - timedelta(1))
    body = (await client.get("/api/profile")).json()
    assert body["id"] == str(oldest.id)
    assert body["first_name"] == "Older"


async def test_put_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    await client.put("/api/profile", json={"first_name": "Ada", "email": "ada@example.com"})
    response = await client.put("/api/profile", json={"desired_title": "Staff Engineer"})
    assert response.status_code == 200
    body = response.json()
    assert body["desired_title"] == "Staff Engineer"
    assert body["first_name"] == "Ada"
    assert body["email"] == "ada@example.com"
    assert (await client.get("/api/profile")).json()["desired_title"] == "Staff Engineer"


async def test_put_accepts_every_field(client: httpx.AsyncClient) -> None:
    values = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example.mil",
        "phone": "+1 555 0100",
        "linkedin_url": "https://www.linkedin.com/in/grace",
        "website_url": "http://grace.example",
        "github_url": "https://github.com/grace",
        "city": "Arlington",
        "region": "VA",
        "country": "US",
        "us_citizen": True,
        "sponsorship_needed": False,
        "veteran_status": "Protected veteran",
        "disability_status": "Prefer not to say",
        "gender": "Female",
        "ethnicity": "Prefer not to say",
        "cover_letter_template": "Dear {company},\n\nI would like to ...",
        "desired_title": "Compiler Engineer",
        "desired_locations": "Arlington, Remote",
        "min_salary": 150000,
        "remote_preference": "hybrid",
        "skills": ["COBOL", "Compilers"],
        "summary": "Invented the first compiler.",
    }
    body = (await client.put("/api/profile", json=values)).json()
    assert {name: body[name] for name in values} == values


async def test_whole_profile_can_be_sent_back(client: httpx.AsyncClient) -> None:
    await client.post("/api/profile/education", json={"school": "MIT"})
    profile = (await client.get("/api/profile")).json()
    profile["first_name"] = "Katherine"
    profile["id"] = str(uuid.uuid4())
    profile["resume_filename"] = "evil.pdf"
    profile["education"] = []
    response = await client.put("/api/profile", json=profile)
    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "Katherine"
    assert body["id"] != profile["id"]
    assert body["resume_filename"] is None
    assert [e["school"] for e in body["education"]] == ["MIT"]


async def test_put_rejects_unknown_fields_by_name(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/profile", json={"first_name": "Ada", "favourite_color": 1})
    assert response.status_code == 422
    assert "favourite_color" in response.json()["detail"]
    assert (await client.get("/api/profile")).json()["first_name"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "ada@localhost"),
        ("email", "ada@@example.com"),
        ("email", "a b@example.com"),
        ("email", "a" * 310 + "@example.com"),
        ("phone", "1" * 51),
        ("linkedin_url", "javascript:alert(1)"),
        ("website_url", "ftp://files.example.com"),
        ("github_url", "github.com/ada"),
        ("remote_preference", "sometimes"),
        ("min_salary", -1),
        ("min_salary", 10_000_001),
        ("min_salary", "lots"),
        ("skills", [f"skill {n}" for n in range(101)]),
        ("skills", ["x" * 101]),
        ("skills", [""]),
        ("skills", "python"),
        ("summary", "x" * 5001),
        ("cover_letter_template", "x" * 20_001),
        ("gender", "x" * 101),
        ("veteran_status", "x" * 101),
        ("us_citizen", "maybe"),
        ("sponsorship_needed", 2),
        ("desired_locations", ", ".join(["Somewhere"] * 100)),
    ],
)
async def test_put_rejects_bad_values(client: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await client.put("/api/profile", json={field: value})
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in body["detail"]
    assert body["errors"][0]["field"].startswith(field)


async def test_put_normalizes_what_it_stores(client: httpx.AsyncClient) -> None:
    await client.put("/api/profile", json={"phone": "555", "remote_preference": "remote"})
    response = await client.put(
        "/api/profile",
        json={
            "desired_locations": "  New York ,Remote,,  Berlin  ,",
            "skills": ["Python", " python ", "SQL", "PYTHON", "Go"],
            "phone": "",
            "remote_preference": None,
            "email": "  ada@example.com ",
            "min_salary": None,
        },
    )
    body = response.json()
    assert body["desired_locations"] == "New York, Remote, Berlin"
    assert body["skills"] == ["Python", "SQL", "Go"]
    assert body["phone"] is None
    assert body["remote_preference"] == "any"
    assert body["email"] == "ada@example.com"
    assert body["min_salary"] is None


async def test_service_reports_whether_matching_changed(session: AsyncSession) -> None:
    _, changed = await profiles.update_profile(session, ProfileUpdate(first_name="Ada"))
    assert changed is False
    _, changed = await profiles.update_profile(session, ProfileUpdate(skills=["Rust"]))
    assert changed is True
    _, changed = await profiles.update_profile(session, ProfileUpdate(skills=["Rust"]))
    assert changed is False
    _, changed = await profiles.update_profile(session, ProfileUpdate(min_salary=90_000))
    assert changed is True
    _, changed = await profiles.update_profile(
        session, ProfileUpdate(desired_locations="Berlin ,Remote")
    )
    assert changed is True
    _, changed = await profiles.update_profile(
        session, ProfileUpdate(desired_locations="Berlin, Remote", phone="555")
    )
    assert changed is False


# --- resume upload --------------------------------------------------------------------------


async def test_upload_pdf_stores_it_privately(client: httpx.AsyncClient, upload_dir: Path) -> None:
    response = await upload(client, PDF_BYTES, "Ada Lovelace CV.pdf")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resume_filename"] == "Ada Lovelace CV.pdf"
    assert body["resume_content_type"] == "application/pdf"
    assert body["resume_uploaded"] is True
    assert "resume_path" not in body
    [stored] = stored_files(upload_dir)
    assert stored.suffix == ".pdf"
    assert len(stored.stem) == 32
    assert stored.read_bytes() == PDF_BYTES
    assert mode_of(stored) == 0o600
    assert mode_of(upload_dir) == 0o700


async def test_upload_docx_is_recognized(client: httpx.AsyncClient, upload_dir: Path) -> None:
    content = docx_bytes()
    response = await upload(client, content, "cv.docx", "application/octet-stream")
    assert response.status_code == 200, response.text
    assert response.json()["resume_content_type"] == DOCX_TYPE
    [stored] = stored_files(upload_dir)
    assert stored.suffix == ".docx"
    assert stored.read_bytes() == content


async def test_upload_judges_by_content_not_name(client: httpx.AsyncClient) -> None:
    response = await upload(client, PDF_BYTES, "resume.docx", DOCX_TYPE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resume_content_type"] == "application/pdf"
    assert body["resume_filename"] == "resume.docx"


@pytest.mark.parametrize(
    ("content", "filename", "says"),
    [
        (b"Just some plain text, honestly a resume.", "cv.pdf", "not a PDF or a Word"),
        (zip_bytes(), "resume.docx", "not a Word document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "resume.doc", ".doc"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "resume.pdf", "not a PDF or a Word"),
    ],
)
async def test_upload_rejects_other_file_types(
    client: httpx.AsyncClient, upload_dir: Path, content: bytes, filename: str, says: str
) -> None:
    response = await upload(client, content, filename)
    assert response.status_code == 415
    assert says in response.json()["detail"]
    assert filename in response.json()["detail"]
    assert stored_files(upload_dir) == []
    assert (await client.get("/api/profile")).json()["resume_uploaded"] is False


async def test_upload_rejects_an_empty_file(client: httpx.AsyncClient, upload_dir: Path) -> None:
    response = await upload(client, b"", "resume.pdf")
    assert response.status_code == 422
    assert "empty" in response.json()["detail"]
    assert stored_files(upload_dir) == []


async def test_upload_without_file_field_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/profile/resume", files={"resume": ("cv.pdf", PDF_BYTES, "application/pdf")}
    )
    assert response.status_code == 422
    assert "`file`" in response.json()["detail"]


async def test_upload_that_is_not_multipart_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/profile/resume", json={"file": "resume.pdf"})
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["detail"]


async def test_upload_cut_short_is_rejected(client: httpx.AsyncClient, upload_dir: Path) -> None:
    body = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4'
    response = await client.post(
        "/api/profile/resume",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert response.status_code == 400
    assert "before the whole file arrived" in response.json()["detail"]
    assert stored_files(upload_dir) == []


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=" + "b" * 300]
)
async def test_upload_with_a_bad_boundary_is_rejected(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/api/profile/resume", content=b"--b\r\n", headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert "multipart" in response.json()["detail"]


async def test_upload_filename_is_only_a_display_name(
    client: httpx.AsyncClient, upload_dir: Path, tmp_path: Path
) -> None:
    response = await upload(client, PDF_BYTES, "../../etc/passwd")
    assert response.status_code == 200, response.text
    assert response.json()["resume_filename"] == "passwd"
    [stored] = stored_files(upload_dir)
    assert stored.parent == upload_dir
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("C:\\Users\\ada\\My CV.pdf", "My CV.pdf"),
        ("..", "resume.pdf"),
        ("", "resume.pdf"),
        ("Lebenslauf Müller.pdf", "Lebenslauf Müller.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
async def test_upload_filename_is_sanitized(
    client: httpx.AsyncClient, sent: str, shown: str
) -> None:
    response = await upload(client, PDF_BYTES, sent)
    assert response.status_code == 200, response.text
    assert response.json()["resume_filename"] == shown


async def test_upload_filename_loses_control_characters(client: httpx.AsyncClient) -> None:
    # Built by hand: HTTP clients escape control characters in filenames themselves.
    disposition = 'form-data; name="file"; filename="cv\x07\x1b[31m\x7f\u202efdp.exe"'
    body = (
        f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        + PDF_BYTES
        + b"\r\n--XyZ--\r\n"
    )
    response = await client.post(
        "/api/profile/resume",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["resume_filename"] == "cv[31mfdp.exe"


async def test_upload_over_the_size_cap_is_refused(
    client: httpx.AsyncClient, upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_upload_mb", 1)
    cap = 1024 * 1024
    response = await upload(client, b"%PDF-" + b"0" * (cap + 1 - 5))
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert stored_files(upload_dir) == []
    at_cap = await upload(client, b"%PDF-" + b"0" * (cap - 5))
    assert at_cap.status_code == 200, at_cap.text


async def test_upload_declared_too_large_is_refused_unread(
    client: httpx.AsyncClient, upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "max_upload_mb", 1)
    chunks_read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        for _ in range(1000):
            chunks_read += 1
            yield b"0" * 65536

    response = await client.post(
        "/api/profile/resume",
        content=body(),
        headers={
            "Content-Type": "multipart/form-data; boundary=XyZ",
            "Content-Length": str(1000 * 65536),
        },
    )
    assert response.status_code == 413
    assert "MAX_UPLOAD_MB" in response.json()["detail"]
    assert chunks_read == 0
    assert stored_files(upload_dir) == []


async def test_reupload_replaces_and_deletes_the_old_file(
    client: httpx.AsyncClient, upload_dir: Path
) -> None:
    await upload(client, PDF_BYTES, "old.pdf")
    [old] = stored_files(upload_dir)
    new_content = docx_bytes()
    response = await upload(client, new_content, "new.docx", DOCX_TYPE)
    assert response.status_code == 200
    assert response.json()["resume_filename"] == "new.docx"
    [new] = stored_files(upload_dir)
    assert new != old
    assert not old.exists()
    download = await client.get("/api/profile/resume")
    assert download.content == new_content


async def test_failed_reupload_keeps_the_old_resume(
    client: httpx.AsyncClient, upload_dir: Path
) -> None:
    await upload(client, PDF_BYTES, "old.pdf")
    before = stored_files(upload_dir)
    response = await upload(client, b"not a resume", "new.pdf")
    assert response.status_code == 415
    assert stored_files(upload_dir) == before
    assert (await client.get("/api/profile")).json()["resume_filename"] == "old.pdf"


def test_resumes_in_memory_are_checked_and_stored_like_uploads(
    upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = resume_storage.store_bytes(docx_bytes(), "../imported.docx")
    assert stored.content_type == DOCX_TYPE
    assert stored.filename == "imported.docx"
    assert resume_storage.path_of(stored.storage_name) == upload_dir / stored.storage_name
    assert mode_of(upload_dir / stored.storage_name) == 0o600
    with pytest.raises(UnsupportedMediaType):
        resume_storage.store_bytes(zip_bytes(), "photos.docx")
    monkeypatch.setattr(settings, "max_upload_mb", 1)
    with pytest.raises(PayloadTooLarge):
        resume_storage.store_bytes(b"%PDF-" + b"0" * 1024 * 1024, None)
    assert stored_files(upload_dir) == [upload_dir / stored.storage_name]


# --- resume download and delete -------------------------------------------------------------


async def test_download_returns_the_uploaded_bytes(client: httpx.AsyncClient) -> None:
    await upload(client, PDF_BYTES, "Ada CV.pdf")
    response = await client.get("/api/profile/resume")
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert 'filename="Ada CV.pdf"' in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_download_encodes_non_ascii_filenames(client: httpx.AsyncClient) -> None:
    await upload(client, docx_bytes(), "Lebenslauf Müller.docx", DOCX_TYPE)
    response = await client.get("/api/profile/resume")
    assert response.status_code == 200
    assert response.headers["content-type"] == DOCX_TYPE
    disposition = response.headers["content-disposition"]
    assert 'filename="Lebenslauf Muller.docx"' in disposition
    assert "filename*=UTF-8''Lebenslauf%20M%C3%BCller.docx" in disposition


async def test_download_without_resume_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/profile/resume")
    assert response.status_code == 404
    assert response.json()["detail"] == "No resume has been uploaded yet"


async def test_download_of_vanished_file_is_404(
    client: httpx.AsyncClient, upload_dir: Path
) -> None:
    await upload(client, PDF_BYTES)
    for path in stored_files(upload_dir):
        path.unlink()
    response = await client.get("/api/profile/resume")
    assert response.status_code == 404
    assert "upload it again" in response.json()["detail"]


async def test_delete_resume_removes_file_and_fields(
    client: httpx.AsyncClient, upload_dir: Path
) -> None:
    await upload(client, PDF_BYTES)
    response = await client.delete("/api/profile/resume")
    assert response.status_code == 204
    assert response.content == b""
    assert stored_files(upload_dir) == []
    body = (await client.get("/api/profile")).json()
    assert body["resume_uploaded"] is False
    assert body["resume_filename"] is None
    assert body["resume_content_type"] is None
    assert (await client.get("/api/profile/resume")).status_code == 404
    assert (await client.delete("/api/profile/resume")).status_code == 404


# --- education ----------------------------------------------------------------------------


async def test_education_lifecycle(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/profile/education",
        json={
            "school": "University of London",
            "degree": "BSc",
            "field_of_study": "Mathematics",
            "gpa": "3.9",
            "graduation_year": 1843,
        },
    )
    assert created.status_code == 422  # 1843 is before 1900
    created = await client.post(
        "/api/profile/education",
        json={"school": "University of London", "degree": "BSc", "gpa": 3.9},
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert set(item) == {"id", "school", "degree", "field_of_study", "gpa", "graduation_year"}
    assert item["gpa"] == "3.9"
    assert (await client.get("/api/profile")).json()["education"] == [item]

    updated = await client.put(
        f"/api/profile/education/{item['id']}", json={"graduation_year": 1999, "degree": ""}
    )
    assert updated.status_code == 200
    assert updated.json() == {**item, "graduation_year": 1999, "degree": None}

    deleted = await client.delete(f"/api/profile/education/{item['id']}")
    assert deleted.status_code == 204
    assert (await client.get("/api/profile")).json()["education"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"school": ""},
        {"school": "   "},
        {"school": "x" * 301},
        {"school": "MIT", "degree": "x" * 201},
        {"school": "MIT", "field_of_study": "x" * 201},
        {"school": "MIT", "gpa": "x" * 21},
        {"school": "MIT", "graduation_year": 1899},
        {"school": "MIT", "graduation_year": 2101},
        {"school": "MIT", "grade": "A"},
    ],
)
async def test_education_create_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/api/profile/education", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_education_update_rejects_bad_input(client: httpx.AsyncClient) -> None:
    item = (await client.post("/api/profile/education", json={"school": "MIT"})).json()
    for body in ({"school": None}, {"school": ""}, {"graduation_year": 2500}):
        response = await client.put(f"/api/profile/education/{item['id']}", json=body)
        assert response.status_code == 422, body
    assert (await client.get("/api/profile")).json()["education"][0]["school"] == "MIT"


async def test_education_unknown_or_malformed_id(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    put = await client.put(f"/api/profile/education/{missing}", json={"school": "MIT"})
    assert put.status_code == 404
    assert str(missing) in put.json()["detail"]
    assert (await client.delete(f"/api/profile/education/{missing}")).status_code == 404
    assert (await client.put("/api/profile/education/42", json={})).status_code == 422
    assert (await client.delete("/api/profile/education/not-a-uuid")).status_code == 422


# --- work experience -----------------------------------------------------------------------


async def test_experience_lifecycle(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/profile/experience",
        json={
            "company": "Analytical Engines Ltd",
            "title": "Programmer",
            "start_date": "2019-03",
            "end_date": "Present",
            "description": "Wrote the first program.",
        },
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert set(item) == {"id", "company", "title", "start_date", "end_date", "description"}
    assert item["end_date"] == "present"
    assert (await client.get("/api/profile")).json()["work_experience"] == [item]

    updated = await client.put(
        f"/api/profile/experience/{item['id']}", json={"end_date": "2021-12"}
    )
    assert updated.status_code == 200
    assert updated.json() == {**item, "end_date": "2021-12"}

    deleted = await client.delete(f"/api/profile/experience/{item['id']}")
    assert deleted.status_code == 204
    assert (await client.get("/api/profile")).json()["work_experience"] == []


async def test_experience_keeps_several_entries(client: httpx.AsyncClient) -> None:
    for company in ("First", "Second"):
        response = await client.post(
            "/api/profile/experience", json={"company": company, "title": "Engineer"}
        )
        assert response.status_code == 201
    work = (await client.get("/api/profile")).json()["work_experience"]
    assert sorted(w["company"] for w in work) == ["First", "Second"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Engineer"},
        {"company": "Acme"},
        {"company": "", "title": "Engineer"},
        {"company": "x" * 301, "title": "Engineer"},
        {"company": "Acme", "title": "x" * 301},
        {"company": "Acme", "title": "Engineer", "start_date": "2020-13"},
        {"company": "Acme", "title": "Engineer", "start_date": "2020/01"},
        {"company": "Acme", "title": "Engineer", "start_date": "March 2020"},
        {"company": "Acme", "title": "Engineer", "start_date": "present"},
        {"company": "Acme", "title": "Engineer", "end_date": "2020-1"},
        {"company": "Acme", "title": "Engineer", "end_date": "soon"},
        {"company": "Acme", "title": "Engineer", "description": "x" * 10_001},
    ],
)
async def test_experience_create_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/api/profile/experience", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_experience_end_before_start_is_rejected(client: httpx.AsyncClient) -> None:
    body = {"company": "Acme", "title": "Engineer", "start_date": "2020-05", "end_date": "2020-04"}
    response = await client.post("/api/profile/experience", json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == "end_date 2020-04 is before start_date 2020-05"

    body["end_date"] = "2020-05"
    item = (await client.post("/api/profile/experience", json=body)).json()
    moved = await client.put(
        f"/api/profile/experience/{item['id']}", json={"start_date": "2021-01"}
    )
    assert moved.status_code == 422
    assert "before start_date 2021-01" in moved.json()["detail"]
    current = (await client.get("/api/profile")).json()["work_experience"][0]
    assert current["start_date"] == "2020-05"


async def test_experience_update_rejects_bad_input(client: httpx.AsyncClient) -> None:
    body = {"company": "Acme", "title": "Engineer"}
    item = (await client.post("/api/profile/experience", json=body)).json()
    for change in ({"company": None}, {"title": ""}, {"start_date": "2020"}, {"ceo": "me"}):
        response = await client.put(f"/api/profile/experience/{item['id']}", json=change)
        assert response.status_code == 422, change


async def test_experience_unknown_or_malformed_id(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    put = await client.put(f"/api/profile/experience/{missing}", json={"title": "CTO"})
    assert put.status_code == 404
    assert (await client.delete(f"/api/profile/experience/{missing}")).status_code == 404
    assert (await client.put("/api/profile/experience/1", json={})).status_code == 422
    assert (await client.delete("/api/profile/experience/1")).status_code == 422


async def test_changing_preferences_rescores_open_listings(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    job = await make_job(session, title="Staff Rust Engineer", description="Rust, Tokio.")
    job.match_score = 0.0
    await session.flush()
    response = await client.put(
        "/api/profile", json={"desired_title": "Rust Engineer", "skills": ["rust"]}
    )
    assert response.status_code == 200
    await session.refresh(job)
    assert job.match_score == 100.0
    assert set(job.match_details["components"]) == {"keywords", "title"}
