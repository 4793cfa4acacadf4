"""`hunter doctor`: what a check finds, the configuration check, and running checks in bounds.

Every check ends in one result: `ok`, `warn` (works, but deserves a look), `fail` (Hunter will not
work as configured: the command exits non-zero) or `skip` (an optional service that is not
configured). A failure always says what to do about it. Each check runs under its own time
limit, so a peer that never answers cannot hang the doctor.

This module imports no settings: the configuration check must run even when they are invalid.
The checks of the services themselves are in `doctor_checks`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pydantic import ValidationError

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Finding:
    """What a check found; `fix` says what to do when it is not ok."""

    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""


class CheckFailed(Exception):
    """Raised by a check that found a problem; without `fix`, the check's usual fix applies."""

    def __init__(self, detail: str, fix: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


# A check's probe is told whether it may contact outside services (`--online`).
Probe = Callable[[bool], Awaitable[Finding]]


@dataclass(frozen=True)
class Check:
    name: str
    probe: Probe
    timeout_s: float
    fix: str  # what to do when the probe fails without saying more, or runs out of time


async def run_check(check: Check, *, online: bool) -> CheckResult:
    """Run one check within its time limit; whatever goes wrong becomes a failing result."""
    try:
        async with asyncio.timeout(check.timeout_s):
            finding = await check.probe(online)
    except CheckFailed as exc:
        finding = Finding("fail", exc.detail, check.fix if exc.fix is None else exc.fix)
    except TimeoutError:
        finding = Finding("fail", f"no answer within {check.timeout_s:g} s", check.fix)
    except Exception as exc:  # a broken check still gets its line; the doctor goes on
        finding = Finding("fail", f"the check broke: {type(exc).__name__}: {exc}", check.fix)
    return CheckResult(check.name, finding.status, finding.detail, finding.fix)


async def run_checks(checks: Sequence[Check], *, online: bool) -> list[CheckResult]:
    """Run `checks` one after another.

    Not concurrently: checks share one event loop, and one check's blocking start (importing
    Playwright or the Anthropic SDK takes seconds) would eat into another's time limit and fail
    it with a timeout that says nothing true about its peer.
    """
    return [await run_check(check, online=online) for check in checks]


def failed(results: Sequence[CheckResult]) -> bool:
    return any(result.status == "fail" for result in results)


def invalid_settings(exc: ValidationError) -> list[tuple[str, str]]:
    """Each invalid setting as (VARIABLE, what is wrong with it)."""
    problems = []
    for error in exc.errors():
        variable = ".".join(str(part) for part in error["loc"]).upper() or "configuration"
        problems.append((variable, str(error["msg"]).removeprefix("Value error, ")))
    return problems


def check_configuration() -> list[CheckResult]:
    """Load the settings: one ok line, or one failing line per invalid variable."""
    from pydantic import ValidationError

    try:
        from app.config import env_files, settings
    except ValidationError as exc:
        return [
            CheckResult(
                "configuration",
                "fail",
                message if variable == "configuration" else f"{variable}: {message}",
                "correct it in the environment or in Hunter's .env file (see .env.example)",
            )
            for variable, message in invalid_settings(exc)
        ]
    files = [str(path) for path in env_files() if path.is_file()]
    source = f"{', '.join(files)} and the environment" if files else "the environment"
    mode = "distributed mode (REDIS_URL is set)" if settings.distributed else "embedded mode"
    return [CheckResult("configuration", "ok", f"read from {source}; {mode}")]
