"""The type hints are checked: mypy, configured in ``mypy.ini``, finds no error in the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_type_error() -> None:
    # GIVEN the files and settings of mypy.ini (app.py, chalicelib, devstack, bench)
    # WHEN mypy checks them, as `make lint` does
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    # THEN it exits cleanly, having checked the configured files
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found"), result.stdout
