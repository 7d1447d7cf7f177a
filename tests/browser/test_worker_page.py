"""Alice's worker page in headless Chromium: the real twilio-taskrouter 2.1.1 bundle, unmodified,
against the sandbox's event bridge. The page is the kit's own Flask app (helpers.WorkerPage),
served in the test process; no JupyterLab. Debian's Chromium only. ``pytest -m browser``.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import helpers
from helpers.worker_page import SDK_BUNDLE
from taskrouter_sandbox.testing import SandboxProcess

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None or not SDK_BUNDLE.exists():
    why = "Debian's chromium is not installed" if CHROMIUM is None else "run `make worker-sdk`"
    pytestmark = [pytestmark, pytest.mark.skip(reason=why)]

WAIT_MS = 10_000
SYNC_SECONDS = 1.0  # the bar: page and REST agree within a second


# `browser`: the session's one Chromium (tests/browser/conftest.py); a second sync_playwright
# in the same process would fail while the first is alive.


@pytest.fixture
def qs(client: Any) -> helpers.Quickstart:
    return helpers.ensure_quickstart(client)


@pytest.fixture
def alice_page(browser: Any, client: Any, qs: helpers.Quickstart) -> Iterator[Any]:
    server = helpers.WorkerPage(client, qs, "Alice").start()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url)
    page.wait_for_selector("#status:text('ready')", timeout=WAIT_MS)
    yield page
    page.close()
    server.stop()
    assert not errors, errors


def _workspace(client: Any, qs: helpers.Quickstart) -> Any:
    return client.taskrouter.v1.workspaces(qs.workspace_sid)


def _task(client: Any, qs: helpers.Quickstart, language: str) -> str:
    attributes = json.dumps({"selected_language": language})
    return str(_workspace(client, qs).tasks.create(workflow_sid=qs.workflow_sid,
                                                   attributes=attributes).sid)  # fmt: skip


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """How long ``check`` took to come true; fails after ``seconds``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(0.05)
    return time.monotonic() - start


def _activity_in_page(page: Any) -> str:
    return str(page.text_content("#activity"))


def test_page_connects_gets_a_reservation_and_accepts_it(alice_page, client, qs):
    page = alice_page
    assert _activity_in_page(page) == "Offline"
    page.click("#activities button:text-is('Idle')")
    page.wait_for_selector("#activity:text-is('Idle')", timeout=WAIT_MS)
    alice = _workspace(client, qs).workers(qs.workers["Alice"])
    assert alice.fetch().activity_name == "Idle"
    task_sid = _task(client, qs, "es")
    row = page.wait_for_selector(f"#reservations li[data-status=pending]:has-text('{task_sid}')",
                                 timeout=WAIT_MS)  # fmt: skip
    row.query_selector("button:text-is('Accept')").click()
    page.wait_for_selector("#reservations li[data-status=accepted]", timeout=WAIT_MS)
    task = _workspace(client, qs).tasks(task_sid).fetch()
    assert task.assignment_status == "assigned"
    page.wait_for_selector("#activity:text-is('Busy')", timeout=WAIT_MS)  # the queue's activity
    page.click("#reservations li[data-status=accepted] button:text-is('Complete')")
    page.wait_for_selector("#log li:text-is('reservation completed')", timeout=WAIT_MS)
    assert _workspace(client, qs).tasks(task_sid).fetch().assignment_status == "completed"


def test_reject_in_the_page_sends_the_task_to_bob(alice_page, client, qs):
    page = alice_page
    page.click("#activities button:text-is('Idle')")
    page.wait_for_selector("#activity:text-is('Idle')", timeout=WAIT_MS)
    task_sid = _task(client, qs, "en")
    row = page.wait_for_selector("#reservations li[data-status=pending]", timeout=WAIT_MS)
    workers = _workspace(client, qs).workers
    workers(qs.workers["Bob"]).update(activity_sid=qs.activities["Idle"])
    row.query_selector("button:text-is('Reject')").click()
    page.wait_for_selector("#log li:text-is('reservation rejected')", timeout=WAIT_MS)

    def bob_holds_it() -> bool:
        held = workers(qs.workers["Bob"]).reservations.list(reservation_status="pending")
        return any(r.task_sid == task_sid for r in held)

    _within(5, bob_holds_it)


def test_activity_changes_agree_between_page_and_switcher_within_a_second(alice_page, client, qs):
    page = alice_page
    switch = helpers.ActivitySwitcher(client, qs, "Alice")
    try:
        started = time.monotonic()
        switch.select("Busy")  # the notebook's side (REST)
        page.wait_for_selector("#activity:text-is('Busy')", timeout=SYNC_SECONDS * 1000)
        to_page = time.monotonic() - started
        page.click("#activities button:text-is('Idle')")  # the page's side (event bridge)
        to_switch = _within(SYNC_SECONDS, lambda: switch.value == "Idle")  # 0.3 s poller + HTTP
        print(f"switcher -> page {to_page:.2f} s, page -> switcher {to_switch:.2f} s")
        alice = _workspace(client, qs).workers(qs.workers["Alice"])
        assert alice.fetch().activity_name == "Idle"
    finally:
        switch.close()


WORKER_OUTCOME = """async ([token, options]) => {
    const worker = new TaskRouter.Worker(token, options);
    const outcome = await new Promise((resolve) => {
        worker.on("ready", () => resolve("ready"));
        worker.on("error", (error) => resolve("error: " + error.message));
        setTimeout(() => resolve("nothing"), 8000);
    });
    worker.disconnect();
    return outcome;
}"""


def test_expired_and_forged_tokens_are_refused(alice_page, client, qs):
    options = helpers.worker_options(client)
    good = helpers.worker_token(client, qs, "Alice")
    assert alice_page.evaluate(WORKER_OUTCOME, [good, options]) == "ready"
    header, _claims, signature = good.split(".")
    forged = ".".join([header, helpers.worker_token(client, qs, "Bob").split(".")[1], signature])
    assert alice_page.evaluate(WORKER_OUTCOME, [forged, options]).startswith("error: ")
    expired = helpers.worker_token(client, qs, "Alice", ttl=-60)  # its exp is a minute ago
    assert alice_page.evaluate(WORKER_OUTCOME, [expired, options]).startswith("error: ")


def test_a_dropped_websocket_reconnects_and_shows_what_happened_meanwhile(
    alice_page, client, qs, sandbox: SandboxProcess
):
    page = alice_page
    page.click("#activities button:text-is('Idle')")
    page.wait_for_selector("#activity:text-is('Idle')", timeout=WAIT_MS)
    dropped = sandbox.control("POST", "/_sandbox/event-bridge/drop",
                              {"WorkerSid": qs.workers["Alice"]})  # fmt: skip
    assert dropped["dropped"] == 1
    task_sid = _task(client, qs, "es")  # while the SDK waits out its backoff (>= 0.8 s)
    page.wait_for_selector(f"#reservations li[data-status=pending]:has-text('{task_sid}')",
                           timeout=WAIT_MS)  # fmt: skip
    assert page.locator("#log li:text-is('ready')").count() == 2  # re-initialised once
    assert page.text_content("#status") == "ready"
