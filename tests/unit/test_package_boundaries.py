"""The direction of dependencies: helpers -> (HTTP, CLI) -> taskrouter_sandbox, never back."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from tests.support.sandbox import KIT_ROOT

SANDBOX_PACKAGE = KIT_ROOT / "taskrouter_sandbox"


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an ``import`` or ``from … import`` names (not relative ones)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def modules_loaded_by(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=KIT_ROOT,
    )  # fmt: skip
    return out.stdout.split()


def test_no_sandbox_module_imports_helpers() -> None:
    sources = sorted(SANDBOX_PACKAGE.rglob("*.py"))
    assert len(sources) > 20  # the walk really sees the package
    offenders = {
        str(path.relative_to(KIT_ROOT)): sorted(n for n in imported_modules(path)
                                                if n == "helpers" or n.startswith("helpers."))
        for path in sources
    }  # fmt: skip
    assert {path: names for path, names in offenders.items() if names} == {}


def test_running_the_whole_sandbox_loads_no_helpers_module() -> None:
    loaded = modules_loaded_by(
        "import taskrouter_sandbox.__main__, taskrouter_sandbox.process, "
        "taskrouter_sandbox.pytest_plugin, taskrouter_sandbox.resources"
    )
    assert "taskrouter_sandbox.core.engine" in loaded  # the import above really reached the server
    assert [m for m in loaded if m == "helpers" or m.startswith("helpers.")] == []


def test_import_helpers_loads_no_sandbox_module() -> None:
    loaded = modules_loaded_by("import helpers")
    assert "helpers.control" in loaded
    assert [m for m in loaded if m.startswith("taskrouter_sandbox")] == []


def test_the_control_client_does_not_load_the_server() -> None:
    loaded = modules_loaded_by("import taskrouter_sandbox.control_client")
    assert "taskrouter_sandbox.control_client" in loaded
    assert {"taskrouter_sandbox.app", "taskrouter_sandbox.store", "twilio"} & set(loaded) == set()


def test_the_client_reads_the_files_process_writes() -> None:
    from taskrouter_sandbox import control_client, process

    assert control_client.STATE_FILE == process.STATE_FILE
    assert control_client.CREDENTIALS_FILE == process.CREDENTIALS_FILE


def test_nothing_names_the_old_package() -> None:
    """`helpers.sandbox` moved to `taskrouter_sandbox`: no command, import or doc names it."""
    old = re.compile(r"helpers[./]sandbox(?![\w])")  # not helpers.sandbox_callbacks & co
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.ipynb", "*.toml", "Makefile", ".ci/*"],
        cwd=KIT_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(tracked) > 50
    this_file = Path(__file__).resolve()
    hits = [
        f"{name}:{number}"
        for name in tracked
        if (KIT_ROOT / name).resolve() != this_file and (KIT_ROOT / name).is_file()
        for number, line in enumerate((KIT_ROOT / name).read_text().splitlines(), 1)
        if old.search(line)
    ]
    assert hits == []
