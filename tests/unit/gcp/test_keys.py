"""gcp.Key: key ring + rotating crypto key, grants, props validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.resource import Resource
from constructs_lib.gcp import Key, KeyProps

from .conftest import PROJECT

SA = "serviceAccount:pipeline@ml-platform-dev.iam.gserviceaccount.com"


def key_props(**kw) -> KeyProps:
    return KeyProps(**{"name": "artifacts", "project": PROJECT, "location": "europe-west4", **kw})


def test_key_defaults(build) -> None:
    holder = {}
    built = build(lambda s: holder.setdefault("key", Key(s, "Key", key_props())))
    key = holder["key"]
    (ring,) = built.resources("google_kms_key_ring").values()
    (crypto,) = built.resources("google_kms_crypto_key").values()
    assert ring == {**ring, "name": "artifacts", "project": PROJECT, "location": "europe-west4",
                    "lifecycle": {"prevent_destroy": True}}
    assert crypto["name"] == "artifacts"
    assert crypto["purpose"] == "ENCRYPT_DECRYPT"
    assert crypto["rotation_period"] == f"{90 * 86400}s"
    assert crypto["destroy_scheduled_duration"] == f"{30 * 86400}s"
    assert crypto["lifecycle"] == {"prevent_destroy": True}
    assert crypto["deletion_policy"] == "PREVENT"
    assert crypto["//"]["metadata"]["path"] == "gcp/Key/Resource"
    assert key.location == "europe-west4"
    assert built.resources("google_kms_crypto_key_iam_member") == {}
    # the default 90-day rotation meets checkov's CKV_GCP_43: nothing to acknowledge
    assert Acknowledge.of(key.resource).effective() == ()


def test_rotation_longer_than_90_days_is_acknowledged(build) -> None:
    holder = {}
    built = build(lambda s: holder.setdefault("key", Key(s, "Key", key_props(rotation_days=365))))
    (crypto,) = built.resources("google_kms_crypto_key").values()
    assert crypto["rotation_period"] == f"{365 * 86400}s"
    # a yearly rotation is longer than checkov's 90 days: acknowledged on the key, with a reason
    (ack,) = [a for a in Acknowledge.of(holder["key"].resource).effective() if a.check_id == "CKV_GCP_43"]
    assert "rotation_days=365" in ack.reason


def test_grant_encrypt_decrypt_is_one_role_on_one_key(build) -> None:
    holder = {}

    def body(stack):
        key = holder["key"] = Key(stack, "Key", key_props())
        first = key.grant_encrypt_decrypt(SA)
        assert isinstance(first, list) and len(first) == 1  # the shape of every grant_*
        assert key.grant_encrypt_decrypt(SA) == first and key.grant_encrypt_decrypt(SA)[0] is first[0]  # idempotent

    built = build(body)
    (grant,) = built.resources("google_kms_crypto_key_iam_member").values()
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"] == SA
    assert grant["crypto_key_id"] == "${" + built.address(holder["key"].resource) + ".id}"


def test_token_member_needs_an_id(build) -> None:
    def body(stack):
        key = Key(stack, "Key", key_props())
        sa = Resource(stack, "Sa", "google_service_account", account_id="pipeline")
        with pytest.raises(ValueError, match="explicit id"):
            key.grant_encrypt_decrypt(sa.ref("member"))
        assert [g.node.id for g in key.grant_encrypt_decrypt(sa.ref("member"), id="Pipeline")] == ["Pipeline"]

    built = build(body)
    assert len(built.resources("google_kms_crypto_key_iam_member")) == 1


def test_unprotected_key_is_acknowledged(build) -> None:
    holder = {}
    unprotected = key_props(deletion_protection=False)
    built = build(lambda s: holder.setdefault("key", Key(s, "Key", unprotected)))
    (crypto,) = built.resources("google_kms_crypto_key").values()
    assert "lifecycle" not in crypto and "deletion_policy" not in crypto
    assert crypto["rotation_period"] == "7776000s"
    assert {a.check_id for a in Acknowledge.of(holder["key"].resource).effective()} == {"CKV_GCP_82"}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"rotation_days": 30}, "rotation_days"),
        ({"rotation_days": 3000}, "rotation_days"),
        ({"deletion_window_days": 1}, "deletion_window_days"),
        ({"name": "bad name"}, "name"),
        ({"location": "Europe West"}, "location"),
        ({"purpose": "ASYMMETRIC_SIGN"}, "purpose"),
    ],
)
def test_key_props_validation(kw, field) -> None:
    with pytest.raises(ValidationError) as err:
        key_props(**kw)
    assert field in str(err.value)
