"""JupyterLab in headless Chromium: what a learner does, with the mouse.

Starts JupyterLab with the kit's own launcher (``python -m helpers.lab``) on a free port with
a fresh sandbox, opens notebook 02, runs the cells above the "select Idle from code" cell,
clicks **Idle** on Alice's switcher, and waits for the page to show the task ``assigned`` and
Alice ``Busy``; then clicks **Offline** and checks it sticks. Debian's Chromium only: no test
downloads a browser. Run alone with ``pytest -m browser``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from taskrouter_sandbox import process
from tests.support.sandbox import KIT_ROOT, free_port

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT = KIT_ROOT / "test-output" / "browser"
# Each successful run leaves this picture (`make screenshots` takes the README's from test_path).
SCREENSHOT = OUTPUT / "lab-02-assigned.png"
NOTEBOOK = "02-accept-via-the-assignment-callback.ipynb"
IDLE_CELL = "update(activity_sid=idle_sid)"  # the "or run the next cell" cell
NOTEBOOK_READY = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    return panel && panel.context && panel.context.isReady && panel.content.widgets.length > 1
        && panel.sessionContext.session?.kernel?.status === "idle";
}"""

NO_BROWSER = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
if CHROMIUM is None:
    pytestmark = [pytestmark, pytest.mark.skip(reason=NO_BROWSER)]


@dataclass
class Lab:
    url: str
    log: Path
    process: subprocess.Popen
    sandbox_dir: Path


def start_lab(notebooks: Path, tmp: Path) -> Lab:
    port, sandbox_dir = free_port(), tmp / "sandbox"
    env = {**os.environ, "TASKROUTER_MODE": "sandbox", "TASKROUTER_SANDBOX_DIR": str(sandbox_dir),
           "TASKROUTER_SANDBOX_PORT": str(free_port()),
           "JUPYTER_CONFIG_DIR": str(tmp / "jcfg"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces")}  # fmt: skip
    env.pop("TASKROUTER_TUNNEL", None)
    env.pop("TASKROUTER_CALLBACK_PORT", None)  # as for a learner: each kernel takes a free port
    log = tmp / "jupyterlab.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.lab", "--notebooks", str(notebooks), "--port", str(port),
         "--no-browser", "--token", "", "--", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.disable_check_xsrf=True"],
        cwd=KIT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=1) as response:
                if response.status == 200:
                    return Lab(url, log, proc, sandbox_dir)
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    raise RuntimeError(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")


def stop_lab(lab: Lab) -> None:
    if lab.process.poll() is None:
        os.killpg(lab.process.pid, signal.SIGTERM)
        try:
            lab.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGKILL)
    process.stop(lab.sandbox_dir)


def run_notebook_02(browser: object, notebooks: Path, tmp: Path, timeout: float = 30.0) -> Path:
    """The learner's path through notebook 02; raises when the page never shows the outcome."""
    lab = start_lab(notebooks, tmp)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    try:
        page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
        page.wait_for_function(NOTEBOOK_READY, timeout=60_000)
        sources = page.evaluate(
            "window.jupyterapp.shell.currentWidget.content.widgets"
            ".map(cell => cell.model.sharedModel.getSource())"
        )
        idle_cell = next(i for i, source in enumerate(sources) if IDLE_CELL in source)
        page.evaluate(
            f"window.jupyterapp.shell.currentWidget.content.activeCellIndex = {idle_cell}"
        )
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-above')")
        switcher = page.locator(".widget-toggle-buttons").first
        switcher.wait_for(timeout=60_000)
        page.wait_for_function(  # every cell above has run: the board is on the page
            "document.body.innerText.includes('pending')", timeout=60_000
        )
        switcher.get_by_role("button", name="Idle", exact=True).click()
        page.wait_for_function(
            "document.body.innerText.includes('Alice — Busy') && "
            "[...document.querySelectorAll('td')].some(td => td.innerText === 'assigned')",
            timeout=timeout * 1000,
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(tmp / "assigned.png"), full_page=False)
        switcher.get_by_role("button", name="Offline", exact=True).click()
        page.wait_for_function("document.body.innerText.includes('Alice — Offline')",
                               timeout=timeout * 1000)  # fmt: skip
        time.sleep(1.5)  # several poller rounds: Offline must stick
        assert "Alice — Offline" in page.inner_text("body")
        return tmp / "assigned.png"
    except Exception:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        name = tmp.name
        page.screenshot(path=str(OUTPUT / f"{name}-failure.png"), full_page=True)
        shutil.copy(lab.log, OUTPUT / f"{name}-jupyterlab.log")
        raise
    finally:
        page.close()
        stop_lab(lab)


def test_learner_clicks_idle_and_sees_the_assignment(browser: object, tmp_path: Path) -> None:
    shot = run_notebook_02(browser, KIT_ROOT / "notebooks", tmp_path)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOT)


def test_a_broken_switcher_is_caught(browser: object, tmp_path: Path) -> None:
    """The suite can fail: a notebook whose switcher ignores clicks does not pass."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    notebook = json.loads((KIT_ROOT / "notebooks" / NOTEBOOK).read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if 'ActivitySwitcher(client, qs, "Alice")' in source:
            # Looks the same, but a click no longer reaches TaskRouter.
            cell["source"] = source.replace(
                'helpers.ActivitySwitcher(client, qs, "Alice")',
                'helpers.ActivitySwitcher(client, qs, "Alice"); '
                "switch.buttons.unobserve_all('value')",
            )
    (notebooks / NOTEBOOK).write_text(json.dumps(notebook))
    with pytest.raises(Exception, match="Timeout"):
        run_notebook_02(browser, notebooks, tmp_path, timeout=6)


NOTEBOOK_05 = "05-tasks-from-phone-calls.ipynb"


def test_caller_dials_presses_1_and_is_bridged_when_alice_goes_idle(
    browser: object, tmp_path: Path
) -> None:
    """Notebook 05 with the mouse: 📞 Call and 1 on the caller widget, Idle on Alice's switcher,
    and the caller widget shows the call connected to Alice."""
    lab = start_lab(KIT_ROOT / "notebooks", tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    panel = "window.jupyterapp.shell.currentWidget"
    try:
        page.goto(f"{lab.url}/lab/tree/{NOTEBOOK_05}")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
        page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
        page.wait_for_function(NOTEBOOK_READY, timeout=60_000)
        sources = page.evaluate(
            f"{panel}.content.widgets.map(cell => cell.model.sharedModel.getSource())"
        )
        dial_cell = next(i for i, s in enumerate(sources) if "phone.dial()" in s)
        switch_cell = next(i for i, s in enumerate(sources) if s.strip().endswith("\nswitch"))
        page.evaluate(f"{panel}.content.activeCellIndex = {dial_cell}")
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-above')")
        page.get_by_text("not calling").wait_for(timeout=60_000)
        page.get_by_role("button", name="📞 Call").click()
        page.get_by_text("waiting for digits").wait_for(timeout=30_000)
        page.locator(".widget-button", has_text="1").filter(has_text=re.compile(r"^1$")).click()
        page.get_by_text("on hold in the queue").wait_for(timeout=30_000)
        for index in range(dial_cell + 1, switch_cell + 1):  # the task, the switcher
            page.evaluate(f"{panel}.content.activeCellIndex = {index}")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
        switcher = page.locator(".widget-toggle-buttons").first
        switcher.wait_for(timeout=60_000)
        page.wait_for_function("document.body.innerText.includes('Alice — Offline')",
                               timeout=30_000)  # fmt: skip
        switcher.get_by_role("button", name="Idle", exact=True).click()
        page.get_by_text("connected to the worker").wait_for(timeout=30_000)
        assert "selected_language" in page.inner_text("body")  # the task's attributes
        page.screenshot(path=str(tmp_path / "bridged.png"), full_page=False)
    except Exception:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"{tmp_path.name}-05-failure.png"), full_page=True)
        shutil.copy(lab.log, OUTPUT / f"{tmp_path.name}-05-jupyterlab.log")
        raise
    finally:
        page.close()
        stop_lab(lab)
