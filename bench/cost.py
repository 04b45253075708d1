"""Cost model: AWS cost per 1,000 orders from the requests and units counted above and AWS's public on-demand prices (us-east-1), for a store with 1,000 and one with 50,000 orders a month.

Per order: 2 webhooks (created, delivered), 4 messages, a 25% answer rate, 10% of answers
negative. Free tiers are left out (a second store on the account would not have them).
Lambda duration is the measured CPU of this machine's core scaled to the configured memory
(Lambda gives a full vCPU at 1,769 MB, proportionally less below), plus 10 ms per DynamoDB or
SQS request. The survey answer path is not measured yet: its requests are an estimate, marked
so below."""

from __future__ import annotations

from typing import Any

TITLE = "Cost model"
WANTS_FIGURES = True

# us-east-1 on-demand prices, December 2026, with the pages they were read from.
PRICES = {
    "api_rest_per_million": (
        3.50,
        "https://aws.amazon.com/api-gateway/pricing/ (REST APIs, first 333 million requests a month; also docs.aws.amazon.com whitepaper 'Best Practices for Designing Amazon API Gateway Private APIs', Table 4)",
    ),
    "lambda_request_per_million": (0.20, "https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests)"),
    "lambda_gb_second": (0.0000166667, "https://aws.amazon.com/lambda/pricing/ (x86, first 6 billion GB-s a month)"),
    "ddb_write_per_million": (
        0.625,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million write request units since the November 2024 price cut; as quoted by airbyte.com/data-engineering-resources/dynamodb-pricing)",
    ),
    "ddb_read_per_million": (
        0.125,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.125 per million read request units)",
    ),
    "sqs_per_million": (
        0.40,
        "https://aws.amazon.com/sqs/pricing/ (standard queue, per million requests of up to 64 KB)",
    ),
    "sns_publish_per_million": (0.50, "https://aws.amazon.com/sns/pricing/ (standard topic publishes)"),
    "sns_email_per_100k": (2.00, "https://aws.amazon.com/sns/pricing/ (email notifications, $2 per 100,000)"),
    "ses_per_thousand": (0.10, "https://aws.amazon.com/ses/pricing/ ($0.10 per 1,000 outbound emails)"),
}
FULL_VCPU_MB = 1769
REQUEST_MS = 10.0
MESSAGES, WEBHOOKS, ANSWER_RATE, NEGATIVE = 4, 2, 0.25, 0.10
# Estimates for what is not measured yet: a survey page view and an answer, and a negative answer's case and alert.
ANSWER_ESTIMATE = {"api_requests": 2, "ddb_requests": 4, "wcu": 8.0, "rcu": 2.0, "cpu_ms": 10.0}
CASE_ESTIMATE = {"wcu": 6.0, "sns_publishes": 1, "sns_emails": 1}
SUBSCRIPTIONS = {"Delighted": (149.0, 250), "Formbricks Cloud": (74.0, 2000)}


def price(name: str) -> float:
    return PRICES[name][0]


def lambda_cost(invocations: float, cpu_ms: float, requests: float, memory_mb: int) -> tuple[float, float]:
    """(cost, billed ms each) for ``invocations`` that each spend ``cpu_ms`` of a full core and make ``requests`` AWS calls."""
    billed_ms = cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb) + requests * REQUEST_MS
    gb_seconds = invocations * (memory_mb / 1024) * billed_ms / 1000
    return invocations * price("lambda_request_per_million") / 1e6 + gb_seconds * price("lambda_gb_second"), billed_ms


def model(figures: dict[str, Any]) -> dict[str, Any]:
    intake, sending, dispatch = figures.get("intake") or {}, figures.get("sending") or {}, figures.get("dispatch") or {}
    memory_mb = int((figures.get("package") or {}).get("memory_mb", 128))
    kinds = intake["kinds"]
    hooks = [kinds["shopify orders/create"], kinds["shopify fulfillments/update delivered"]]
    hook_cpu = intake["sources"]["shopify"]["cpu_ms"]
    orders = 1000
    lines: dict[str, float] = {}
    # Webhooks: API Gateway, Lambda, DynamoDB.
    n_hooks = orders * WEBHOOKS
    hook_requests = sum(sum(h["requests"].values()) for h in hooks) / len(hooks)
    lines["API Gateway (webhooks)"] = n_hooks * price("api_rest_per_million") / 1e6
    cost, hook_ms = lambda_cost(n_hooks, hook_cpu, hook_requests, memory_mb)
    lines["Lambda (webhooks)"] = cost
    wcu = orders * sum(h["wcu"] for h in hooks)
    rcu = orders * sum(h["rcu"] for h in hooks)
    # Dispatch: one UpdateItem per job queued, and the due index read; SQS batches of 10.
    n_messages = orders * MESSAGES
    per_due = dispatch.get("wcu", 100) / max(1, dispatch.get("due", 100))
    wcu += n_messages * per_due
    rcu += n_messages * dispatch.get("rcu", 2) / max(1, dispatch.get("due", 100))
    batches = n_messages / 10
    sqs = batches * 3  # SendMessageBatch by dispatch, ReceiveMessage and DeleteMessageBatch by Lambda's poller
    # Send: one invocation per batch of 10.
    cost, send_ms = lambda_cost(batches, sending["batch_ms"], sending["ddb_requests_per_sent"] * 10, memory_mb)
    lines["Lambda (send)"] = cost
    wcu += n_messages * sending["wcu_per_sent"]
    rcu += n_messages * sending["rcu_per_message"] * sending["messages"] / max(1, sending["sent"])
    # Answers (estimated) and negative answers' cases and alerts (estimated).
    answers = orders * ANSWER_RATE
    lines["API Gateway (survey pages, answers; estimated)"] = (
        answers * ANSWER_ESTIMATE["api_requests"] * price("api_rest_per_million") / 1e6
    )
    cost, _ = lambda_cost(
        answers * ANSWER_ESTIMATE["api_requests"],
        ANSWER_ESTIMATE["cpu_ms"],
        ANSWER_ESTIMATE["ddb_requests"] / 2,
        memory_mb,
    )
    lines["Lambda (answers; estimated)"] = cost
    wcu += answers * ANSWER_ESTIMATE["wcu"] + answers * NEGATIVE * CASE_ESTIMATE["wcu"]
    rcu += answers * ANSWER_ESTIMATE["rcu"]
    lines["DynamoDB writes"] = wcu * price("ddb_write_per_million") / 1e6
    lines["DynamoDB reads"] = rcu * price("ddb_read_per_million") / 1e6
    lines["SQS"] = sqs * price("sqs_per_million") / 1e6
    negatives = answers * NEGATIVE
    lines["SNS (alerts)"] = negatives * (price("sns_publish_per_million") / 1e6 + price("sns_email_per_100k") / 1e5)
    variable = sum(lines.values())
    # The every-minute dispatch with nothing due: 4 queries of the due index, a short run.
    runs = 60 * 24 * 30
    idle_cost, idle_ms = lambda_cost(runs, 20.0, 4, memory_mb)
    fixed = idle_cost + runs * 4 * 0.5 * price("ddb_read_per_million") / 1e6
    email_fee = n_messages * price("ses_per_thousand") / 1000
    return {
        "lines": lines,
        "variable": variable,
        "fixed_month": fixed,
        "email_fee": email_fee,
        "wcu": wcu,
        "rcu": rcu,
        "hook_ms": hook_ms,
        "send_ms": send_ms,
        "idle_ms": idle_ms,
        "memory_mb": memory_mb,
    }


def main(figures: dict[str, Any] | None = None) -> dict[str, Any]:
    figures = figures or {}
    if not all(figures.get(k) for k in ("intake", "sending", "dispatch")):
        print("needs the intake, sending and dispatch figures of the same run (run the whole bench)")
        return {}
    m = model(figures)
    print(
        f"per 1,000 orders ({WEBHOOKS} webhooks, {MESSAGES} messages, {ANSWER_RATE:.0%} answer, {NEGATIVE:.0%} of answers negative), Lambda at {m['memory_mb']} MB:"
    )
    for name, value in m["lines"].items():
        print(f"  {name:48} ${value:.4f}")
    print(
        f"  {'AWS, before message fees':48} ${m['variable']:.4f}   (goal < $0.05: {'met' if m['variable'] < 0.05 else 'missed'})"
    )
    print(
        f"  DynamoDB units: {m['wcu']:,.0f} write, {m['rcu']:,.0f} read; billed Lambda ms: webhook {m['hook_ms']:.0f}, send batch {m['send_ms']:.0f}"
    )
    print(
        f"fixed: the every-minute dispatch, nothing due ({m['idle_ms']:.0f} ms, 4 queries): ${m['fixed_month']:.3f} a month (EventBridge schedules are free)"
    )
    print(
        f"message fees, separately: SES ${m['email_fee']:.2f} per 1,000 orders if all {MESSAGES} go by email; SMS is priced per country and per segment (AWS End User Messaging SMS pricing page) and is usually the largest line"
    )
    print()
    print(
        f"{'orders a month':>14} {'AWS':>9} {'+ SES email':>11} {'responses':>9}   "
        + "   ".join(f"{name} (${fee:.0f} for {n:,})" for name, (fee, n) in SUBSCRIPTIONS.items())
    )
    months = {}
    for orders in (1000, 50_000):
        aws = m["variable"] * orders / 1000 + m["fixed_month"]
        email = m["email_fee"] * orders / 1000
        responses = int(orders * ANSWER_RATE)
        subs = []
        for fee, included in SUBSCRIPTIONS.values():
            subs.append(
                f"${fee:.0f}" if responses <= included else f"over the ${fee:.0f} plan ({included:,} responses)"
            )
        months[orders] = {"aws": aws, "email": email}
        print(
            f"{orders:>14,} {'$' + format(aws, '.2f'):>9} {'$' + format(aws + email, '.2f'):>11} {responses:>9,}   "
            + "   ".join(subs)
        )
    print()
    print("prices used (us-east-1, on demand):")
    for name, (value, source) in PRICES.items():
        print(f"  {name:28} {value:<12g} {source}")
    return {**m, "months": months}


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    months = figures["months"]
    return [
        f"AWS cost ${figures['variable']:.3f} per 1,000 orders before message fees (goal < $0.05: {'met' if figures['variable'] < 0.05 else 'missed'}); ${months[1000]['aws']:.2f} a month at 1,000 orders, ${months[50_000]['aws']:.2f} at 50,000 (plus SES ${figures['email_fee']:.2f} per 1,000 orders); Delighted $149 for 250 responses, Formbricks Cloud $74 for 2,000"
    ]
