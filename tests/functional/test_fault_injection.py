"""Exactly once under faults: orders through the real webhook, the whole follow-up timeline,
and a share of the app's DynamoDB, SQS, SES and SNS calls failing (fixed seeds); some customers
take WhatsApp in place of SMS.

The injector (tests/support/faults.py) throttles, answers 5xx, refuses connections, and lets
calls through only to lose their answers (a read timeout after the call was applied).  The
world (tests/support/fault_world.py) posts every webhook twice, some out of order, retrying
5xx like a platform.  ``make soak`` runs the same world over 1,000 orders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import fault_world

ORDERS = 15  # the embedded DynamoDB copies its table in every transaction: make soak runs 1,000 in slices


def test_without_faults_every_follow_up_goes_once(app: Any, client: Any, world_time: Any) -> None:
    # GIVEN a store whose orders arrive twice each, and AWS that never fails
    faults = fault_world.attach(0.0, seed=1)
    world = fault_world.World(client, app, world_time.move_to, faults, seed=1)
    # WHEN the whole timeline passes
    figures = world.run(orders=10)
    # THEN every message went exactly once, and nothing failed
    assert (figures.duplicates, figures.lost, figures.failed_with_reason, figures.webhooks_not_accepted) == (
        0,
        0,
        0,
        0,
    ), figures.problems
    assert figures.sent == figures.expected and figures.sent >= 10 * 5
    # AND the customers who take WhatsApp got their thank-you and survey there, none by SMS as well
    assert figures.whatsapp >= 2 and figures.whatsapp_fallbacks == 0


world_time_mark = pytest.mark.world_time(fault_world.START)
test_without_faults_every_follow_up_goes_once = world_time_mark(test_without_faults_every_follow_up_goes_once)


@world_time_mark
@pytest.mark.parametrize("rate", [0.1, 0.2])
def test_under_faults_nothing_is_lost_or_doubled(app: Any, client: Any, world_time: Any, rate: float) -> None:
    # GIVEN a share of the app's AWS calls failing in every way AWS and networks fail
    faults = fault_world.attach(rate, seed=7)
    world = fault_world.World(client, app, world_time.move_to, faults, seed=7)
    # WHEN a hundred orders go through the whole timeline
    figures = world.run(orders=ORDERS)
    # THEN every webhook was eventually accepted (never with a raw 500 on the way)
    assert figures.webhooks_not_accepted == 0 and figures.webhook_500s == 0, figures.problems
    # AND every message either went exactly once or its job is listed with a reason
    assert figures.duplicates == 0, figures.problems
    assert figures.lost == 0, figures.problems
    assert sum(figures.faults.values()) > 0 and figures.sent > 0 and figures.whatsapp > 0
