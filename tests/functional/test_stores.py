"""Stores: created by the operator, read and changed with the store's own key."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.platform.process import PROCESS
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.stores.registry import hash_secret
from tests.conftest import OPERATOR, STORE_BODY, auth


def post_store(client: Any, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(
        "/stores",
        headers={"Content-Type": "application/json", **(OPERATOR if headers is None else headers)},
        body=json.dumps(body) if not isinstance(body, str) else body,
    )


def test_create_store_returns_credentials_once_and_settings_read_back(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store created by the operator
    assert store["store_id"].startswith("st")
    assert store["api_key"].startswith(f"ak_{store['store_id']}_")
    assert store["webhook_secret"].startswith("whsec_")
    # WHEN the store reads its settings with its API key
    response = client.http.get(f"/stores/{store['store_id']}", headers=auth(store["api_key"]))
    # THEN it sees them, with defaults filled in, and never its secrets again
    assert response.status_code == 200
    body = response.json_body
    assert body["name"] == "Cedar & Sage"
    assert body["timezone"] == "Europe/Athens"
    assert body["survey_type"] == "nps"
    assert body["quiet_start"] == "09:00"
    for secret in ("api_key", "webhook_secret", "api_key_hash", "support_key_hash", "support_key"):
        assert secret not in body


def test_create_store_requires_the_operator_token(client: Any) -> None:
    assert post_store(client, STORE_BODY, headers={}).status_code == 401
    wrong = post_store(client, STORE_BODY, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json_body["error"]["code"] == "unauthorized"


def test_invalid_settings_name_the_field_and_create_nothing(client: Any) -> None:
    cases = {
        "timezone": {**STORE_BODY, "timezone": "Mars/Olympus"},
        "sender_email": {**STORE_BODY, "sender_email": "not-an-email"},
        "language": {**STORE_BODY, "language": "xx"},
        "support_phone": {**STORE_BODY, "support_phone": "12"},
        "colour": {**STORE_BODY, "colour": "blue"},
        "name": {k: v for k, v in STORE_BODY.items() if k != "name"},
    }
    for field, body in cases.items():
        response = post_store(client, body)
        assert response.status_code == 400, field
        assert response.json_body["error"]["field"] == field
        assert field in response.json_body["error"]["message"]


def test_malformed_json_is_a_clear_400(client: Any) -> None:
    response = post_store(client, '{"name": ')
    assert response.status_code == 400
    assert "malformed JSON" in response.json_body["error"]["message"]
    assert post_store(client, "[1, 2]").status_code == 400


def test_patch_validates_and_changes_only_what_was_sent(client: Any, store: dict[str, Any]) -> None:
    url = f"/stores/{store['store_id']}"
    bad = client.http.patch(url, headers=auth(store["api_key"]), body=json.dumps({"timezone": "Nowhere/Land"}))
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "timezone"
    ok = client.http.patch(
        url,
        headers=auth(store["api_key"]),
        body=json.dumps({"timezone": "Asia/Jerusalem", "language": "he", "survey_type": "csat"}),
    )
    assert ok.status_code == 200
    again = client.http.get(url, headers=auth(store["api_key"])).json_body
    assert (again["timezone"], again["language"], again["survey_type"], again["name"]) == (
        "Asia/Jerusalem",
        "he",
        "csat",
        "Cedar & Sage",
    )


def test_wrong_key_is_401_and_another_stores_key_is_404(client: Any, store: dict[str, Any]) -> None:
    other = post_store(client, {**STORE_BODY, "name": "Other"}).json_body
    url = f"/stores/{store['store_id']}"
    assert client.http.get(url).status_code == 401
    assert client.http.get(url, headers=auth("ak_" + store["store_id"] + "_wrong")).status_code == 401
    assert client.http.get(url, headers=auth("garbage")).status_code == 401
    assert client.http.get(url, headers=auth(other["api_key"])).status_code == 404
    assert client.http.get("/stores/stnothere", headers=auth(store["api_key"])).status_code == 404


def test_api_keys_are_stored_hashed(moto: Any, client: Any, store: dict[str, Any]) -> None:
    import boto3

    raw = boto3.client("dynamodb").get_item(
        TableName=moto.table, Key={"PK": {"S": f"STORE#{store['store_id']}"}, "SK": {"S": "STORE"}}
    )["Item"]
    flat = json.dumps(raw)
    assert store["api_key"] not in flat
    assert raw["api_key_hash"]["S"] != store["api_key"]


def test_json_that_breaks_the_parser_in_other_ways_is_still_a_400(client: Any, store: dict[str, Any]) -> None:
    # GIVEN bodies that make json.loads fail without a JSONDecodeError
    deep = "[" * 100_000 + "]" * 100_000
    huge = '{"name": ' + "9" * 5000 + "}"
    for body in (deep, huge, b"\xff\xfe{".decode("latin-1")):
        # WHEN they are sent to JSON routes
        created = post_store(client, body)
        synced = client.http.post(f"/stores/{store['store_id']}/customers", headers=auth(store["api_key"]), body=body)
        # THEN each gets a clear 400, never a 500
        assert created.status_code == 400, created.body
        assert synced.status_code == 400, synced.body
        assert created.json_body["error"]["message"].startswith(("malformed JSON", "body"))


def public_dns(host: str) -> list[str]:
    return ["52.1.2.3"] if host == "hooks.slack.com" else []


def test_outside_the_local_stage_a_webhook_must_be_a_public_https_address(
    moto: Any, store: dict[str, Any], monkeypatch: Any
) -> None:
    import pytest

    from chalicelib.core.clock import wall_clock
    from chalicelib.core.errors import InvalidInput
    from chalicelib.storage import db
    from chalicelib.stores import registry

    # GIVEN a deployed stage (no local webhooks)
    monkeypatch.setenv("ALLOW_LOCAL_WEBHOOKS", "off")
    PROCESS.reset()
    # WHEN a store points its alerts at the metadata service THEN it is refused, naming the field
    with pytest.raises(InvalidInput) as refused:
        registry.update_store(
            db.table(),
            store["store_id"],
            {"slack_webhook_url": "https://169.254.169.254/latest"},
            wall_clock(),
            resolve=public_dns,
        )
    assert refused.value.field == "slack_webhook_url"
    # AND a public https address is fine
    item = registry.update_store(
        db.table(),
        store["store_id"],
        {"slack_webhook_url": "https://hooks.slack.com/services/T0/B0/x"},
        wall_clock(),
        resolve=public_dns,
    )
    assert item["slack_webhook_url"] == "https://hooks.slack.com/services/T0/B0/x"
    PROCESS.reset()


def test_a_rotated_key_replaces_the_old_one_at_once_and_is_shown_once(client: Any, store: dict[str, Any]) -> None:
    sid = store["store_id"]
    # WHEN the owner rotates the API key with the current one
    rotated = client.http.post(
        f"/stores/{sid}/keys/rotate", headers=auth(store["api_key"]), body=json.dumps({"key": "api"})
    )
    # THEN the answer holds the new key, which works, and the old one is refused
    assert rotated.status_code == 200, rotated.body
    new_key = rotated.json_body["api_key"]
    assert new_key.startswith(f"ak_{sid}_") and new_key != store["api_key"]
    assert client.http.get(f"/stores/{sid}", headers=auth(new_key)).status_code == 200
    assert client.http.get(f"/stores/{sid}", headers=auth(store["api_key"])).status_code == 401
    assert new_key not in json.dumps(client.http.get(f"/stores/{sid}", headers=auth(new_key)).json_body)
    # AND rotating the support key ends the old support key's access to the cases API
    support = client.http.post(f"/stores/{sid}/keys/rotate", headers=auth(new_key), body=json.dumps({"key": "support"}))
    assert support.status_code == 200
    assert client.http.get(f"/stores/{sid}/cases", headers=auth(store["support_key"])).status_code == 401
    assert client.http.get(f"/stores/{sid}/cases", headers=auth(support.json_body["support_key"])).status_code == 200


def test_a_key_rotation_against_an_old_copy_of_the_store_is_refused_then_works_afresh(
    client: Any, store: dict[str, Any]
) -> None:
    sid = store["store_id"]
    assert client.http.get(f"/stores/{sid}", headers=auth(store["api_key"])).status_code == 200  # cached here
    # GIVEN another process rotated the support key meanwhile (this one still holds the old copy)
    elsewhere = "sk_elsewhere"
    db.table().update(keys.store(sid), Update().set({"support_key_hash": hash_secret(elsewhere)}))
    # WHEN the owner rotates the support key here
    body = json.dumps({"key": "support"})
    first = client.http.post(f"/stores/{sid}/keys/rotate", headers=auth(store["api_key"]), body=body)
    # THEN it is refused and nothing changed; the next try reads the store afresh and rotates
    assert first.status_code == 409, first.body
    assert db.table().get(keys.store(sid))["support_key_hash"] == hash_secret(elsewhere)
    second = client.http.post(f"/stores/{sid}/keys/rotate", headers=auth(store["api_key"]), body=body)
    assert second.status_code == 200, second.body
    assert db.table().get(keys.store(sid))["support_key_hash"] == hash_secret(second.json_body["support_key"])


def test_a_key_rotation_needs_the_api_key_and_a_known_kind_and_changes_nothing_otherwise(
    client: Any, store: dict[str, Any]
) -> None:
    sid = store["store_id"]
    for headers, body, status in (
        (auth(store["support_key"]), {"key": "api"}, 401),
        ({}, {"key": "api"}, 401),
        (auth(store["api_key"]), {"key": "webhook"}, 400),
        (auth(store["api_key"]), {"key": "api", "extra": 1}, 400),
        (auth(store["api_key"]), {}, 400),
    ):
        answer = client.http.post(
            f"/stores/{sid}/keys/rotate", headers={"Content-Type": "application/json", **headers}, body=json.dumps(body)
        )
        assert answer.status_code == status, (body, answer.body)
    # THEN both keys still work as before
    assert client.http.get(f"/stores/{sid}", headers=auth(store["api_key"])).status_code == 200
    assert client.http.get(f"/stores/{sid}/cases", headers=auth(store["support_key"])).status_code == 200
