"""The readiness report: its numbers are the store's, its forms agree, its page is safe."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import regflow
from browser import browser, console_errors, screenshot  # noqa: F401
from regflow import events as ev
from regflow._calendar import cms_date
from regflow._converter import converter
from regflow.report import (
    STEPS,
    Readiness,
    readiness,
    to_csv,
    to_html,
    to_json,
    write,
)
from regflow.store import ANY_AGENCY, Repository, SQLiteStore
from regflow.testing import registrations

YEAR = 2024
FLOW = regflow.Workflow.for_plan_year(YEAR)
AGENCIES = ("acme", "beta", None)
IS, SS = regflow.IndividualState, regflow.ShopState
Status = regflow.Status
ET = dt.timezone(dt.timedelta(hours=-4))


def as_agent(reg: regflow.Registration, number: int, agency: str | None):
    """*reg*'s history replayed as agent *number* of *agency*, with its own ids."""
    start = reg.history[0]
    assert isinstance(start, ev.StartRegistration)
    history = [
        attrs.evolve(start, agent_id=f"agent-{number}", agency_id=agency),
        *reg.history[1:],
    ]
    history = [
        attrs.evolve(e, event_id=f"{number}-{seq}-{e.event_id}")
        for seq, e in enumerate(history)
    ]
    return FLOW.replay(history)


def store_roster(path: Path, regs: list[regflow.Registration]) -> Repository:
    """Write *regs* to a fresh SQLite store; NPNs held twice keep the first."""
    store = SQLiteStore(str(path))
    for reg in regs:
        try:
            store.write(reg, expected_version=0)
        except regflow.DuplicateAccount:
            continue
    return Repository(store, agency=ANY_AGENCY)


@st.composite
def lifecycles(
    draw: st.DrawFn, number: int, agency: str | None
) -> regflow.Registration:
    """Agent *number* of *agency*, taken through the steps up to a random one:
    profile, training, agreements (SHOP too, maybe), the Tracker, writing in,
    an RCL listing valid or not, a termination and a reinstatement, with gaps
    of days between them (so some confirmations come late)."""
    shop = draw(st.booleans())
    stop = draw(st.integers(0, 10))
    at = dt.datetime(2023, 9, 4, 9, tzinfo=ET) + dt.timedelta(draw(st.integers(0, 45)))
    gaps = iter(draw(st.lists(st.integers(0, 4), min_size=12, max_size=12)))
    ids = itertools.count(1)
    reg = FLOW.start(
        ev.StartRegistration(
            event_id=f"{number}-0",
            at=at,
            agent_id=f"agent-{number}",
            agency_id=agency,
            portal_account_id=f"portal-{number}",
            plan_year=YEAR,
            prior_year=YEAR - 1,
        )
    )
    profile = regflow.Profile(
        role=regflow.Role.MARKETPLACE_AGENT_BROKER,
        contact=regflow.ContactDetails(
            name=f"Agent {number}",
            email=f"a{number}@example.com",
            phone="555-0100",
            zip_code="33101",
        ),
        find_local_help=draw(st.booleans()),
        shop=shop,
        npn=str(10_000_000 + number),
    )
    agreement = regflow.Agreement
    valid = draw(
        st.sampled_from([regflow.NpnValidity.VALID, regflow.NpnValidity.INVALID])
    )
    where = draw(st.sampled_from(list(regflow.Marketplaces)))
    reason = draw(st.sampled_from(list(regflow.TerminationReason)))

    def listing(reg: regflow.Registration) -> dict[str, object]:
        done, shop_done = reg.individual_registered_at, reg.shop_registered_at
        return {
            "npn_valid": valid,
            "individual_completion": done and cms_date(done),
            "shop_completion": shop_done and cms_date(shop_done),
        }

    shop_step = [(ev.AcceptAgreement, {"agreement": agreement.SHOP_PRIVACY_SECURITY})]
    steps: list[tuple[type[ev.Event], object]] = [
        (ev.SaveProfile, {"profile": profile}),
        (ev.CompleteProfile, {}),
        (ev.CompleteMlmsTraining, {"curriculum": regflow.Curriculum.RETURNING}),
        (ev.AcceptAgreement, {"agreement": agreement.INDIVIDUAL_GENERAL}),
        (ev.AcceptAgreement, {"agreement": agreement.INDIVIDUAL_PRIVACY_SECURITY}),
        *(shop_step if shop else []),
        (ev.ConfirmTracker, {}),
        (ev.ContactHelpDesk, {}),
        (ev.ObserveRclListing, listing),
        (ev.Terminate, {"reason": reason, "marketplaces": where}),
        (ev.Reinstate, {"reason": reason, "marketplaces": where}),
    ]
    for kind, fields in steps[: stop + int(shop)]:
        at += dt.timedelta(days=next(gaps), hours=1)
        values = fields(reg) if callable(fields) else fields
        event = kind(event_id=f"{number}-{next(ids)}", at=at, **values)
        if FLOW.check(reg, event):  # e.g. writing in before the RCL is late
            reg = FLOW.apply(reg, event)
    return reg


@st.composite
def rosters(draw: st.DrawFn) -> list[regflow.Registration]:
    """Up to 8 agents of three agencies: through the lifecycle, or wherever
    regflow.testing's random walks reach."""
    regs = []
    for number in range(draw(st.integers(0, 8))):
        agency = draw(st.sampled_from(AGENCIES))
        if draw(st.integers(0, 3)):
            regs.append(draw(lifecycles(number, agency)))
        else:
            walked = draw(registrations(plan_year=YEAR, max_events=12))
            regs.append(as_agent(walked, number, agency))
    return regs


def last_day(regs: list[regflow.Registration]) -> dt.date:
    return max(cms_date(e.at) for r in regs for e in r.history)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    roster=rosters(),
    days_after=st.integers(0, 20),
    locale=st.sampled_from(["en", "es"]),
)
def test_report_numbers_equal_the_store_counts(
    roster: list[regflow.Registration], days_after: int, locale: str
) -> None:
    """Funnel, totals, trend and needing-action match the store's own counts."""
    regs = roster
    on = (last_day(regs) if regs else dt.date(2023, 10, 2)) + dt.timedelta(days_after)
    with tempfile.TemporaryDirectory() as folder:
        every = store_roster(Path(folder) / "r.sqlite3", regs)
        try:
            for scope in (ANY_AGENCY, *AGENCIES):
                repo = every if scope is ANY_AGENCY else every.scoped(scope)
                _check_counts(
                    repo, readiness(repo, plan_year=YEAR, on=on, locale=locale)
                )
        finally:
            every.close()


def _check_counts(repo: Repository, found: Readiness) -> None:
    assert found.agents == repo.count(plan_year=YEAR)
    assert found.certified == repo.count(plan_year=YEAR, individual=IS.CERTIFIED)
    assert [s.step for s in found.funnel] == list(STEPS)
    for step in found.funnel:
        assert step.individual == sum(
            repo.count(plan_year=YEAR, individual=s) for s in step.individual_states
        )
        assert step.shop == sum(
            repo.count(plan_year=YEAR, shop=s) for s in step.shop_states
        )
    assert sum(s.individual for s in found.funnel) == found.agents
    assert sum(s.shop for s in found.funnel) == found.agents
    stored = list(repo.by_plan_year(YEAR))
    # Everyone not yet done, flagged, terminated or with a late confirmation.
    unfinished = {
        Status.IN_PROGRESS,
        Status.ACTION_NEEDED,
        Status.TERMINATED,
    }
    expected = {
        (r.agency_id, r.agent_id)
        for r in stored
        if r.status in unfinished or regflow.overdue([r], on=found.on)
    }
    listed = {(i.agency_id, i.agent_id) for g in found.actions for i in g.items}
    assert listed == expected
    assert found.needing_action == len(expected)
    if stored:
        # Day by day, the trend is the replay of each log up to that day.
        for point in found.trend[:: max(1, len(found.trend) // 4)] + found.trend[-1:]:
            assert (point.individual, point.shop) == _certified_on(stored, point.day)
        if found.on >= last_day(stored):
            assert found.trend[-1].individual == found.certified
            assert found.trend[-1].shop == found.step("certified").shop


def _certified_on(regs: list[regflow.Registration], day: dt.date) -> tuple[int, int]:
    individual = shop = 0
    for reg in regs:
        prefix = [e for e in reg.history if cms_date(e.at) <= day]
        if not prefix:
            continue
        then = FLOW.replay(prefix)
        individual += then.individual is IS.CERTIFIED
        shop += then.shop is SS.LISTED
    return individual, shop


@settings(max_examples=40, deadline=None)
@given(reg=registrations(plan_year=YEAR, max_events=20))
def test_replay_steps_are_the_replays_of_each_prefix(reg: regflow.Registration) -> None:
    """Workflow.replay_steps yields, per event, the replay of the log up to it."""
    steps = list(FLOW.replay_steps(reg.history))
    assert len(steps) == len(reg.history)
    assert steps[-1] == reg == FLOW.replay(reg.history)
    for n in (1, len(steps) // 2 or 1):
        assert steps[n - 1] == FLOW.replay(reg.history[:n])


# -- on the demo ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The demo database and its two lists, built once."""
    from regflow.cli import main

    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.sqlite3"
    with pytest.raises(SystemExit) as done:
        main(["demo", "--db", str(db), "--dir", str(folder / "lists")])
    assert done.value.code == 0
    return (
        db,
        folder / "lists" / "TBL_RCL_1.csv",
        folder / "lists" / "AB_Termination_List_1.csv",
    )


def demo_report(demo: tuple[Path, Path, Path], **kw: object) -> Readiness:
    db, rcl, termination = demo
    with Repository(SQLiteStore(str(db)), agency=ANY_AGENCY) as repo:
        return readiness(
            repo,
            plan_year=YEAR,
            on=dt.date(2023, 10, 20),
            rcl=rcl,
            termination=termination,
            **kw,  # type: ignore[arg-type]
        )


def test_demo_groups_name_their_reason_and_next_step(
    demo: tuple[Path, Path, Path],
) -> None:
    """The demo's late RCL listings carry the email; flagged and terminated are apart."""
    found = demo_report(demo)
    groups = {(g.reason, g.code): g for g in found.actions}
    late = groups[("rcl_overdue", None)]
    ready = [i for i in late.items if i.mailto]
    assert ready and all(
        i.mailto.startswith("mailto:FFMProducer-AssisterHelpDesk@cms.hhs.gov?")
        for i in ready
    )
    assert {i.agent_id for i in groups[("npn_invalid", None)].items} == {
        "agent-018",
        "agent-019",
    }
    assert [i.agent_id for i in groups[("terminated", None)].items] == ["agent-024"]
    refused = [g for g in found.actions if g.reason == "refused"]
    assert {g.code for g in refused} >= {"S13.launch_expired"}
    assert all(i.refusals[0] == g.code for g in refused for i in g.items)
    assert found.business_days_left == 7  # Oct 23-27, 30, 31
    assert found.open_enrollment == dt.date(2023, 11, 1)


def test_demo_in_spanish(demo: tuple[Path, Path, Path]) -> None:
    """--locale es writes the steps, reasons and next steps in Spanish."""
    found = demo_report(demo, locale="es")
    assert found.step("profile").label == "perfil"
    titles = [g.title for g in found.actions]
    assert "En la RCL con el NPN no válido" in titles
    late = next(g for g in found.actions if g.reason == "rcl_overdue")
    assert any(i.next_step.startswith("Enviar el correo") for i in late.items)
    html = to_html(found)
    assert 'lang="es"' in html and "Quién requiere acción" in html


def test_lists_are_named_counted_and_hashed(demo: tuple[Path, Path, Path]) -> None:
    """Each list file reconciled against is listed with its counts, date and digest."""
    from regflow.lists import plan

    _, rcl, termination = demo
    found = demo_report(demo)
    with Repository(SQLiteStore(str(demo[0])), agency=ANY_AGENCY) as repo:
        files = plan(repo, rcl=rcl, termination=termination, on=found.on).files
    assert [(a.file, a.read, a.kept, a.skipped, a.ignored) for a in found.lists] == [
        (Path(f.file).name, f.read, f.kept, f.skipped, f.ignored) for f in files
    ]
    assert found.lists[0].sha256 == hashlib.sha256(rcl.read_bytes()).hexdigest()
    # The demo dates its lists, so the report is the same on every run.
    assert found.lists[0].modified == dt.datetime(2023, 10, 20, 12, tzinfo=dt.UTC)
    assert found.reconciled_on == found.on


def test_json_is_the_converters_and_reads_back(demo: tuple[Path, Path, Path]) -> None:
    """The JSON form structures back to the same Readiness."""
    found = demo_report(demo)
    data = json.loads(to_json(found))
    assert data["scope"] == "every agency" and data["on"] == "2023-10-20"
    data.pop("scope")
    assert converter.structure(data, Readiness) == found


def test_csv_holds_every_number_and_no_formula(demo: tuple[Path, Path, Path]) -> None:
    """One quoted row per funnel cell, trend point, action and list; no formula."""
    found = demo_report(demo)
    hostile = attrs.evolve(
        found.actions[0],
        items=(attrs.evolve(found.actions[0].items[0], agent_id="=HYPERLINK(1)"),),
    )
    found = attrs.evolve(found, actions=(hostile, *found.actions[1:]))
    text = to_csv(found)
    rows = list(csv.DictReader(io.StringIO(text)))
    sections = Counter(r["section"] for r in rows)
    assert sections["funnel"] == 2 * len(STEPS)
    assert sections["trend"] == 2 * len(found.trend)
    assert sections["action"] == sum(len(g.items) for g in found.actions)
    assert sections["list"] == len(found.lists)
    funnel = {
        (r["item"], r["track"]): int(r["value"])
        for r in rows
        if r["section"] == "funnel"
    }
    assert funnel[("certified", "individual")] == found.certified
    assert any(r["agent_id"] == "'=HYPERLINK(1)" for r in rows)
    assert all(line.startswith('"') for line in text.splitlines())


# -- the page ------------------------------------------------------------------

_HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def hostile_report(tmp_path: Path) -> Readiness:
    """A report whose agent id, agency and NPN-less name are markup."""
    reg = FLOW.start(
        ev.StartRegistration(
            event_id="h1",
            at=dt.datetime(2023, 10, 2, 9, tzinfo=ET),
            agent_id=_HOSTILE,
            agency_id='"><b>agency</b>',
            portal_account_id="p",
            plan_year=YEAR,
        )
    )
    return readiness([reg], plan_year=YEAR, on=dt.date(2023, 10, 20))


def test_html_escapes_every_value(tmp_path: Path) -> None:
    """Markup in an agent id or agency is shown as text, never run."""
    html = to_html(hostile_report(tmp_path))
    assert _HOSTILE not in html and "<b>agency</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_html_loads_nothing(demo: tuple[Path, Path, Path]) -> None:
    """No script, stylesheet, image, font or frame: it opens from an attachment."""
    html = to_html(demo_report(demo))
    lowered = html.lower()
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import"):
        assert tag not in lowered, tag
    assert not re.search(r"\bsrc\s*=", lowered)
    # url() only ever points into the page (a chart's clip paths).
    assert re.findall(r"url\((.)", lowered) == ["#"] * lowered.count("url(")
    # The only addresses are the SVG namespaces and the help desk's mailto links.
    found = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert found <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert lowered.count("<svg") == 2


def test_html_is_the_same_bytes_every_time(demo: tuple[Path, Path, Path]) -> None:
    """Same data, same page: charts hashed with a fixed salt, no dates stamped."""
    assert to_html(demo_report(demo)) == to_html(demo_report(demo))


def test_page_opens_in_chromium_without_errors(
    demo: tuple[Path, Path, Path],
    browser: object,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    """The demo's page renders both charts, shows the numbers, logs no error."""
    from selenium.webdriver.common.by import By

    found = demo_report(demo)
    html, _, _ = write(found, tmp_path / "report.html")
    driver = browser
    driver.get(html.as_uri())  # type: ignore[attr-defined]
    assert console_errors(driver) == []
    charts = driver.find_elements(By.CSS_SELECTOR, "figure svg")  # type: ignore[attr-defined]
    assert len(charts) == 2 and all(c.size["width"] > 300 for c in charts)
    cells = {
        row.get_attribute("data-step"): row.find_elements(By.CSS_SELECTOR, "td")
        for row in driver.find_elements(By.CSS_SELECTOR, "tr[data-step]")  # type: ignore[attr-defined]
    }
    assert cells["certified"][1].get_attribute("textContent") == str(found.certified)
    shot = screenshot(driver, tmp_path / "report.png")
    assert shot.stat().st_size > 10_000


def test_hostile_page_runs_nothing_in_chromium(
    tmp_path: Path,
    browser: object,  # noqa: F811 - the fixture
) -> None:
    """An agent id of markup opens as text: no alert, no error."""
    html, _, _ = write(hostile_report(tmp_path), tmp_path / "h.html")
    driver = browser
    driver.get(html.as_uri())  # type: ignore[attr-defined]
    assert console_errors(driver) == []
    body = driver.find_element("tag name", "body").text  # type: ignore[attr-defined]
    assert '<script>alert("x")</script>' in body


def test_every_state_is_in_exactly_one_funnel_step() -> None:
    """The funnel's steps partition each track's states; certified is the RCL's Y."""
    found = readiness([], plan_year=YEAR, on=dt.date(2023, 10, 20))
    individual = [s for step in found.funnel for s in step.individual_states]
    shop = [s for step in found.funnel for s in step.shop_states]
    assert sorted(individual, key=str) == sorted(IS, key=str)
    assert sorted(shop, key=str) == sorted(SS, key=str)
    assert found.step("certified").individual_states == (IS.CERTIFIED,)
    assert found.step("certified").shop_states == (SS.LISTED,)
    assert found.step("listed").individual_states == (IS.NPN_INVALID,)
    assert set(found.step("registered").individual_states) == {
        IS.REGISTERED,
        IS.ESCALATED,
        IS.REINSTATED,
    }
    assert (found.agents, found.trend, found.actions) == (0, (), ())


def test_bad_arguments_are_typed_errors() -> None:
    """A bad plan year, day or locale, or lists without a repository: InvalidValue."""
    day = dt.date(2023, 10, 20)
    for kwargs in (
        {"plan_year": "2024", "on": day},
        {"plan_year": YEAR, "on": dt.datetime(2023, 10, 20, tzinfo=ET)},
        {"plan_year": YEAR, "on": day, "locale": "fr"},
        {"plan_year": YEAR, "on": day, "rcl": "TBL_RCL_1.csv"},
    ):
        with pytest.raises(regflow.InvalidValue):
            readiness([], **kwargs)  # type: ignore[arg-type]


def test_the_report_speaks_both_shipped_locales() -> None:
    """Every report text has English and Spanish, with the same parameters."""
    from string import Formatter

    from regflow.report._texts import REPORT_TEXTS

    en, es = REPORT_TEXTS["en"], REPORT_TEXTS["es"]
    assert set(en) == set(es)

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in Formatter().parse(text) if name}

    assert all(fields(en[k]) == fields(es[k]) for k in en)


def test_a_long_group_is_cut_on_the_page_and_whole_in_the_csv(
    demo: tuple[Path, Path, Path],
) -> None:
    """Past PAGE_ROWS agents a group's table says how many more; the CSV has all."""
    from regflow.report._render import PAGE_ROWS

    found = demo_report(demo)
    group = found.actions[0]
    many = tuple(
        attrs.evolve(group.items[0], agent_id=f"many-{n:04d}")
        for n in range(PAGE_ROWS + 7)
    )
    found = attrs.evolve(found, actions=(attrs.evolve(group, items=many),))
    html = to_html(found)
    shown = re.findall(r'<td class="id">many-(\d{4})</td>', html)
    assert shown == [f"{n:04d}" for n in range(PAGE_ROWS)]
    assert "... and 7 more: every agent is in the CSV and JSON" in html
    assert f"({PAGE_ROWS + 7})" in html  # the group's heading counts them all
    rows = list(csv.DictReader(io.StringIO(to_csv(found))))
    assert sum(1 for r in rows if r["section"] == "action") == PAGE_ROWS + 7
