"""The `hunter` command line (also `python -m app`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli_scan import commands as scan_commands

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
        typer.echo("Hunter cannot start: the configuration is invalid.", err=True)
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]).upper() or "configuration"
            message = str(error["msg"]).removeprefix("Value error, ")
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
    )


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


cli.registered_commands += scan_commands.registered_commands


def main() -> None:
    cli()
