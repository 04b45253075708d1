"""GDPR export and erasure of one customer, and every response of a period as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest

import devstack
from chalicelib.core.clock import parse_iso, wall_clock
from chalicelib.customers import exports
from chalicelib.messaging import suppression
from chalicelib.platform.config import settings
from chalicelib.storage import db, keys
from chalicelib.surveys import answers, tokens
from tests.conftest import auth
from tests.support.cases import answer_survey, open_cases
from tests.support.orders import EVENT, send
from tests.support.surveys import answered

NIKOS = "nikos@example.gr"
HISTORY_STARTS = "2026-11-22T10:05:00Z"  # just after the order in test_webhooks_generic.EVENT


class RecordingClient:
    """The DynamoDB client with every operation's name noted (to prove there is no scan)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.inner, name)


def customer_url(store: dict[str, Any], who: str) -> str:
    return f"/stores/{store['store_id']}/customers/{quote(who, safe='@')}"


def a_customer_with_history(client: Any, store: dict[str, Any], app: Any, world: Any) -> str:
    """Nikos ordered a cutting board (webhook), got the thank-you and check-in, answered a
    survey angrily (a case) and unsubscribed from surveys by email."""
    assert send(client, store, EVENT).json_body["status"] == "accepted"
    delivered = {**EVENT, "status": "delivered", "occurred_at": "2026-11-23T10:00:00Z"}
    assert send(client, store, delivered, message_id="msg_2").json_body["status"] == "accepted"
    world.move_to("2026-11-24T10:00:00Z")  # the world's clock moves with the scheduler's ticks
    devstack.deliver(app, parse_iso("2026-11-24T10:00:00Z"))
    answer_survey(client, store, score=2, comment="Cracked on arrival", order_id="A-1001", customer=NIKOS)
    suppression.suppress(db.table(), store["store_id"], NIKOS, "email", "surveys", "unsubscribed", wall_clock())
    return open_cases(client, store)[0]["case_id"]


@pytest.mark.world_time(HISTORY_STARTS)
def test_export_gives_everything_held_about_a_customer_by_email_or_phone(
    client: Any, store: dict[str, Any], app: Any, world_time: Any
) -> None:
    # GIVEN a customer with an order, messages sent, an answer, a case and a suppression
    case_id = a_customer_with_history(client, store, app, world_time)
    recorder = RecordingClient(db.table().client)
    db.table().client = recorder

    # WHEN the store asks for their data by email, typed in capitals
    answer = client.http.get(customer_url(store, "Nikos@Example.GR"), headers=auth(store["api_key"]))

    # THEN it is all there as JSON, read without a single scan
    assert answer.status_code == 200, answer.body
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "attachment" in answer.headers["Content-Disposition"]
    data = answer.json_body
    assert data["customer_id"] == NIKOS
    assert data["profile"]["first_name"] == "Nikos" and data["profile"]["phone"] == "+306944000111"
    assert data["consents"] == {"email_marketing": True, "sms_marketing": None, "whatsapp": None}
    assert [o["order_id"] for o in data["orders"]] == ["A-1001"]
    assert data["orders"][0]["items"][0]["title"] == "Olive wood cutting board"
    assert [(r["score"], r["comment"]) for r in data["responses"]] == [(2, "Cracked on arrival")]
    assert data["responses"][0]["answered_at"]
    assert [c["case_id"] for c in data["cases"]] == [case_id]
    assert [(s["channel"], s["scope"]) for s in data["suppressions"]] == [("email", "surveys")]
    assert {"thank_you", "delivery_checkin"} <= {j["kind"] for j in data["jobs"]["past"]}
    assert {"warranty", "birthday", "case_realert"} <= {j["kind"] for j in data["jobs"]["pending"]}
    assert {"thank_you", "delivery_checkin"} <= {m["kind"] for m in data["messages"]}
    assert "token" not in answer.body.decode() and "gsi1pk" not in answer.body.decode()
    assert "scan" not in recorder.calls and "query" in recorder.calls

    # WHEN the store asks by the phone number, written the way a person types it
    by_phone = client.http.get(customer_url(store, "+30 694 400 0111"), headers=auth(store["api_key"]))
    # THEN it is the same person
    assert by_phone.status_code == 200 and by_phone.json_body["customer_id"] == NIKOS


def test_export_needs_the_store_key_and_a_known_customer(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store with no such customer
    url = customer_url(store, "nobody@example.org")
    # WHEN asked without a key, then with the key
    anonymous = client.http.get(url)
    unknown = client.http.get(url, headers=auth(store["api_key"]))
    # THEN 401, then 404 in the public error shape
    assert anonymous.status_code == 401
    assert unknown.status_code == 404 and unknown.json_body["error"]["code"] == "not_found"


def due_items() -> list[dict[str, Any]]:
    items = []
    for shard in range(settings().due_shards):
        cond = db.Expr("due_pk = :pk", values={":pk": keys.due_shard_pk(shard)})
        items.extend(db.table().query_all(cond, index=keys.DUE_INDEX))
    return items


@pytest.mark.world_time(HISTORY_STARTS)
def test_delete_erases_the_customer_their_jobs_and_their_case(
    client: Any, store: dict[str, Any], app: Any, world_time: Any
) -> None:
    # GIVEN a customer with pending jobs in the due index and an open case
    case_id = a_customer_with_history(client, store, app, world_time)
    store_id = store["store_id"]
    mine = (keys.customer_pk(store_id, NIKOS), keys.order_pk(store_id, "A-1001"), keys.case_pk(store_id, case_id))
    assert any(item["PK"] in mine for item in due_items())

    # WHEN the store erases them
    erased = client.http.delete(customer_url(store, NIKOS), headers=auth(store["api_key"]))

    # THEN the answer says what went, and nothing of theirs is left to find or to send
    assert erased.status_code == 200, erased.body
    assert erased.json_body["erased"] is True and erased.json_body["customers"] == 1 and erased.json_body["orders"] == 1
    assert erased.json_body["items_deleted"] > 0
    assert client.http.get(customer_url(store, NIKOS), headers=auth(store["api_key"])).status_code == 404
    assert client.http.get(customer_url(store, "+306944000111"), headers=auth(store["api_key"])).status_code == 404
    assert [item for item in due_items() if item["PK"] in mine] == []
    assert open_cases(client, store) == [] and list(db.table().partition(keys.case_pk(store_id, case_id))) == []

    # WHEN the same erasure is asked again
    again = client.http.delete(customer_url(store, NIKOS), headers=auth(store["api_key"]))
    # THEN there is nobody left to erase
    assert again.status_code == 404


# --- responses.csv ---------------------------------------------------------------------------


def rows_of(answer: Any) -> list[list[str]]:
    text = answer.body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_responses_csv_lists_a_period_newest_first_and_safe_for_spreadsheets(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN three answers on three days: Arabic, a comment shaped like a formula, and one changed later
    now = wall_clock()
    answered(store, "R-1", "+306944000111", 9, "ممتاز، شكرًا", now - timedelta(days=10), language="ar")
    answered(store, "R-2", "eva@example.org", 3, '=HYPERLINK("http://evil.example","click")', now - timedelta(days=5))
    token = answered(store, "R-3", "maya@example.org", 4, "Late", now - timedelta(days=2))
    survey = tokens.load(db.table(), token, now, consistent=True)
    assert survey is not None
    answers.record_answer(
        db.table(), survey, score=8, comment="Late, but fine", via="page", now=now - timedelta(days=1)
    )

    # WHEN the store downloads the CSV with its API key
    answer = client.http.get(f"/stores/{store['store_id']}/responses.csv", headers=auth(store["api_key"]))

    # THEN it is UTF-8 CSV with a BOM, one row per answer (the changed one once, as changed), newest first
    assert answer.status_code == 200, answer.body
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="responses-')
    rows = rows_of(answer)
    assert rows[0] == [
        "answered_at",
        "order_id",
        "customer",
        "score",
        "category",
        "comment",
        "language",
        "channel",
        "kind",
        "products",
        "themes",
    ]
    assert [r[1] for r in rows[1:]] == ["R-3", "R-2", "R-1"]
    # AND each row names the themes of its comment
    assert [r[10] for r in rows[1:]] == ["delivery", "", "praise"]
    assert rows[1][3:6] == ["8", "passive", "Late, but fine"]
    # AND a formula is shown as text, the phone number too, and Arabic is intact
    assert rows[2][5] == '\'=HYPERLINK("http://evil.example","click")'
    assert (
        rows[3][2] == "'+306944000111"
        and rows[3][5] == "ممتاز، شكرًا"
        and rows[3][6:9] == ["ar", "sms", "post_delivery"]
    )

    # WHEN the store asks for the last three days only, and for nonsense dates
    recent = client.http.get(
        f"/stores/{store['store_id']}/responses.csv?"
        + urlencode({"from": (now - timedelta(days=3)).date().isoformat()}),
        headers=auth(store["api_key"]),
    )
    bad = client.http.get(f"/stores/{store['store_id']}/responses.csv?from=2026-13-01", headers=auth(store["api_key"]))
    backwards = client.http.get(
        f"/stores/{store['store_id']}/responses.csv?from=2026-12-01&to=2026-11-01", headers=auth(store["api_key"])
    )

    # THEN only the recent answer is there, and bad ranges are a 400 naming the field
    assert [r[1] for r in rows_of(recent)[1:]] == ["R-3"]
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "from"
    assert backwards.status_code == 400 and backwards.json_body["error"]["field"] == "from"


def test_responses_csv_opens_for_a_signed_in_support_session_and_no_one_else(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN an answer and support signed in to the inbox
    answer_survey(client, store, score=10, comment="Lovely", order_id="S-1")
    signed = client.http.post(
        f"/stores/{store['store_id']}/inbox/session",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"support_key": store["support_key"], "name": "Dana"}),
    )
    cookie = str(signed.headers["Set-Cookie"]).split(";")[0]
    url = f"/stores/{store['store_id']}/responses.csv"

    # WHEN the CSV is fetched with that cookie, with none, and with a forged one
    with_session = client.http.get(url, headers={"Cookie": cookie})
    without = client.http.get(url)
    forged = client.http.get(url, headers={"Cookie": "aftercare_support=forged.value"})

    # THEN only the session gets it
    assert with_session.status_code == 200 and [r[1] for r in rows_of(with_session)[1:]] == ["S-1"]
    assert without.status_code == 401 and forged.status_code == 401


def test_erased_customers_answers_stay_in_the_csv_without_their_name_or_comment(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a customer's answer, then the customer erased
    answered(store, "E-1", "lena@example.org", 2, "My address is Main St 5", wall_clock() - timedelta(days=1))
    db.table().put(
        {
            **keys.customer_order(store["store_id"], "lena@example.org", "E-1"),
            "type": "customer_order",
            "order_id": "E-1",
        }
    )
    db.table().put(
        {
            **keys.customer(store["store_id"], "lena@example.org"),
            "type": "customer",
            "customer_id": "lena@example.org",
            "email": "lena@example.org",
        }
    )
    assert (
        client.http.delete(customer_url(store, "lena@example.org"), headers=auth(store["api_key"])).status_code == 200
    )

    # WHEN the CSV is downloaded
    rows = rows_of(client.http.get(f"/stores/{store['store_id']}/responses.csv", headers=auth(store["api_key"])))

    # THEN the answer still counts, but says nothing about who gave it
    assert [(r[1], r[2], r[3], r[5]) for r in rows[1:]] == [("E-1", "", "2", "")]


def test_a_cell_that_starts_like_a_formula_is_quoted() -> None:
    for risky in ("=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert exports.safe_cell(risky) == "'" + risky
    assert exports.safe_cell("fine") == "fine" and exports.safe_cell(None) == "" and exports.safe_cell(7) == "7"


def test_the_default_period_is_the_last_90_days_today_included() -> None:
    now = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    span = exports.period({}, now)
    assert (span.start.isoformat(), span.end.isoformat()) == ("2026-09-03", "2026-12-01")
    assert exports.period({"from": "2026-11-01", "to": "2026-11-30"}, now).start.isoformat() == "2026-11-01"


def test_a_period_reaching_before_year_one_is_a_400(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store asking for responses up to 5 January of year 1 (the default 90 days back fall before the calendar)
    url = f"/stores/{store['store_id']}/responses.csv?to=0001-01-05"
    # WHEN it downloads the CSV
    answer = client.http.get(url, headers=auth(store["api_key"]))
    # THEN it gets a 400 naming the period, not a server error
    assert answer.status_code == 400
    assert answer.json_body["error"]["field"] == "from"
