"""Resume files on disk: reading an upload within the size cap, telling what it really is,
storing it under a generated name, and finding or deleting it again.

The database only ever holds the generated name (`<uuid4 hex>.pdf|.docx`); the person's own
filename is kept for display and downloads, never used as a path.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from app.config import settings
from app.errors import BadRequest, InvalidInput, PayloadTooLarge, UnsupportedMediaType

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx"}
FIELD_NAME = "file"

# Room for the multipart framing (boundaries, part headers) around the file itself.
MULTIPART_ALLOWANCE = 64 * 1024
MAX_FILENAME_LENGTH = 255
_STORED_NAME = re.compile(r"[0-9a-f]{32}\.(?:pdf|docx)")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc (and .xls, .ppt)


@dataclass(frozen=True)
class StoredResume:
    """A resume that passed every check and now sits in the upload directory."""

    storage_name: str
    filename: str
    content_type: str


@dataclass
class _FilePart:
    """Parser state for the one `file` part of a multipart body."""

    header_name: bytes = b""
    header_value: bytes = b""
    disposition: bytes = b""
    in_file: bool = False
    found: bool = False
    finished: bool = False
    body_complete: bool = False
    filename: str = ""
    pending: list[bytes] = field(default_factory=list)


def upload_dir() -> Path:
    return settings.effective_upload_dir


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The resume is larger than the {settings.max_upload_mb} MB limit (MAX_UPLOAD_MB)"
    )


def check_declared_size(content_length: str | None) -> None:
    """Refuse an upload whose declared size is already over the cap, before reading any of it."""
    if content_length is None or not content_length.strip().isdigit():
        return
    if int(content_length) > settings.max_upload_bytes + MULTIPART_ALLOWANCE:
        raise too_large()


def _boundary(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise InvalidInput(
            f"Send the resume as multipart/form-data with the file in a field named `{FIELD_NAME}`"
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadRequest("The multipart Content-Type header has no boundary")
    return boundary


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _callbacks(part: _FilePart) -> MultipartCallbacks:
    def on_part_begin() -> None:
        part.disposition = b""
        part.in_file = False

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.header_value += data[start:end]

    def on_header_end() -> None:
        if part.header_name.strip().lower() == b"content-disposition":
            part.disposition = part.header_value
        part.header_name = part.header_value = b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(part.disposition)
        if options.get(b"name") != FIELD_NAME.encode():
            return
        if part.found:
            raise InvalidInput(f"Send one file only in the `{FIELD_NAME}` field")
        part.found = part.in_file = True
        part.filename = _decode(options.get(b"filename", b""))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.in_file:
            part.pending.append(data[start:end])

    def on_part_end() -> None:
        if part.in_file:
            part.finished = True
            part.in_file = False

    def on_end() -> None:
        part.body_complete = True

    return {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_end": on_end,
    }


async def _stream_file_part(
    content_type: str | None, body: AsyncIterator[bytes], out: BinaryIO
) -> _FilePart:
    """Feed the body to the parser, writing the `file` part to `out`; stop at the size cap."""
    limit = settings.max_upload_bytes
    part = _FilePart()
    boundary = _boundary(content_type)
    received = written = 0
    try:
        parser = MultipartParser(boundary, _callbacks(part))
        async for chunk in body:
            received += len(chunk)
            if received > limit + MULTIPART_ALLOWANCE:
                raise too_large()
            parser.write(chunk)
            if part.pending:
                data = b"".join(part.pending)
                part.pending.clear()
                written += len(data)
                if written > limit:
                    raise too_large()
                # Disk writes go to a thread so a slow disk never stalls the event loop.
                await asyncio.to_thread(out.write, data)
        parser.finalize()
    except FormParserError as exc:
        raise BadRequest("The upload is not valid multipart/form-data") from exc
    if not part.found:
        raise InvalidInput(
            f"No file received: send the resume in a form field named `{FIELD_NAME}`"
        )
    if not (part.finished and part.body_complete):
        raise BadRequest("The upload ended before the whole file arrived; try again")
    return part


def detect_content_type(source: Path | bytes, shown_name: str = "") -> str:
    """PDF or DOCX, judged by the bytes in the file, never by its name or the client's claim.

    Raises InvalidInput for an empty file and UnsupportedMediaType for anything else.
    """
    with source.open("rb") if isinstance(source, Path) else io.BytesIO(source) as handle:
        head = handle.read(8)
        if not head:
            raise InvalidInput("The uploaded file is empty")
        if head.startswith(b"%PDF-"):
            return PDF
        what = f"{shown_name!r}" if shown_name else "The uploaded file"
        if zipfile.is_zipfile(handle):
            try:
                with zipfile.ZipFile(handle) as archive:
                    names = set(archive.namelist())
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise UnsupportedMediaType(
                    f"{what} is a damaged ZIP archive, not a resume"
                ) from exc
            if "word/document.xml" in names:
                return DOCX
            raise UnsupportedMediaType(
                f"{what} is a ZIP archive but not a Word document; upload a PDF or a .docx file"
            )
    if head.startswith(_OLE2_MAGIC):
        raise UnsupportedMediaType(
            f"{what} is an old-style Word .doc file; save it as .docx or PDF and upload that"
        )
    raise UnsupportedMediaType(f"{what} is not a PDF or a Word (.docx) document")


def _clean_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Cc = control characters; Cf = invisible formatting such as the right-to-left override
    # that can make "cv\u202efdp.exe" display as "cvexe.pdf".
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf")).strip()
    return "" if name in (".", "..") else name


def safe_filename(raw: str | None, content_type: str) -> str:
    """The person's filename, fit for display: basename only, no control characters, ≤255."""
    name = _clean_name(raw)
    if not name:
        return "resume" + EXTENSIONS[content_type]
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and len(suffix) <= 10:
            name = stem[: MAX_FILENAME_LENGTH - len(suffix) - 1] + "." + suffix
        else:
            name = name[:MAX_FILENAME_LENGTH]
    return name


def _create_temp_file(directory: Path) -> tuple[int, Path]:
    # The temporary file lives in the upload directory so the final rename is atomic;
    # mkstemp creates it readable by this user only (0600).
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    return descriptor, Path(name)


def _keep(temp_path: Path, raw_filename: str) -> StoredResume:
    """Check what the received file is, then move it to its permanent, generated name."""
    content_type = detect_content_type(temp_path, _clean_name(raw_filename))
    storage_name = uuid.uuid4().hex + EXTENSIONS[content_type]
    os.chmod(temp_path, 0o600)
    os.replace(temp_path, temp_path.parent / storage_name)
    return StoredResume(
        storage_name=storage_name,
        filename=safe_filename(raw_filename, content_type),
        content_type=content_type,
    )


def _discard(path: Path) -> None:
    # Synchronous on purpose: it must run even while the request is being cancelled.
    path.unlink(missing_ok=True)


async def receive(content_type: str | None, body: AsyncIterator[bytes]) -> StoredResume:
    """Read a multipart upload's `file` field, check it, and store it under a new name.

    Raises PayloadTooLarge (413) past MAX_UPLOAD_MB, UnsupportedMediaType (415) for anything
    but a PDF or DOCX, InvalidInput (422) for an empty or missing file.
    """
    descriptor, temp_path = await asyncio.to_thread(_create_temp_file, upload_dir())
    try:
        with os.fdopen(descriptor, "wb") as handle:
            part = await _stream_file_part(content_type, body, handle)
        return await asyncio.to_thread(_keep, temp_path, part.filename)
    except BaseException:
        _discard(temp_path)
        raise


def store_bytes(data: bytes, filename: str | None) -> StoredResume:
    """Check and store a resume already in memory (an imported one, say), like an upload.

    Blocking: call it through asyncio.to_thread from async code.
    """
    if len(data) > settings.max_upload_bytes:
        raise too_large()
    descriptor, temp_path = _create_temp_file(upload_dir())
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return _keep(temp_path, filename or "")
    except BaseException:
        _discard(temp_path)
        raise


def path_of(storage_name: str | None) -> Path | None:
    """Where a stored resume lives, or None if the name is not one Hunter generated."""
    if not storage_name or not _STORED_NAME.fullmatch(storage_name):
        return None
    return upload_dir() / storage_name


def delete(storage_name: str | None) -> None:
    """Remove a stored resume; a file that is already gone is not an error."""
    path = path_of(storage_name)
    if path is not None:
        path.unlink(missing_ok=True)
