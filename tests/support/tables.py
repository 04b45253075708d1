"""The table as a test sees it, and a way to start it over.

moto copies the whole table, stream records included, for every operation of a transaction,
and keeps every stream record: a test that writes thousands of times recreates the table
(without a stream) now and then to stay fast and small."""

from __future__ import annotations

import json
from typing import Any

import devstack
from chalicelib.storage import db
from tests.support.intake import DIAGNOSTIC_TYPES


def _moto_table() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][devstack.REGION].tables[db.table().name]


def snapshot() -> list[str]:
    """Every item, as stored, sorted, but the diagnostics: equal snapshots mean nothing was written."""
    stored = (json.dumps(item.to_json(), sort_keys=True) for item in _moto_table().all_items())
    return sorted(text for text in stored if not any(f'"type": {{"S": "{t}"}}' in text for t in DIAGNOSTIC_TYPES))


def recreate(keep: list[str]) -> None:
    """Drop the table, create it again from infra/ (without its stream) and put back ``keep``."""
    table = db.table()
    client = table.client
    client.delete_table(TableName=table.name)
    props = next(
        r["Properties"] for r in devstack.template()["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"
    )
    devstack._create_table(client, {k: v for k, v in props.items() if k != "StreamSpecification"})
    for item in keep:
        client.put_item(TableName=table.name, Item=json.loads(item)["Attributes"])
