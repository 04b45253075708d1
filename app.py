"""Aftercare's Lambda entry points.  This module only wires: it parses the request, calls
one function of ``chalicelib`` and shapes the answer.  Rules and AWS calls live below."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, Rate, Response

from chalicelib.core.clock import event_time, wall_clock
from chalicelib.core.validate import bearer
from chalicelib.customers import profiles
from chalicelib.intake import service as intake
from chalicelib.platform import aws, lazy, resources
from chalicelib.platform.config import settings
from chalicelib.platform.observability import event_middleware, http_middleware, logger
from chalicelib.storage import db
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry
from chalicelib.web import http
from chalicelib.web.auth import require_operator

# Off the webhook path: loaded at first use (see chalicelib/platform/lazy.py).
if TYPE_CHECKING:
    from chalicelib.console import pages as console
    from chalicelib.customers import exports, privacy
    from chalicelib.endpoints import manage as endpoints
    from chalicelib.messaging import delivery, feedback, onboarding, sms_inbound, unsubscribe
    from chalicelib.reports import dashboard as dashboards
    from chalicelib.reports import schedule as schedule_listing
    from chalicelib.reports import stats
    from chalicelib.schedule import dispatch as dispatching
    from chalicelib.stores import overrides, products
    from chalicelib.support import cases, escalation, sessions
    from chalicelib.support import inbox as support_inbox
    from chalicelib.surveys import pages
    from chalicelib.web import openapi
else:
    console = lazy.module("chalicelib.console.pages")
    exports = lazy.module("chalicelib.customers.exports")
    privacy = lazy.module("chalicelib.customers.privacy")
    endpoints = lazy.module("chalicelib.endpoints.manage")
    cases = lazy.module("chalicelib.support.cases")
    delivery = lazy.module("chalicelib.messaging.delivery")
    feedback = lazy.module("chalicelib.messaging.feedback")
    onboarding = lazy.module("chalicelib.messaging.onboarding")
    sms_inbound = lazy.module("chalicelib.messaging.sms_inbound")
    unsubscribe = lazy.module("chalicelib.messaging.unsubscribe")
    dashboards = lazy.module("chalicelib.reports.dashboard")
    schedule_listing = lazy.module("chalicelib.reports.schedule")
    stats = lazy.module("chalicelib.reports.stats")
    dispatching = lazy.module("chalicelib.schedule.dispatch")
    overrides = lazy.module("chalicelib.stores.overrides")
    products = lazy.module("chalicelib.stores.products")
    escalation = lazy.module("chalicelib.support.escalation")
    sessions = lazy.module("chalicelib.support.sessions")
    support_inbox = lazy.module("chalicelib.support.inbox")
    pages = lazy.module("chalicelib.surveys.pages")
    openapi = lazy.module("chalicelib.web.openapi")

app = Chalice(app_name="aftercare", configure_logs=False)
app.register_middleware(http_middleware(http.reshape_chalice_error), "http")
for _kind in ("scheduled", "sqs", "sns"):
    app.register_middleware(event_middleware, _kind)

JSON = ["application/json"]
FORM = ["application/x-www-form-urlencoded", "multipart/form-data"]


def route(path: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``app.route`` with domain errors answered in the public error shape."""

    def register(view: Callable[..., Any]) -> Any:
        return app.route(path, **options)(http.translate_errors(view))

    return register


def _request() -> Any:
    return app.current_request


def _store_for_request(store_id: str) -> StoreItem:
    return registry.authenticate(db.table(), store_id, bearer(_request().headers))


# --- stores ---------------------------------------------------------------------------
@route("/stores", methods=["POST"], content_types=JSON)
def create_store() -> Response:
    require_operator(bearer(_request().headers), aws.clients().ssm)
    body = onboarding.create(db.table(), aws.clients(), http.json_body(_request()), wall_clock())
    return http.json_response(body, 201, {"Location": f"/stores/{body['store_id']}"})


@route("/stores/{store_id}", methods=["GET"])
def get_store(store_id: str) -> Response:
    return http.json_response(registry.public_view(_store_for_request(store_id)))


@route("/stores/{store_id}", methods=["PATCH"], content_types=JSON)
def update_store(store_id: str) -> Response:
    _store_for_request(store_id)
    body = http.json_body(_request())
    return http.json_response(onboarding.update(db.table(), aws.clients(), store_id, body, wall_clock()))


@route("/stores/{store_id}/keys/rotate", methods=["POST"], content_types=JSON)
def rotate_store_key(store_id: str) -> Response:
    """Replace the store's API key or support key; the new one is shown in this answer only."""
    store = _store_for_request(store_id)
    return http.json_response(registry.rotate_key(db.table(), store, http.json_body(_request()), wall_clock()))


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


def _webhook(source: str, store_id: str) -> Response:

    request = _request()
    outcome = intake.receive(
        source, db.table(), store_id, request.headers, lambda: http.raw_body(request), wall_clock()
    )
    return http.json_response(outcome.body())


@route("/webhooks/shopify/{store_id}", methods=["POST"], content_types=WEBHOOK_BODY)
def shopify_webhook(store_id: str) -> Response:
    return _webhook("shopify", store_id)


@route("/webhooks/woocommerce/{store_id}", methods=["POST"], content_types=WEBHOOK_BODY)
def woocommerce_webhook(store_id: str) -> Response:
    return _webhook("woocommerce", store_id)


@route("/webhooks/orders/{store_id}", methods=["POST"], content_types=WEBHOOK_BODY)
def order_webhook(store_id: str) -> Response:
    return _webhook("generic", store_id)


@route("/stores/{store_id}/customers", methods=["POST"], content_types=JSON)
def sync_customers(store_id: str) -> Response:

    store = _store_for_request(store_id)
    result = profiles.sync(db.table(), store, http.json_body(_request()), wall_clock())
    return http.json_response(
        {"received": result.received, "written": result.written, "transactions": result.transactions}
    )


# --- follow-up engine (send, SES feedback, products, templates) ------------------------
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
def put_product(store_id: str, sku: str) -> Response:
    """Set a product's usage tips, tip links, warranty months and review link."""

    _store_for_request(store_id)
    item = products.put_product(db.table(), store_id, http.path_param(sku), http.json_body(_request()), wall_clock())
    return http.json_response(products.public_view(item))


@route("/stores/{store_id}/products/{sku}", methods=["GET"])
def get_product(store_id: str, sku: str) -> Response:
    """A product's settings."""

    _store_for_request(store_id)
    return http.json_response(products.public_view(products.get_product(db.table(), store_id, http.path_param(sku))))


@route("/stores/{store_id}/templates/{name}/{lang}", methods=["PUT"], content_types=JSON)
def put_template(store_id: str, name: str, lang: str) -> Response:
    """Override a message template in one language; refused with the line when it does not render."""

    store = _store_for_request(store_id)
    item = overrides.save(db.table(), store, name, lang, http.json_body(_request()).get("source"), wall_clock())
    return http.json_response(overrides.public_view(item))


@route("/stores/{store_id}/templates/{name}/{lang}", methods=["GET"])
def get_template(store_id: str, name: str, lang: str) -> Response:
    """The store's override of a template in one language."""

    _store_for_request(store_id)
    return http.json_response(overrides.public_view(overrides.get(db.table(), store_id, name, lang)))


@route("/stores/{store_id}/templates/{name}/{lang}", methods=["DELETE"])
def delete_template(store_id: str, name: str, lang: str) -> Response:
    """Remove an override: the built-in template is used again."""

    _store_for_request(store_id)
    overrides.delete(db.table(), store_id, name, lang)
    return http.json_response({"deleted": True})


@route("/stores/{store_id}/jobs", methods=["GET"])
def list_jobs(store_id: str) -> Response:
    """An order's or a customer's follow-ups (``order_id``, ``customer``; any ``status``), or the
    store's failed ones (``status=failed``), newest first, each with its reason."""

    store = _store_for_request(store_id)
    return http.json_response(schedule_listing.jobs_listing(db.table(), store, _request().query_params))


# --- outbound webhooks ------------------------------------------------------------------
@route("/stores/{store_id}/endpoints", methods=["POST"], content_types=JSON)
def create_endpoint(store_id: str) -> Any:
    """Register an outbound webhook endpoint; its signing secret is shown only in this answer."""

    _store_for_request(store_id)
    body, location = endpoints.register(
        db.table(), store_id, http.json_body(_request()), wall_clock(), allow_local=settings().allow_local_webhooks
    )
    return http.json_response(body, 201, {"Location": location})


@route("/stores/{store_id}/endpoints", methods=["GET"])
def list_endpoints(store_id: str) -> Any:
    """The store's endpoints, each with its state and latest deliveries (never the secret)."""

    _store_for_request(store_id)
    return http.json_response({"endpoints": endpoints.listing(db.table(), store_id, wall_clock())})


@route("/stores/{store_id}/endpoints/{endpoint_id}", methods=["DELETE"])
def delete_endpoint(store_id: str, endpoint_id: str) -> Any:
    """Remove an endpoint and its deliveries; nothing more is sent to it."""

    _store_for_request(store_id)
    endpoints.delete(db.table(), store_id, endpoint_id)
    return http.json_response({"deleted": True})


@route("/stores/{store_id}/endpoints/{endpoint_id}/rotate", methods=["POST"], content_types=JSON)
def rotate_endpoint_secret(store_id: str, endpoint_id: str) -> Any:
    """A new signing secret; the previous one keeps verifying for 24 hours."""

    _store_for_request(store_id)
    endpoints.no_options(http.raw_body(_request()))
    return http.json_response(endpoints.rotate(db.table(), store_id, endpoint_id, wall_clock()))


@route("/stores/{store_id}/endpoints/{endpoint_id}/enable", methods=["POST"], content_types=JSON)
def enable_endpoint(store_id: str, endpoint_id: str) -> Any:
    """Deliver to a disabled endpoint again (from the next event on)."""

    _store_for_request(store_id)
    endpoints.no_options(http.raw_body(_request()))
    return http.json_response(endpoints.enable(db.table(), store_id, endpoint_id, wall_clock()))


@route("/stores/{store_id}/endpoints/{endpoint_id}/deliveries", methods=["GET"])
def endpoint_deliveries(store_id: str, endpoint_id: str) -> Any:
    """An endpoint's deliveries, newest first, each with every attempt."""

    _store_for_request(store_id)
    listing = endpoints.deliveries_listing(db.table(), store_id, endpoint_id, _request().query_params)
    return http.json_response(listing)


# --- surveys, SMS replies, unsubscribe ---------------------------------------------------
@route("/s/{token}", methods=["GET"])
def survey_page(token: str) -> Response:
    """The survey form; a GET never records an answer (mail scanners open every link)."""
    request = _request()
    return http.page_response(
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
def survey_answer(token: str) -> Response:
    request = _request()
    form = http.form_body(request)
    return http.page_response(
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
def unsubscribe_page(token: str) -> Response:

    return http.page_response(
        unsubscribe.show(
            db.table(), token, _request().headers.get("accept-language"), base_url=settings().public_base_url
        )
    )


@route("/u/{token}", methods=["POST"], content_types=FORM)
def unsubscribe_post(token: str) -> Response:
    """RFC 8058 one-click (``List-Unsubscribe=One-Click``) or the confirm page's choice."""

    request = _request()
    form = http.form_body(request)
    return http.page_response(
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


@app.on_sns_message(topic=resources.INBOUND_WHATSAPP_TOPIC, name="inbound_whatsapp")
def inbound_whatsapp(event: Any) -> None:
    """Replies on WhatsApp (End User Messaging Social events), read as SMS replies are."""

    record = event.to_dict()["Records"][0]["Sns"]
    now = sms_inbound.received_at(record.get("Timestamp"), wall_clock())
    outcomes = sms_inbound.handle_whatsapp(db.table(), aws.clients(), event.message, now)
    logger.info(
        "inbound whatsapp",
        extra={"outcomes": [(o.intent.value, o.recorded, o.replied, o.reason) for o in outcomes]},
    )


@route("/stores/{store_id}/stats", methods=["GET"])
def store_stats(store_id: str) -> Response:
    """Daily counters summed over ``days`` (default 30) and grouped by ``group``, with their
    breakdowns and case timings: two reads per day, never a scan."""

    store = registry.with_defaults(_store_for_request(store_id))
    return http.json_response(stats.report(db.table(), store, _request().query_params, wall_clock()))


# --- cases, alerts, inbox, stats, dashboard, privacy -----------------------------------
def _store_for_support(store_id: str) -> StoreItem:
    """The store, for its API key or its support key (support works cases too)."""
    return registry.authenticate_api_or_support(db.table(), store_id, bearer(_request().headers))


@route("/stores/{store_id}/cases", methods=["GET"])
def list_cases(store_id: str) -> Response:
    _store_for_support(store_id)
    return http.json_response(cases.listing(db.table(), store_id, _request().query_params))


@route("/stores/{store_id}/cases/{case_id}", methods=["GET"])
def get_case(store_id: str, case_id: str) -> Response:
    _store_for_support(store_id)
    return http.json_response(cases.detail(db.table(), store_id, case_id))


@route("/stores/{store_id}/cases/{case_id}", methods=["PATCH"], content_types=JSON)
def change_case(store_id: str, case_id: str) -> Response:
    store = _store_for_support(store_id)
    change = cases.parse_change(http.json_body(_request()))
    return http.json_response(
        cases.public_view(escalation.change_case(db.table(), store, case_id, change, wall_clock()))
    )


@route("/stores/{store_id}/inbox", methods=["GET"])
def inbox(store_id: str) -> Any:
    request = _request()
    page = support_inbox.show(
        db.table(), store_id, request.headers, request.query_params, settings().public_base_url, wall_clock()
    )
    return http.page_response(page)


@route("/stores/{store_id}/inbox/session", methods=["POST"], content_types=FORM)
def inbox_sign_in(store_id: str) -> Any:
    request = _request()
    answer = support_inbox.sign_in(
        db.table(), store_id, lambda: http.form_body(request), request.headers, settings().public_base_url, wall_clock()
    )
    return http.page_response(answer)


@route("/stores/{store_id}/inbox/signout", methods=["POST"], content_types=FORM)
def inbox_sign_out(store_id: str) -> Any:
    request = _request()
    answer = support_inbox.sign_out(
        store_id, request.headers, lambda: http.form_body(request), settings().public_base_url, wall_clock()
    )
    return http.page_response(answer)


@route("/stores/{store_id}/inbox/cases/{case_id}", methods=["POST"], content_types=FORM)
def inbox_change_case(store_id: str, case_id: str) -> Any:
    request = _request()
    answer = support_inbox.change_case(
        db.table(),
        store_id,
        case_id,
        request.headers,
        lambda: http.form_body(request),
        settings().public_base_url,
        wall_clock(),
    )
    return http.page_response(answer)


@route("/stores/{store_id}/customers/{email_or_phone}", methods=["GET"])
def export_customer(store_id: str, email_or_phone: str) -> Response:
    """Everything stored about one customer, as JSON (GDPR access request)."""

    store = _store_for_request(store_id)
    customer_id = exports.customer_of(db.table(), store, http.path_param(email_or_phone))
    body = exports.customer_export(db.table(), store_id, customer_id, wall_clock())
    return http.json_response(body, headers=http.attachment("customer-export.json"))


@route("/stores/{store_id}/customers/{email_or_phone}", methods=["DELETE"])
def erase_customer(store_id: str, email_or_phone: str) -> Response:
    """Erase one customer (GDPR): profile, contacts, jobs, messages and cases go; answers stay, anonymised."""

    store = _store_for_request(store_id)
    customer_id = exports.customer_of(db.table(), store, http.path_param(email_or_phone))
    erased = privacy.erase_customer(db.table(), store_id, customer_id, wall_clock())
    return http.json_response(exports.erasure_view(erased))


@route("/stores/{store_id}/responses.csv", methods=["GET"])
def responses_csv(store_id: str) -> Response:
    """Every survey response of a period as CSV, newest first (``from``/``to``, default 90 days)."""

    request = _request()
    sessions.store_for_reader(db.table(), store_id, request.headers, wall_clock())
    download = exports.responses_download(db.table(), store_id, request.query_params, wall_clock())
    return http.csv_response(download.body, download.filename)


@route("/stores/{store_id}/dashboard", methods=["GET"])
def dashboard(store_id: str) -> Response:
    """The trend dashboard (HTML): score per week, response rate, categories, open cases, comments."""

    request = _request()
    page = dashboards.show(
        db.table(), store_id, request.headers, request.query_params, settings().public_base_url, wall_clock()
    )
    return http.page_response(page)


@route("/stores/{store_id}/dashboard/session", methods=["POST"], content_types=FORM)
def dashboard_sign_in(store_id: str) -> Response:
    """Sign in to the dashboard with the support key (the same session as the inbox)."""

    request = _request()
    answer = dashboards.sign_in(
        db.table(), store_id, lambda: http.form_body(request), request.headers, settings().public_base_url, wall_clock()
    )
    return http.page_response(answer)


# --- the store owner's console (HTML, signed in with the API key) -----------------------
def _console(store_id: str, section: str) -> Any:
    request = _request()
    return http.page_response(
        console.show(
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
    return http.page_response(
        console.act(
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
    return http.page_response(
        console.sign_in(db.table(), store_id, form, request.headers, wall_clock(), base_url=settings().public_base_url)
    )


@route("/stores/{store_id}/console/signout", methods=["POST"], content_types=FORM)
def console_sign_out(store_id: str) -> Any:
    """Sign out of the console."""
    request = _request()
    form = http.form_body(request)
    return http.page_response(
        console.sign_out(db.table(), store_id, request.headers, form, wall_clock(), base_url=settings().public_base_url)
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
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of every route."""

    return http.json_response(openapi.document(app.routes, settings().public_base_url))
