"""/api/export and /api/import: everything the person owns, as one JSON document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.api.deps import SessionDep
from app.api.errors import ErrorResponse
from app.errors import PayloadTooLarge
from app.schemas.portability import ExportDocument, ImportResponse
from app.services import portability

router = APIRouter(tags=["portability"])

_TOO_LARGE = (
    f"The document is larger than the {portability.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB "
    "an import accepts"
)
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A document made by `GET /api/export`.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ExportDocument"}}
        },
    }
}


@router.get(
    "/export",
    response_model=ExportDocument,
    response_description="The export document, sent as a file download",
)
async def export_data(session: SessionDep) -> Response:
    """Download everything you own as one JSON file: profile (with education, work history and
    the resume file itself), boards, jobs, and applications with their activity logs.

    Scan history is left out. Keep the file to back up Hunter or move to another machine;
    `POST /api/import` reads it back.
    """
    export = await portability.export_document(session)
    return Response(
        content=export.content,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.post(
    "/import",
    response_model=ImportResponse,
    openapi_extra=_IMPORT_BODY,
    responses={413: {"model": ErrorResponse, "description": "Document or resume too large"}},
)
async def import_data(request: Request, session: SessionDep) -> ImportResponse:
    """Load a document made by `GET /api/export` (at most 512 MB).

    The whole document is checked first: anything wrong answers 422 and nothing is written.
    Rows are matched by id, so importing the same file twice changes nothing. A job that is
    already stored under another id (same listing) is kept as stored, and applications follow
    it. The profile merges into yours: its fields and resume replace yours, and its education
    and work history replace your lists. A document without a resume keeps the one you have.
    """
    raw = await _read_body(request)
    document = portability.parse_document(raw)
    counts = await portability.import_document(session, document)
    return ImportResponse(imported=counts)


async def _read_body(request: Request) -> bytearray:
    """The request body, refused with 413 past the cap before (or while) it is read."""
    limit = portability.MAX_DOCUMENT_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(_TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(_TOO_LARGE)
    return body
