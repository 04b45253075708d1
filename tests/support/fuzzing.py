"""How hard property tests look: a fixed, derandomized budget in CI, twenty times more from
fresh seeds under ``make fuzz``."""

from __future__ import annotations

import os

FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(ci: int) -> int:
    """The number of examples for a property that draws ``ci`` of them in CI."""
    return ci * 20 if FUZZING else ci
