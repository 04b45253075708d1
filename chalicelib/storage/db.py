"""The storage layer: one DynamoDB table through the low-level client.

The low-level client is used (not ``boto3.resource``) because it loads faster and costs
less CPU per call, which the webhook path feels.  Items go in and out as plain Python
values; ``Decimal`` comes back for numbers.  Storage errors become domain errors here:
throttling, 5xx, and every network error botocore raises (no connection, a timeout, a
closed connection) are :class:`Unavailable`, which the API answers with 503 and
``Retry-After``.  A write whose answer was lost may have been applied: callers that must know
read the item back (``sending`` does, with its claim).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from chalicelib.core.errors import AlreadyExists, Unavailable
from chalicelib.platform.aws import clients
from chalicelib.platform.config import settings
from chalicelib.platform.process import PROCESS
from chalicelib.storage.keys import Key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Item = dict[str, Any]

_THROTTLES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


class ConditionFailed(AlreadyExists):
    """A conditional write found the item in another state than required."""


class TransactionConflict(Exception):
    """A transaction was cancelled; ``reasons`` holds one code per operation ('None' = ok)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer  # lazy: heavy at import (make bench, import time)

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer  # lazy: heavy at import (make bench, import time)

    return TypeDeserializer()


@dataclass
class Expr:
    """An expression with its placeholder values, built by :func:`expr`."""

    text: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


class Table:
    """The single table.  ``client`` is a boto3 DynamoDB client (moto in tests)."""

    def __init__(self, client: DynamoDBClient, name: str, *, due_shards: int) -> None:
        self.client = client
        self.name = name
        self.due_shards = due_shards  # the due index's layout: every job written here uses it
        self._ser = _serializer()
        self._de = _deserializer()

    # -- conversion -------------------------------------------------------------------
    def dump(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in item.items() if v is not None}

    def load(self, raw: Mapping[str, Any]) -> Item:
        return {k: self._de.deserialize(v) for k, v in raw.items()}

    def _values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in values.items()}

    # -- single items -----------------------------------------------------------------
    def get(self, key: Key, *, consistent: bool = False) -> Item | None:
        try:
            raw = self.client.get_item(TableName=self.name, Key=self.dump(key), ConsistentRead=consistent)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        item = raw.get("Item")
        return self.load(item) if item else None

    def put(self, item: Mapping[str, Any], *, condition: Expr | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": self.dump(item)}
        _apply(kwargs, condition, "ConditionExpression", self)
        try:
            self.client.put_item(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc

    def create(self, item: Mapping[str, Any]) -> None:
        """Put only when no item has this key; :class:`ConditionFailed` otherwise."""
        self.put(item, condition=Expr("attribute_not_exists(PK)"))

    def update(
        self,
        key: Key,
        update: Expr,
        *,
        condition: Expr | None = None,
        return_values: str = "ALL_NEW",
    ) -> Item | None:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": self.dump(key),
            "UpdateExpression": update.text,
            "ReturnValues": return_values,
        }
        names = {**update.names, **(condition.names if condition else {})}
        values = {**update.values, **(condition.values if condition else {})}
        if condition:
            kwargs["ConditionExpression"] = condition.text
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = self._values(values)
        try:
            raw = self.client.update_item(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        attrs = raw.get("Attributes")
        return self.load(attrs) if attrs else None

    def delete(self, key: Key, *, condition: Expr | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": self.dump(key)}
        _apply(kwargs, condition, "ConditionExpression", self)
        try:
            self.client.delete_item(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc

    # -- many items -------------------------------------------------------------------
    def query(
        self,
        key_condition: Expr,
        *,
        index: str | None = None,
        filter: Expr | None = None,
        forward: bool = True,
        limit: int | None = None,
        consistent: bool = False,
        start: dict[str, Any] | None = None,
    ) -> tuple[list[Item], dict[str, Any] | None]:
        """One page of a query: the items and the key to continue from (or None)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition.text,
            "ScanIndexForward": forward,
        }
        names = {**key_condition.names, **(filter.names if filter else {})}
        values = {**key_condition.values, **(filter.values if filter else {})}
        if filter:
            kwargs["FilterExpression"] = filter.text
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = self._values(values)
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if limit:
            kwargs["Limit"] = limit
        if start:
            kwargs["ExclusiveStartKey"] = start
        try:
            raw = self.client.query(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc) from exc
        return [self.load(i) for i in raw.get("Items", [])], raw.get("LastEvaluatedKey")

    def query_all(self, key_condition: Expr, **kwargs: Any) -> Iterator[Item]:
        start = None
        while True:
            items, start = self.query(key_condition, start=start, **kwargs)
            yield from items
            if not start:
                return

    def partition(self, pk: str, sk_prefix: str | None = None, **kwargs: Any) -> Iterator[Item]:
        """Every item of a partition (optionally only sort keys with a prefix)."""
        if sk_prefix is None:
            cond = Expr("PK = :pk", values={":pk": pk})
        else:
            cond = Expr("PK = :pk AND begins_with(SK, :sk)", values={":pk": pk, ":sk": sk_prefix})
        return self.query_all(cond, **kwargs)

    def batch_get(self, keys: Sequence[Key], *, consistent: bool = False) -> list[Item]:
        out: list[Item] = []
        pending = [self.dump(k) for k in keys]
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self.name: {"Keys": chunk, "ConsistentRead": consistent}}
            while request:
                try:
                    raw = self.client.batch_get_item(RequestItems=request)
                except (ClientError, BotoCoreError) as exc:
                    raise _translate(exc) from exc
                out.extend(self.load(i) for i in raw.get("Responses", {}).get(self.name, []))
                request = raw.get("UnprocessedKeys") or {}
        return out

    # -- transactions -----------------------------------------------------------------
    def transact(self, ops: Sequence[TransactOp]) -> None:
        """Write every operation or none.  A failed condition raises :class:`TransactionConflict`."""
        if not ops:
            return
        items = cast("list[TransactWriteItemTypeDef]", [op.render(self) for op in ops])
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if any(r == "ConditionalCheckFailed" for r in reasons):
                    raise TransactionConflict(reasons) from exc
                raise Unavailable("storage is busy, please retry") from exc
            raise _translate(exc) from exc
        except BotoCoreError as exc:
            raise _translate(exc) from exc


@dataclass
class TransactOp:
    """One operation of a transaction: ``put``, ``update``, ``delete`` or ``check``."""

    action: str
    key: Key | None = None
    item: Mapping[str, Any] | None = None
    update: Expr | None = None
    condition: Expr | None = None

    def render(self, table: Table) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": table.name}
        if self.action == "put":
            assert self.item is not None
            body["Item"] = table.dump(self.item)
        else:
            assert self.key is not None
            body["Key"] = table.dump(self.key)
        if self.update is not None:
            body["UpdateExpression"] = self.update.text
        names = {**(self.update.names if self.update else {}), **(self.condition.names if self.condition else {})}
        values = {**(self.update.values if self.update else {}), **(self.condition.values if self.condition else {})}
        if self.condition is not None:
            body["ConditionExpression"] = self.condition.text
        if names:
            body["ExpressionAttributeNames"] = names
        if values:
            body["ExpressionAttributeValues"] = table._values(values)
        name = {"put": "Put", "update": "Update", "delete": "Delete", "check": "ConditionCheck"}[self.action]
        return {name: body}


def put(item: Mapping[str, Any], condition: Expr | None = None) -> TransactOp:
    return TransactOp("put", item=item, condition=condition)


def create(item: Mapping[str, Any]) -> TransactOp:
    return TransactOp("put", item=item, condition=Expr("attribute_not_exists(PK)"))


def update(key: Key, expression: Expr, condition: Expr | None = None) -> TransactOp:
    return TransactOp("update", key=key, update=expression, condition=condition)


def delete(key: Key, condition: Expr | None = None) -> TransactOp:
    return TransactOp("delete", key=key, condition=condition)


def set_expr(values: Mapping[str, Any], *, remove: Sequence[str] = (), add: Mapping[str, Any] | None = None) -> Expr:
    """``SET a = :a, ... REMOVE x ADD n :n`` with placeholders for every name and value."""
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    parts: list[str] = []
    sets = []
    for i, (name, value) in enumerate(values.items()):
        names[f"#s{i}"] = name
        vals[f":s{i}"] = value
        sets.append(f"#s{i} = :s{i}")
    if sets:
        parts.append("SET " + ", ".join(sets))
    if remove:
        rem = []
        for i, name in enumerate(remove):
            names[f"#r{i}"] = name
            rem.append(f"#r{i}")
        parts.append("REMOVE " + ", ".join(rem))
    if add:
        adds = []
        for i, (name, value) in enumerate(add.items()):
            names[f"#a{i}"] = name
            vals[f":a{i}"] = value
            adds.append(f"#a{i} :a{i}")
        parts.append("ADD " + ", ".join(adds))
    return Expr(" ".join(parts), names, vals)


def _apply(kwargs: dict[str, Any], condition: Expr | None, slot: str, table: Table) -> None:
    if condition is None:
        return
    kwargs[slot] = condition.text
    if condition.names:
        kwargs["ExpressionAttributeNames"] = condition.names
    if condition.values:
        kwargs["ExpressionAttributeValues"] = table._values(condition.values)


def _translate(exc: ClientError | BotoCoreError) -> Exception:
    if isinstance(exc, BotoCoreError):
        # No connection, a timeout, a closed connection, an unreadable answer: all transient
        # for the caller.  (Parameter errors are bugs and stay what they are.)
        return exc if isinstance(exc, ParamValidationError) else Unavailable("storage is unreachable, please retry")
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(code)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _THROTTLES or status >= 500:
        return Unavailable("storage is busy, please retry")
    return exc


def _build_table() -> Table:
    return Table(clients().dynamodb, settings().table_name, due_shards=settings().due_shards)


def table() -> Table:
    """The process-wide table, built at first use."""
    return PROCESS.once(_build_table)
