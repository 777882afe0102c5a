"""gcp.Tracking: CMEK TensorBoard, empty CMEK secrets (no version, no value), exact grants."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from constructs_lib.core.synth import stack_document
from constructs_lib.gcp import Tracking, TrackingProps
from constructs_lib.gcp.tracking import TRACKING_PERMISSIONS

from .conftest import PROJECT

SA = "serviceAccount:trainer@ml-platform-dev.iam.gserviceaccount.com"


def props(**kw) -> TrackingProps:
    return TrackingProps(**{"name": "ml-track", "project": PROJECT, "location": "us-central1", **kw})


def make(build, **kw):
    holder = {}

    def body(stack):
        t = holder["t"] = Tracking(stack, "Tracking", props(**kw))
        t.grant_access(SA)
        first = t.grant_secret_read(SA)
        assert t.grant_secret_read(SA) is first

    built = build(body)
    return built, holder["t"]


def test_tensorboard_is_encrypted(build) -> None:
    built, t = make(build)
    tb = built.by_path("google_vertex_ai_tensorboard", "gcp/Tracking/Resource")
    assert tb["encryption_spec"] == {"kms_key_name": "${" + built.address(t.key.resource) + ".id}"}
    assert tb["region"] == "us-central1"
    assert t.secrets == {}
    assert built.resources("google_secret_manager_secret") == {}
    role = built.by_path("google_project_iam_custom_role", "gcp/Tracking/Role")
    assert role["permissions"] == list(TRACKING_PERMISSIONS)
    assert not any(p.endswith((".delete", ".setIamPolicy")) for p in role["permissions"])
    # the only project grant to SA is the tracking-user role (no MLflow invoker without mlflow)
    (grant,) = [b for b in built.resources("google_project_iam_member").values() if b["member"] == SA]
    assert grant["role"] == "${" + built.address(t.role) + ".name}"
    assert built.resources("google_cloud_run_v2_service") == {}
    assert t.mlflow is None and t.tracking_uri == t.tensorboard_id


def test_saas_secrets_are_empty_and_scoped(build) -> None:
    built, t = make(build, saas_trackers=["wandb", "comet"])
    doc = stack_document(built.stack)
    assert "google_secret_manager_secret_version" not in doc["resource"]
    assert "secret_data" not in json.dumps(doc)
    assert set(t.secrets) == {"wandb", "comet"}
    secret = built.by_path("google_secret_manager_secret", "gcp/Tracking/SecretWandb")
    assert secret["secret_id"] == "ml-track-wandb-api-key"
    assert secret["replication"] == {
        "user_managed": {
            "replicas": [
                {"location": "us-central1",
                 "customer_managed_encryption": {"kms_key_name": "${" + built.address(t.key.resource) + ".id}"}}
            ]
        }
    }
    reads = built.resources("google_secret_manager_secret_iam_member")
    assert len(reads) == 2
    assert {b["role"] for b in reads.values()} == {"roles/secretmanager.secretAccessor"}
    assert {b["secret_id"] for b in reads.values()} == {
        "${" + built.address(s) + ".secret_id}" for s in t.secrets.values()
    }
    # no project-level secret access
    assert all("secretmanager" not in b["role"] for b in built.resources("google_project_iam_member").values())
    agents = [b["member"] for b in built.resources("google_kms_crypto_key_iam_member").values()]
    assert any("gcp-sa-secretmanager" in a for a in agents) and any("gcp-sa-aiplatform" in a for a in agents)


def test_supplied_key(build) -> None:
    key = f"projects/{PROJECT}/locations/us-central1/keyRings/r/cryptoKeys/k"
    built, t = make(build, encryption={"key_id": key}, saas_trackers=["neptune"])
    assert t.key is None and built.resources("google_kms_crypto_key") == {}
    assert built.by_path("google_vertex_ai_tensorboard", "gcp/Tracking/Resource")["encryption_spec"]["kms_key_name"] == key
    assert {b["crypto_key_id"] for b in built.resources("google_kms_crypto_key_iam_member").values()} == {key}


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"saas_trackers": ["mlflow"]}, "saas_trackers"), ({"server_size": "huge"}, "server_size"), ({"project": "X"}, "project")],
)
def test_tracking_props_validation(kw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        props(**kw)
