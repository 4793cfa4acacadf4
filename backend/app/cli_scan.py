"""`hunter scan`, `hunter worker` and `hunter beat`: scanning from the command line.

Registered onto the main `hunter` command in app/cli.py. Like the other commands, these import
the application only once the configuration has been checked.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from app.services.scan_runner import ScanOutcome

commands = typer.Typer()

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _load_settings() -> None:
    from app.cli import _load_settings as load

    load()


def _require_redis(command: str) -> None:
    from app.config import settings

    if not settings.distributed:
        typer.echo(
            f"`hunter {command}` is for distributed mode, which needs REDIS_URL. Without it, "
            "`hunter serve` runs scans and the schedule itself.",
            err=True,
        )
        raise typer.Exit(2)


@commands.command()
def scan(
    board: Annotated[str, typer.Argument(help="The board's name (any case) or id.")],
) -> None:
    """Scan one board now, in the foreground, and print what the scan found.

    A scan of the board that is already queued is run here; one already running is left alone.
    """
    _load_settings()
    from app import migrations
    from app.config import settings
    from app.logging import configure_logging

    configure_logging()
    if not settings.distributed:
        migrations.upgrade()
    try:
        outcome = asyncio.run(_scan(board))
    except asyncio.CancelledError:  # SIGTERM: the scan is recorded as interrupted
        typer.echo("Stopped: the scan was recorded as interrupted.", err=True)
        raise typer.Exit(128 + signal.SIGTERM) from None
    if outcome is None or outcome.status != "success":
        raise typer.Exit(1)


async def _scan(reference: str) -> ScanOutcome | None:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from app.database import async_session_factory, engine
    from app.errors import AppError
    from app.services import scans
    from app.services.scan_runner import ScanRuntime, run_scan

    # A service manager's or `kill`'s SIGTERM stops the scan as Ctrl-C does (asyncio cancels
    # the scan on SIGINT itself): run_scan records it as interrupted, so the board is not left
    # "running" until its lease lapses.
    scanning = asyncio.current_task()
    assert scanning is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, scanning.cancel)
    try:
        async with async_session_factory() as session, session.begin():
            board = await scans.resolve_board(session, reference)
            requested = await scans.request_scan(session, board.id, trigger="cli")
        if requested.scan.status != "queued":
            typer.echo(
                f"A scan of '{board.name}' is already running (scan {requested.scan.id}); "
                "wait for it to finish.",
                err=True,
            )
            return None
        runtime = ScanRuntime()
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        try:
            with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
                step = progress.add_task(f"Scanning {board.name}", total=None)
                outcome = await run_scan(
                    requested.board.id,
                    requested.scan.id,
                    session_factory=async_session_factory,
                    context=runtime.context,
                    progress=lambda text: progress.update(step, description=text),
                )
        finally:
            await runtime.aclose()
    except AppError as exc:
        typer.echo(exc.message, err=True)
        return None
    finally:
        await engine.dispose()
    typer.echo(_summary(outcome))
    return outcome


def _summary(outcome: ScanOutcome) -> str:
    name = outcome.board_name
    if outcome.status == "error":
        return f"{name}: the scan failed: {outcome.message}"
    if outcome.status == "skipped":
        return f"{name}: the scan did not run: {outcome.message}"
    seconds = (outcome.duration_ms or 0) / 1000
    return (
        f"{name}: {outcome.found} listings found ({outcome.new} new, {outcome.updated} updated, "
        f"{outcome.closed} closed) in {seconds:.1f} s"
    )


@commands.command(context_settings=_PASS_THROUGH)
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
) -> None:
    """Run a Celery worker that runs scans (distributed mode). Extra arguments go to Celery."""
    _load_settings()
    _require_redis("worker")
    from app.config import settings
    from app.tasks.celery_app import celery_app

    options = [f"--pool={pool}", f"--loglevel={settings.log_level}"]
    # Each prefork process holds its own engine, fetcher and browser: size by CPUs (Celery's own
    # default), not by SCAN_CONCURRENCY, which bounds the cheap asyncio scans of embedded mode.
    if concurrency is not None and pool != "solo":  # solo runs one task at a time
        options.append(f"--concurrency={concurrency}")
    celery_app.start(["worker", *options, *ctx.args])


@commands.command(context_settings=_PASS_THROUGH)
def beat(ctx: typer.Context) -> None:
    """Run Celery beat, which queues due boards every SCHEDULE_CHECK_SECONDS (distributed mode;
    run one only)."""
    _load_settings()
    _require_redis("beat")
    from app.config import settings
    from app.tasks.celery_app import celery_app

    celery_app.start(
        [
            "beat",
            # In memory: the one entry runs every minute or so, so a restart loses nothing worth a
            # schedule file, and a file torn by a kill would stop beat from starting again.
            "--scheduler=celery.beat:Scheduler",
            f"--loglevel={settings.log_level}",
            *ctx.args,
        ]
    )
