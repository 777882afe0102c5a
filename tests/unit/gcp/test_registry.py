"""gcp.ContainerRegistry and gcp.ModelRegistry: scanning, immutable tags, CMEK, cleanup, approval gate."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.gcp import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from constructs_lib.gcp.registry import MODEL_APPROVER_PERMISSIONS, MODEL_PUBLISHER_PERMISSIONS

from .conftest import PROJECT

REPO = "google_artifact_registry_repository"
SA = "serviceAccount:trainer@ml-platform-dev.iam.gserviceaccount.com"
TARGET = "serviceAccount:deployer@ml-prod.iam.gserviceaccount.com"


def cr_props(**kw) -> ContainerRegistryProps:
    return ContainerRegistryProps(**{"name": "ml-images", "project": PROJECT, "location": "us-central1", **kw})


def mr_props(**kw) -> ModelRegistryProps:
    return ModelRegistryProps(**{"name": "ml-models", "project": PROJECT, "location": "us-central1", **kw})


def test_repositories_are_scanned_immutable_encrypted_and_cleaned(build) -> None:
    holder = {}

    def body(stack):
        reg = holder["reg"] = ContainerRegistry(stack, "Images", cr_props(untagged_expiry_days=7))
        first = reg.grant_pull(SA)
        assert reg.grant_pull(SA) is first
        reg.grant_push("group:ci@example.com")

    built = build(body)
    reg = holder["reg"]
    assert set(reg.repositories) == {"training", "serving"}
    for body in built.resources(REPO).values():
        assert body["format"] == "DOCKER"
        assert body["docker_config"] == {"immutable_tags": True}
        assert body["kms_key_name"] == "${" + built.address(reg.key.resource) + ".id}"
        assert body["vulnerability_scanning_config"] == {"enablement_config": "INHERITED"}
        assert body["cleanup_policy_dry_run"] is False
        assert body["cleanup_policies"] == [
            {"id": "delete-untagged", "action": "DELETE",
             "condition": {"tag_state": "UNTAGGED", "older_than": f"{7 * 86400}s"}}
        ]
        assert body["lifecycle"] == {"prevent_destroy": True}
    services = {b["service"] for b in built.resources("google_project_service").values()}
    assert services == {"artifactregistry.googleapis.com", "containerscanning.googleapis.com"}
    grants = sorted((b["role"], b["member"]) for b in built.resources(f"{REPO}_iam_member").values())
    assert grants == sorted([("roles/artifactregistry.reader", SA)] * 2 + [("roles/artifactregistry.writer", "group:ci@example.com")] * 2)
    (agent,) = built.resources("google_kms_crypto_key_iam_member").values()
    assert "gcp-sa-artifactregistry" in agent["member"]
    assert reg.repository_urls["training"] == f"us-central1-docker.pkg.dev/{PROJECT}/ml-images-training"


def test_scan_off_and_mutable_tags(build) -> None:
    built = build(lambda s: ContainerRegistry(s, "Images", cr_props(scan_on_push=False, immutable_tags=False, repositories=["x1"])))
    (repo,) = built.resources(REPO).values()
    assert repo["vulnerability_scanning_config"] == {"enablement_config": "DISABLED"}
    assert repo["docker_config"] == {"immutable_tags": False}
    assert {b["service"] for b in built.resources("google_project_service").values()} == {"artifactregistry.googleapis.com"}


def test_public_members_are_refused(build) -> None:
    def body(stack):
        reg = ContainerRegistry(stack, "Images", cr_props())
        with pytest.raises(ValueError, match="public"):
            reg.grant_pull("allUsers")

    build(body)


def _model_registry(build, **kw):
    holder = {}

    def body(stack):
        reg = holder["reg"] = ModelRegistry(stack, "Models", mr_props(**kw))
        reg.grant_write(SA)

    return build(body), holder["reg"]


def test_manual_approval_gate(build) -> None:
    built, reg = _model_registry(build, promotion_targets=[TARGET], approvers=["group:approvers@example.com"])
    bucket = "${" + built.address(reg.store.resource) + ".name}"
    iam = {b["//"]["metadata"]["path"].split("/")[-1]: b for b in built.resources("google_storage_bucket_iam_member").values()}
    write = [b for b in iam.values() if b["member"] == SA and b["role"] == "roles/storage.objectCreator"]
    assert len(write) == 1
    assert write[0]["condition"]["expression"] == f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/candidates/")'
    approver = "${" + built.address(reg.approver) + ".member}"
    (approve,) = [b for b in iam.values() if b["member"] == approver and b["role"] == "roles/storage.objectCreator"]
    assert approve["condition"]["expression"].endswith('/objects/approved/")')
    (read,) = [b for b in iam.values() if b["member"] == TARGET]
    assert read["role"] == "roles/storage.objectViewer"
    assert 'resource.type == "storage.googleapis.com/Bucket"' in read["condition"]["expression"]
    assert '/objects/approved/")' in read["condition"]["expression"]
    # nobody but the approver writes approved/
    creators = [b for b in iam.values() if b["role"] == "roles/storage.objectCreator" and "approved/" in b.get("condition", {}).get("expression", "")]
    assert [b["member"] for b in creators] == [approver]
    roles = {b["title"].rsplit(" ", 1)[-1]: b["permissions"] for b in built.resources("google_project_iam_custom_role").values()}
    assert roles["publisher"] == sorted(MODEL_PUBLISHER_PERMISSIONS)
    assert roles["approver"] == sorted(MODEL_APPROVER_PERMISSIONS)
    assert "aiplatform.models.update" not in roles["publisher"]
    (token_creator,) = built.resources("google_service_account_iam_member").values()
    assert token_creator["role"] == "roles/iam.serviceAccountTokenCreator"
    assert token_creator["member"] == "group:approvers@example.com"
    store = built.by_path("google_storage_bucket", "gcp/Models/Store/Resource")
    assert store["versioning"] == {"enabled": True} and "default_kms_key_name" in store["encryption"]


def test_automatic_approval_has_no_gate(build) -> None:
    built, reg = _model_registry(build, approval="automatic")
    write = [b for b in built.resources("google_storage_bucket_iam_member").values() if b["member"] == SA]
    assert write and all("condition" not in b for b in write)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"approval": "sometimes"}, "approval"),
        ({"promotion_targets": ["allUsers"]}, "public"),
        ({"approvers": ["example.com"]}, "not an IAM member"),
        ({"replication_region": "US"}, "replication_region"),
    ],
)
def test_model_registry_props_validation(kw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        mr_props(**kw)


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"repositories": ["Bad_Name"]}, "repository name"), ({"untagged_expiry_days": 0}, "untagged_expiry_days")],
)
def test_container_registry_props_validation(kw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        cr_props(**kw)
