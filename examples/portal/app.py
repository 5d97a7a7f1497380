"""The application: settings, the lifespan that opens the database and runs
the outbox worker, typed dependencies, and the error pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote

import attrs
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import URL
from starlette.exceptions import HTTPException

import regflow
from regflow.store import ANY_AGENCY, AsyncRepository

from .database import Database, open_database
from .i18n import LOCALES, pick_locale, text
from .outbox import run_worker
from .seed import AGENCIES, seed_if_empty

__all__ = [
    "AgencyRepo",
    "Locale",
    "NotFound",
    "Portal",
    "PortalDep",
    "Settings",
    "create_app",
    "plan_year_on",
    "render",
]

HERE: Final = Path(__file__).resolve().parent
TEMPLATES: Final = Jinja2Templates(directory=HERE / "templates")
# An agent id in a URL path: any character, one segment.
TEMPLATES.env.filters["path"] = lambda value: quote(str(value), safe="")


def utc_now() -> dt.datetime:
    """The server's clock: every event the portal makes is stamped with it."""
    return dt.datetime.now(dt.timezone.utc)


def plan_year_on(day: dt.date) -> int:
    """The plan year registration is for on *day*: from November 1 (open
    enrollment), next year's."""
    return day.year + 1 if day.month >= 11 else day.year


@attrs.frozen
class Settings:
    """How to run the portal.

    Attributes:
        database: a SQLite path, or a ``postgresql://`` URL.
        schema: the PostgreSQL schema of regflow's tables and the outbox.
        plan_year: the plan year served; by default the one of the clock's day.
        clock: the server's now (aware); tests pin it.
        page_size: rows per page of the agency listing.
        outbox_every: seconds between outbox runs; ``None`` runs no worker.
        seed: fill an empty database with the demo agencies.
        agencies: the agencies served, by id, with their names.
    """

    database: str = "portal.sqlite3"
    schema: str = "regflow"
    plan_year: int | None = None
    clock: Callable[[], dt.datetime] = utc_now
    page_size: int = 10
    outbox_every: float | None = 2.0
    seed: bool = False
    agencies: Mapping[str, str] = AGENCIES


@attrs.define
class Portal:
    """What every request needs: the settings, the database, the plan year."""

    settings: Settings
    database: Database
    plan_year: int

    @property
    def flow(self) -> regflow.Workflow:
        """The plan year's workflow."""
        return regflow.Workflow.for_plan_year(self.plan_year)

    def now(self) -> dt.datetime:
        """The server's now, in UTC."""
        return self.settings.clock().astimezone(dt.timezone.utc)

    def repository(self, agency: Any) -> AsyncRepository:
        """A repository of one agency (or ``ANY_AGENCY``), built per request."""
        return AsyncRepository(self.database.store, agency=agency)


class NotFound(Exception):
    """A page for something that is not there (agency, agent)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def get_portal(request: Request) -> Portal:
    """The portal the lifespan opened."""
    portal: Portal = request.app.state.portal
    return portal


def get_locale(lang: str | None = None) -> str:
    """The page's locale, from ``?lang=`` (English unless the portal has it)."""
    return pick_locale(lang)


PortalDep = Annotated[Portal, Depends(get_portal)]
Locale = Annotated[str, Depends(get_locale)]


def get_agency_repo(agency: str, portal: PortalDep) -> AsyncRepository:
    """The agency of the path's repository; a real portal takes the agency
    from the signed-in user instead, so that no query can forget it."""
    if agency not in portal.settings.agencies:
        raise NotFound(f"agency {agency!r}")
    return portal.repository(agency)


AgencyRepo = Annotated[AsyncRepository, Depends(get_agency_repo)]


def render(
    request: Request,
    name: str,
    locale: str,
    status: int = 200,
    *,
    here: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a template with the portal's words in *locale*.

    *here* is the page's own address, for the language switch, when the
    request's is not (a form post redrawn with a refusal).
    """
    address = URL(here) if here is not None else request.url
    switch = {other: str(address.include_query_params(lang=other)) for other in LOCALES}
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": lambda key: text(locale, key),
            "locale": locale,
            "switch": switch,
            "status_code": status,
            **context,
        },
        status_code=status,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """The portal as an ASGI application."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = await open_database(settings.database, schema=settings.schema)
        year = settings.plan_year or plan_year_on(settings.clock().date())
        portal = Portal(settings, database, year)
        if settings.seed:
            await seed_if_empty(database.store, year)
        app.state.portal = portal
        worker = None
        if settings.outbox_every is not None:
            worker = asyncio.create_task(
                run_worker(
                    portal.repository(ANY_AGENCY),
                    database.outbox,
                    clock=portal.now,
                    every=settings.outbox_every,
                )
            )
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await database.close()

    app = FastAPI(title="regflow reference portal", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from .routes import router

    app.include_router(router)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        locale = pick_locale(request.query_params.get("lang"))
        return render(request, "error.html", locale, 404, here="/", message=exc.what)

    @app.exception_handler(regflow.RegistrationNotFound)
    async def no_registration(
        request: Request, exc: regflow.RegistrationNotFound
    ) -> Response:
        locale = pick_locale(request.query_params.get("lang"))
        return render(request, "error.html", locale, 404, here="/", message=str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        locale = pick_locale(request.query_params.get("lang"))
        status, detail = exc.status_code, exc.detail
        return render(request, "error.html", locale, status, here="/", message=detail)

    return app
