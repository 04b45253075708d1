"""The app served over real HTTP in a thread (inside whatever moto the test runs in)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import devstack


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The base URL of ``app`` on a free local port, for the duration of the block."""
    from chalice.config import Config
    from chalice.local import LocalDevServer

    server = LocalDevServer(
        app, Config.create(chalice_stage="local", app_name="aftercare", project_dir=str(devstack.ROOT)), "127.0.0.1", 0
    )
    thread = threading.Thread(target=server.server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)
