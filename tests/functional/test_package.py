"""The deploy section of the README, as far as it goes without AWS: the package builds, the
merged template passes cfn-lint and is wired to its own resources, and the zip carries the
templates and compiled translations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import devstack
from devstack import package

PLACEHOLDERS = re.compile(r"set-by-infra|example\.invalid|localhost|127\.0\.0\.1|change-me", re.IGNORECASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package.build(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def template(built: Path) -> dict[str, Any]:
    return json.loads((built / "sam.json").read_text())


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _references(value: Any) -> set[str]:
    """Logical ids a template value depends on (Ref, GetAtt and Sub's ${...})."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                if not isinstance(inner, str):
                    found |= _references(inner[1])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def test_the_zip_holds_the_code_templates_and_compiled_translations(built: Path) -> None:
    # GIVEN the package built by `make package`
    names = set(zipfile.ZipFile(built / "deployment.zip").namelist())
    # THEN the code is at the root of the zip
    assert "app.py" in names and "chalicelib/__init__.py" in names and "chalicelib/stores/registry.py" in names
    # and every template of the repository sits in templates/ next to app.py
    sources = [p for p in (devstack.ROOT / "templates").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert sources, "the repository has message templates"
    missing = [
        str(p.relative_to(devstack.ROOT)) for p in sources if p.relative_to(devstack.ROOT).as_posix() not in names
    ]
    assert missing == []
    # and each catalogue is there compiled
    catalogues = sorted((devstack.ROOT / "templates").glob("locale/*/LC_MESSAGES/*.po"))
    for po in catalogues:
        assert po.with_suffix(".mo").relative_to(devstack.ROOT).as_posix() in names
    assert not catalogues or any(name.endswith(".mo") for name in names)


def test_the_merged_template_passes_cfn_lint(built: Path) -> None:
    lint = Path(sys.executable).with_name("cfn-lint")
    # E2533 compares the runtime's deprecation date with today's: a verdict that changes with the
    # calendar, not with the template.  The runtime is pinned and dated by the test below.
    done = subprocess.run(
        [str(lint), str(built / "sam.json"), "--ignore-checks", "E2533"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_function_runs_on_the_python_the_project_is_built_with(template: dict[str, Any]) -> None:
    # AWS deprecates python3.11 on Lambda on 2027-06-30 (creation blocked from 2027-07-31): the
    # README's deploy section says so; moving on means moving the Makefile's Python too.
    runtimes = {
        r["Properties"].get("Runtime")
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }
    assert runtimes == {f"python{sys.version_info.major}.{sys.version_info.minor}"}


def test_the_template_holds_the_resources_the_local_stack_provisions(template: dict[str, Any]) -> None:
    deployed = template["Resources"]
    for logical, resource in devstack.template()["Resources"].items():
        assert deployed[logical] == resource


def test_every_function_reads_the_deployed_resources_not_a_placeholder(template: dict[str, Any]) -> None:
    functions = _functions(template)
    assert {"APIHandler", "Dispatch"} <= set(functions)
    for logical, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "Table"}, logical
        assert variables["SEND_QUEUE_URL"] == {"Ref": "SendQueue"}, logical
        assert variables["ESCALATION_TOPIC_ARN"] == {"Ref": "EscalationTopic"}, logical
        assert variables["OPERATOR_TOKEN_PARAM"] == {"Ref": "OperatorTokenParameter"}, logical
        assert variables["SESSION_SECRET_PARAM"] == {"Ref": "SessionSecretParameter"}, logical
        assert "RestAPI" in _references(variables["PUBLIC_BASE_URL"]), logical
        assert "OPERATOR_TOKEN" not in variables and "SESSION_SECRET" not in variables, logical
        left = {
            name: value for name, value in variables.items() if isinstance(value, str) and PLACEHOLDERS.search(value)
        }
        assert left == {}, logical


def test_the_send_queue_reports_partial_batch_failures(template: dict[str, Any]) -> None:
    from app import app

    # GIVEN the app's SQS handlers
    sqs_handlers = {source.name for source in app.event_sources if type(source).__name__ == "SQSEventConfig"}
    # THEN each one's event source reads the template's queue and reports failed items only
    wired = set()
    for _logical, function in _functions(template).items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
                assert event["Properties"]["Queue"] == {"Fn::Sub": "${SendQueue.Arn}"}
                wired.add(function["Properties"]["Handler"].removeprefix("app."))
    assert wired == sqs_handlers


def test_sns_handlers_subscribe_to_the_template_topics(template: dict[str, Any]) -> None:
    topics = {logical for logical, r in devstack.template()["Resources"].items() if r["Type"] == "AWS::SNS::Topic"}
    for function in _functions(template).values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SNS":
                assert len(event["Properties"]["Topic"]) == 1 and _references(event["Properties"]["Topic"]) <= topics


def test_no_resource_depends_on_itself(template: dict[str, Any]) -> None:
    # A cycle (the API's URL in the API function's own environment) is only caught by
    # CloudFormation at deploy time, so it is checked here.
    resources = template["Resources"]
    graph = {logical: _references(r) & set(resources) for logical, r in resources.items()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if node in done:
            return
        for successor in graph[node]:
            visit(successor, (*path, node))
        done.add(node)

    for logical in graph:
        visit(logical, ())


def test_overrides_wire_an_sqs_and_an_sns_handler() -> None:
    # GIVEN what chalice generates for a send queue handler and an SNS handler
    generated = {
        "Resources": {
            "Send": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.send",
                    "Events": {
                        "SendSqsEventSource": {
                            "Type": "SQS",
                            "Properties": {
                                "Queue": {
                                    "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:aftercare-send"
                                },
                                "BatchSize": 10,
                            },
                        }
                    },
                },
            },
            "InboundSms": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.inbound_sms",
                    "Events": {
                        "InboundSmsSnsSubscription": {
                            "Type": "SNS",
                            "Properties": {
                                "Topic": {
                                    "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:aftercare-inbound-sms"
                                }
                            },
                        }
                    },
                },
            },
        }
    }
    # WHEN the merge overrides are derived
    result = package.overrides(generated, devstack.template())
    # THEN the queue is referenced, partial failures are on, the topic is referenced
    sqs = result["Send"]["Properties"]["Events"]["SendSqsEventSource"]["Properties"]
    assert sqs == {"Queue": {"Fn::Sub": "${SendQueue.Arn}"}, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    assert result["InboundSms"]["Properties"]["Events"]["InboundSmsSnsSubscription"]["Properties"] == {
        "Topic": {"Fn::Sub": "${InboundSmsTopic}"}
    }
    assert result["Send"]["Properties"]["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "Table"}


def test_catalogues_compile_to_mo_files_gettext_reads(tmp_path: Path) -> None:
    import gettext

    from devstack.translations import compile_all

    # GIVEN no locale folder yet, then one Greek catalogue
    assert compile_all(tmp_path / "locale") == []
    po = tmp_path / "locale" / "el" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Thank you"\nmsgstr "Ευχαριστούμε"\n',
        encoding="utf-8",
    )
    # WHEN compiled
    compiled = compile_all(tmp_path / "locale")
    # THEN gettext reads the translation from the .mo
    assert compiled == [po.with_suffix(".mo")]
    assert (
        gettext.translation("messages", str(tmp_path / "locale"), languages=["el"]).gettext("Thank you")
        == "Ευχαριστούμε"
    )


def test_ses_feedback_sms_and_whatsapp_replies_are_wired_to_their_topics(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    destination = next(r for r in resources.values() if r["Type"] == "AWS::SES::ConfigurationSetEventDestination")[
        "Properties"
    ]
    assert destination["EventDestination"]["SnsDestination"]["TopicARN"] == {"Ref": "SesFeedbackTopic"}
    assert set(destination["EventDestination"]["MatchingEventTypes"]) == {"bounce", "complaint", "delivery"}
    policies = {
        r["Properties"]["Topics"][0]["Ref"]: r["Properties"]["PolicyDocument"]["Statement"][0]["Principal"]["Service"]
        for r in resources.values()
        if r["Type"] == "AWS::SNS::TopicPolicy"
    }
    assert policies == {
        "SesFeedbackTopic": "ses.amazonaws.com",
        "InboundSmsTopic": "sms-voice.amazonaws.com",
        "InboundWhatsAppTopic": "social-messaging.amazonaws.com",
    }
    # WhatsApp replies reach inbound_whatsapp, and the functions may send from the store's number
    [replies] = [f for f in _functions(template).values() if f["Properties"]["Handler"] == "app.inbound_whatsapp"]
    [subscription] = replies["Properties"]["Events"].values()
    assert subscription["Properties"]["Topic"] == {"Fn::Sub": "${InboundWhatsAppTopic}"}
    policy = json.loads((devstack.ROOT / ".chalice" / "policy.json").read_text())
    assert {
        "Sid": "WhatsApp",
        "Effect": "Allow",
        "Action": "social-messaging:SendWhatsAppMessage",
        "Resource": "arn:aws:social-messaging:*:*:phone-number-id/*",
    } in policy["Statement"]
    for name, function in resources.items():
        if function["Type"] == "AWS::Serverless::Function":
            assert function["Properties"]["Environment"]["Variables"]["SES_CONFIGURATION_SET"] == {
                "Ref": "EmailConfigurationSet"
            }, name
