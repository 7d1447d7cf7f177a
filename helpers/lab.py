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
from pathlib import Path

from .client import sandbox_url
from .config import KIT_ROOT, load_settings

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


def command(
    notebooks: Path, port: int | None = None, *, open_browser: bool = True, token: str | None = None
) -> list[str]:
    args = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={notebooks}"]
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
    settings = load_settings()
    if not settings.live:
        url = sandbox_url(settings)
        print(f"TaskRouter sandbox running at {url}", flush=True)
    else:
        print("Live mode: notebooks talk to your Twilio account (TASKROUTER_MODE=live).")
    quiet_settings()
    cmd = command(args.notebooks, args.port, open_browser=not args.no_browser, token=args.token)
    os.execv(sys.executable, cmd + args.extra)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
