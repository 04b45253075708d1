"""The import direction of chalicelib, as the README's architecture section states it:

core → platform → storage → rendering → stores → schedule → the flows → console → web → app.py

A package may import its own modules and any package to its left, never one to its right.
The flows (intake, messaging, surveys, support, customers, reports, endpoints) call one another:
a send issues a survey link, an answer asks support to escalate, an erasure reaches the cases, a
case change emits its webhook event."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ("intake", "messaging", "surveys", "support", "customers", "reports", "endpoints")
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("platform",),
    ("storage",),
    ("rendering",),
    ("stores",),
    ("schedule",),
    FLOWS,
    ("console",),
    ("web",),
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def imported_packages(path: Path) -> set[str]:
    """The chalicelib packages a module imports, wherever in the module the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "chalicelib":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("chalicelib."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("chalicelib."))
    return found


def modules() -> list[Path]:
    return sorted((ROOT / "chalicelib").rglob("*.py"))


def test_every_package_has_a_place_in_the_order() -> None:
    packages = {p.name for p in (ROOT / "chalicelib").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(RANK), "a new package needs its place in LAYERS and in the README"
    assert not [p.name for p in (ROOT / "chalicelib").glob("*.py") if p.name != "__init__.py"], (
        "modules live in packages"
    )


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT / "chalicelib")))
def test_a_module_imports_only_its_own_package_and_those_before_it(path: Path) -> None:
    package = path.relative_to(ROOT / "chalicelib").parts[0]
    if package == "__init__.py":
        return
    wrong = sorted(
        other
        for other in imported_packages(path)
        if other != package and RANK[other] >= RANK[package] and not (package in FLOWS and other in FLOWS)
    )
    assert wrong == [], f"{path.name} in {package} imports {wrong}, which come later in the order"


def test_nothing_in_chalicelib_imports_the_app_or_the_local_stack() -> None:
    for path in modules():
        tree = ast.parse(path.read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {n for n in names if n.split(".")[0] in ("app", "devstack", "bench", "tests")}, path


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "clock.py"
    module.write_text("from chalicelib.storage import db\n\ndef f():\n    from chalicelib.web import http\n")
    assert imported_packages(module) == {"storage", "web"}
