"""``python -m helpers.lab``: open JupyterLab on the kit's notebooks, quietly, in sandbox mode.

What ``make lab`` runs (and the browser tests, on a free port): start the background sandbox
(unless live mode is configured), make JupyterLab start quietly — no news or update prompts,
which otherwise cover the notebook — and serve ``notebooks/``. As root (containers, CI) it
passes ``--allow-root``, which JupyterLab otherwise demands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from .client import sandbox_url
from .config import KIT_ROOT, load_settings
from .errors import KitError

# What nbstripout strips by default, plus language_info (JupyterLab rewrites it on every save).
# The git filter (Makefile's git-filter) strips the same keys, so both give the committed bytes.
STRIPPED_KEYS = ["metadata.signature", "metadata.widgets", "metadata.language_info",
                 "cell.metadata.collapsed", "cell.metadata.ExecuteTime", "cell.metadata.execution",
                 "cell.metadata.heading_collapsed", "cell.metadata.hidden",
                 "cell.metadata.scrolled"]  # fmt: skip

FIRST_NOTEBOOK = "00-set-up-the-workspace.ipynb"
QUIET = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
}


def quiet_settings(prefix: Path = Path(sys.prefix)) -> Path:
    """Write JupyterLab's settings overrides for this environment (kept if already there)."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    merged = {**current, **QUIET}
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2))
    return path


def strip_on_save(model: dict[str, Any], **_: object) -> None:
    """JupyterLab's pre-save hook: notebooks are written without outputs, like git keeps them.

    Autosave would otherwise write every run's outputs into the tracked ``.ipynb`` files and
    ``git status`` would list them (the nbstripout git filter alone cleans what is *committed*,
    but git still sees a changed file). The open notebook keeps its outputs on screen.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    import nbformat
    from nbstripout import strip_output  # type: ignore[import-untyped]  # no type information

    from_dict = cast(Callable[[dict[str, Any]], Any], nbformat.from_dict)  # unannotated
    notebook = from_dict(model["content"])
    model["content"] = strip_output(
        notebook, keep_output=False, keep_count=False, keep_id=True, extra_keys=STRIPPED_KEYS
    )


def command(
    notebooks: Path, port: int | None = None, *, open_browser: bool = True, token: str | None = None
) -> list[str]:
    args = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={notebooks}",
            "--FileContentsManager.pre_save_hook=helpers.lab.strip_on_save",
            f"--ServerApp.default_url=/lab/tree/{FIRST_NOTEBOOK}"]  # fmt: skip
    if port is not None:
        args += [f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1"]
    if not open_browser:
        args.append("--no-browser")
    if token is not None:
        args += [f"--IdentityProvider.token={token}", "--ServerApp.password="]
    if os.geteuid() == 0:
        args.append("--ServerApp.allow_root=True")
    return args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.lab", description=__doc__)
    parser.add_argument("--notebooks", type=Path, default=KIT_ROOT / "notebooks")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--token", default=None, help="'' for no token (tests only)")
    parser.add_argument("extra", nargs="*", help="more JupyterLab options")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except KitError as error:  # e.g. live mode without credentials: say so, no traceback
        print(f"Cannot start: {error.message}\n  How to fix: {error.hint}", file=sys.stderr)
        return 2
    if not settings.live:
        url = sandbox_url(settings)
        print(f"TaskRouter sandbox running at {url}", flush=True)
        stop = "`make sandbox-stop` stops the sandbox (it keeps running in the background)"
    else:
        print("Live mode: notebooks talk to your Twilio account (TASKROUTER_MODE=live).")
        stop = "nothing else runs in the background in live mode"
    print(
        f"JupyterLab opens on {FIRST_NOTEBOOK}: start there, then 01, 02, 03, 04, and 99 to "
        f"clean up.\nStop JupyterLab with Ctrl-C (twice); {stop}.",
        flush=True,
    )
    quiet_settings()
    cmd = command(args.notebooks, args.port, open_browser=not args.no_browser, token=args.token)
    os.execv(sys.executable, cmd + args.extra)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
