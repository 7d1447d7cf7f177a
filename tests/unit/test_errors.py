"""The exception tree: every exception the kit raises is a KitError with a fix, defined in
helpers/errors.py; no bare ValueError/TypeError reaches a learner."""

from __future__ import annotations

import ast
import inspect

import pytest

import helpers
from helpers import errors
from helpers.callbacks import create_app
from helpers.widgets._live import Poller
from helpers.widgets.switcher import resolve_worker
from tests.support.sandbox import KIT_ROOT

HELPERS = KIT_ROOT / "helpers"
# (AssertionError("unreachable") marks a loop's impossible end: not for learners, kept.)
BUILTIN_ERRORS = {"ValueError", "TypeError", "RuntimeError", "KeyError", "LookupError",
                  "Exception"}  # fmt: skip


def modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(KIT_ROOT)), ast.parse(path.read_text()))
            for path in sorted(HELPERS.rglob("*.py"))]  # fmt: skip


def test_every_exception_class_is_defined_in_errors_py() -> None:
    strays = [
        f"{name}:{node.name}"
        for name, tree in modules()
        if name != "helpers/errors.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            getattr(base, "id", "").endswith(("Error", "Exception", "Timeout"))
            for base in node.bases
        )
    ]
    assert strays == []


def test_the_tree_in_the_docstring_is_the_tree_in_the_code() -> None:
    classes = {name for name, value in vars(errors).items()
               if inspect.isclass(value) and issubclass(value, errors.KitError)}  # fmt: skip
    assert classes == {"KitError", "ConfigError", "SandboxError", "CallbackServerError",
                       "TunnelError", "WaitTimeout", "UsageError", "WorkshopError"}  # fmt: skip
    for name in classes:
        assert name in (errors.__doc__ or ""), name
    for name in ("ConfigError", "SandboxError", "CallbackServerError", "TunnelError",
                 "WaitTimeout", "KitError"):  # fmt: skip
        assert getattr(helpers, name) is getattr(errors, name)


def test_no_builtin_exception_is_raised_to_the_learner() -> None:
    raised = [
        f"{name}:{node.lineno}"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", "") in BUILTIN_ERRORS
    ]
    assert raised == []


def test_bad_arguments_get_a_usage_error_with_a_fix() -> None:
    with pytest.raises(errors.UsageError, match="poll interval") as info:
        Poller("x", 0, lambda: None, lambda: True, lambda error: None)
    assert "interval=0.3" in info.value.hint
    with pytest.raises(errors.UsageError, match="Carol") as info:
        resolve_worker(helpers.Quickstart("WS1", "WW1", workers={"Alice": "WK1"}), "Carol")
    assert "Alice" in info.value.hint
    with pytest.raises(errors.CallbackServerError, match="auth token") as refused:
        create_app(lambda callback: {}, auth_token=None)
    assert "verify_signatures=False" in refused.value.hint


@pytest.mark.parametrize("port", ["abc", "²", -1, 70000, 1.5, True])
def test_a_port_that_is_not_one_is_a_usage_error(port: object) -> None:
    with pytest.raises(errors.UsageError, match="not a port number") as info:
        helpers.CallbackServer(port=port)  # type: ignore[arg-type]  # the bad input under test
    assert "0 for any free port" in info.value.hint
    with pytest.raises(errors.UsageError, match="not a port number"):
        helpers.expose(port)  # type: ignore[arg-type]
