"""helpers/ cites only documents the repo has: a learner's clone has no design notes beside it."""

from __future__ import annotations

import re

from tests.support.sandbox import KIT_ROOT

CITED = re.compile(r"[\w./-]+\.md\b")


def test_every_document_helpers_cites_is_in_the_repo() -> None:
    missing = [
        f"{path.relative_to(KIT_ROOT)}: {name}"
        for path in sorted((KIT_ROOT / "helpers").rglob("*.py"))
        for name in CITED.findall(path.read_text())
        if not (KIT_ROOT / name).is_file()
    ]
    assert missing == []


def test_no_docstring_points_at_numbered_decisions_elsewhere() -> None:
    for path in sorted((KIT_ROOT / "helpers").rglob("*.py")):
        text = path.read_text()
        assert not re.search(r"DESIGN\.md|decision \d+|reference/", text), path
