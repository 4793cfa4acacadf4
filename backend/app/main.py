"""The FastAPI application: routers, middleware, error handlers and the process lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import (
    ai,
    applications,
    boards,
    health,
    jobs,
    notifications,
    portability,
    profile,
    scans,
    websocket,
)
from app.api.errors import ERROR_RESPONSES, install_error_handlers
from app.api.middleware import RequestLogMiddleware, TokenAuthMiddleware
from app.config import settings
from app.database import engine
from app.logging import configure_logging
from app.services import events
from app.tasks.dispatch import create_dispatcher

log = structlog.get_logger(__name__)

DESCRIPTION = """
Hunter watches the job boards you care about, keeps every listing it finds (deduplicated,
searchable, scored 0-100 against your preferences) and tracks your applications.

With `API_TOKEN` set, every endpoint except `/api/health` needs `Authorization: Bearer <token>`.
Errors are JSON: `{"error": CODE, "detail": "what went wrong"}`, plus `errors` for field problems.
"""


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    # Closed in reverse order, each even if an earlier one fails. The bus first and last: scans
    # resumed at start-up and those finishing during the shutdown grace period publish.
    async with AsyncExitStack() as closing:
        closing.push_async_callback(engine.dispose)
        bus = events.get_bus()
        await bus.start()
        closing.push_async_callback(bus.stop)
        application.state.dispatcher = dispatcher = create_dispatcher()
        await dispatcher.start()
        # No new scans, running ones get SHUTDOWN_GRACE_SECONDS, the rest are queued again.
        closing.push_async_callback(dispatcher.stop)
        log.info(
            "hunter_started",
            mode="distributed" if settings.distributed else "embedded",
            database=engine.dialect.name,
        )
        yield
        log.info("hunter_stopping")
    log.info("hunter_stopped")


def create_app() -> FastAPI:
    configure_logging()
    app = FastAPI(
        title="Hunter",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)
    routers = (boards, scans, jobs, profile, applications, health, portability, ai, notifications)
    for module in routers:
        app.include_router(module.router, prefix="/api")
    app.include_router(websocket.router)  # `/ws`, at the root as clients expect
    # Outermost first: CORS answers preflights before auth, auth runs before any handler.
    if settings.api_token is not None:
        app.add_middleware(TokenAuthMiddleware, token=settings.api_token.get_secret_value())
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(RequestLogMiddleware)
    return app


app = create_app()
