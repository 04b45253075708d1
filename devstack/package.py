"""``make package``: the deployable CloudFormation (SAM) template and Lambda zip.

Chalice packages only ``app.py``, ``chalicelib/`` and ``vendor/`` (a top-level folder is
silently left out, chalice issue 469), so the sources are staged in ``build/src`` with
``templates/`` under ``vendor/``: in the zip ``templates/`` then sits next to ``app.py``,
exactly where it is in the repository.

``infra/resources.json`` is the merge template.  Its resources are also what the local stack
provisions, so it holds only what both need; the wiring of Chalice's own functions (their
environment, their event sources pointed at the template's queue and topics) depends on which
handlers the app declares, so it is derived from a first ``chalice package`` run and merged
in a second one (which reuses the first run's dependency bundle).

The zip is then slimmed of what the functions never load (``slim``): the models of AWS services
the app does not call, the locale data of languages it does not speak, and phonenumbers'
geocoding, carrier and time-zone data.  The chalice CLI (and the build tools it pulls in) stays
out because ``requirements.txt`` does not name it: ``chalice package`` adds its runtime itself.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from chalicelib.core.models import LANGUAGES
from devstack import ROOT, TEMPLATE

BUILD = ROOT / "build"
SOURCES = ("app.py", "chalicelib", ".chalice", "requirements.txt")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "deployments", "deployed")
FUNCTION_TYPE = "AWS::Serverless::Function"
ENVIRONMENT_METADATA = "Aftercare::FunctionEnvironment"
API_FUNCTION = "APIHandler"
API_ROUTE_URI = (
    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-api/invocations"
)


# Every AWS service the app calls (the clients of chalicelib/platform/aws.py): botocore and boto3
# keep their models, the others' are left out of the zip.
SERVICES = frozenset({"dynamodb", "sqs", "sns", "sesv2", "pinpoint-sms-voice-v2", "socialmessaging", "ssm"})
# Babel's locale data kept: the languages messages and pages speak, and the root they inherit from.
LOCALES = frozenset({"root", *LANGUAGES})
# phonenumbers' geocoding, carrier and time-zone lookups: the app parses, validates and formats only.
PHONE_EXTRAS = ("phonenumbers/geodata/", "phonenumbers/carrierdata/", "phonenumbers/tzdata/")
PHONE_EXTRA_MODULES = frozenset(
    f"phonenumbers/{name}.{ext}" for name in ("geocoder", "carrier", "timezone") for ext in ("py", "pyi")
)


class PackageError(RuntimeError):
    """``chalice package`` failed; its output says why."""


def stage(build: Path = BUILD) -> Path:
    """Copy what Chalice deploys into ``build/src`` (keeping its dependency cache)."""
    src = build / "src"
    cache = src / ".chalice" / "deployments"
    kept = build / ".deployments-cache"
    if cache.is_dir():
        shutil.rmtree(kept, ignore_errors=True)
        cache.rename(kept)
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=IGNORED)
        else:
            shutil.copy2(origin, src / name)
    shutil.copytree(ROOT / "templates", src / "vendor" / "templates", ignore=IGNORED)
    if kept.is_dir():
        kept.rename(cache)
    return src


def _chalice(src: Path, out: Path, merge_template: Path | None) -> dict[str, Any]:
    executable = Path(sys.executable).with_name("chalice")
    command = [
        str(executable if executable.exists() else shutil.which("chalice") or "chalice"),
        "package",
        "--stage",
        "prod",
    ]
    if merge_template is not None:
        command += ["--merge-template", str(merge_template.resolve())]
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    done = subprocess.run([*command, str(out.resolve())], cwd=src, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise PackageError(f"chalice package failed:\n{done.stdout}{done.stderr}")
    sam: dict[str, Any] = json.loads((out / "sam.json").read_text())
    return sam


def _named_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ARNs of the template's queues and topics, by the name Chalice's ARNs end with.

    They are written as ``Fn::Sub`` like Chalice's own: the merge is deep, so only a value of
    the same shape replaces Chalice's instead of being merged into it.
    """
    named: dict[str, dict[str, Any]] = {}
    for logical, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::SQS::Queue":
            named[props["QueueName"]] = {"Fn::Sub": "${%s.Arn}" % logical}
        elif resource.get("Type") == "AWS::SNS::Topic":
            named[props["TopicName"]] = {"Fn::Sub": "${%s}" % logical}
    return named


def _event_source_name(value: Any) -> str | None:
    """The queue/topic name in Chalice's ``Fn::Sub`` ARN (``arn:...:<name>``)."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return str(value["Fn::Sub"]).rsplit(":", 1)[1]
    return None


def overrides(generated: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any]:
    """What to merge into Chalice's template so that every function it generated is wired up.

    - every function gets the environment of ``Metadata.Aftercare::FunctionEnvironment``
      (resource references instead of the stage's local names);
    - each SQS/SNS event source points at the template's queue/topic by reference, so that
      CloudFormation creates the queue before the mapping; SQS reports partial failures;
    - the API function gets a fixed name, and the REST API reaches it by that name instead of
      by ``GetAtt``: the function's ``PUBLIC_BASE_URL`` refers to the REST API, and the two
      references together would form a cycle.
    """
    environment = resources["Metadata"][ENVIRONMENT_METADATA]
    named = _named_resources(resources)
    result: dict[str, Any] = {}
    for logical, resource in generated["Resources"].items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        props: dict[str, Any] = {"Environment": {"Variables": copy.deepcopy(environment)}}
        events: dict[str, Any] = {}
        for event_name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] == "SQS":
                queue = named.get(_event_source_name(event["Properties"]["Queue"]) or "")
                if queue is None:
                    raise PackageError(f"{logical} reads a queue that infra/resources.json does not define")
                events[event_name] = {
                    "Properties": {"Queue": queue, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
                }
            elif event["Type"] == "SNS":
                topic = named.get(_event_source_name(event["Properties"]["Topic"]) or "")
                if topic is None:
                    raise PackageError(f"{logical} reads a topic that infra/resources.json does not define")
                events[event_name] = {"Properties": {"Topic": topic}}
        if events:
            props["Events"] = events
        if logical == API_FUNCTION:
            props["FunctionName"] = {"Fn::Sub": "${AWS::StackName}-api"}
        result[logical] = {"Properties": props}
    api = generated["Resources"].get("RestAPI")
    if api is not None:
        paths = {
            path: {
                method: {"x-amazon-apigateway-integration": {"uri": {"Fn::Sub": API_ROUTE_URI}}}
                for method, operation in methods.items()
                if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
            }
            for path, methods in api["Properties"]["DefinitionBody"]["paths"].items()
        }
        result["RestAPI"] = {"Properties": {"DefinitionBody": {"paths": paths}}}
    return result


def merge_template(generated: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(resources)
    merged["Resources"].update(overrides(generated, resources))
    return merged


def left_out(name: str) -> bool:
    """Whether a zip entry is something the functions never load (see the module's docstring)."""
    parts = name.split("/")
    if parts[0] in ("botocore", "boto3") and len(parts) > 3 and parts[1] == "data":
        return parts[2] not in SERVICES
    if name.startswith("babel/locale-data/"):
        return parts[-1].split(".")[0].split("_")[0] not in LOCALES
    return name.startswith(PHONE_EXTRAS) or name in PHONE_EXTRA_MODULES


def slim(archive: Path) -> None:
    """Rewrite the deployment zip without what ``left_out`` names (entries keep their attributes)."""
    slimmed = archive.with_name(archive.name + ".slim")
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(slimmed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not left_out(info.filename):
                target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    slimmed.replace(archive)


def build(build_dir: Path = BUILD) -> Path:
    """Stage, package, and return the directory holding ``sam.json`` and ``deployment.zip``."""
    from devstack.translations import compile_all

    compile_all()
    src = stage(build_dir)
    resources = json.loads(TEMPLATE.read_text())
    generated = _chalice(src, build_dir / "chalice-only", merge_template=None)
    merge_file = build_dir / "merge-template.json"
    merge_file.write_text(json.dumps(merge_template(generated, resources), indent=2) + "\n")
    out = build_dir / "package"
    _chalice(src, out, merge_template=merge_file)
    slim(out / "deployment.zip")
    shutil.rmtree(build_dir / "chalice-only", ignore_errors=True)
    return out
