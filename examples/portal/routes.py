"""The pages: the start page (first login), an agent's page, an agency's page.

Every write is a form POST that carries a hidden ``event_id`` made when the
page was drawn, so a double submit sends the same event twice and the store,
idempotent on event ids, keeps one. A refusal or a malformed form redraws
the page with the reasons, in the page's language, never a traceback.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import attrs
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import regflow
from regflow import events as ev
from regflow.store import AsyncRepository

from .app import AgencyRepo, Locale, NotFound, Portal, PortalDep, render
from .forms import cards, read_event
from .i18n import text

__all__ = ["router"]

router = APIRouter()
_ET: Final = ZoneInfo("America/New_York")  # the day CMS counts business days in


async def _form(request: Request) -> dict[str, str]:
    posted = await request.form()
    return {k: v for k, v in posted.items() if isinstance(v, str)}


def _agent_url(
    agency: str, agent_id: str, locale: str, tail: str = "", **query: str
) -> str:
    path = f"/agencies/{quote(agency, safe='')}/agents/{quote(agent_id, safe='')}{tail}"
    return f"{path}?{urlencode({'lang': locale, **query})}"


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, portal: PortalDep, locale: Locale) -> Response:
    """The agencies, and the first login of the plan year."""
    return await _index(request, portal, locale)


async def _index(
    request: Request,
    portal: Portal,
    locale: str,
    errors: tuple[str, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    counts = {
        agency: await portal.repository(agency).count(plan_year=portal.plan_year)
        for agency in portal.settings.agencies
    }
    return render(
        request,
        "index.html",
        locale,
        status,
        here="/",
        portal=portal,
        counts=counts,
        errors=errors,
        event_id=str(uuid.uuid4()),
    )


@router.post("/login")
async def login(request: Request, portal: PortalDep, locale: Locale) -> Response:
    """Start the plan year's registration (or resume it) and open the agent's page."""
    form = await _form(request)
    agency, agent_id = form.get("agency", ""), form.get("agent_id", "").strip()
    if agency not in portal.settings.agencies:
        raise NotFound(f"agency {agency!r}")
    repo = portal.repository(agency)
    year = portal.plan_year
    try:
        await repo.load(agent_id, year)
    except regflow.RegistrationNotFound:
        try:
            await _start(repo, form, agent_id, agency, year, portal)
        except regflow.RegflowError as error:
            return await _index(request, portal, locale, (str(error),), 422)
    except regflow.RegflowError as error:  # e.g. a blank agent id
        return await _index(request, portal, locale, (str(error),), 422)
    return RedirectResponse(_agent_url(agency, agent_id, locale), status_code=303)


async def _start(
    repo: AsyncRepository,
    form: Mapping[str, str],
    agent_id: str,
    agency: str,
    year: int,
    portal: Portal,
) -> None:
    event_id, now = form.get("event_id", ""), portal.now()
    try:  # last year's registration here: carry it over (S1)
        await repo.load(agent_id, year - 1)
    except regflow.RegistrationNotFound:
        await repo.start(
            ev.StartRegistration(
                event_id=event_id,
                at=now,
                agent_id=agent_id,
                agency_id=agency,
                portal_account_id=form.get("portal_account_id", "").strip(),
                plan_year=year,
                prior_year=year - 1 if "returning" in form else None,
            )
        )
    else:
        await repo.renew(agent_id, year, event_id=event_id, at=now)


@router.get("/agencies/{agency}/agents/{agent_id:path}", response_class=HTMLResponse)
async def agent_page(
    request: Request,
    agency: str,
    agent_id: str,
    repo: AgencyRepo,
    portal: PortalDep,
    locale: Locale,
    done: str = "",
) -> Response:
    """Where the registration stands, and what the agent may do now."""
    reg = await repo.load(agent_id, portal.plan_year)
    return _agent(request, portal, agency, reg, locale, done=done)


def _agent(
    request: Request,
    portal: Portal,
    agency: str,
    reg: regflow.Registration,
    locale: str,
    *,
    done: str = "",
    errors: tuple[str, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    now = portal.now()
    flow = portal.flow
    menu = flow.explain(reg, at=now, locale=locale)
    labels = {o.kind: o.label for o in menu.options}
    tracks = [
        (
            "individual",
            f"individual.{reg.individual.value}",
            regflow.deadlines(reg, flow.rules, regflow.Track.INDIVIDUAL),
        ),
        (
            "shop",
            f"shop.{reg.shop.value}",
            regflow.deadlines(reg, flow.rules, regflow.Track.SHOP),
        ),
    ]
    late = [
        o
        for o in regflow.overdue([reg], on=now.astimezone(_ET).date())
        if o.escalation is not None and not o.escalated
    ]
    return render(
        request,
        "agent.html",
        locale,
        status,
        here=_agent_url(agency, reg.agent_id, locale),
        agency=agency,
        agency_name=portal.settings.agencies[agency],
        reg=reg,
        tracks=tracks,
        cards=cards(menu, reg),
        history=[
            (labels.get(e.kind) or text(locale, e.kind), e.at)
            for e in reversed(reg.history)
        ],
        late=late,
        done=labels.get(done, ""),
        errors=errors,
        action=_agent_url(agency, reg.agent_id, locale, "/events"),
        vendor_action=f"/agencies/{quote(agency, safe='')}/vendor-completions?lang={locale}",
        at_vendor=reg.launch
        if reg.individual is regflow.IndividualState.VENDOR_TRAINING
        else None,
    )


@router.post(
    "/agencies/{agency}/agents/{agent_id:path}/events", response_class=HTMLResponse
)
async def send_event(
    request: Request,
    agency: str,
    agent_id: str,
    repo: AgencyRepo,
    portal: PortalDep,
    locale: Locale,
) -> Response:
    """Send the event a menu form posted; redraw the page with any refusal."""
    reg = await repo.load(agent_id, portal.plan_year)
    form = await _form(request)
    kind = form.get("kind", "")
    try:
        event = _event(portal, reg, form, kind)
        await repo.apply(agent_id, portal.plan_year, event)
    except regflow.StepRefused as refused:
        messages = tuple(r.message(locale) for r in refused.refusals)
        return _agent(request, portal, agency, reg, locale, errors=messages, status=422)
    except regflow.RegflowError as error:
        return _agent(
            request, portal, agency, reg, locale, errors=(str(error),), status=422
        )
    return RedirectResponse(
        _agent_url(agency, agent_id, locale, done=kind), status_code=303
    )


def _event(
    portal: Portal, reg: regflow.Registration, form: Mapping[str, str], kind: str
) -> ev.Event:
    now = portal.now()
    option = portal.flow.explain(reg, at=now).option(kind)  # InvalidValue if unknown
    if option.actor is not regflow.Actor.AGENT:
        raise regflow.InvalidValue(f"{kind!r} is not the agent's to send")
    return read_event(option, form, event_id=form.get("event_id", ""), at=now)


@router.post("/agencies/{agency}/vendor-completions")
async def vendor_completion(
    request: Request, agency: str, repo: AgencyRepo, portal: PortalDep, locale: Locale
) -> Response:
    """A vendor reports a completed training for the portal's launch (S13-S15).

    A real vendor calls this from its own server; the demo's agent page has
    a button for it. The event id is the launch's, so a vendor that retries
    is harmless.
    """
    form = await _form(request)
    agent_id, launch_id = form.get("agent_id", ""), form.get("launch_id", "")
    reg = await repo.load(agent_id, portal.plan_year)
    event = ev.CompleteVendorTraining(
        event_id=f"vendor-{launch_id}",
        at=portal.now(),
        vendor=form.get("vendor", ""),
        launch_id=launch_id,
        agent_id=agent_id,
        plan_year=portal.plan_year,
    )
    try:
        await repo.apply(agent_id, portal.plan_year, event)
    except regflow.StepRefused as refused:
        messages = tuple(r.message(locale) for r in refused.refusals)
        return _agent(request, portal, agency, reg, locale, errors=messages, status=422)
    except regflow.RegflowError as error:
        return _agent(
            request, portal, agency, reg, locale, errors=(str(error),), status=422
        )
    return RedirectResponse(
        _agent_url(agency, agent_id, locale, done=event.kind), status_code=303
    )


@router.get("/agencies/{agency}", response_class=HTMLResponse)
async def agency_page(
    request: Request,
    agency: str,
    repo: AgencyRepo,
    portal: PortalDep,
    locale: Locale,
    status: str = "",
    after: str | None = None,
) -> Response:
    """The agency's agents by status, a page at a time, and who needs action."""
    year = portal.plan_year
    chosen = next((s for s in regflow.Status if s.value == status), None)
    counts = {s: await repo.count(plan_year=year, status=s) for s in regflow.Status}
    try:
        page = await repo.page(
            plan_year=year, status=chosen, after=after, limit=portal.settings.page_size
        )
    except regflow.RegflowError as error:  # a tampered cursor
        raise NotFound(str(error)) from error
    return render(
        request,
        "agency.html",
        locale,
        agency=agency,
        agency_name=portal.settings.agencies[agency],
        year=year,
        counts=counts,
        chosen=chosen,
        page=page,
        needs=await _needs_action(repo, portal),
        outbox=await portal.database.outbox.messages(agency),
    )


@attrs.frozen
class NeedsAction:
    """One row of the agency's "needs action" table."""

    reg: regflow.Registration
    reason: str  # rcl_overdue, escalated, npn_invalid or terminated
    track: regflow.Track = regflow.Track.INDIVIDUAL
    late: int | None = None  # business days

    @property
    def name(self) -> str:
        """The agent's name, if the profile has one."""
        contact = self.reg.profile.contact
        return contact.name if contact is not None else ""


async def _needs_action(repo: AsyncRepository, portal: Portal) -> list[NeedsAction]:
    """Agents to look at: RCL overdue, NPN not valid, terminated (first 100 each)."""
    year, rows = portal.plan_year, []
    waiting: dict[str, regflow.Registration] = {}
    for filters in (
        {"individual": regflow.IndividualState.REGISTERED},
        {"individual": regflow.IndividualState.ESCALATED},
        {"shop": regflow.ShopState.REGISTERED},
    ):
        for reg in await repo.page(plan_year=year, limit=100, **filters):
            waiting[reg.agent_id] = reg
    today = portal.now().astimezone(_ET).date()
    for late in regflow.overdue(waiting.values(), on=today):
        if late.kind is regflow.Confirmation.RCL:
            reason = "escalated" if late.escalated else "rcl_overdue"
            reg = waiting[late.agent_id]
            rows.append(NeedsAction(reg, reason, late.track, late.business_days_late))
    for status in (regflow.Status.ACTION_NEEDED, regflow.Status.TERMINATED):
        for reg in await repo.page(plan_year=year, status=status, limit=100):
            flagged = (
                reg.individual is regflow.IndividualState.NPN_INVALID
                or reg.shop is regflow.ShopState.NPN_INVALID
            )
            rows.append(NeedsAction(reg, "npn_invalid" if flagged else "terminated"))
    return rows
