"""make bench's cheapest pieces, smaller: what they count (requests, units, items), never how fast."""

from __future__ import annotations

import pytest


def test_each_source_takes_one_write_request_and_no_read_once_the_store_is_cached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import intake

    # GIVEN a store and a few webhooks of each source (bench/intake.py, fewer rounds)
    figures = intake.main(rounds=3, stubbed_rounds=2)
    # THEN every warm webhook of each source is one TransactWriteItems and nothing else
    for kind in intake.SOURCES.values():
        assert figures["kinds"][kind]["requests"] == {"TransactWriteItems": 1}, kind
        assert figures["kinds"][kind]["rcu"] == 0, kind
    assert "CPU per webhook" in capsys.readouterr().out


def test_results_keep_the_sections_another_target_wrote() -> None:
    from bench import results

    # GIVEN RESULTS.md with a section make soak wrote between two of ours
    old = "# title\n\n## Run\nold run\n\n## Fault injection\nsoak figures\n\n## Webhook cost\nold cost\n"
    # WHEN make bench rewrites its sections
    new = results.merge(old, [("Run", "new run"), ("Webhook cost", "new cost")])
    # THEN ours are new, the soak's is kept word for word, and nothing old of ours is left
    sections = dict(results.split(new))
    assert sections == {"Run": "new run", "Webhook cost": "new cost", "Fault injection": "soak figures"}
    # AND a partial run replaces a section where it stands
    partial = results.split(results.merge(new, [("Webhook cost", "newer")], in_place=True))
    assert [h for h, _ in partial] == ["Run", "Webhook cost", "Fault injection"] and dict(partial)[
        "Webhook cost"
    ] == "newer"
