"""A botocore event hook that counts the AWS requests a client makes, the DynamoDB capacity units
they would bill, and the CPU time spent inside them (moto's work, when moto answers)."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from typing import Any

from botocore.stub import Stubber

WRITES = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def item_bytes(item: dict[str, Any] | None) -> int:
    """DynamoDB's item size, closely enough: attribute names plus their values' JSON."""
    if not item:
        return 0
    return sum(
        len(name.encode()) + len(json.dumps(value, separators=(",", ":")).encode()) - 8 for name, value in item.items()
    )


def write_units(item: dict[str, Any] | None) -> int:
    """1 unit per started KB; an update or delete is billed on the item's size, taken as 1 KB."""
    return max(1, math.ceil(item_bytes(item) / 1024))


def read_units(items: list[dict[str, Any]], consistent: bool) -> float:
    """Query sums the sizes of what it returns; 0.5 unit per started 4 KB, eventually consistent."""
    units = max(1, math.ceil(sum(item_bytes(i) for i in items) / 4096)) if items else 1
    return float(units) if consistent else units / 2


class AwsMeter:
    """Counts requests and units; brackets each request with botocore's before-call and
    after-call events to measure the CPU spent inside AWS (moto), which callers subtract."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.wcu = 0.0
        self.rcu = 0.0
        self.items_read = 0
        self.inside = 0.0
        self._started: float | None = None
        self._consistent = False

    def attach(self, client: Any) -> AwsMeter:
        client.meta.events.register("before-parameter-build.*.*", self._count)
        client.meta.events.register("before-call.*.*", self._before)
        client.meta.events.register("after-call.*.*", self._after)
        return self

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        name = model.name
        self.calls[name] += 1
        self._consistent = bool(params.get("ConsistentRead"))
        if name == "TransactWriteItems":
            for op in params.get("TransactItems", []):
                self.wcu += 2 * write_units(op.get("Put", {}).get("Item"))
        elif name == "PutItem":
            self.wcu += write_units(params.get("Item"))
        elif name in ("UpdateItem", "DeleteItem"):
            self.wcu += 1
        elif name == "BatchWriteItem":
            for ops in params.get("RequestItems", {}).values():
                self.wcu += sum(write_units(op.get("PutRequest", {}).get("Item")) for op in ops)

    def _before(self, **_: Any) -> None:
        self._started = time.process_time()

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if self._started is not None:
            self.inside += time.process_time() - self._started
            self._started = None
        name = model.name
        consistent = self._consistent
        if name == "GetItem":
            item = parsed.get("Item")
            self.items_read += 1 if item else 0
            self.rcu += read_units([item] if item else [], consistent)
        elif name in ("Query", "Scan"):
            items = parsed.get("Items", [])
            self.items_read += len(items)
            self.rcu += read_units(items, consistent)
        elif name == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.items_read += len(items)
                self.rcu += sum(read_units([i], consistent) for i in items)
        elif name == "TransactGetItems":
            for answer in parsed.get("Responses", []):
                self.items_read += 1 if answer.get("Item") else 0
                self.rcu += 2 * read_units([answer["Item"]] if answer.get("Item") else [], True)

    def writes(self) -> int:
        return sum(v for k, v in self.calls.items() if k in WRITES)

    def reads(self) -> int:
        return sum(v for k, v in self.calls.items() if k in READS)

    def reset(self) -> None:
        self.calls.clear()
        self.wcu = self.rcu = self.inside = 0.0
        self.items_read = 0


def moto_table(name: str) -> Any:
    """moto's own table object (filling it directly skips the HTTP round trip of each item)."""
    from moto.dynamodb.models import dynamodb_backends

    import devstack

    return dynamodb_backends[devstack.ACCOUNT][devstack.REGION].get_table(name)


def without_stream(name: str) -> None:
    """Stop moto recording the table's stream: moto deep-copies the whole table, stream records
    included, for every item of a transaction, so the bench would measure moto's copying."""
    moto_table(name).stream_shard = None


class InstantStubber(Stubber):
    """botocore's Stubber answering every call at once with a canned answer (or error code) for
    its operation, in any order; each answer is validated once, when the stubber is built."""

    def __init__(self, client: Any, answers: dict[str, dict[str, Any]], errors: dict[str, str] | None = None) -> None:
        super().__init__(client)
        by_api = {api: method for method, api in client.meta.method_to_api_mapping.items()}
        self.answers: dict[str, Any] = {}
        for operation, answer in answers.items():
            self.add_response(by_api[operation], answer)
            self.answers[operation] = self._queue.popleft()["response"]  # type: ignore[attr-defined]
        for operation, code in (errors or {}).items():
            self.add_client_error(by_api[operation], service_error_code=code, http_status_code=404)
            self.answers[operation] = self._queue.popleft()["response"]  # type: ignore[attr-defined]

    def _assert_expected_params(self, model: Any, params: Any, context: Any, **kwargs: Any) -> None:
        return None

    def _get_response_handler(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        return self.answers[model.name]
