"""Webhook signatures: Standard Webhooks' published test vector, rotation, replay window."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import Unauthorized
from chalicelib.intake.signatures import require_body_hmac, require_standard, standard_sign
from chalicelib.stores import registry

# The Standard Webhooks specification's reference example.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = "1614265330"
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SIGNED_AT = datetime.fromtimestamp(1614265330, UTC)


def test_signing_reproduces_the_specifications_test_vector() -> None:
    assert standard_sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_vector_verifies_alone_and_among_rotated_signatures() -> None:
    require_standard(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT)
    rotated = f"v1,b2xkLXNpZ25hdHVyZQ== v1a,ignored {VECTOR_SIGNATURE}"
    require_standard(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, rotated, VECTOR_BODY, SIGNED_AT + timedelta(minutes=4))


@pytest.mark.parametrize(
    "message_id,timestamp,signature,body,now",
    [
        ("msg_other", VECTOR_TS, VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT),
        (VECTOR_ID, "1614265331", VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT),
        (VECTOR_ID, VECTOR_TS, VECTOR_SIGNATURE, b'{"test": 2432232315}', SIGNED_AT),
        (VECTOR_ID, VECTOR_TS, "v2" + VECTOR_SIGNATURE[2:], VECTOR_BODY, SIGNED_AT),
        (VECTOR_ID, VECTOR_TS, VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT + timedelta(minutes=5, seconds=1)),
        (VECTOR_ID, VECTOR_TS, VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT - timedelta(minutes=5, seconds=1)),
        (VECTOR_ID, "soon", VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT),
        (None, VECTOR_TS, VECTOR_SIGNATURE, VECTOR_BODY, SIGNED_AT),
        (VECTOR_ID, VECTOR_TS, "", VECTOR_BODY, SIGNED_AT),
    ],
)
def test_anything_else_is_refused(
    message_id: str | None, timestamp: str, signature: str, body: bytes, now: datetime
) -> None:
    with pytest.raises(Unauthorized):
        require_standard(VECTOR_SECRET, message_id, timestamp, signature, body, now)


def test_platform_hmac_is_over_the_raw_bytes() -> None:
    body = '{"name":"Ελένη", "total": "106.00"}'.encode()
    good = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    require_body_hmac("s3cret", body, good, "X-Shopify-Hmac-Sha256")
    # the same JSON re-serialised differently is not the same delivery
    with pytest.raises(Unauthorized):
        require_body_hmac(
            "s3cret", b'{"name":"\\u0395\\u03bb\\u03ad\\u03bd\\u03b7","total":"106.00"}', good, "X-Shopify-Hmac-Sha256"
        )
    with pytest.raises(Unauthorized, match="missing X-WC-Webhook-Signature"):
        require_body_hmac("s3cret", body, None, "X-WC-Webhook-Signature")


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one() -> None:
    # GIVEN a store that rotated its secret at noon
    noon = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    store = {
        "webhook_secret": "new-secret",
        "previous_webhook_secret": "old-secret",
        "previous_webhook_secret_until": (noon + registry.SECRET_OVERLAP).isoformat(),
    }
    body = b'{"id": 1}'
    signed_with_old = base64.b64encode(hmac.new(b"old-secret", body, hashlib.sha256).digest()).decode()
    # THEN within the overlap a delivery signed with the old secret verifies
    during = registry.webhook_secrets(store, noon + timedelta(hours=23))
    assert during == ["new-secret", "old-secret"]
    require_body_hmac(during, body, signed_with_old, "X-WC-Webhook-Signature")
    # AND once it ends only the new one does
    after = registry.webhook_secrets(store, noon + timedelta(hours=24))
    assert after == ["new-secret"]
    with pytest.raises(Unauthorized):
        require_body_hmac(after, body, signed_with_old, "X-WC-Webhook-Signature")
