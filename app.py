"""Aftercare's Lambda entry points.  This module only wires: it parses the request, calls
one function of ``chalicelib`` and shapes the answer.  Rules and AWS calls live below."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from chalice import Chalice, Rate, Response

from chalicelib.core.clock import event_time, wall_clock
from chalicelib.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from chalicelib.core.validate import region_of_zone
from chalicelib.customers import exports, privacy, profiles
from chalicelib.intake import service as intake
from chalicelib.messaging import delivery, feedback, sms_inbound, transports, unsubscribe
from chalicelib.platform import aws, resources
from chalicelib.platform.config import settings
from chalicelib.platform.observability import event_middleware, http_middleware, logger
from chalicelib.rendering import templating
from chalicelib.reports import dashboard as dashboards
from chalicelib.reports import stats
from chalicelib.schedule import dispatch as dispatching
from chalicelib.schedule import jobs
from chalicelib.storage import db
from chalicelib.stores import overrides, products, registry
from chalicelib.support import alerts, cases, escalation, sessions
from chalicelib.support import inbox as inbox_page
from chalicelib.surveys import pages
from chalicelib.web import http, openapi
from chalicelib.web.auth import bearer, require_operator

app = Chalice(app_name="aftercare", configure_logs=False)
app.register_middleware(http_middleware(http.reshape_chalice_error), "http")
for _kind in ("scheduled", "sqs", "sns"):
    app.register_middleware(event_middleware, _kind)

JSON = ["application/json"]
FORM = ["application/x-www-form-urlencoded", "multipart/form-data"]
ANY_BODY = ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream"]


def route(path: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``app.route`` with domain errors answered in the public error shape."""

    def register(view: Callable[..., Any]) -> Any:
        return app.route(path, **options)(http.translate_errors(view))

    return register


def _request() -> Any:
    return app.current_request


def _store_for_request(store_id: str) -> dict[str, Any]:
    return registry.authenticate(db.table(), store_id, bearer(_request().headers))


# --- stores ---------------------------------------------------------------------------
@route("/stores", methods=["POST"], content_types=JSON)
def create_store() -> Any:
    require_operator(bearer(_request().headers), aws.clients().ssm)
    created = registry.create_store(db.table(), http.json_body(_request()), wall_clock())
    logger.info("store created", extra={"store_id": created.store_id})
    _request_sender_identity(created.store["sender_email"])
    _route_alerts(created.store)
    body = {
        **registry.public_view(created.store),
        "api_key": created.api_key,
        "support_key": created.support_key,
        "webhook_secret": created.webhook_secret,
    }
    return http.json_response(body, 201, {"Location": f"/stores/{created.store_id}"})


@route("/stores/{store_id}", methods=["GET"])
def get_store(store_id: str) -> Any:
    return http.json_response(registry.public_view(_store_for_request(store_id)))


@route("/stores/{store_id}", methods=["PATCH"], content_types=JSON)
def update_store(store_id: str) -> Any:
    _store_for_request(store_id)
    body = http.json_body(_request())
    item = _console_settings().save(db.table(), aws.clients(), store_id, body, wall_clock())
    return http.json_response(registry.public_view(item))


# --- scheduled work -------------------------------------------------------------------
@app.schedule(Rate(1, unit=Rate.MINUTES), name="dispatch")
def dispatch(event: Any) -> dict[str, Any]:
    """Queue every job due by the event's time (never the wall clock)."""
    now = event_time(event)
    cfg = settings()
    context = getattr(event, "context", None)
    time_left = (
        context.get_remaining_time_in_millis
        if context is not None and hasattr(context, "get_remaining_time_in_millis")
        else (lambda: 60_000)
    )
    result = dispatching.run(db.table(), aws.clients().sqs, cfg.send_queue_url, now, cfg.due_shards, time_left)
    logger.info(
        "dispatched",
        extra={"now": now.isoformat(), "due": result.due, "queued": result.queued, "items_read": result.items_read},
    )
    return {
        "due": result.due,
        "queued": result.queued,
        "items_read": result.items_read,
        "out_of_time": result.out_of_time,
    }


# --- order intake (webhooks, customer sync) --------------------------------------------
WEBHOOK_BODY = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def _webhook(source: str, store_id: str) -> Any:

    request = _request()
    outcome = intake.receive(
        source, db.table(), store_id, request.headers, lambda: http.raw_body(request), wall_clock()
    )
    return http.json_response(outcome.body())


@route("/webhooks/shopify/{store_id}", methods=["POST"], content_types=WEBHOOK_BODY)
def shopify_webhook(store_id: str) -> Any:
    return _webhook("shopify", store_id)


@route("/webhooks/woocommerce/{store_id}", methods=["POST"], content_types=WEBHOOK_BODY)
def woocommerce_webhook(store_id: str) -> Any:
    return _webhook("woocommerce", store_id)


@route("/webhooks/orders/{store_id}", methods=["POST"], content_types=WEBHOOK_BODY)
def order_webhook(store_id: str) -> Any:
    return _webhook("generic", store_id)


@route("/stores/{store_id}/customers", methods=["POST"], content_types=JSON)
def sync_customers(store_id: str) -> Any:

    store = _store_for_request(store_id)
    result = profiles.sync(db.table(), store, http.json_body(_request()), wall_clock())
    return http.json_response(
        {"received": result.received, "written": result.written, "transactions": result.transactions}
    )


# --- follow-up engine (send, SES feedback, products, templates) ------------------------
def _route_alerts(store: dict[str, Any]) -> None:
    """Support's email and phone receive this store's alerts (SNS, filtered by store)."""
    alerts.route_alerts(db.table(), aws.clients().sns, store)


def _request_sender_identity(sender_email: str) -> None:
    """Ask SES to verify a store's sender (SES sends from verified identities only)."""

    transports.ensure_sender(aws.clients().sesv2, sender_email)


@app.on_sqs_message(queue=resources.SEND_QUEUE, batch_size=10, name="send")
def send(event: Any) -> Mapping[str, Any]:
    """Deliver due jobs; failed records are reported one by one (partial batch failures)."""
    return delivery.handle_batch(event.to_dict(), getattr(event, "context", None), db.table(), aws.clients())


@app.on_sns_message(topic=resources.SES_FEEDBACK_TOPIC, name="ses_feedback")
def ses_feedback(event: Any) -> None:
    """SES bounces and complaints: hard bounces and complaints suppress the address."""

    try:
        notification = json.loads(event.message)
    except ValueError:
        logger.warning("SES feedback that is not JSON was ignored")
        return
    feedback.ses_feedback(db.table(), notification, wall_clock())


@route("/stores/{store_id}/products/{sku}", methods=["PUT"], content_types=JSON)
def put_product(store_id: str, sku: str) -> Any:
    """Set a product's usage tips, tip links, warranty months and review link."""

    _store_for_request(store_id)
    item = products.put_product(db.table(), store_id, unquote(sku), http.json_body(_request()), wall_clock())
    return http.json_response(products.public_view(item))


@route("/stores/{store_id}/products/{sku}", methods=["GET"])
def get_product(store_id: str, sku: str) -> Any:
    """A product's settings."""

    _store_for_request(store_id)
    return http.json_response(products.public_view(products.get_product(db.table(), store_id, unquote(sku))))


@route("/stores/{store_id}/templates/{name}/{lang}", methods=["PUT"], content_types=JSON)
def put_template(store_id: str, name: str, lang: str) -> Any:
    """Override a message template in one language; refused with the line when it does not render."""

    store = _store_for_request(store_id)
    item = overrides.save(db.table(), store, name, lang, http.json_body(_request()).get("source"), wall_clock())
    return http.json_response(overrides.public_view(item))


@route("/stores/{store_id}/templates/{name}/{lang}", methods=["GET"])
def get_template(store_id: str, name: str, lang: str) -> Any:
    """The store's override of a template in one language."""

    _store_for_request(store_id)
    return http.json_response(overrides.public_view(overrides.get(db.table(), store_id, name, lang)))


@route("/stores/{store_id}/templates/{name}/{lang}", methods=["DELETE"])
def delete_template(store_id: str, name: str, lang: str) -> Any:
    """Remove an override: the built-in template is used again."""

    _store_for_request(store_id)
    overrides.delete(db.table(), store_id, name, lang)
    return http.json_response({"deleted": True})


@route("/stores/{store_id}/jobs", methods=["GET"])
def list_jobs(store_id: str) -> Any:
    """An order's or a customer's follow-ups (``order_id``, ``customer``; any ``status``), or the
    store's failed ones (``status=failed``), newest first, each with its reason."""

    store = _store_for_request(store_id)
    params = _request().query_params or {}
    status = params.get("status")
    if status is not None and status not in jobs.STATUSES:
        return http.error_response(
            400, "invalid_input", f"status must be one of {', '.join(sorted(jobs.STATUSES))}", "status"
        )
    order_id, contact = params.get("order_id"), params.get("customer")
    if order_id or contact:
        customer_id = (
            exports.resolve(db.table(), store_id, contact, region_of_zone(store.get("timezone"))) if contact else None
        )
        rows = jobs.schedule_view(db.table(), store_id, order_id=order_id, customer_id=customer_id, status=status)
        limit = http.int_param(params, "limit", default=100, low=1, high=100)
        page, cursor = jobs.schedule_page(
            rows, limit=limit, after=params.get("after"), scope=f"{order_id}|{customer_id}|{status}"
        )
        return http.json_response({"jobs": page, "next": cursor})
    if status != "failed":
        return http.error_response(400, "invalid_input", "give order_id or customer, or status=failed", "status")
    return http.json_response({"jobs": jobs.failed_jobs(db.table(), store_id)})


# --- surveys, SMS replies, unsubscribe ---------------------------------------------------
def _page(page: Any) -> Any:
    return http.html_response(page.body, page.status, page.headers)


@route("/s/{token}", methods=["GET"])
def survey_page(token: str) -> Any:
    """The survey form; a GET never records an answer (mail scanners open every link)."""
    request = _request()
    return _page(
        pages.show(
            db.table(),
            token,
            request.query_params,
            request.headers.get("accept-language"),
            wall_clock(),
            base_url=settings().public_base_url,
        )
    )


@route("/s/{token}", methods=["POST"], content_types=FORM)
def survey_answer(token: str) -> Any:
    request = _request()
    form = http.form_body(request)
    return _page(
        pages.answer(
            db.table(),
            aws.clients(),
            token,
            form,
            request.headers.get("accept-language"),
            wall_clock(),
            base_url=settings().public_base_url,
        )
    )


@route("/u/{token}", methods=["GET"])
def unsubscribe_page(token: str) -> Any:

    return _page(
        unsubscribe.show(
            db.table(), token, _request().headers.get("accept-language"), base_url=settings().public_base_url
        )
    )


@route("/u/{token}", methods=["POST"], content_types=FORM)
def unsubscribe_post(token: str) -> Any:
    """RFC 8058 one-click (``List-Unsubscribe=One-Click``) or the confirm page's choice."""

    request = _request()
    form = http.form_body(request)
    return _page(
        unsubscribe.unsubscribe(
            db.table(),
            token,
            form,
            request.headers.get("accept-language"),
            wall_clock(),
            base_url=settings().public_base_url,
        )
    )


@app.on_sns_message(topic=resources.INBOUND_SMS_TOPIC, name="inbound_sms")
def inbound_sms(event: Any) -> None:
    """A reply to our SMS (End User Messaging two-way payload): STOP, HELP, START or a score."""

    record = event.to_dict()["Records"][0]["Sns"]
    payload = sms_inbound.inbound(event.message)
    if payload is None:
        logger.warning("inbound SMS payload not understood")
        return
    now = sms_inbound.received_at(record.get("Timestamp"), wall_clock())
    outcome = sms_inbound.handle(db.table(), aws.clients(), payload, now)
    logger.info(
        "inbound sms",
        extra={
            "intent": outcome.intent.value,
            "recorded": outcome.recorded,
            "replied": outcome.replied,
            "reason": outcome.reason,
        },
    )


@route("/stores/{store_id}/stats", methods=["GET"])
def store_stats(store_id: str) -> Any:
    """Daily counters summed over ``days`` (default 30): one read per day, never a scan."""

    store = registry.with_defaults(_store_for_request(store_id))
    days = http.int_param(_request().query_params or {}, "days", default=30, low=1, high=stats.MAX_DAYS)
    return http.json_response(stats.summary(db.table(), store, days, wall_clock()))


# --- cases, alerts, inbox, stats, dashboard, privacy -----------------------------------
def _store_for_support(store_id: str) -> dict[str, Any]:
    """The store, for its API key or its support key (support works cases too)."""
    token = bearer(_request().headers)
    kind = "support" if token and token.startswith("sk_") else "api"
    return registry.authenticate(db.table(), store_id, token, kind=kind)


@route("/stores/{store_id}/cases", methods=["GET"])
def list_cases(store_id: str) -> Any:
    _store_for_support(store_id)
    query = _request().query_params or {}
    limit = http.int_param(query, "limit", default=100, low=1, high=100)
    items, cursor = cases.cases_page(
        db.table(), store_id, query.get("status") or "open", limit=limit, after=query.get("after")
    )
    return http.json_response({"cases": [cases.public_view(item) for item in items], "next": cursor})


@route("/stores/{store_id}/cases/{case_id}", methods=["GET"])
def get_case(store_id: str, case_id: str) -> Any:
    _store_for_support(store_id)
    return http.json_response(cases.detail(db.table(), store_id, case_id))


@route("/stores/{store_id}/cases/{case_id}", methods=["PATCH"], content_types=JSON)
def change_case(store_id: str, case_id: str) -> Any:
    store = _store_for_support(store_id)
    change = cases.parse_change(http.json_body(_request()))
    return http.json_response(
        cases.public_view(escalation.change_case(db.table(), store, case_id, change, wall_clock()))
    )


def _inbox_session(store_id: str) -> Any:

    return sessions.read(store_id, sessions.cookie_value(_request().headers), wall_clock())


def _see_inbox(
    store_id: str, headers: dict[str, str] | None = None, message: str | None = None, case_id: str | None = None
) -> Any:

    location = inbox_page.inbox_url(settings().public_base_url, store_id)
    query = f"?done={message}" if message else ""
    anchor = f"#case-{case_id}" if case_id else ""
    return Response(
        body="",
        status_code=303,
        headers={"Location": location + query + anchor, "Cache-Control": "no-store", **(headers or {})},
    )


@route("/stores/{store_id}/inbox", methods=["GET"])
def inbox(store_id: str) -> Any:

    store = registry.with_defaults(registry.get_store(db.table(), store_id))
    session = _inbox_session(store_id)
    base = settings().public_base_url
    if session is None:
        return http.html_response(inbox_page.signin_page(store, base_url=base))
    language = templating.language_or(store.get("language"), "en")
    params = _request().query_params or {}
    notice = inbox_page.inbox_message(params.get("done"), language)
    page = inbox_page.inbox_page(
        db.table(),
        store,
        signed_in_as=session.name,
        csrf=session.csrf,
        base_url=base,
        now=wall_clock(),
        notice=notice,
        view=params.get("view") or inbox_page.ACTIVE,
        query=params.get("q"),
    )
    return http.html_response(page)


@route("/stores/{store_id}/inbox/session", methods=["POST"], content_types=FORM)
def inbox_sign_in(store_id: str) -> Any:

    store = registry.with_defaults(registry.get_store(db.table(), store_id))
    form = http.form_body(_request())
    base = settings().public_base_url
    if not _support_key_ok(store_id, form):
        _ = templating.translations(templating.language_or(store.get("language"), "en")).gettext
        page = inbox_page.signin_page(
            store, base_url=base, error=_("That support key is not right."), name=form.get("name")
        )
        return http.html_response(page, 401)
    return _see_inbox(store_id, _session_cookie(store_id, form.get("name") or ""))


def _support_key_ok(store_id: str, form: dict[str, str]) -> bool:

    sessions.require_same_origin(_request().headers)
    try:
        registry.authenticate(db.table(), store_id, (form.get("support_key") or "").strip() or None, kind="support")
    except (Unauthorized, NotFound):
        return False
    return True


def _session_cookie(store_id: str, name: str) -> dict[str, str]:
    """A new support session (inbox, dashboard and CSV export share it)."""

    _session, token = sessions.issue(store_id, name, wall_clock())
    return {"Set-Cookie": sessions.set_cookie(token, settings().public_base_url, store_id)}


@route("/stores/{store_id}/inbox/signout", methods=["POST"], content_types=FORM)
def inbox_sign_out(store_id: str) -> Any:

    session = _inbox_session(store_id)
    if session is not None and not session.csrf_ok(http.form_body(_request()).get("csrf")):
        return http.error_response(403, "forbidden", "this form is out of date; reload the inbox")
    return _see_inbox(store_id, {"Set-Cookie": sessions.clear_cookie(settings().public_base_url, store_id)})


@route("/stores/{store_id}/inbox/cases/{case_id}", methods=["POST"], content_types=FORM)
def inbox_change_case(store_id: str, case_id: str) -> Any:

    session = _inbox_session(store_id)
    if session is None:
        return _see_inbox(store_id)
    form = http.form_body(_request())
    if not session.csrf_ok(form.pop("csrf", None)):
        return http.error_response(403, "forbidden", "this form is out of date; reload the inbox")
    store = registry.with_defaults(registry.get_store(db.table(), store_id))
    fields = {k: v for k, v in form.items() if v != "" and k in ("action", "assignee", "outcome", "note")}
    try:
        change = cases.parse_change({**fields, "by": session.name})
        escalation.change_case(db.table(), store, case_id, change, wall_clock())
    except (Conflict, InvalidInput) as exc:
        page = inbox_page.inbox_page(
            db.table(),
            store,
            signed_in_as=session.name,
            csrf=session.csrf,
            base_url=settings().public_base_url,
            now=wall_clock(),
            error=exc.message,
        )
        return http.html_response(page, exc.status)
    done = {"acknowledge": "acknowledged", "resolve": "resolved", "assign": "assigned"}[change.action]
    return _see_inbox(store_id, message=done, case_id=case_id)


def _store_for_reader(store_id: str) -> dict[str, Any]:
    """The store, for its API key or a signed-in support session (a download from a page)."""

    if bearer(_request().headers):
        return _store_for_request(store_id)
    if _inbox_session(store_id) is None:
        raise Unauthorized("missing credentials: send Authorization: Bearer <API key>, or sign in to the inbox")
    return registry.get_store(db.table(), store_id)


@route("/stores/{store_id}/customers/{email_or_phone}", methods=["GET"])
def export_customer(store_id: str, email_or_phone: str) -> Any:
    """Everything stored about one customer, as JSON (GDPR access request)."""

    store = _store_for_request(store_id)
    customer_id = exports.resolve(db.table(), store_id, unquote(email_or_phone), region_of_zone(store.get("timezone")))
    body = exports.customer_export(db.table(), store_id, customer_id, wall_clock())
    return http.json_response(body, headers={"Content-Disposition": 'attachment; filename="customer-export.json"'})


@route("/stores/{store_id}/customers/{email_or_phone}", methods=["DELETE"])
def erase_customer(store_id: str, email_or_phone: str) -> Any:
    """Erase one customer (GDPR): profile, contacts, jobs, messages and cases go; answers stay, anonymised."""

    store = _store_for_request(store_id)
    customer_id = exports.resolve(db.table(), store_id, unquote(email_or_phone), region_of_zone(store.get("timezone")))
    erased = privacy.erase_customer(db.table(), store_id, customer_id, wall_clock())
    return http.json_response(exports.erasure_view(erased))


@route("/stores/{store_id}/responses.csv", methods=["GET"])
def responses_csv(store_id: str) -> Any:
    """Every survey response of a period as CSV, newest first (``from``/``to``, default 90 days)."""

    _store_for_reader(store_id)
    span = exports.period(_request().query_params, wall_clock())
    body = exports.responses_csv(exports.responses_between(db.table(), store_id, span))
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{exports.csv_filename(store_id, span)}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=body, status_code=200, headers=headers)


@route("/stores/{store_id}/dashboard", methods=["GET"])
def dashboard(store_id: str) -> Any:
    """The trend dashboard (HTML): score per week, response rate, categories, open cases, comments."""

    store = registry.with_defaults(registry.get_store(db.table(), store_id))
    days = dashboards.period_days((_request().query_params or {}).get("days"))
    session = _inbox_session(store_id)
    base = settings().public_base_url
    if session is None:
        return http.html_response(dashboards.signin_page(store, base_url=base, days=days))
    page = dashboards.page(
        db.table(), store, days=days, signed_in_as=session.name, csrf=session.csrf, base_url=base, now=wall_clock()
    )
    return http.html_response(page)


@route("/stores/{store_id}/dashboard/session", methods=["POST"], content_types=FORM)
def dashboard_sign_in(store_id: str) -> Any:
    """Sign in to the dashboard with the support key (the same session as the inbox)."""

    store = registry.with_defaults(registry.get_store(db.table(), store_id))
    form = http.form_body(_request())
    base = settings().public_base_url
    days = dashboards.period_days(form.get("days"))
    if not _support_key_ok(store_id, form):
        return http.html_response(
            dashboards.signin_page(store, base_url=base, days=days, failed=True, name=form.get("name")), 401
        )
    location = dashboards.dashboard_url(base, store_id, days)
    return Response(
        body="",
        status_code=303,
        headers={
            "Location": location,
            "Cache-Control": "no-store",
            **_session_cookie(store_id, form.get("name") or ""),
        },
    )


# --- the store owner's console (HTML, signed in with the API key) -----------------------
def _console_pages() -> Any:
    # lazy: the console's modules add about 20 ms to `import app` (bench/import_time.py), and
    # the webhook path never uses them
    from chalicelib.console import pages

    return pages


def _console_settings() -> Any:
    # lazy: as _console_pages (PATCH /stores/{store_id} shares the console's settings save)
    from chalicelib.console import settings as console_settings

    return console_settings


def _console(store_id: str, section: str) -> Any:
    request = _request()
    return _page(
        _console_pages().show(
            db.table(),
            store_id,
            section,
            request.headers,
            request.query_params,
            wall_clock(),
            base_url=settings().public_base_url,
        )
    )


def _console_form(store_id: str, action: str) -> Any:
    request = _request()
    form = http.form_body(request)
    return _page(
        _console_pages().act(
            db.table(),
            aws.clients(),
            store_id,
            action,
            request.headers,
            form,
            wall_clock(),
            base_url=settings().public_base_url,
        )
    )


@route("/stores/{store_id}/console", methods=["GET"])
def console_setup(store_id: str) -> Any:
    """The console's setup page (HTML): webhook URLs, the secret, the last webhooks, the guides."""
    return _console(store_id, "setup")


@route("/stores/{store_id}/console/settings", methods=["GET"])
def console_settings_page(store_id: str) -> Any:
    """The console's settings page (HTML), grouped as the README groups them."""
    return _console(store_id, "settings")


@route("/stores/{store_id}/console/messages", methods=["GET"])
def console_messages(store_id: str) -> Any:
    """The console's message previews (HTML), the store's overrides and test sends."""
    return _console(store_id, "messages")


@route("/stores/{store_id}/console/products", methods=["GET"])
def console_products(store_id: str) -> Any:
    """The console's product settings page (HTML)."""
    return _console(store_id, "products")


@route("/stores/{store_id}/console/schedule", methods=["GET"])
def console_schedule(store_id: str) -> Any:
    """The console's schedule page (HTML): follow-ups with their reasons, failed jobs."""
    return _console(store_id, "schedule")


@route("/stores/{store_id}/console/session", methods=["POST"], content_types=FORM)
def console_sign_in(store_id: str) -> Any:
    """Sign in to the console with the store's API key."""
    request = _request()
    form = http.form_body(request)
    return _page(
        _console_pages().sign_in(
            db.table(), store_id, form, request.headers, wall_clock(), base_url=settings().public_base_url
        )
    )


@route("/stores/{store_id}/console/signout", methods=["POST"], content_types=FORM)
def console_sign_out(store_id: str) -> Any:
    """Sign out of the console."""
    request = _request()
    form = http.form_body(request)
    return _page(
        _console_pages().sign_out(
            db.table(), store_id, request.headers, form, wall_clock(), base_url=settings().public_base_url
        )
    )


@route("/stores/{store_id}/console/secret", methods=["POST"], content_types=FORM)
def console_rotate_secret(store_id: str) -> Any:
    """Rotate the webhook secret (the old one verifies for 24 hours more)."""
    return _console_form(store_id, "secret")


@route("/stores/{store_id}/console/settings", methods=["POST"], content_types=FORM)
def console_save_settings(store_id: str) -> Any:
    """Save one group of settings, checked as PATCH /stores/{store_id} checks them."""
    return _console_form(store_id, "settings")


@route("/stores/{store_id}/console/templates", methods=["POST"], content_types=FORM)
def console_save_template(store_id: str) -> Any:
    """Save or remove a template override, checked in the sandbox."""
    return _console_form(store_id, "templates")


@route("/stores/{store_id}/console/test", methods=["POST"], content_types=FORM)
def console_send_test(store_id: str) -> Any:
    """Send the previewed message to the store's support email or phone."""
    return _console_form(store_id, "test")


@route("/stores/{store_id}/console/products", methods=["POST"], content_types=FORM)
def console_save_product(store_id: str) -> Any:
    """Save one SKU's tips, warranty months and review link."""
    return _console_form(store_id, "products")


@route("/stores/{store_id}/console/jobs/retry", methods=["POST"], content_types=FORM)
def console_retry_job(store_id: str) -> Any:
    """Queue a failed job again."""
    return _console_form(store_id, "retry")


# --- API description --------------------------------------------------------------------
@route("/openapi.json", methods=["GET"])
def openapi_document() -> Any:
    """The OpenAPI 3.1 description of every route."""

    return http.json_response(openapi.document(app.routes, settings().public_base_url))
