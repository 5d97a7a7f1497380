"""The reference portal in a real browser: a returning agent's first login to
registered, through the pages' buttons and forms; Spanish; the agency page.

Screenshots of every page are saved under the test's ``tmp_path``.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from browser import browser, console_errors, screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from portal import Settings, create_app

__all__ = ["browser"]  # the fixture, imported for pytest


@pytest.fixture
def portal_url(tmp_path: Path) -> Iterator[str]:
    """The portal on a fresh SQLite file, served by uvicorn on a free port."""
    settings = Settings(
        database=str(tmp_path / "portal.sqlite3"), seed=True, outbox_every=0.2
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(settings), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _shot(driver: Any, path: Path) -> None:
    driver.set_window_size(1280, 900)  # each page its own height, not the last one's
    screenshot(driver, path)


def _click(driver: Any, css: str) -> None:
    """Click a link or button and wait for the page it leads to."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(old))


def _type(driver: Any, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def _text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.CSS_SELECTOR, css).text
    return text


def test_returning_agent_walks_to_registered(
    browser: Any, portal_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    started = time.perf_counter()
    shots = tmp_path / "shots"
    driver = browser
    driver.implicitly_wait(5)  # a new page's elements, while it loads
    driver.get(portal_url + "/")
    assert "Acme Insurance Agency" in driver.page_source
    _shot(driver, shots / "01-start.png")

    # The first login of the plan year, as a returning agent.
    _type(driver, "agent_id", "walk-001")
    _type(driver, "portal_account_id", "portal-walk")
    driver.find_element(By.CSS_SELECTOR, "#login input[name=returning]").click()
    _click(driver, "#login button[type=submit]")
    assert "Profile incomplete" in _text(driver, "#track-individual")
    assert "Returning Agent/Broker" in _text(driver, "#blocked-complete_mlms_training")
    _shot(driver, shots / "02-agent-first-login.png")

    # The profile form, drawn from the event's JSON Schema.
    form = "#option-save_profile "
    Select(driver.find_element(By.NAME, "f.profile.role")).select_by_value(
        "marketplace_agent_broker"
    )
    _type(driver, "f.profile.contact.name", "Rosa Diaz")
    _type(driver, "f.profile.contact.email", "rosa@example.com")
    _type(driver, "f.profile.contact.phone", "555-0199")
    _type(driver, "f.profile.npn", "19876543")
    _click(driver, form + "button")
    assert "Done" in _text(driver, ".notice")

    _click(driver, "#option-complete_profile button")
    assert "Training" in _text(driver, "#track-individual")
    _click(driver, "#option-complete_mlms_training button")  # the Returning curriculum
    assert "Agreements pending" in _text(driver, "#track-individual")
    for _ in range(2):  # one button per agreement still to accept
        _click(driver, "#option-accept_agreement button")
    assert "Registered" in _text(driver, "#track-individual")
    assert _text(driver, "#status") == "Registered"
    _shot(driver, shots / "03-agent-registered.png")

    # In Spanish: labels, states and the refusal of writing to the help desk
    # before the RCL listing is late (S22).
    _click(driver, "#lang-es")
    assert _text(driver, "#status") == "Registrado"
    blocked = [
        e.text
        for e in driver.find_elements(By.CSS_SELECTOR, ".option.disabled")
        if "Escribir a la mesa de ayuda" in e.text
    ]
    assert blocked and "escriba a la mesa de ayuda solo si el NPN" in blocked[0]
    _shot(driver, shots / "04-agent-spanish.png")

    # The agency page: who needs action, paging, the outbox the worker wrote.
    driver.get(portal_url + "/agencies/acme")
    needs = _text(driver, "#needs-action")
    for reason in ("RCL listing overdue", "NPN not valid on the RCL", "Terminated"):
        assert reason in needs
    for _ in range(100):  # the worker runs every 0.2 s
        if "acme-017" in _text(driver, "#outbox"):
            break
        time.sleep(0.1)
        driver.refresh()
    assert "FFMProducer-AssisterHelpDesk@cms.hhs.gov" in _text(driver, "#outbox")
    _shot(driver, shots / "05-agency.png")
    _click(driver, "#tab-certified")
    _click(driver, "#next-page")
    assert "acme-011" in _text(driver, "#agents")
    _shot(driver, shots / "06-agency-page-2.png")

    assert console_errors(driver) == []
    print(f"browser walk: {time.perf_counter() - started:.2f} s; shots in {shots}")
