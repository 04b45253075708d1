"""Tests share helpers through ``tests/support/`` only: no test module imports another test
module or a conftest, so each reads on its own and a helper has one home."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imports_of_test_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[0] == "tests" and (
                any(p.startswith("test_") for p in parts[1:]) or (parts[-1] == "conftest" and len(parts) > 2)
            ):
                found.append(name)
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {str(p.relative_to(TESTS)): imports_of_test_modules(p) for p in TESTS.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_such_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "test_x.py"
    sample.write_text("from tests.functional.test_escalation import set_store\nimport tests.browser.conftest\n")
    assert imports_of_test_modules(sample) == ["tests.functional.test_escalation", "tests.browser.conftest"]
