"""Make the embedded DynamoDB fast enough for long fault-injection worlds, keeping its meaning.

Two of moto's costs grow with the table, so a world's cost grows with the square of its size:

- ``transact_write_items`` backs up the whole table, with ``copy.deepcopy``, once per
  operation of every transaction.  :func:`item_level_rollback` keeps the same all-or-nothing
  rule by backing up only the items the transaction names and putting them back when it is
  cancelled.  Anything moto refuses before it touches an item (a malformed key, too many
  operations) still goes through moto's own path.
- ``query`` sorts every item of the table, then keeps those of the partition asked for.
  :func:`partition_queries` hands moto's own query only the items whose key attributes equal
  the ones asked for (the partition of the table, or of the index), which moto then checks,
  sorts and filters as before.

:func:`quick` applies both.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock


def _saved_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        if "Key" in op:
            key = op["Key"]
        else:
            names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            key = {name: op["Item"][name] for name in names}
        hash_key, range_key = backend.get_keys_value(table, key)
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, old in reversed(saved):
        table.delete_item(hash_key, range_key)
        if old is None:
            continue
        if range_key is not None:
            table.items[hash_key][range_key] = old
        else:
            table.items[hash_key] = old


@contextmanager
def item_level_rollback() -> Iterator[None]:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    real = models.DynamoDBBackend.transact_write_items
    # moto's own backup of every table becomes the table itself: its rollback is then a no-op,
    # and the items named are put back below instead.
    no_table_copies = SimpleNamespace(
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo)
    )

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            saved = _saved_items(self, transact_items)
        except Exception:
            return real(self, transact_items)  # moto's own errors, from its own path
        with mock.patch.object(models, "copy", no_table_copies):
            try:
                real(self, transact_items)
            except Exception:
                _restore(saved)
                raise

    with mock.patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items):
        yield


def _equal(stored: Any, wanted: Any) -> bool:
    return stored is not None and bool(stored == wanted)


def _every_item(table: Any) -> Iterator[Any]:
    for partition in table.items.values():
        yield from partition.values()


@contextmanager
def partition_queries() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    real = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = list(kwargs.get("hash_key_conditions") or [])
        if index_name is None and hash_key is not None:
            conditions = [(self.hash_key_attr, hash_key)]
        if not conditions:
            return real(self, hash_key, *args, **kwargs)
        if index_name is None and self.range_key_attr:
            candidates: Any = list(self.items.get(hash_key, {}).values())
        else:
            candidates = self.items.values() if not self.range_key_attr else _every_item(self)
        wanted = sorted(
            (item for item in candidates if all(_equal(item.attrs.get(name), value) for name, value in conditions)),
            key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key,
        )
        with mock.patch.object(self, "all_items", lambda: wanted):
            return real(self, hash_key, *args, **kwargs)

    with mock.patch.object(Table, "query", query):
        yield


@contextmanager
def quick() -> Iterator[None]:
    with ExitStack() as stack:
        stack.enter_context(item_level_rollback())
        stack.enter_context(partition_queries())
        yield
