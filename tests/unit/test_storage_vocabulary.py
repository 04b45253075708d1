"""Storage speaks one vocabulary: one update builder whose placeholders never clash, and
transactions whose failures are told by the labels of their operations."""

from __future__ import annotations

import pytest

import devstack
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Expr, Update, combine, stated


def test_one_update_sets_keeps_the_first_appends_removes_and_counts() -> None:
    # GIVEN every kind of step in one update
    update = (
        Update()
        .set({"status": "sent", "finished_at": "2027-01-05T10:00:00Z"})
        .set_if_absent({"created_at": "2027-01-01T00:00:00Z"})
        .append("events", [{"action": "sent"}], start_empty=True)
        .increment("version")
        .remove("due_pk", "due_at")
        .add({"attempts": 1})
    )
    # WHEN it is rendered
    expr = update.expression()
    # THEN each step is one clause, in DynamoDB's sections, with a placeholder for every name and value
    assert expr.text == (
        "SET #status = :status, #finished_at = :finished_at, #created_at = if_not_exists(#created_at, :created_at), "
        "#events = list_append(if_not_exists(#events, :events_empty), :events), #version = #version + :version "
        "REMOVE #due_pk, #due_at ADD #attempts :attempts"
    )
    assert expr.names == {
        "#status": "status",
        "#finished_at": "finished_at",
        "#created_at": "created_at",
        "#events": "events",
        "#version": "version",
        "#due_pk": "due_pk",
        "#due_at": "due_at",
        "#attempts": "attempts",
    }
    assert expr.values == {
        ":status": "sent",
        ":finished_at": "2027-01-05T10:00:00Z",
        ":created_at": "2027-01-01T00:00:00Z",
        ":events_empty": [],
        ":events": [{"action": "sent"}],
        ":version": 1,
        ":attempts": 1,
    }


def test_a_list_that_must_exist_is_appended_to_without_a_default() -> None:
    expr = Update().append("events", ["x"]).expression()
    assert expr.text == "SET #events = list_append(#events, :events)"
    assert expr.values == {":events": ["x"]}


def test_each_step_returns_a_new_update_and_leaves_the_old_one_alone() -> None:
    base = Update().set({"a": 1})
    longer = base.remove("b")
    assert base.expression().text == "SET #a = :a"
    assert longer.expression().text == "SET #a = :a REMOVE #b"


def test_names_that_read_alike_get_placeholders_of_their_own() -> None:
    # GIVEN two attribute names that make the same placeholder once made safe
    expr = Update().set({"sent-nps": 1, "sent_nps": 2}).expression()
    # THEN each keeps its own name and its own value
    assert expr.text == "SET #sent_nps = :sent_nps, #sent_nps_1 = :sent_nps_1"
    assert expr.names == {"#sent_nps": "sent-nps", "#sent_nps_1": "sent_nps"}
    assert expr.values == {":sent_nps": 1, ":sent_nps_1": 2}


def test_an_update_and_its_condition_on_the_same_attribute_keep_their_own_values() -> None:
    # GIVEN an update and a condition written apart, both using ``#status`` and ``:status``
    update = Update().set({"status": "claimed"}).expression()
    condition = Expr("#status = :status", {"#status": "status"}, {":status": "pending"})
    # WHEN they are joined for one request
    texts, names, values = combine([update, condition])
    # THEN the name is shared (it means the same attribute) and the condition's value is renamed
    assert texts == ["SET #status = :status", "#status = :status_1"]
    assert names == {"#status": "status"}
    assert values == {":status": "claimed", ":status_1": "pending"}


def test_one_placeholder_for_two_attributes_is_renamed_in_the_later_part() -> None:
    first = Expr("#st = :v", {"#st": "status"}, {":v": "pending"})
    second = Expr("attribute_not_exists(#st) OR #st < :v", {"#st": "stage"}, {":v": 3})
    both = first & second
    assert both.text == "(#st = :v) AND (attribute_not_exists(#st_1) OR #st_1 < :v_1)"
    assert both.names == {"#st": "status", "#st_1": "stage"}
    assert both.values == {":v": "pending", ":v_1": 3}


def test_equal_values_are_never_shared_because_1_and_true_are_stored_differently() -> None:
    both = Expr("#a = :x", {"#a": "a"}, {":x": 1}) & Expr("#b = :x", {"#b": "b"}, {":x": True})
    assert both.values == {":x": 1, ":x_1": True}
    assert both.text == "(#a = :x) AND (#b = :x_1)"


def test_an_update_that_names_an_attribute_twice_is_refused_before_it_reaches_dynamodb() -> None:
    with pytest.raises(ValueError, match="twice: status"):
        Update().set({"status": "sent"}).remove("status").expression()
    with pytest.raises(ValueError, match="change something"):
        Update().expression()


def test_stated_values_leave_out_what_was_not_stated() -> None:
    assert stated({"a": 1, "b": None, "c": False}) == {"a": 1, "c": False}


def test_a_sent_record_says_when_it_went_and_what_it_was_in_its_sort_key() -> None:
    record = keys.sent_message("st1", "dana@example.com", "2027-01-05T10:00:00Z", "survey")
    assert keys.sent_message_parts(record) == ("2027-01-05T10:00:00Z", "survey")
    assert keys.is_sent_message(record) and not keys.is_job(record)
    assert keys.sent_message_parts({"SK": "SENT#"}) == ("", "")


# --- against moto, the table created by devstack ---------------------------------------------
def _job(sk: str, status: str) -> dict[str, str]:
    return {"PK": "STORE#st1#ORDER#1001", "SK": sk, "status": status}


def test_a_cancelled_transaction_names_the_labels_whose_condition_failed(moto: devstack.Provisioned) -> None:
    # GIVEN a claim already taken and a job no longer pending
    table = db.table()
    table.put({**keys.send_claim("STORE#st1#ORDER#1001", "JOB#survey"), "attempt": "a1"})
    table.put(_job("JOB#survey", "sent"))
    table.put(_job("JOB#thank_you", "pending"))
    pending = Expr("#st = :pending", {"#st": "status"}, {":pending": "pending"})
    # WHEN one transaction claims again, moves the job, and touches a job that is fine
    with pytest.raises(db.TransactionConflict) as caught:
        table.transact(
            [
                db.put(_job("JOB#winback", "pending"), label="new job"),
                db.create({**keys.send_claim("STORE#st1#ORDER#1001", "JOB#survey"), "attempt": "a2"}, label="ledger"),
                db.update(
                    keys.of(_job("JOB#survey", "")), Update().set({"status": "claimed"}), condition=pending, label="job"
                ),
                db.update(
                    keys.of(_job("JOB#thank_you", "")),
                    Update().set({"status": "claimed"}),
                    condition=pending,
                    label="other job",
                ),
            ]
        )
    # THEN the error names the two that failed, and nothing was written
    assert caught.value.failed == {"ledger", "job"}
    assert "ledger" in str(caught.value) and "job" in str(caught.value)
    assert table.get(keys.of(_job("JOB#winback", ""))) is None
    untouched = table.get(keys.of(_job("JOB#thank_you", "")), consistent=True)
    assert untouched is not None and untouched["status"] == "pending"


def test_an_update_and_a_condition_sharing_placeholders_reach_dynamodb_intact(moto: devstack.Provisioned) -> None:
    # GIVEN a pending job, and an update and a condition that both chose ``#status``/``:status``
    table = db.table()
    table.put(_job("JOB#survey", "pending"))
    condition = Expr("#status = :status", {"#status": "status"}, {":status": "pending"})
    claim = Update().set({"status": "claimed"})
    # WHEN the job is claimed twice
    item = table.update(keys.of(_job("JOB#survey", "")), claim, condition=condition)
    # THEN the first claim checks "pending" and writes "claimed"; the second finds it claimed
    assert item is not None and item["status"] == "claimed"
    with pytest.raises(db.ConditionFailed):
        table.update(keys.of(_job("JOB#survey", "")), claim, condition=condition)
