"""No test mixes fixed dates with the real clock: a functional or browser test that names a
calendar date states the world time it runs at (``@pytest.mark.world_time``), so it passes on
any day (CI runs the suite a second time with the clock 400 days and 12 hours ahead)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
DATE = re.compile(r"\b20\d\d-\d\d-\d\d|\bdatetime\(20\d\d,")
# Tests that name a date yet never meet the wall clock, and why.
NO_CLOCK = {
    "test_dashboard.py::test_weeks_start_where_the_language_starts_them_and_weigh_days_by_answers": "a pure function of a given series",
    "test_exports.py::test_the_default_period_is_the_last_90_days_today_included": "a pure function of a given now",
    "test_cases.py::test_session_cookie_expires_after_12_hours_and_is_bound_to_its_store": "sessions are read at a given now",
    "test_make_run.py::test_tick_moves_time_on_the_running_stack": "the running stack's tick is given its time",
    "test_devstack.py::test_deliver_runs_dispatch_at_the_given_time": "dispatch runs at a given now",
    "test_exports.py::test_responses_csv_lists_a_period_newest_first_and_safe_for_spreadsheets": "answers are dated from the clock; fixed dates only in refused parameters",
    "test_package.py::test_every_function_runs_on_the_python_the_project_is_built_with": "a date in a comment",
}


def _marked(source: str, node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", [])
    return any("world_time" in (ast.get_source_segment(source, d) or "") for d in decorators)


def unpinned() -> list[str]:
    found = []
    for path in sorted([*TESTS.glob("functional/test_*.py"), *TESTS.glob("browser/test_*.py")]):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        module_pinned = any(
            isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
            and "world_time" in (ast.get_source_segment(source, n) or "")
            for n in tree.body
        )
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            name = f"{path.name}::{node.name}"
            body = ast.get_source_segment(source, node) or ""
            if DATE.search(body) and not (module_pinned or _marked(source, node)) and name not in NO_CLOCK:
                found.append(name)
    return found


def test_every_test_that_names_a_date_states_its_world_time() -> None:
    assert unpinned() == []


def test_the_check_sees_a_dated_test_without_a_pin(tmp_path: Path) -> None:
    sample = 'def test_x(client):\n    post(client, "2026-11-20T10:00:00Z")\n'
    tree = ast.parse(sample)
    node = tree.body[0]
    assert DATE.search(ast.get_source_segment(sample, node) or "") and not _marked(sample, node)
