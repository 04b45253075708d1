"""Names of the resources the event handlers subscribe to.  ``infra/resources.json`` is the
source of truth; a test checks these constants against it."""

from __future__ import annotations

SEND_QUEUE = "aftercare-send"
SEND_DLQ = "aftercare-send-dlq"
ESCALATION_TOPIC = "aftercare-escalation"
INBOUND_SMS_TOPIC = "aftercare-inbound-sms"
INBOUND_WHATSAPP_TOPIC = "aftercare-inbound-whatsapp"
SES_FEEDBACK_TOPIC = "aftercare-ses-feedback"
