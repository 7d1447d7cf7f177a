"""The facade the notebooks import is pinned: renaming or dropping a name breaks this test."""

from __future__ import annotations

import subprocess
import sys

import helpers

PUBLIC = {
    "ActivitySwitcher", "CallbackServer", "CallbackServerError", "ConfigError", "EventLog",
    "KitError", "Quickstart", "SandboxError", "Settings", "TaskBoard", "TunnelError",
    "WaitTimeout", "WorkspaceView", "advance_clock", "close_tunnels", "connect", "end_call",
    "ensure_quickstart", "expose", "load_settings", "plot_timeline", "point_workflow",
    "preflight", "reset_sandbox", "sandbox_callbacks", "sandbox_calls", "stop_callback_servers",
    "tidy_up", "wait_for", "serve", "auth_token", "callback_servers",
    "curl_credentials", "short_sid",
    "create_call_task", "debugger_log",
    "wait_for_task", "simulate", "compare_designs",
    "WorkerPage", "worker_options", "worker_token",
    # tasks from phone calls (notebook 05)
    "CallerPhone", "call_in", "plot_call_timeline", "press_digits", "set_phone",
}  # fmt: skip


def test_public_names_are_exactly_these() -> None:
    assert set(helpers.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(helpers, name) is not None, name


def test_importing_helpers_stays_light() -> None:
    """A notebook's first cell: Flask, pyngrok, widgets and matplotlib (~1 s) load on first use."""
    code = ("import sys, helpers; heavy = {'flask', 'pyngrok', 'ipywidgets', 'matplotlib'}; "
            "print(sorted(heavy & set(sys.modules)))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
