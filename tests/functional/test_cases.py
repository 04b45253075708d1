"""The cases API and the support inbox, as support uses them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.platform.aws import clients
from chalicelib.storage import db, keys
from chalicelib.stores import registry
from chalicelib.support import cases, escalation
from tests.conftest import auth
from tests.support.cases import answer_survey, open_cases, response, set_store

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def patch(client: Any, store: dict[str, Any], case_id: str, body: dict[str, Any]) -> Any:
    return client.http.patch(
        f"/stores/{store['store_id']}/cases/{case_id}", headers=auth(store["api_key"]), body=json.dumps(body)
    )


def test_cases_are_listed_by_priority_then_age_with_contacts_and_order(client: Any, store: dict[str, Any]) -> None:
    # GIVEN three negative answers: a passive with a complaint, then a detractor, then a threat of chargeback
    answer_survey(client, store, score=8, comment="The lid is broken", order_id="A1", customer="ana@example.com")
    answer_survey(client, store, score=5, comment="", order_id="B2", customer="ben@example.com")
    answer_survey(client, store, score=4, comment="I will file a chargeback", order_id="C3", customer="cy@example.com")

    # WHEN support lists open cases
    listed = open_cases(client, store)

    # THEN the urgent one leads, then the rest oldest first, each with what support needs
    assert [c["order_id"] for c in listed] == ["C3", "A1", "B2"]
    assert [c["priority"] for c in listed] == ["urgent", "normal", "normal"]
    assert listed[1]["comment"] == "The lid is broken" and listed[1]["score"] == 8
    assert listed[1]["contacts"]["email"] == "ana@example.com"
    assert {"case_id", "status", "priority", "created_at"} <= set(listed[0])
    assert "PK" not in listed[0] and "gsi1pk" not in listed[0]


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_a_case_is_worked_from_open_to_resolved_with_who_and_when(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an open case
    answer_survey(client, store, score=3, comment="Wrong colour delivered")
    case_id = open_cases(client, store)[0]["case_id"]

    sent = {
        **keys.sent_message(store["store_id"], "maya@example.org", "2026-11-20T09:00:00Z", "survey"),
        "kind": "survey",
        "channel": "email",
        "sent_at": "2026-11-20T09:00:00Z",
    }
    db.table().put(sent)

    # WHEN support acknowledges, assigns and resolves it
    acknowledged = patch(client, store, case_id, {"action": "acknowledge", "by": "Dana"})
    assigned = patch(client, store, case_id, {"action": "assign", "assignee": "Omar", "by": "Dana"})
    resolved = patch(
        client, store, case_id, {"action": "resolve", "outcome": "replaced", "note": "Sent the green one", "by": "Omar"}
    )

    # THEN each step is recorded and the lists follow
    assert acknowledged.status_code == 200 and acknowledged.json_body["acknowledged_by"] == "Dana"
    assert assigned.json_body["assignee"] == "Omar"
    body = resolved.json_body
    assert (body["status"], body["outcome"], body["note"], body["resolved_by"]) == (
        "resolved",
        "replaced",
        "Sent the green one",
        "Omar",
    )
    assert [e["action"] for e in body["events"]] == ["opened", "acknowledge", "assign", "resolve"]
    assert open_cases(client, store) == [] and open_cases(client, store, "acknowledged") == []
    assert [c["case_id"] for c in open_cases(client, store, "resolved")] == [case_id]
    detail = client.http.get(f"/stores/{store['store_id']}/cases/{case_id}", headers=auth(store["api_key"]))
    assert detail.status_code == 200 and detail.json_body["resolved_at"]
    assert detail.json_body["messages"] == [{"kind": "survey", "channel": "email", "sent_at": "2026-11-20T09:00:00Z"}]


def test_impossible_transitions_are_refused_with_409(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a resolved case
    answer_survey(client, store, score=2, comment="")
    case_id = open_cases(client, store)[0]["case_id"]
    assert patch(client, store, case_id, {"action": "resolve", "outcome": "explained"}).status_code == 200

    # WHEN someone tries to resolve or acknowledge it again
    again = patch(client, store, case_id, {"action": "resolve", "outcome": "refunded"})
    late = patch(client, store, case_id, {"action": "acknowledge"})

    # THEN both are refused, saying why, and nothing changed
    assert again.status_code == 409 and again.json_body["error"]["message"] == "this case is already resolved"
    assert late.status_code == 409
    assert (
        client.http.get(f"/stores/{store['store_id']}/cases/{case_id}", headers=auth(store["api_key"])).json_body[
            "outcome"
        ]
        == "explained"
    )


def test_bad_requests_are_clear(client: Any, store: dict[str, Any]) -> None:
    answer_survey(client, store, score=2, comment="")
    case_id = open_cases(client, store)[0]["case_id"]
    bad_outcome = patch(client, store, case_id, {"action": "resolve", "outcome": "magic"})
    assert bad_outcome.status_code == 400 and bad_outcome.json_body["error"]["field"] == "outcome"
    assert patch(client, store, "csnope", {"action": "acknowledge"}).status_code == 404
    bad_status = client.http.get(f"/stores/{store['store_id']}/cases?status=lost", headers=auth(store["api_key"]))
    assert bad_status.status_code == 400 and bad_status.json_body["error"]["field"] == "status"
    assert client.http.get(f"/stores/{store['store_id']}/cases").status_code == 401
    assert (
        client.http.get(
            f"/stores/{store['store_id']}/cases", headers=auth("sk_" + store["store_id"] + "_wrong")
        ).status_code
        == 401
    )
    assert client.http.get(f"/stores/{store['store_id']}/cases", headers=auth(store["support_key"])).status_code == 200


@pytest.mark.world_time("2026-12-01T10:00:00Z")
def test_a_changed_answer_updates_the_case_and_a_kinder_one_is_noted(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a case from a detractor
    item = registry.get_store(db.table(), store["store_id"], fresh=True)
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    first = escalation.on_response(
        db.table(), clients(), item, response(store_id=store["store_id"], score=4, comment="meh"), now
    )
    assert first is not None

    # WHEN the customer changes the answer, first to one mentioning injury, then to a kind one
    worse = escalation.on_response(
        db.table(),
        clients(),
        item,
        response(store_id=store["store_id"], score=4, comment="the lid caused an injury"),
        now + timedelta(minutes=5),
    )
    kinder = escalation.on_response(
        db.table(),
        clients(),
        item,
        response(store_id=store["store_id"], score=9, comment="sorted now"),
        now + timedelta(minutes=9),
    )

    # THEN the case became urgent, and the kinder answer is on it without closing it
    assert worse is not None and worse["priority"] == "urgent"
    assert kinder is None
    case = db.table().get(keys.case(store["store_id"], first["case_id"]))
    assert case is not None and case["status"] == "open"
    assert [int(a["score"]) for a in case["answers"]] == [4, 4, 9]


@pytest.mark.world_time("2026-12-01T10:00:00Z")
def test_made_it_right_is_scheduled_after_resolution_and_its_answer_recorded(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a store that asks "did we make it right?", and a resolved case
    item = set_store(client, store, made_it_right=True)
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    case = escalation.on_response(db.table(), clients(), item, response(store_id=store["store_id"]), now)
    assert case is not None
    assert patch(client, store, case["case_id"], {"action": "resolve", "outcome": "refunded"}).status_code == 200

    # THEN a made_it_right job waits a day in the case's partition
    jobs_ = list(db.table().partition(keys.case_pk(store["store_id"], case["case_id"]), "JOB#made_it_right"))
    assert len(jobs_) == 1 and jobs_[0]["status"] == "pending" and jobs_[0]["data"]["case_id"] == case["case_id"]

    # WHEN the customer answers it
    recorded = escalation.on_response(
        db.table(),
        clients(),
        item,
        response(store_id=store["store_id"], kind="made_it_right", score=9, comment="Yes, thank you"),
        now + timedelta(days=2),
    )

    # THEN the answer is on the case, which stays resolved, and no new case was opened
    assert recorded is not None and recorded["status"] == "resolved"
    assert recorded["made_it_right"][0]["comment"] == "Yes, thank you"
    assert open_cases(client, store) == []


# --- the inbox ---------------------------------------------------------------------------------
def sign_in(client: Any, store: dict[str, Any], key: str, name: str = "Dana") -> Any:
    return client.http.post(
        f"/stores/{store['store_id']}/inbox/session", headers=FORM, body=urlencode({"support_key": key, "name": name})
    )


def cookie_of(answer: Any) -> str:
    return str(answer.headers["Set-Cookie"]).split(";")[0]


def test_inbox_asks_for_the_support_key_and_sets_a_strict_session_cookie(client: Any, store: dict[str, Any]) -> None:
    # GIVEN no session, the inbox shows the sign-in form
    first = client.http.get(f"/stores/{store['store_id']}/inbox")
    assert first.status_code == 200 and 'name="support_key"' in first.body.decode()

    # WHEN support signs in with a wrong key, then the right one
    wrong = sign_in(client, store, store["api_key"])
    right = sign_in(client, store, store["support_key"])

    # THEN the wrong key is refused on the form, the right one yields a 12-hour strict cookie
    assert wrong.status_code == 401 and "Set-Cookie" not in wrong.headers
    assert (
        right.status_code == 303
        and right.headers["Location"] == f"http://localhost:8000/stores/{store['store_id']}/inbox"
    )
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=43200" in cookie
    assert f"Path=/stores/{store['store_id']};" in cookie


def test_inbox_shows_open_cases_and_its_forms_act_on_them(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a signed-in support person and an open case about an order of a kettle
    order = {
        **keys.order(store["store_id"], "1001"),
        "type": "order",
        "order_name": "#1001",
        "items": [{"sku": "KT-1", "title": "Copper kettle", "quantity": 1}],
    }
    db.table().put(order)
    answer_survey(client, store, score=1, comment="Arrived broken & scratched", customer="+306912345678")
    cookie = cookie_of(sign_in(client, store, store["support_key"]))
    page = client.http.get(f"/stores/{store['store_id']}/inbox", headers={"Cookie": cookie}).body.decode()

    # THEN the case is there, its comment escaped, with a tel: link and forms carrying a CSRF token
    case_id = open_cases(client, store)[0]["case_id"]
    assert f'id="case-{case_id}"' in page
    assert "Arrived broken &amp; scratched" in page
    assert 'href="tel:+306912345678"' in page
    assert "Order #1001 · Copper kettle" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None

    # WHEN a forged form (no token) and then the real one acknowledge the case
    path = f"/stores/{store['store_id']}/inbox/cases/{case_id}"
    forged = client.http.post(path, headers={**FORM, "Cookie": cookie}, body=urlencode({"action": "acknowledge"}))
    real = client.http.post(
        path, headers={**FORM, "Cookie": cookie}, body=urlencode({"action": "acknowledge", "csrf": csrf.group(1)})
    )

    # THEN only the real one counts, recorded under the signed-in name
    assert forged.status_code == 403
    assert real.status_code == 303 and real.headers["Location"].endswith(f"?done=acknowledged#case-{case_id}")
    assert open_cases(client, store, "acknowledged")[0]["acknowledged_by"] == "Dana"

    # WHEN the same form is posted again
    twice = client.http.post(
        path, headers={**FORM, "Cookie": cookie}, body=urlencode({"action": "acknowledge", "csrf": csrf.group(1)})
    )
    # THEN the page says it is already acknowledged
    assert twice.status_code == 409 and "already acknowledged" in twice.body.decode()


def test_session_cookie_expires_after_12_hours_and_is_bound_to_its_store(client: Any, store: dict[str, Any]) -> None:
    from chalicelib.support import sessions

    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    _session, token = sessions.issue(store["store_id"], "Dana", now)
    assert sessions.read(store["store_id"], token, now + timedelta(hours=11, minutes=59)) is not None
    assert sessions.read(store["store_id"], token, now + timedelta(hours=12)) is None
    assert sessions.read("stother", token, now) is None
    assert sessions.read(store["store_id"], token[:-2] + "xx", now) is None


def test_inbox_speaks_the_store_language_right_to_left(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an Arabic-speaking store with a case
    set_store(client, store, language="ar")
    answer_survey(client, store, score=2, comment="المنتج وصل مكسور", language="ar")
    cookie = cookie_of(sign_in(client, store, store["support_key"]))

    # WHEN support opens the inbox
    page = client.http.get(f"/stores/{store['store_id']}/inbox", headers={"Cookie": cookie}).body.decode()

    # THEN it is Arabic, right to left, and the comment is shown as written
    assert '<html lang="ar" dir="rtl">' in page
    assert "صندوق الدعم" in page and "المنتج وصل مكسور" in page


def test_erasing_a_customer_removes_their_cases_and_pending_jobs(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer with an open case (and its pending re-alert)
    answer_survey(client, store, score=1, comment="Broken", order_id="E1", customer="erin@example.com")
    case_id = open_cases(client, store)[0]["case_id"]
    assert list(db.table().partition(keys.case_pk(store["store_id"], case_id)))

    # WHEN the customer's data is erased
    deleted = cases.erase(db.table(), store["store_id"], "erin@example.com", ["E1"])

    # THEN the case and its jobs are gone
    assert deleted == 2
    assert open_cases(client, store) == []
    assert list(db.table().partition(keys.case_pk(store["store_id"], case_id))) == []


def test_cases_are_listed_page_by_page_with_a_cursor_that_cannot_be_forged(client: Any, store: dict[str, Any]) -> None:
    # GIVEN five unhappy customers, five open cases
    for n in range(5):
        answer_survey(client, store, score=1, comment="Broken", order_id=f"P{n}", customer=f"p{n}@example.com")
    url = f"/stores/{store['store_id']}/cases?status=open&limit=2"
    # WHEN support pages through them two at a time
    seen: list[str] = []
    answer = client.http.get(url, headers=auth(store["api_key"])).json_body
    while True:
        seen += [c["case_id"] for c in answer["cases"]]
        if not answer["next"]:
            break
        answer = client.http.get(f"{url}&after={answer['next']}", headers=auth(store["api_key"])).json_body
    # THEN every case comes exactly once
    assert len(seen) == len(set(seen)) == 5
    # AND a made-up cursor or a silly limit is a clear 400
    forged = client.http.get(f"{url}&after=eyJQSyI6IHt9fQ.AAAA", headers=auth(store["api_key"]))
    assert forged.status_code == 400 and forged.json_body["error"]["field"] == "after"
    for limit in ("0", "101", "²", "ten"):
        silly = client.http.get(f"/stores/{store['store_id']}/cases?limit={limit}", headers=auth(store["api_key"]))
        assert silly.status_code == 400 and silly.json_body["error"]["field"] == "limit"


def test_a_sign_in_posted_from_another_site_is_refused(client: Any, store: dict[str, Any]) -> None:
    body = urlencode({"support_key": store["support_key"], "name": "Mallory"})
    for path in ("inbox/session", "dashboard/session"):
        for origin in ("https://evil.example", "null"):  # "null": a page that hides its origin
            # WHEN another site's page posts the sign-in form
            forged = client.http.post(
                f"/stores/{store['store_id']}/{path}",
                headers={**FORM, "Host": "care.example", "Origin": origin},
                body=body,
            )
            # THEN no session is made
            assert forged.status_code == 403 and "Set-Cookie" not in forged.headers
    # AND the store's own page (same origin) still signs in
    own = client.http.post(
        f"/stores/{store['store_id']}/inbox/session",
        headers={**FORM, "Host": "care.example", "Origin": "https://care.example"},
        body=body,
    )
    assert own.status_code in (200, 303) and "Set-Cookie" in own.headers


def _order_for(client: Any, store: dict[str, Any], order_id: str, email: str, phone: str) -> None:
    from tests.fixtures import body_of, standard_headers

    event = {
        "order_id": order_id,
        "status": "created",
        "occurred_at": "2026-11-20T09:00:00Z",
        "order_name": f"#{order_id}",
        "customer": {"email": email, "phone": phone, "first_name": "Maya"},
        "items": [{"sku": "TEA-1", "title": "Teapot", "quantity": 1}],
    }
    body = body_of(event)
    sent = client.http.post(
        f"/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], body, f"o-{order_id}"),
        body=body,
    )
    assert sent.json_body["status"] == "accepted", sent.body


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_support_finds_a_resolved_case_by_order_number_email_or_phone(client: Any, store: dict[str, Any]) -> None:
    # GIVEN two customers with a case each, one of them resolved
    _order_for(client, store, "3001", "maya@example.org", "+306944000111")
    _order_for(client, store, "3002", "nikos@example.gr", "+306944000222")
    answer_survey(client, store, score=2, comment="Cracked lid", order_id="3001", customer="maya@example.org")
    answer_survey(client, store, score=3, comment="Late", order_id="3002", customer="nikos@example.gr")
    maya = next(c for c in open_cases(client, store) if c["order_id"] == "3001")
    resolved = client.http.patch(
        f"/stores/{store['store_id']}/cases/{maya['case_id']}",
        headers=auth(store["api_key"]),
        body=json.dumps({"action": "resolve", "outcome": "replaced", "note": "New lid sent"}),
    )
    assert resolved.status_code == 200, resolved.body
    cookie = cookie_of(sign_in(client, store, store["support_key"]))
    inbox = f"/stores/{store['store_id']}/inbox"

    def page(query: str) -> str:
        answer = client.http.get(f"{inbox}?{query}", headers={"Cookie": cookie})
        assert answer.status_code == 200
        return str(answer.body.decode())

    # WHEN support opens the inbox as it opens by default THEN the resolved case is not in it
    assert f"case-{maya['case_id']}" not in page("")
    # BUT the resolved view lists it, and only it
    listed = page("view=resolved")
    assert f"case-{maya['case_id']}" in listed and "Order #3001" in listed and "#3002" not in listed
    # AND a search by order number (with or without #), email (any case) or phone finds it
    for query in ("q=%233001", "q=3001", "q=Maya%40Example.org", "q=%2B306944000111", "q=6944000111&view=resolved"):
        found = page(query)
        assert f"case-{maya['case_id']}" in found and "Order #3002" not in found, query
    # AND a search that matches nothing says so; a chosen status narrows the search
    assert "No case matches" in page("q=9999")
    assert f"case-{maya['case_id']}" not in page("q=3001&view=open")
