"""The person's path in one JupyterLab, in Chromium: 00 → 01 → 02 → 03 → 04, tabs left open.

Each notebook opens in a new tab while the earlier kernels keep running (nothing is shut down).
In 01 and 02 the test clicks **Idle** on Alice's switcher *and* then runs the "or run the next
cell" cell and everything below, as a person does; every notebook must end with its checkpoint's
"[ok]" line and no error output. Notebooks are saved through JupyterLab (as autosave does) and
git must still see them unchanged. A second test edits the route in 02 to reject Alice, re-runs
it, and sees the exercise's English task go to Bob.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_lab import CHROMIUM, NO_BROWSER, OUTPUT, Lab, start_lab, stop_lab
from tests.support.sandbox import KIT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_BROWSER)]
PATH = [
    "00-set-up-the-workspace.ipynb",
    "01-create-a-task-accept-via-rest.ipynb",
    "02-accept-via-the-assignment-callback.ipynb",
    "03-instructions-and-what-goes-wrong.ipynb",
    "04-events-and-the-timeline.ipynb",
]
FROM_CODE = "update(activity_sid=idle_sid)"
CURRENT = "window.jupyterapp.shell.currentWidget"
READY = f"""(name) => {{
    const panel = {CURRENT};
    return panel && panel.context && panel.context.path.endsWith(name) && panel.context.isReady
        && panel.content.widgets.length > 1 && panel.sessionContext.isReady
        && !!panel.sessionContext.session?.kernel;
}}"""
WHY = f"""() => {{
    const panel = {CURRENT};
    return panel ? {{path: panel.context?.path, ready: panel.context?.isReady,
                     cells: panel.content?.widgets?.length, session: panel.sessionContext?.isReady,
                     kernel: panel.sessionContext?.session?.kernel?.status}} : "no current widget";
}}"""
STATE = f"""(upto) => {{
    const panel = {CURRENT};
    const cells = panel.content.widgets.slice(0, upto ?? undefined)
        .filter(c => c.model.type === "code");
    const errors = [];
    for (const cell of cells) {{
        for (let i = 0; i < cell.model.outputs.length; i++) {{
            const output = cell.model.outputs.get(i);
            if (output.type === "error") errors.push(output.toJSON().ename + ": "
                + output.toJSON().evalue);
        }}
    }}
    return {{
        idle: panel.sessionContext.session?.kernel?.status === "idle",
        done: cells.every(c => c.model.executionCount !== null),
        errors: errors,
        text: panel.content.node.innerText,
    }};
}}"""
APP_READY = (
    "window.jupyterapp !== undefined && window.jupyterapp.commands.hasCommand('docmanager:open')"
)
figures: dict[str, float] = {}


def sources(page: Any) -> list[str]:
    return page.evaluate(f"{CURRENT}.content.widgets.map(c => c.model.sharedModel.getSource())")


def open_notebook(page: Any, name: str) -> str:
    """Open ``name`` in a new tab (earlier tabs and kernels stay); returns the panel's id."""
    page.evaluate(  # not awaited: the result (a widget) cannot travel back to Python
        f"() => {{ window.jupyterapp.commands.execute('docmanager:open', {{path: '{name}'}}); }}"
    )
    try:
        page.wait_for_function(READY, arg=name, timeout=90_000)
    except Exception as error:
        raise AssertionError(f"{name} did not open: {page.evaluate(WHY)}") from error
    return str(page.evaluate(f"{CURRENT}.id"))


def run(page: Any, command: str, index: int | None = None) -> None:
    if index is not None:
        page.evaluate(f"{CURRENT}.content.activeCellIndex = {index}")
    page.evaluate(f"() => {{ window.jupyterapp.commands.execute('{command}'); }}")


def wait_until_run(page: Any, timeout: float = 120, upto: int | None = None) -> dict[str, Any]:
    """Until the kernel is idle and every code cell (above ``upto``) ran, or one failed."""
    deadline, stable = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        state = page.evaluate(STATE, upto)
        stable = stable + 1 if state["idle"] and (state["done"] or state["errors"]) else 0
        if stable >= 3:
            return dict(state)
        time.sleep(0.3)
    raise AssertionError(f"the notebook did not finish in {timeout} s")


def click_idle_then_run_the_cell(page: Any, panel: str, outcome: str) -> float:
    """Run everything above the from-code cell, click Idle, see ``outcome``, then run the rest."""
    index = next(i for i, s in enumerate(sources(page)) if FROM_CODE in s)
    run(page, "notebook:run-all-above", index)
    switcher = page.locator(f"#{panel} .widget-toggle-buttons").first
    switcher.wait_for(timeout=60_000)
    assert not wait_until_run(page, upto=index)["errors"]
    page.wait_for_function(
        f"document.getElementById('{panel}').innerText.includes('pending')", timeout=30_000
    )
    clicked = time.monotonic()
    switcher.get_by_role("button", name="Idle", exact=True).click()
    page.wait_for_function(
        f"document.getElementById('{panel}').innerText.includes({json.dumps(outcome)})",
        timeout=30_000,
    )
    seconds = time.monotonic() - clicked
    run(page, "notebook:run-all-below", index)  # the from-code cell too, then the rest
    return seconds


def shoot(page: Any, name: str, cell_text: str) -> None:
    """A picture of a key moment (``make screenshots`` copies them into docs/img/)."""
    index = next(i for i, s in enumerate(sources(page)) if cell_text in s)
    page.evaluate(
        f"(i) => {CURRENT}.content.widgets[i].node.scrollIntoView({{block: 'start'}})", index
    )
    time.sleep(0.5)  # let the widgets repaint after scrolling
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    from PIL import Image  # matplotlib's dependency: 64 colours keep the README's pictures small

    with Image.open(path) as picture:
        small = picture.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def save(page: Any) -> None:
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
    page.wait_for_function(f"!{CURRENT}.context.model.dirty", timeout=30_000)


def git_state() -> tuple[str, str]:
    status = subprocess.run(["git", "status", "--porcelain", "notebooks"], cwd=KIT_ROOT,
                            capture_output=True, text=True).stdout  # fmt: skip
    digest = hashlib.sha256()
    for path in sorted((KIT_ROOT / "notebooks").glob("*.ipynb")):
        digest.update(path.read_bytes())
    return status, digest.hexdigest()


def fail(page: Any, lab: Lab, tmp: Path) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{tmp.name}-failure.png"), full_page=True)
    shutil.copy(lab.log, OUTPUT / f"{tmp.name}-jupyterlab.log")


def test_the_persons_path_in_one_jupyterlab(browser: object, tmp_path: Path) -> None:
    before = git_state()
    lab = start_lab(KIT_ROOT / "notebooks", tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    started = time.monotonic()
    try:
        page.goto(f"{lab.url}/lab")
        page.wait_for_function(APP_READY, timeout=60_000)
        page.evaluate("async () => { await window.jupyterapp.restored; }")  # layout restored
        for name in PATH:
            opened = time.monotonic()
            print("opening", name, flush=True)
            panel = open_notebook(page, name)
            if name.startswith("01"):
                figures["01 click to Reserved (s)"] = click_idle_then_run_the_cell(
                    page, panel, "Alice — Reserved"
                )
            elif name.startswith("02"):
                figures["02 click to Busy (s)"] = click_idle_then_run_the_cell(
                    page, panel, "Alice — Busy"
                )
                shoot(page, "notebook-02", "switch = helpers.ActivitySwitcher")
            else:
                run(page, "notebook:run-all-cells")
            state = wait_until_run(page)
            if name.startswith("01"):
                shoot(page, "notebook-01", "callback = server.wait_for")
            if name.startswith("04"):
                shoot(page, "notebook-04", "log = helpers.EventLog")
            assert not state["errors"], (name, state["errors"])
            assert "[ok]" in state["text"], name  # the checkpoint passed
            save(page)  # what autosave does
            figures[f"{name[:2]} seconds"] = round(time.monotonic() - opened, 1)
        with urllib.request.urlopen(f"{lab.url}/api/sessions", timeout=10) as response:
            sessions = json.loads(response.read())
        alive = {s["path"] for s in sessions if s["kernel"]["execution_state"] != "dead"}
        assert alive >= set(PATH), alive  # no earlier kernel was shut down
        figures["whole path (s)"] = round(time.monotonic() - started, 1)
        page.screenshot(path=str(tmp_path / "path-04.png"))
    except Exception:
        fail(page, lab, tmp_path)
        raise
    finally:
        page.close()
        stop_lab(lab)
    assert git_state() == before  # JupyterLab saved the notebooks; git sees no change
    print("figures:", figures)


REJECT_ALICE = """    if request.form["WorkerSid"] == alice_sid:
        return {"instruction": "reject", "activity_sid": offline_sid}
    return {"instruction": "accept"}"""


def test_editing_the_route_to_reject_sends_the_task_to_bob(browser: object, tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(KIT_ROOT / "notebooks" / PATH[2], notebooks / PATH[2])
    lab = start_lab(notebooks, tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    try:
        page.goto(f"{lab.url}/lab")
        page.wait_for_function(APP_READY, timeout=60_000)
        page.evaluate("async () => { await window.jupyterapp.restored; }")  # layout restored
        open_notebook(page, PATH[2])
        run(page, "notebook:run-all-cells")
        state = wait_until_run(page)
        assert not state["errors"] and "Not yet: Alice got it" in state["text"], state["errors"]

        cells = sources(page)
        route = next(i for i, s in enumerate(cells) if "def assignment_callback" in s)
        serve = next(i for i, s in enumerate(cells) if "helpers.serve(app)" in s)
        edited = cells[route].replace('    return {"instruction": "accept"}', REJECT_ALICE)
        assert edited != cells[route]
        page.evaluate(  # the learner types the change into the route's cell
            f"([i, s]) => {CURRENT}.content.widgets[i].model.sharedModel.setSource(s)",
            [route, edited],
        )
        for index in (route, serve, len(cells) - 1):  # re-run the app, serve it, the exercise
            run(page, "notebook:run-cell", index)
            wait_until_run(page)
        state = wait_until_run(page)
        assert not state["errors"], state["errors"]
        assert "Bob got the English task" in state["text"]
    except Exception:
        fail(page, lab, tmp_path)
        raise
    finally:
        page.close()
        stop_lab(lab)
