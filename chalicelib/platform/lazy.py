"""Modules that a Lambda entry point names but runs only on some requests, loaded at first use.

Lambda compiles every module it imports at a cold start (its code directory is read-only, so
no bytecode is kept), and all five functions import ``app.py``.  ``app.py`` names every module
at its top; those off the webhook path come through :func:`module`, so a webhook's cold start
pays only for what it runs (``make bench``, import time).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """``name``, executed when one of its attributes is first read (already loaded: as is)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    lazy = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy
    loader.exec_module(lazy)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, lazy)
    return lazy
