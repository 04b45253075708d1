"""``python -m bench``: run every benchmark module of this package and print its figures."""
from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    # The figures are the output: keep the handlers' EMF metric lines out of it.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    here = Path(__file__).resolve().parent
    separate = {"soak"}  # make soak: many minutes long
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_") and m.name not in separate)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {(module.__doc__ or '').strip().splitlines()[0] if module.__doc__ else ''}", flush=True)
        module.main()
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
