"""Aftercare's Lambda entry points.  This module only wires: it parses the request, calls
one function of ``chalicelib`` and shapes the answer.  Rules and AWS calls live below."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate

from chalicelib import aws, db, dispatch as dispatching, stores, web
from chalicelib.auth import bearer, require_operator
from chalicelib.clock import event_time, wall_clock
from chalicelib.config import settings
from chalicelib.observability import event_middleware, http_middleware, logger

app = Chalice(app_name="aftercare", configure_logs=False)
app.register_middleware(http_middleware(web.reshape_chalice_error), "http")
for _kind in ("scheduled", "sqs", "sns"):
    app.register_middleware(event_middleware, _kind)

JSON = ["application/json"]
FORM = ["application/x-www-form-urlencoded", "multipart/form-data"]
ANY_BODY = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]


def route(path: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``app.route`` with domain errors answered in the public error shape."""

    def register(view: Callable[..., Any]) -> Any:
        return app.route(path, **options)(web.translate_errors(view))

    return register


def _request() -> Any:
    return app.current_request


def _store_for_request(store_id: str) -> dict[str, Any]:
    return stores.authenticate(db.table(), store_id, bearer(_request().headers))


# --- stores ---------------------------------------------------------------------------
@route("/stores", methods=["POST"], content_types=JSON)
def create_store() -> Any:
    require_operator(bearer(_request().headers), aws.clients().ssm)
    created = stores.create_store(db.table(), web.json_body(_request()), wall_clock())
    logger.info("store created", extra={"store_id": created.store_id})
    body = {
        **stores.public_view(created.store),
        "api_key": created.api_key,
        "support_key": created.support_key,
        "webhook_secret": created.webhook_secret,
    }
    return web.json_response(body, 201, {"Location": f"/stores/{created.store_id}"})


@route("/stores/{store_id}", methods=["GET"])
def get_store(store_id: str) -> Any:
    return web.json_response(stores.public_view(_store_for_request(store_id)))


@route("/stores/{store_id}", methods=["PATCH"], content_types=JSON)
def update_store(store_id: str) -> Any:
    _store_for_request(store_id)
    item = stores.update_store(db.table(), store_id, web.json_body(_request()), wall_clock())
    return web.json_response(stores.public_view(item))


# --- scheduled work -------------------------------------------------------------------
@app.schedule(Rate(1, unit=Rate.MINUTES), name="dispatch")
def dispatch(event: Any) -> dict[str, Any]:
    """Queue every job due by the event's time (never the wall clock)."""
    now = event_time(event)
    cfg = settings()
    context = getattr(event, "context", None)
    time_left = context.get_remaining_time_in_millis if context is not None and hasattr(context, "get_remaining_time_in_millis") else (lambda: 60_000)
    result = dispatching.run(db.table(), aws.clients().sqs, cfg.send_queue_url, now, cfg.due_shards, time_left)
    logger.info("dispatched", extra={"now": now.isoformat(), "due": result.due, "queued": result.queued, "items_read": result.items_read})
    return {"due": result.due, "queued": result.queued, "items_read": result.items_read, "out_of_time": result.out_of_time}


# --- order intake (webhooks, customer sync) --------------------------------------------


# --- follow-up engine (send, SES feedback, products, templates) ------------------------


# --- surveys, SMS replies, unsubscribe ---------------------------------------------------


# --- cases, alerts, inbox, stats, dashboard, privacy -----------------------------------


# --- API description --------------------------------------------------------------------
