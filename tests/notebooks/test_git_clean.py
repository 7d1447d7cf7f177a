"""Running the notebooks never dirties git, and what is committed has no outputs.

JupyterLab autosaves outputs into the tracked ``.ipynb`` files; the kit strips them the way the
ecosystem does, with nbstripout as a git *filter* (``.gitattributes`` + ``make git-filter``, run
by the setup), so ``git status`` stays clean and commits stay output-free.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from helpers.lab import strip_on_save
from tests.support.sandbox import KIT_ROOT

NOTEBOOKS = sorted((KIT_ROOT / "notebooks").glob("*.ipynb"))
GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def committed(path: Path) -> str | None:
    """The notebook as the last commit has it (None outside a git checkout)."""
    relative = path.relative_to(KIT_ROOT).as_posix()
    done = subprocess.run(["git", "show", f"HEAD:{relative}"], cwd=KIT_ROOT,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout if done.returncode == 0 else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    """What is *committed* (not the working copy a learner just ran) is output-free."""
    text = committed(path)
    if text is None:  # not committed yet, or no git: judge the file itself
        text = path.read_text()
    notebook = nbformat.reads(text, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (path.name, cell.source)
    assert "widgets" not in notebook.metadata, path.name


def with_outputs(path: Path) -> None:
    """What JupyterLab's autosave writes after a run: outputs, counts, widget state."""
    notebook = nbformat.read(path, as_version=4)
    for count, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code":
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.2"}
    nbformat.write(notebook, path)


def saved_by_jupyterlab(path: Path) -> None:
    """What `make lab`'s JupyterLab writes: the model through the kit's pre-save hook."""
    with_outputs(path)
    model = {"type": "notebook", "content": nbformat.read(path, as_version=4)}
    strip_on_save(model)
    nbformat.write(nbformat.from_dict(model["content"]), path)


def test_running_notebooks_leaves_git_status_clean(tmp_path: Path) -> None:
    clone = tmp_path / "kit"
    clone.mkdir()
    shutil.copytree(KIT_ROOT / "notebooks", clone / "notebooks")
    for name in (".gitattributes", "Makefile"):
        shutil.copy(KIT_ROOT / name, clone / name)
    (clone / ".venv").symlink_to(KIT_ROOT / ".venv")  # the setup's environment, with nbstripout
    git(clone, "init", "-q")
    subprocess.run(["make", "-s", "git-filter"], cwd=clone, check=True)
    assert "nbstripout" in git(clone, "config", "filter.nbstripout.clean")
    git(clone, "add", "notebooks", ".gitattributes", "Makefile")
    (clone / ".git" / "info" / "exclude").write_text(".venv\n")
    git(clone, "commit", "-q", "-m", "the kit")

    for path in sorted((clone / "notebooks").glob("*.ipynb")):
        saved_by_jupyterlab(path)
    assert json.loads((clone / "notebooks" / NOTEBOOKS[0].name).read_text())["cells"]
    assert git(clone, "status", "--porcelain") == ""  # the learner's run: nothing to commit

    for path in sorted((clone / "notebooks").glob("*.ipynb")):
        with_outputs(path)  # saved by some other Jupyter, outputs and all
    assert git(clone, "diff") == ""  # the filter strips them: no change git would record
    git(clone, "add", "-A")  # and a commit takes no output in
    assert git(clone, "status", "--porcelain") == ""
    for path in NOTEBOOKS:
        blob = git(clone, "show", f":notebooks/{path.name}")
        assert blob == path.read_text(), path.name
