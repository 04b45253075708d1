"""The dashboard's latest comments cost a few reads, however many answers have no comment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.reports import dashboard
from chalicelib.storage import db
from tests.support.surveys import answered


class CountingClient:
    """The DynamoDB client, counting the items its queries and batch reads hand back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.items_read = 0

    def query(self, **kwargs: Any) -> Any:
        answer = self.inner.query(**kwargs)
        self.items_read += len(answer.get("Items", []))
        return answer

    def batch_get_item(self, **kwargs: Any) -> Any:
        answer = self.inner.batch_get_item(**kwargs)
        self.items_read += sum(len(v) for v in answer.get("Responses", {}).values())
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_latest_comments_read_a_bounded_number_of_items(client: Any, store: dict[str, Any]) -> None:
    # GIVEN seven commented answers, then 45 newer answers without a comment, one commented
    # answer later changed to none, and one answered again with a new comment
    now = wall_clock()
    for i in range(7):
        answered(store, f"C-{i}", f"c{i}@example.org", 3, f"comment {i}", now - timedelta(days=10, minutes=i))
    for i in range(45):
        answered(store, f"N-{i}", f"n{i}@example.org", 9, "", now - timedelta(days=5, minutes=i))
    answered(store, "C-0", "c0@example.org", 8, "", now - timedelta(days=4))
    answered(store, "C-1", "c1@example.org", 2, "worse now", now - timedelta(days=3))
    counting = CountingClient(db.table().client)
    db.table().client = counting
    # WHEN the dashboard lists the latest comments of the last 30 days
    comments = dashboard.latest_comments(
        db.table(), store["store_id"], (now - timedelta(days=29)).date(), now.date(), "en"
    )
    # THEN the six newest current comments are there, read with a handful of items
    assert [c["comment"] for c in comments] == [
        "worse now",
        "comment 2",
        "comment 3",
        "comment 4",
        "comment 5",
        "comment 6",
    ]
    assert counting.items_read <= 6 * dashboard.COMMENT_READ_FACTOR * 2
