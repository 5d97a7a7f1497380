"""The reference portal (examples/portal) through its routes: pages, forms,
bad input, the outbox written once, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import regflow
from regflow.store import ANY_AGENCY
from store_fixtures import drop_schema, postgres_dsn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from portal import Settings, create_app, deliver
from portal.app import Portal, plan_year_on

NOW = dt.datetime(2026, 10, 20, 15, tzinfo=dt.timezone.utc)
YEAR = plan_year_on(NOW.date())  # 2026


def _client(database: str, **options: Any) -> TestClient:
    settings = Settings(
        database=database, clock=lambda: NOW, seed=True, outbox_every=None, **options
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(str(tmp_path / "portal.sqlite3")) as c:
        yield c


def _portal(client: TestClient) -> Portal:
    portal: Portal = client.app.state.portal  # type: ignore[attr-defined]
    return portal


def _call(client: TestClient, function: Any, *args: Any) -> Any:
    """Run a coroutine function in the app's event loop."""
    assert client.portal is not None, "use the client in a with block"
    return client.portal.call(function, *args)


def _load(client: TestClient, agent_id: str) -> regflow.Registration:
    reg: regflow.Registration = _call(
        client, _portal(client).repository("acme").load, agent_id, YEAR
    )
    return reg


def _find(pattern: str, text: str, group: int = 0) -> str:
    found = re.search(pattern, text, re.S)
    assert found is not None, pattern
    return found[group]


def _deliver(client: TestClient) -> int:
    portal = _portal(client)

    async def run() -> int:
        return await deliver(
            portal.repository(ANY_AGENCY), portal.database.outbox, now=NOW
        )

    written: int = _call(client, run)
    return written


def _hidden(page: str, kind: str) -> dict[str, str]:
    """The hidden inputs of the first form that sends *kind*."""
    form = re.search(
        rf'<form[^>]*>\s*<input type="hidden" name="kind" value="{kind}">(.*?)</form>',
        page,
        re.S,
    )
    assert form is not None, f"no form for {kind}"
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form[0]))


def test_plan_year_follows_open_enrollment() -> None:
    assert plan_year_on(dt.date(2026, 10, 31)) == 2026
    assert plan_year_on(dt.date(2026, 11, 1)) == 2027


def test_start_page_lists_agencies_with_counts(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Acme Insurance Agency" in page.text and ">20<" in page.text


def test_login_walk_and_double_submit(client: TestClient) -> None:
    login = client.get("/")
    event_id = _find(r'name="event_id" value="([^"]+)"', login.text, 1)
    form = {
        "event_id": event_id,
        "agency": "acme",
        "agent_id": "new-1",
        "portal_account_id": "p-1",
        "returning": "on",
    }
    first = client.post("/login", data=form, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/agencies/acme/agents/new-1?lang=en"
    again = client.post("/login", data=form, follow_redirects=False)  # a double click
    assert again.status_code == 303

    page = client.get("/agencies/acme/agents/new-1").text
    profile = {
        **_hidden(page, "save_profile"),
        "f.profile.role": "marketplace_agent_broker",
        "f.profile.contact.name": "Rosa Diaz",
        "f.profile.contact.email": "rosa@example.com",
        "f.profile.contact.phone": "555-0199",
        "f.profile.npn": "12345678",
    }
    sent = client.post("/agencies/acme/agents/new-1/events", data=profile)
    assert sent.status_code == 200 and "Done: Saving the profile" in sent.text
    client.post("/agencies/acme/agents/new-1/events", data=profile)  # again: kept once
    reg = _load(client, "new-1")
    assert reg.version == 2 and reg.profile.npn == regflow.NPN.parse("12345678")
    assert reg.enrollments == (regflow.Curriculum.RETURNING,)


def test_unknown_agent_and_agency_are_404_pages(client: TestClient) -> None:
    for url in (
        "/agencies/acme/agents/nobody",
        "/agencies/nowhere",
        "/agencies/nowhere/agents/x",
    ):
        page = client.get(url)
        assert page.status_code == 404
        assert "<h1>Not found</h1>" in page.text and "Traceback" not in page.text
    assert client.get("/agencies/acme?after=garbage").status_code == 404
    wrong = client.get("/login")  # a form's address, typed in
    assert wrong.status_code == 405 and "<h1>" in wrong.text


def test_tampered_forms_are_refused_with_a_message(client: TestClient) -> None:
    url = "/agencies/acme/agents/acme-015/events"  # agreements pending
    page = client.get("/agencies/acme/agents/acme-015").text
    good = _hidden(page, "accept_agreement")
    cases = {
        "not a valid Agreement": {**good, "f.agreement": "free-money"},
        "no event type": {**good, "kind": "pay_me"},
        "not the agent's to send": {**good, "kind": "terminate", "f.reason": "4"},
        "must be a non-empty string": {**good, "event_id": ""},
    }
    for message, form in cases.items():
        answer = client.post(url, data=form)
        assert answer.status_code == 422, message
        assert message in html.unescape(answer.text), message
        assert "Traceback" not in answer.text
    reg = _load(client, "acme-015")
    assert reg.individual is regflow.IndividualState.AGREEMENTS_PENDING  # nothing sent


def test_refusal_in_spanish(client: TestClient) -> None:
    # A post the page would not offer (the button is disabled): the refusal
    # comes back in the page's language, every reason of it.
    url = "/agencies/acme/agents/acme-013/events?lang=es"  # only started
    answer = client.post(url, data={"kind": "complete_profile", "event_id": "x-1"})
    assert answer.status_code == 422
    reg = _load(client, "acme-013")
    probe = regflow.events.CompleteProfile(event_id="x-1", at=NOW)
    reasons = _portal(client).flow.check(reg, probe).messages("es")
    assert reasons and all(r in html.unescape(answer.text) for r in reasons)
    assert "No se aceptó" in answer.text
    # Its language switch leads to the agent's page, not to the post's address.
    assert 'href="/agencies/acme/agents/acme-013?lang=en"' in answer.text
    menu = client.get("/agencies/acme/agents/acme-013?lang=es").text
    assert "Lo que puede hacer ahora" in menu and 'lang="es"' in menu


def test_agency_page_pages_and_needs_action(client: TestClient) -> None:
    page = client.get("/agencies/acme?status=certified").text
    assert page.count('href="/agencies/acme/agents/acme-0') >= 10
    after = re.search(r'id="next-page" href="[^"]*after=([^"]+)"', page)
    assert after is not None
    second = client.get(f"/agencies/acme?status=certified&after={after[1]}").text
    assert "acme-011" in second and "acme-001<" not in second
    needs = _find(r'id="needs-action".*?</table>', page)
    reasons = dict(
        re.findall(r'agents/(acme-\d+)\?lang=en">.*?badge reason (\w+)', needs, re.S)
    )
    assert reasons == {
        "acme-016": "rcl_overdue",
        "acme-017": "escalated",
        "acme-018": "npn_invalid",
        "acme-019": "terminated",
        "acme-020": "rcl_overdue",  # its SHOP listing
    }


def test_outbox_written_once(client: TestClient, tmp_path: Path) -> None:
    assert _deliver(client) == 1  # acme-017 wrote to the help desk
    assert _deliver(client) == 0
    # A second escalation, through the page: acme-016's RCL listing is late.
    page = client.get("/agencies/acme/agents/acme-016").text
    client.post(
        "/agencies/acme/agents/acme-016/events", data=_hidden(page, "contact_help_desk")
    )
    assert _deliver(client) == 1
    # A worker that forgets its checkpoint (a crash before it was saved)
    # handles everything again and writes nothing twice.
    with sqlite3.connect(tmp_path / "portal.sqlite3") as conn:
        conn.execute("UPDATE regflow_consumers SET position = 0")
    assert _deliver(client) == 0
    with sqlite3.connect(tmp_path / "portal.sqlite3") as conn:
        rows = conn.execute(
            "SELECT agent_id, recipient, subject FROM portal_outbox ORDER BY agent_id"
        ).fetchall()
    assert [r[:2] for r in rows] == [
        ("acme-016", regflow.HELP_DESK_EMAIL),
        ("acme-017", regflow.HELP_DESK_EMAIL),
    ]
    assert all("missing from the RCL for plan year 2026" in r[2] for r in rows)
    assert "acme-017" in client.get("/agencies/acme").text.split('id="outbox"')[1]


def test_outbox_once_across_restarts(tmp_path: Path) -> None:
    database = str(tmp_path / "portal.sqlite3")
    with _client(database) as first:
        assert _deliver(first) == 1
    with _client(database) as second:  # a new process on the same file
        assert _deliver(second) == 0
        assert second.get("/").text.count(">20<") == 1  # seeded once, not twice


def test_worker_in_the_lifespan_writes_the_outbox(tmp_path: Path) -> None:
    database = str(tmp_path / "p.sqlite3")
    settings = Settings(
        database=database, clock=lambda: NOW, seed=True, outbox_every=0.05
    )
    with TestClient(create_app(settings)) as c:
        for _ in range(200):
            if "acme-017" in c.get("/agencies/acme").text.split('id="outbox"')[1]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the worker wrote no e-mail")


def test_portal_on_postgres() -> None:
    dsn = postgres_dsn()
    schema = f"portal_test_{secrets.token_hex(4)}"
    try:
        with _client(dsn, schema=schema) as c:
            assert ">20<" in c.get("/").text
            page = c.get("/agencies/acme/agents/acme-015").text
            form = _hidden(page, "accept_agreement")
            assert (
                c.post("/agencies/acme/agents/acme-015/events", data=form).status_code
                == 200
            )
            assert _deliver(c) == 1 and _deliver(c) == 0
            assert "acme-017" in c.get("/agencies/acme").text.split('id="outbox"')[1]
            assert c.get("/agencies/acme/agents/nobody").status_code == 404
    finally:
        drop_schema(dsn, schema)


def test_login_refuses_a_blank_agent_id(client: TestClient) -> None:
    form = {
        "event_id": "e-1",
        "agency": "acme",
        "agent_id": " ",
        "portal_account_id": "p",
    }
    answer = client.post("/login", data=form)
    assert answer.status_code == 422
    assert "agent_id" in html.unescape(answer.text) and 'role="alert"' in answer.text
    unknown = client.post("/login", data={**form, "agency": "elsewhere"})
    assert unknown.status_code == 404


def test_what_agents_type_is_escaped(client: TestClient) -> None:
    odd = "o'neil <b>&/x"
    form = {
        "event_id": "e-2",
        "agency": "acme",
        "agent_id": odd,
        "portal_account_id": "p",
    }
    first = client.post("/login", data=form, follow_redirects=False)
    assert first.headers["location"].startswith(
        "/agencies/acme/agents/o%27neil%20%3Cb%3E%26%2Fx?"
    )
    page = client.get(first.headers["location"]).text
    assert "<b>&" not in page and "o&#39;neil &lt;b&gt;&amp;/x" in page
    script = "<script>alert(1)</script>"
    profile = {
        **_hidden(page, "save_profile"),
        "f.profile.contact.name": script,
        "f.profile.contact.email": "e@example.com",
        "f.profile.contact.phone": "1",
    }
    saved = client.post(_action(page), data=profile)
    assert saved.status_code == 200 and script not in saved.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in saved.text
    listing = client.get("/agencies/acme?status=in_progress").text
    assert "o%27neil%20%3Cb%3E%26%2Fx" in listing


def _action(page: str) -> str:
    found = re.search(r'<form method="post" action="([^"]+/events[^"]*)"', page)
    assert found is not None
    return html.unescape(found[1])


def test_vendor_training_through_the_portal(client: TestClient) -> None:
    page = client.get("/agencies/acme/agents/acme-014").text  # training
    launch = _hidden(page, "launch_vendor_training")
    assert launch["f.vendor"] == "HealthSherpa" and "f.launch_id" not in launch
    sent = client.post("/agencies/acme/agents/acme-014/events", data=launch)
    assert 'id="vendor"' in sent.text
    reg = _load(client, "acme-014")
    assert reg.individual is regflow.IndividualState.VENDOR_TRAINING
    assert reg.launch is not None and reg.launch.launch_id.startswith("launch-")
    assert reg.launch.expires_at == NOW + dt.timedelta(days=1)  # the portal's
    callback = dict(
        re.findall(r'name="(agent_id|vendor|launch_id)" value="([^"]*)"', sent.text)
    )
    for _ in range(2):  # a vendor that retries
        done = client.post("/agencies/acme/vendor-completions", data=callback)
        assert done.status_code == 200
    assert (
        _load(client, "acme-014").individual is regflow.IndividualState.VENDOR_COMPLETED
    )
    forged = client.post(
        "/agencies/acme/vendor-completions", data={**callback, "launch_id": "guess"}
    )
    assert forged.status_code == 422 and 'id="refusal"' in forged.text
    page = client.get("/agencies/acme/agents/acme-014").text
    client.post(
        "/agencies/acme/agents/acme-014/events", data=_hidden(page, "portal_login")
    )
    assert (
        _load(client, "acme-014").individual
        is regflow.IndividualState.AGREEMENTS_PENDING
    )
