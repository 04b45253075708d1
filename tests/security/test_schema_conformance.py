"""Schema-driven: every operation of ``/openapi.json`` called with generated input by a live
server, as the store, support and the operator would call it.  No answer is a 5xx, and every
answer's status, content type and body are what the description says.  Derandomized and
bounded: a fixed number of examples per operation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.platform.process import PROCESS
from chalicelib.support import cases
from chalicelib.web import openapi
from tests.conftest import OPERATOR, STORE_BODY
from tests.support.live import serve
from tests.support.surveys import issue, post_answer

EXAMPLES = 10


@pytest.fixture
def live(app: Any, client: Any) -> Iterator[dict[str, Any]]:
    created = client.http.post(
        "/stores", headers={**OPERATOR, "Content-Type": "application/json"}, body=json.dumps(STORE_BODY)
    )
    store = dict(created.json_body)
    link = issue(store)
    post_answer(client, link.token, score=1, comment="broken")
    PROCESS.reset()
    with serve(app) as url:
        session = requests.post(
            f"{url}/stores/{store['store_id']}/inbox/session",
            data={"support_key": store["support_key"], "name": "Dana"},
            allow_redirects=False,
        )
        real = {
            "store_id": store["store_id"],
            "case_id": cases.case_id_for("maya@example.org", "1001"),
            "email_or_phone": "maya@example.org",
            "token": link.token,
        }
        yield {"url": url, "store": store, "cookie": session.cookies.get("aftercare_support"), "real": real}
    PROCESS.reset()


def credentials(operation: Any, live: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies for the first credential the operation accepts."""
    schemes = [name for requirement in operation.definition.raw.get("security", []) for name in requirement]
    store = live["store"]
    if not schemes:
        return {}, {}
    first = schemes[0]
    if first == openapi.OPERATOR:
        return dict(OPERATOR), {}
    if first == openapi.SUPPORT_SESSION:
        return {}, {"aftercare_support": live["cookie"]}
    key = store["support_key"] if first == openapi.SUPPORT_KEY else store["api_key"]
    return {"Authorization": f"Bearer {key}"}, {}


def test_every_operation_answers_as_described(live: dict[str, Any]) -> None:
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    document = requests.get(f"{live['url']}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures: list[str] = []
    for operation in operations:
        headers, cookies = credentials(operation, live)

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), real=st.integers(0, 3))
        def exercise(case: Any, real: int) -> None:
            if real:  # mostly this store's own ids, so the calls reach past the 404s
                for name, value in live["real"].items():
                    if name in (case.path_parameters or {}):
                        case.path_parameters[name] = value
            case.call_and_validate(
                base_url=live["url"],
                headers=headers,  # noqa: B023 (run in this iteration)
                cookies=cookies,  # noqa: B023
                checks=checks,
                allow_redirects=False,
            )

        try:
            exercise()
        except (AssertionError, BaseExceptionGroup) as exc:  # collect every operation's failure, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert failures == [], "\n\n".join(failures)
