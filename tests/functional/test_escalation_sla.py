"""A case nobody acknowledges is re-alerted once at the SLA deadline; acknowledging stops it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import devstack
from chalicelib.core.clock import parse_iso
from chalicelib.storage import db, keys
from tests.conftest import auth
from tests.support.cases import alerts_in, answer_survey, open_cases, set_store, subscribe_queue


def realert_job(store: dict[str, Any], case_id: str) -> dict[str, Any]:
    found = list(db.table().partition(keys.case_pk(store["store_id"], case_id), "JOB#case_realert"))
    assert len(found) == 1
    return found[0]


def sent_sms_to(number: str) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return [m[1] for m in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values() if m[0] == number]


def sent_mail_to(address: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        m
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if address in json.dumps(getattr(m, "destinations", {}), default=str)
    ]


def test_unacknowledged_case_is_realerted_exactly_once_and_the_second_contact_told(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a store with a second contact, and an open case from a detractor
    set_store(
        client,
        store,
        second_contact_phone="+302109876543",
        second_contact_email="lead@cedarsage.example",
        sla_minutes=60,
    )
    queue = subscribe_queue()
    answer_survey(client, store, score=1, comment="Terrible, it leaks.")
    case = open_cases(client, store)[0]
    assert len(alerts_in(queue)) == 1
    due = parse_iso(realert_job(store, case["case_id"])["due"])

    # WHEN time runs to just before the SLA deadline
    devstack.deliver(app, due - timedelta(minutes=1))
    # THEN nothing more is sent yet
    assert alerts_in(queue) == []

    # WHEN time runs past the deadline, and on for hours
    devstack.deliver(app, due + timedelta(minutes=1))
    devstack.deliver(app, due + timedelta(minutes=15))
    devstack.deliver(app, due + timedelta(hours=3))

    # THEN exactly one re-alert went out, and the second contact heard of it by SMS and email
    realerts = alerts_in(queue)
    assert len(realerts) == 1
    assert realerts[0]["MessageAttributes"]["reason"]["Value"] == "realert"
    assert f"#case-{case['case_id']}" in realerts[0]["Message"]
    assert len(sent_sms_to("+302109876543")) == 1
    assert len(sent_mail_to("lead@cedarsage.example")) == 1
    detail = client.http.get(
        f"/stores/{store['store_id']}/cases/{case['case_id']}", headers=auth(store["api_key"])
    ).json_body
    assert [e["action"] for e in detail["events"]] == ["opened", "realerted"]


def test_acknowledging_before_the_deadline_prevents_the_realert(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN an open case
    set_store(client, store, second_contact_phone="+302109876543")
    queue = subscribe_queue()
    answer_survey(client, store, score=0, comment="Never arrived.")
    case = open_cases(client, store)[0]
    alerts_in(queue)
    due = parse_iso(realert_job(store, case["case_id"])["due"])

    # WHEN support acknowledges it, then time runs past the deadline
    answer = client.http.patch(
        f"/stores/{store['store_id']}/cases/{case['case_id']}",
        headers=auth(store["api_key"]),
        body=json.dumps({"action": "acknowledge", "by": "Dana"}),
    )
    assert answer.status_code == 200, answer.body
    devstack.deliver(app, due + timedelta(minutes=5))

    # THEN no re-alert and no SMS to the second contact; the job says why
    assert alerts_in(queue) == []
    assert sent_sms_to("+302109876543") == []
    job = realert_job(store, case["case_id"])
    assert job["status"] == "cancelled" and "due_at" not in job
