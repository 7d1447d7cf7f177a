"""The facilitator's page in headless Chromium: three seats going through notebooks 00-02
(driven with the SDK, as their kernels would) appear live, within 2 s, without reloading;
a seat's reset from the page empties that seat only; a seat's text is shown as text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taskrouter_sandbox.control_client import read_credentials
from taskrouter_sandbox.scenario import build_quickstart, eventually
from taskrouter_sandbox.workshop.testing import RoomProcess
from tests.support.receiver import Receiver

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LIVE_MS = 2000  # the bound for a change to show
HOSTILE = '<img src=x onerror="document.title=`owned`">'

if CHROMIUM is None:
    pytestmark = [pytestmark, pytest.mark.skip(reason="Debian's chromium is not installed")]


@pytest.fixture
def page_and_room(browser: Any, tmp_path: Path) -> Iterator[tuple[object, RoomProcess]]:
    # `browser`: the session's one Chromium (tests/conftest.py); a second sync_playwright in
    # the same process would fail while the first is alive.
    with RoomProcess(tmp_path / "room", seat_count=3) as room:
        creds = read_credentials(room.data_dir)
        assert creds is not None
        context = browser.new_context(
            http_credentials={"username": creds.account_sid, "password": creds.auth_token},
            viewport={"width": 1600, "height": 900},
        )
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(room.url + "/_sandbox/workshop")
        yield page, room
        context.close()
        assert errors == []  # the page's script never failed


def cell(seat: int, milestone: str, state: str = "done") -> str:
    return f'tr[data-seat="{seat}"] td[data-milestone="{milestone}"].{state}'


def test_three_seats_appear_live_and_a_reset_empties_one(
    page_and_room: tuple[object, RoomProcess],
) -> None:
    page, room = page_and_room
    page.wait_for_selector('tr[data-seat="3"]')  # type: ignore[attr-defined]
    for seat in (1, 2, 3):
        assert page.locator(f'tr[data-seat="{seat}"] td.done').count() == 0  # type: ignore[attr-defined]
    receivers = [Receiver(s.auth_token) for s in room.seats]
    quickstarts = []
    for number, receiver in enumerate(receivers, 1):  # notebook 00: the workspace
        receiver.answer(body={"instruction": "accept"})
        quickstarts.append(build_quickstart(room.seat_client(number)))
        page.wait_for_selector(cell(number, "workspace"), timeout=LIVE_MS)  # type: ignore[attr-defined]
    for number, qs in enumerate(quickstarts, 1):  # notebook 01: accept by REST
        qs.set_activity("Bob", "Idle")
        task = qs.create_task(selected_language="en")
        [reservation] = eventually(
            lambda qs=qs, sid=task.sid: qs.reservations(sid), lambda r: len(r) == 1
        )
        qs.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
        page.wait_for_selector(cell(number, "assigned_rest"), timeout=LIVE_MS)  # type: ignore[attr-defined]
    for number, (qs, receiver) in enumerate(zip(quickstarts, receivers, strict=True), 1):
        # notebook 02: the assignment callback accepts
        qs.ws.workflows(qs.workflow_sid).update(assignment_callback_url=receiver.url("/assignment"))
        qs.set_activity("Alice", "Idle")
        qs.create_task(selected_language="es")
        page.wait_for_selector(cell(number, "assigned_callback"), timeout=LIVE_MS)  # type: ignore[attr-defined]
    room.seat_client(3).taskrouter.v1.workspaces.create(friendly_name=HOSTILE)
    hostile = page.locator('tr[data-seat="3"] td.workspaces', has_text="<img")  # type: ignore[attr-defined]
    hostile.wait_for(timeout=LIVE_MS)
    assert page.locator("#seats img").count() == 0 and page.title() != "owned"  # type: ignore[attr-defined]
    page.locator('tr[data-seat="2"] button.reset-seat').click()  # type: ignore[attr-defined]
    page.wait_for_selector(cell(2, "workspace", "todo"), timeout=LIVE_MS)  # type: ignore[attr-defined]
    assert page.locator('tr[data-seat="2"] td.done').count() == 0  # type: ignore[attr-defined]
    assert page.locator('tr[data-seat="1"] td.done').count() == 3  # type: ignore[attr-defined]
    assert page.locator('tr[data-seat="3"] td.done').count() == 3  # type: ignore[attr-defined]
    assert room.seat_client(2).taskrouter.v1.workspaces.list() == []
    screenshots = Path(__file__).resolve().parents[2] / "test-output" / "browser"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "workshop-page.png"))  # type: ignore[attr-defined]
