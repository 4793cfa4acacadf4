"""/api/applications endpoints: the application tracker and the dashboard."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Response, status

from app.api.deps import SessionDep
from app.models import ApplicationStatus
from app.schemas.application import (
    ApplicationCreate,
    ApplicationList,
    ApplicationResponse,
    ApplicationUpdate,
    BulkDeleteRequest,
    BulkDeleteResponse,
    DashboardStats,
)
from app.services import applications, dashboard, events
from app.services.applications import ApplicationView

router = APIRouter(tags=["applications"])


def _respond(view: ApplicationView) -> ApplicationResponse:
    return ApplicationResponse.from_application(
        view.application, match_score=view.match_score, board_name=view.board_name
    )


def _announce(view: ApplicationView, background: BackgroundTasks) -> ApplicationView:
    # Background tasks run after the response, so after SessionDep's commit: never for a rollback.
    background.add_task(events.publish, [events.application_updated(view.application)])
    return view


@router.get("/applications", response_model=ApplicationList)
async def list_applications(
    session: SessionDep,
    status_: Annotated[
        ApplicationStatus | None, Query(alias="status", description="Only this status")
    ] = None,
    search: Annotated[
        str | None,
        Query(max_length=200, description="Text found in the title, company or notes (any case)"),
    ] = None,
    job_id: Annotated[uuid.UUID | None, Query(description="Only applications to this listing")] = (
        None
    ),
    due: Annotated[
        bool,
        Query(
            description="true: only open applications whose follow-up date has come, soonest first"
        ),
    ] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApplicationList:
    """Applications, most recently changed first, each with its activity log."""
    views, total = await applications.list_applications(
        session,
        status=status_,
        search=search,
        job_id=job_id,
        due=due,
        page=page,
        page_size=page_size,
    )
    return ApplicationList(
        applications=[_respond(view) for view in views],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/applications/dashboard", response_model=DashboardStats)
async def get_dashboard(session: SessionDep) -> DashboardStats:
    """Figures for the dashboard: boards, listings, applications and recent activity.

    Day and week buckets are UTC calendar days (weeks start on Monday), oldest first, and include
    the days with nothing.
    """
    return await dashboard.dashboard(session)


@router.post("/applications/bulk-delete", response_model=BulkDeleteResponse)
async def bulk_delete_applications(
    body: BulkDeleteRequest, session: SessionDep
) -> BulkDeleteResponse:
    """Delete up to 1000 applications at once. Ids that match nothing are listed in `not_found`
    and do not stop the others from being deleted."""
    deleted, not_found = await applications.delete_applications(session, body.ids)
    return BulkDeleteResponse(deleted=deleted, not_found=not_found)


@router.post(
    "/applications", response_model=ApplicationResponse, status_code=status.HTTP_201_CREATED
)
async def create_application(
    body: ApplicationCreate, session: SessionDep, background: BackgroundTasks
) -> ApplicationResponse:
    """Log an application.

    With `job_id`, the listing's title, company and URL are copied (unless given) and the listing
    is marked read. Without it, `company` and `title` are required. The application keeps its own
    copy, so deleting the listing or its board later never deletes the application.
    """
    return _respond(_announce(await applications.create_application(session, body), background))


@router.get("/applications/{application_id}", response_model=ApplicationResponse)
async def get_application(application_id: uuid.UUID, session: SessionDep) -> ApplicationResponse:
    """One application with its activity log, oldest entry first."""
    return _respond(await applications.get_application(session, application_id))


@router.patch("/applications/{application_id}", response_model=ApplicationResponse)
async def update_application(
    application_id: uuid.UUID,
    body: ApplicationUpdate,
    session: SessionDep,
    background: BackgroundTasks,
) -> ApplicationResponse:
    """Change the status, notes, follow-up date (`null` clears it) or applied date.

    Each real change adds an entry to the activity log; sending a value the application already
    has changes nothing.
    """
    view = await applications.update_application(session, application_id, body)
    return _respond(_announce(view, background))


@router.delete("/applications/{application_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_application(application_id: uuid.UUID, session: SessionDep) -> Response:
    """Delete an application and its activity log."""
    await applications.delete_application(session, application_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/applications/{application_id}/archive", response_model=ApplicationResponse)
async def archive_application(
    application_id: uuid.UUID, session: SessionDep, background: BackgroundTasks
) -> ApplicationResponse:
    """Set the status to `archived` (logged like any status change)."""
    view = await applications.archive_application(session, application_id)
    return _respond(_announce(view, background))
