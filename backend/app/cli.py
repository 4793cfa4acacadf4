"""The `hunter` command line (also `python -m app`)."""

from __future__ import annotations

import ctypes
import math
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli_scan import commands as scan_commands

if TYPE_CHECKING:
    from app.services.doctor import CheckResult

cli = typer.Typer(
    help="Hunter: a self-hosted job search service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _load_settings() -> None:
    """Read and validate the configuration, exiting with a readable message if it is wrong."""
    from pydantic import ValidationError

    try:
        import app.config  # noqa: F401
    except ValidationError as exc:
        from app.services.doctor import invalid_settings

        typer.echo("Hunter cannot start: the configuration is invalid.", err=True)
        for variable, message in invalid_settings(exc):
            typer.echo(f"  {variable}: {message}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default: HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default: PORT).")] = None,
) -> None:
    """Run the API (and, in embedded mode, the scan scheduler). Migrates first in embedded mode."""
    if host is not None:
        os.environ["HOST"] = host
    if port is not None:
        os.environ["PORT"] = str(port)
    _load_settings()
    import uvicorn

    from app import migrations
    from app.config import settings
    from app.logging import configure_logging

    configure_logging()
    limit_malloc_arenas()
    # Once uvicorn has shut down gracefully it raises the SIGTERM it caught again, which would
    # end a clean stop as "killed by SIGTERM" (143); a stop asked for is a normal exit.
    signal.signal(signal.SIGTERM, _exit_normally)
    if not settings.distributed:
        migrations.upgrade()
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        # A scan fans out thousands of small messages per socket; compressing each one costs
        # about half the server's CPU for little gain on a local connection.
        ws_per_message_deflate=False,
        # Requests still open on SIGTERM get the grace period too; the scans' own grace period
        # follows, in the lifespan shutdown, which this timeout does not cut short.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
    )


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


# glibc's mallopt() parameter for the most malloc arenas a process may have.
M_ARENA_MAX = -8
SERVER_MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Cap glibc's malloc arenas for this process, unless MALLOC_ARENA_MAX already chose."""
    # glibc gives each thread that allocates an arena of its own, up to eight per CPU, and an
    # arena keeps the memory freed in it. The server's threads (one per SQLite connection, the
    # executor's) mostly wait on the database or the GIL: arenas of their own buy them nothing
    # and would hold a few MB each. Other C libraries have no arenas to cap.
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_ARENA_MAX, SERVER_MALLOC_ARENAS)


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date (Alembic `upgrade head`)."""
    _load_settings()
    from app import migrations
    from app.config import settings

    migrations.upgrade(revision=revision)
    typer.echo(f"Database at {settings.effective_database_url.split('@')[-1]} is up to date.")


@cli.command("export")
def export_data(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write everything Hunter holds (profile, boards, jobs, applications) as one JSON file."""
    _load_settings()
    from app.commands import export_document

    document = export_document()
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.write(b"\n")
    else:
        output.write_bytes(document)
        typer.echo(f"Exported to {output}", err=True)


@cli.command("import")
def import_data(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Load a file written by `hunter export` (idempotent: importing twice changes nothing)."""
    _load_settings()
    from app.commands import import_document
    from app.errors import AppError

    try:
        counts = import_document(file.read_bytes())
    except AppError as exc:
        typer.echo(f"Nothing was imported: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(", ".join(f"{name}: {value}" for name, value in counts.items()))


@cli.command()
def boards() -> None:
    """List the configured job boards."""
    _load_settings()
    from app.commands import print_boards

    print_boards()


@cli.command()
def jobs(
    search: Annotated[str | None, typer.Option(help="Full-text search.")] = None,
    min_score: Annotated[int | None, typer.Option(min=0, max=100)] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """List the best recent job listings."""
    _load_settings()
    from app.commands import print_jobs

    print_jobs(search=search, min_score=min_score, limit=limit)


@cli.command()
def doctor(
    online: Annotated[
        bool, typer.Option("--online", help="Also contact the email and AI services configured.")
    ] = False,
) -> None:
    """Check the configuration and each service Hunter uses, with a fix for each problem."""
    import asyncio
    import logging

    from app.services import doctor as checkup

    results = checkup.check_configuration()
    if not checkup.failed(results):
        from app.logging import configure_logging
        from app.services.doctor_checks import check_everything

        configure_logging()
        logging.disable(logging.WARNING)  # the report says what went wrong, once
        results += asyncio.run(check_everything(online=online))
    _print_report(results)
    raise typer.Exit(1 if checkup.failed(results) else 0)


# How each status is marked, in a terminal that shows Unicode and in one that does not.
MARKS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}
ASCII_MARKS = {"ok": "ok", "warn": "!!", "fail": "xx", "skip": "--"}
COLOURS = {"ok": "green", "warn": "yellow", "fail": "red", "skip": None}


def _print_report(results: list[CheckResult]) -> None:
    """One line per check: mark, name, what was found, and the fix for a problem."""
    marks, arrow = MARKS, "→"
    try:
        "".join([*MARKS.values(), arrow]).encode(sys.stdout.encoding or "ascii")
    except UnicodeEncodeError:
        marks, arrow = ASCII_MARKS, "->"
    width = max(len(result.name) for result in results)
    for result in results:
        mark = typer.style(marks[result.status], fg=COLOURS[result.status], bold=True)
        line = f"{mark} {result.name.ljust(width)}  {result.detail}"
        if result.fix and result.status in ("warn", "fail"):
            line += f" {arrow} fix: {result.fix}"
        typer.echo(line)
    failures = sum(result.status == "fail" for result in results)
    warnings = sum(result.status == "warn" for result in results)
    if failures:
        problems = "1 problem" if failures == 1 else f"{failures} problems"
        typer.echo(f"\n{problems} to fix before Hunter can work as configured.")
    elif warnings:
        typer.echo(f"\nHunter can run; {'a warning' if warnings == 1 else 'warnings'} to look at.")
    else:
        typer.echo("\nEverything Hunter needs is in order.")


cli.registered_commands += scan_commands.registered_commands


def main() -> None:
    cli()
