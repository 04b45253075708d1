"""Make the embedded DynamoDB fast enough for long fault-injection worlds, keeping its meaning.

moto's ``transact_write_items`` backs up the whole table, with ``copy.deepcopy``, once per
operation of every transaction, so a world's cost grows with the square of its size.
:func:`item_level_rollback` keeps the same all-or-nothing rule by backing up only the items the
transaction names and putting them back when it is cancelled.  Anything moto refuses before it
touches an item (a malformed key, too many operations) still goes through moto's own path.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
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
