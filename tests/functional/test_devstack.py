"""The local stack is built from the deployed template, and moves time on request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

import devstack
from chalicelib.platform import resources


def test_table_queues_and_topics_come_from_the_deployed_template(moto: devstack.Provisioned) -> None:
    # GIVEN the CloudFormation template that is deployed
    template = devstack.template()["Resources"]
    table_props = template["Table"]["Properties"]
    # WHEN provision() has run (the moto fixture)
    described = boto3.client("dynamodb").describe_table(TableName=moto.table)["Table"]
    # THEN the table has the template's keys, indexes, billing and stream
    assert described["TableName"] == table_props["TableName"]
    assert described["KeySchema"] == table_props["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        table_props["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in described["GlobalSecondaryIndexes"]} == {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table_props["GlobalSecondaryIndexes"]
    }
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["StreamSpecification"]["StreamViewType"] == table_props["StreamSpecification"]["StreamViewType"]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=moto.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == table_props["TimeToLiveSpecification"]["AttributeName"]
    # and every queue and topic of the template exists, the send queue with its dead-letter queue
    sqs = boto3.client("sqs")
    for logical in ("SendQueue", "SendDeadLetterQueue"):
        assert sqs.get_queue_url(QueueName=template[logical]["Properties"]["QueueName"])
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=moto.queues["SendQueue"], AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["deadLetterTargetArn"].endswith(":" + resources.SEND_DLQ)
    topics = {t["TopicArn"].rsplit(":", 1)[1] for t in boto3.client("sns").list_topics()["Topics"]}
    assert {
        template[t]["Properties"]["TopicName"]
        for t in ("EscalationTopic", "InboundSmsTopic", "InboundWhatsAppTopic", "SesFeedbackTopic")
    } <= topics


def test_handler_resource_names_match_the_template() -> None:
    template = devstack.template()["Resources"]
    assert template["SendQueue"]["Properties"]["QueueName"] == resources.SEND_QUEUE
    assert template["SendDeadLetterQueue"]["Properties"]["QueueName"] == resources.SEND_DLQ
    assert template["EscalationTopic"]["Properties"]["TopicName"] == resources.ESCALATION_TOPIC
    assert template["InboundSmsTopic"]["Properties"]["TopicName"] == resources.INBOUND_SMS_TOPIC
    assert template["InboundWhatsAppTopic"]["Properties"]["TopicName"] == resources.INBOUND_WHATSAPP_TOPIC
    assert template["SesFeedbackTopic"]["Properties"]["TopicName"] == resources.SES_FEEDBACK_TOPIC
    env = devstack.stage_environment("local")
    assert env["TABLE_NAME"] == template["Table"]["Properties"]["TableName"]
    assert env["SEND_QUEUE_URL"].endswith("/" + resources.SEND_QUEUE)
    assert env["ESCALATION_TOPIC_ARN"].endswith(":" + resources.ESCALATION_TOPIC)


def test_provision_is_idempotent(moto: devstack.Provisioned) -> None:
    again = devstack.provision()
    assert again.table == moto.table and again.queues == moto.queues


def test_deliver_runs_dispatch_at_the_given_time(app: Any) -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    delivered = devstack.deliver(app, now)
    assert delivered.dispatch == [{"due": 0, "queued": 0, "items_read": 0, "out_of_time": False}]
