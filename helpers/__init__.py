"""The TaskRouter Notebook Kit: the small facade the notebooks import.

import helpers
client = helpers.connect()      # twilio.rest.Client: the local sandbox unless TASKROUTER_MODE=live
qs = helpers.ensure_quickstart(client)   # .workspace_sid .workflow_sid .activities .workers .queues
server = helpers.serve(app)     # your Flask app, run in the kernel (re-run safe)
server = helpers.CallbackServer({"instruction": "accept"}).start()   # or the kit's shortcut
url = helpers.expose(server)    # loopback in sandbox mode, an ngrok tunnel in live mode
helpers.point_workflow(client, qs.workspace_sid, qs.workflow_sid, server)
switch = helpers.ActivitySwitcher(client, qs, "Alice")   # switch.select("Idle") == a click
board = helpers.TaskBoard(client, qs)
helpers.wait_for_task(client, qs, task_sid, "assigned")   # progress, deadline, and why not
helpers.callback_servers()      # every kernel's server; stop_callback_servers(all_kernels=True)
helpers.auth_token()            # what TaskRouter signs with, for RequestValidator (never print it)
helpers.debugger_log(client, qs)   # callback errors: the sandbox's log or Twilio's Monitor alerts
phone = helpers.CallerPhone(client)   # a simulated caller: dial, press digits, hang up (05)
results = helpers.simulate(scenario, design)   # a seeded day on the sandbox's clock (07)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .client import connect, curl_credentials
from .config import Settings, load_settings
from .control import (
    advance_clock,
    call_in,
    end_call,
    press_digits,
    reset_sandbox,
    sandbox_callbacks,
    sandbox_calls,
    set_phone,
)
from .debugger import create_call_task, debugger_log
from .errors import (
    CallbackServerError,
    ConfigError,
    KitError,
    SandboxError,
    TunnelError,
    WaitTimeout,
)
from .preflight import preflight
from .quickstart import Quickstart, WorkspaceView, ensure_quickstart, tidy_up
from .sids import short_sid
from .waiting import wait_for, wait_for_task

if TYPE_CHECKING:
    from .access_tokens import worker_options, worker_token
    from .call_timeline import plot_call_timeline
    from .experiment import compare_designs, simulate
    from .server import (
        CallbackServer,
        auth_token,
        callback_servers,
        point_workflow,
        serve,
        stop_callback_servers,
    )
    from .timeline import plot_timeline
    from .tunnel import close_tunnels, expose
    from .widgets import ActivitySwitcher, CallerPhone, EventLog, TaskBoard
    from .worker_page import WorkerPage

# Imported on first use: Flask, pyngrok, ipywidgets and matplotlib add about a second to
# `import helpers` (a notebook's first cell, every script), and most cells need none of them.
_LAZY = {
    "ActivitySwitcher": ".widgets",
    "CallerPhone": ".widgets",
    "EventLog": ".widgets",
    "TaskBoard": ".widgets",
    "plot_timeline": ".timeline",
    "plot_call_timeline": ".call_timeline",
    "CallbackServer": ".server",
    "point_workflow": ".server",
    "stop_callback_servers": ".server",
    "callback_servers": ".server",
    "serve": ".server",
    "auth_token": ".server",
    "close_tunnels": ".tunnel",
    "expose": ".tunnel",
    "WorkerPage": ".worker_page",
    "worker_token": ".access_tokens",
    "worker_options": ".access_tokens",
    "simulate": ".experiment",
    "compare_designs": ".experiment",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ActivitySwitcher",
    "CallbackServer",
    "CallbackServerError",
    "CallerPhone",
    "ConfigError",
    "EventLog",
    "KitError",
    "Quickstart",
    "SandboxError",
    "Settings",
    "TaskBoard",
    "TunnelError",
    "WaitTimeout",
    "WorkerPage",
    "WorkspaceView",
    "advance_clock",
    "auth_token",
    "call_in",
    "callback_servers",
    "close_tunnels",
    "compare_designs",
    "connect",
    "create_call_task",
    "curl_credentials",
    "debugger_log",
    "end_call",
    "ensure_quickstart",
    "expose",
    "load_settings",
    "plot_call_timeline",
    "plot_timeline",
    "point_workflow",
    "preflight",
    "press_digits",
    "reset_sandbox",
    "sandbox_callbacks",
    "sandbox_calls",
    "serve",
    "set_phone",
    "short_sid",
    "simulate",
    "stop_callback_servers",
    "tidy_up",
    "wait_for",
    "wait_for_task",
    "worker_options",
    "worker_token",
]
