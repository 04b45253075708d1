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
from chalicelib.core.models import LANGUAGES
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


# Run inside the unzipped package by a bare interpreter (no site-packages): what the functions load.
IN_THE_ZIP = """
import json, sys
from datetime import date
sys.path.insert(0, sys.argv[1])
services, languages = json.loads(sys.argv[2]), json.loads(sys.argv[3])
import boto3, botocore, babel, phonenumbers
from babel.dates import format_date
session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
import app

class Context:
    function_name, memory_limit_in_mb, aws_request_id = "api", 128, "r1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:api"
    def get_remaining_time_in_millis(self):
        return 30000

path = "/openapi.json"
event = {
    "resource": path, "path": path, "httpMethod": "GET", "headers": {"Host": "api.example.org"},
    "multiValueHeaders": {"Host": ["api.example.org"]}, "queryStringParameters": None,
    "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
    "body": None, "isBase64Encoded": False,
    "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": "/api" + path, "stage": "api"},
}
answer = app.app(event, Context())
print(json.dumps({
    "outside": [m.__name__ for m in (boto3, botocore, babel, phonenumbers, app) if not m.__file__.startswith(sys.argv[1])],
    "clients": sorted(session.client(s).meta.service_model.service_name for s in services),
    "dates": {language: format_date(date(2026, 12, 1), format="long", locale=language) for language in languages},
    "phone": phonenumbers.format_number(phonenumbers.parse("+30 691 234 5678"), phonenumbers.PhoneNumberFormat.E164),
    "status": answer["statusCode"],
    "routes": len(json.loads(answer["body"])["paths"]),
}))
"""


def test_the_zip_leaves_out_what_the_functions_never_load(built: Path) -> None:
    # GIVEN the package's entries
    names = zipfile.ZipFile(built / "deployment.zip").namelist()
    tops = {name.split("/")[0] for name in names}
    # THEN the chalice CLI and the build tools it pulls in are not there, only Chalice's runtime
    assert not tops & {"pip", "setuptools", "wheel", "click", "yaml", "inquirer", "blessed", "wcwidth"}
    assert {name for name in names if name.startswith("chalice/")} == {"chalice/__init__.py", "chalice/app.py"}
    # AND botocore and boto3 keep the models of the services the app calls, and only those
    models = {name.split("/")[2] for name in names if re.match(r"boto(core|3)/data/[^/]+/", name)}
    assert models == package.SERVICES
    # AND Babel keeps the locale data of the languages messages speak, and their root
    locales = {
        name.split("/")[-1].split(".")[0].split("_")[0] for name in names if name.startswith("babel/locale-data/")
    }
    assert locales == {"root", *LANGUAGES}
    # AND phonenumbers keeps no geocoding, carrier or time-zone data
    assert not [name for name in names if name.startswith(package.PHONE_EXTRAS)]


def test_every_aws_service_the_app_calls_keeps_its_model() -> None:
    called = {
        service
        for path in [devstack.ROOT / "app.py", *(devstack.ROOT / "chalicelib").rglob("*.py")]
        for service in re.findall(r"\.client\(\s*\"([a-z0-9-]+)\"", path.read_text(encoding="utf-8"))
    }
    assert called == package.SERVICES


def test_the_unzipped_package_serves_on_its_own(built: Path, tmp_path: Path) -> None:
    # GIVEN the package unzipped, and an interpreter that sees nothing but it and the standard library
    zipfile.ZipFile(built / "deployment.zip").extractall(tmp_path / "task")
    environment = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PUBLIC_BASE_URL": "https://api.example.org",
    }
    # WHEN it makes every client, dates a day in every language, reads a phone number and answers a request
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            IN_THE_ZIP,
            str(tmp_path / "task"),
            json.dumps(sorted(package.SERVICES)),
            json.dumps(list(LANGUAGES)),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # THEN all of it came from the zip and worked
    assert seen["outside"] == []
    assert seen["clients"] == sorted(package.SERVICES)
    assert seen["dates"]["en"] == "December 1, 2026" and seen["dates"]["el"] == "1 Δεκεμβρίου 2026"
    assert all("2026" in text for text in seen["dates"].values()) and len(set(seen["dates"].values())) == 5
    assert seen["phone"] == "+306912345678"
    assert seen["status"] == 200 and seen["routes"] >= 30
