"""``app.py`` only wires (STYLE habit 1): a route parses the request, calls one function of
``chalicelib`` and shapes the answer.  A rule, an AWS call or a hand-built response that
creeps back into a route is caught here, before a reviewer has to.  Read with ``ast``: no
import of the app, so no AWS, no moto, and the check takes milliseconds."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
MAX_ROUTE_STATEMENTS = 4  # e.g. request, form, the one call, the response
CONTROL_FLOW = (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.Match, ast.IfExp, ast.comprehension)


def _tree() -> ast.Module:
    return ast.parse(APP.read_text(encoding="utf-8"), filename=str(APP))


def _is_route(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "route"
        for d in function.decorator_list
    )


def _routes() -> list[ast.FunctionDef]:
    return [node for node in _tree().body if isinstance(node, ast.FunctionDef) and _is_route(node)]


def _body(function: ast.FunctionDef) -> list[ast.stmt]:
    """The statements after the docstring (the docstring is the route's OpenAPI summary)."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body


def _is_db_table_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "table"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "db"
    )


def test_the_routes_are_found() -> None:
    # GIVEN app.py WHEN its routes are read THEN all of them are there (the checks below are not vacuous)
    names = {route.name for route in _routes()}
    assert len(names) >= 30
    assert {"inbox", "inbox_sign_in", "inbox_change_case", "dashboard", "dashboard_sign_in", "responses_csv"} <= names


def test_app_imports_no_aws_sdk_and_no_url_parsing() -> None:
    # GIVEN every import of app.py
    imported = set()
    for node in ast.walk(_tree()):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    # THEN AWS calls and URL handling live in chalicelib, where they are tested on their own
    assert not imported & {"boto3", "botocore", "urllib"}


def test_app_builds_no_storage_expression_and_calls_no_table_method() -> None:
    offending = []
    for node in ast.walk(_tree()):
        # db.Expr(...) is a query: it belongs with the subject that reads
        if isinstance(node, ast.Attribute) and node.attr == "Expr":
            offending.append(f"line {node.lineno}: db.Expr")
        # db.table().get(...), .query(...), .put(...): the table is handed to chalicelib, never used here
        if isinstance(node, ast.Attribute) and _is_db_table_call(node.value):
            offending.append(f"line {node.lineno}: db.table().{node.attr}")
    assert offending == []


def test_every_route_only_wires() -> None:
    too_long, deciding, hand_built = [], [], []
    for route in _routes():
        body = _body(route)
        if len(body) > MAX_ROUTE_STATEMENTS:
            too_long.append(f"{route.name}: {len(body)} statements")
        for statement in body:
            for node in ast.walk(statement):
                if isinstance(node, CONTROL_FLOW):
                    deciding.append(f"{route.name}: {type(node).__name__} at line {statement.lineno}")
                if isinstance(node, ast.Name) and node.id == "Response":
                    hand_built.append(f"{route.name}: Response at line {node.lineno}")
    # THEN no route is long, none decides anything (an if, a loop, a filter, a try is a rule),
    # and none builds a response by hand (web/http shapes pages, redirects and downloads)
    assert too_long == []
    assert deciding == []
    assert hand_built == []


def test_one_template_holds_the_sign_in_form_and_one_place_the_wrong_key_message() -> None:
    # GIVEN the templates and the code
    forms = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if 'type="password"' in path.read_text()
    )
    sources = [*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "templates").rglob("*.html"), APP]
    for message in ("That support key is not right.", "That API key is not right."):
        saying_it = [str(path.relative_to(ROOT)) for path in sources if message in path.read_text(encoding="utf-8")]
        assert saying_it == ["templates/pages/signin.html"], message
    # THEN the inbox, the dashboard and the console sign in through the same form, with the same words
    assert forms == ["templates/pages/signin.html"]
