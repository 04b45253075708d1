"""Event envelopes as AWS hands them to a handler."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.core.clock import iso, wall_clock


def sns_event(topic: str, message: str) -> dict[str, Any]:
    arn = f"arn:aws:sns:us-east-1:123456789012:{topic}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{arn}:sub",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": iso(wall_clock()),
                    "MessageAttributes": {},
                },
            }
        ]
    }
