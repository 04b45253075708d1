"""After resolution the customer is asked whether we made it right; the answer lands on the case."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

import devstack
from chalicelib.core.clock import parse_iso, wall_clock
from chalicelib.core.models import OrderStatus
from chalicelib.storage import db, keys
from chalicelib.surveys import answers
from tests.conftest import auth
from tests.support.cases import answer_survey, open_cases, set_store
from tests.support.world import customer_info, emails_to, ingest, order_event


# A morning in Athens: the question is asked a day later, at the same hour, outside quiet hours.
@pytest.mark.world_time("2026-11-16T08:00:00Z")
def test_made_it_right_question_goes_out_a_day_after_resolution_and_its_answer_is_on_the_case(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a store that asks "did we make it right?", a customer's order and their detractor answer
    item = set_store(client, store, made_it_right=True)
    ordered = wall_clock() - timedelta(days=20)
    ingest(
        item,
        order_event(store["store_id"], "1001", OrderStatus.CREATED, ordered, customer_info("maya@example.org")),
        ordered,
    )
    answer_survey(client, store, score=2, comment="The lid does not fit")
    case_id = open_cases(client, store)[0]["case_id"]

    # WHEN support resolves the case, and the next days pass
    resolved = client.http.patch(
        f"/stores/{store['store_id']}/cases/{case_id}",
        headers=auth(store["api_key"]),
        body=json.dumps({"action": "resolve", "outcome": "replaced"}),
    )
    assert resolved.status_code == 200
    job = list(db.table().partition(keys.case_pk(store["store_id"], case_id), "JOB#made_it_right"))[0]
    due = parse_iso(job["due"])
    for later in (timedelta(minutes=1), timedelta(days=1), timedelta(days=2)):
        devstack.deliver(app, due + later)

    # THEN the customer was asked once
    asked = [m for m in emails_to("maya@example.org") if m.subject == "Did we make it right?"]
    assert len(asked) == 1
    link = re.search(r"/s/([0-9A-Za-z]+)\?score=", asked[0].body)
    assert link is not None

    # WHEN the customer answers it
    token = link.group(1)
    form = urlencode({"score": "5", "comment": "Yes, the new lid fits", "nonce": answers.nonce(token)})
    assert (
        client.http.post(
            f"/s/{token}", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form
        ).status_code
        == 200
    )

    # THEN the answer is recorded on the resolved case and no new case is opened
    detail = client.http.get(f"/stores/{store['store_id']}/cases/{case_id}", headers=auth(store["api_key"])).json_body
    assert detail["status"] == "resolved"
    assert [(a["score"], a["comment"]) for a in detail["made_it_right"]] == [(5, "Yes, the new lid fits")]
    assert open_cases(client, store) == []
