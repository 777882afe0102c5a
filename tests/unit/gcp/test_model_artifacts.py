"""Every GCP serving region can read the model artifacts it serves (issue #8, "Regions anywhere").

Vertex AI imports a model only from a bucket in the region it is uploaded to, so the model bucket
serves only its own region, and only when it is regional: every other serving region gets a
regional serving copy (ModelRegistry.serving_copy) with its own key there, read by the Vertex AI
service agent and written by the registry's writers; each endpoint's deploy command copies the
approved version there and uploads it from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.core import engine
from constructs_lib.core.errors import ConstructTypeError
from constructs_lib.core.spec import PlatformSpec
from constructs_lib.core.synth import stack_document
from constructs_lib.gcp import Endpoint, EndpointProps, ModelRegistry, ModelRegistryProps
from constructs_lib.platform import build_stack, synthesize

from .conftest import PROJECT

ROOT = Path(__file__).resolve().parents[3]
THREE = ["europe-west4", "us-central1", "asia-northeast1"]
VIEWER, CREATOR = "roles/storage.objectViewer", "roles/storage.objectCreator"
TRAINER = "serviceAccount:trainer@ml-platform-dev.iam.gserviceaccount.com"


def reference(**changes: Any) -> dict[str, Any]:
    """The GCP reference spec with top-level ``changes`` (``storage`` is merged)."""
    data = yaml.safe_load((ROOT / "examples" / "reference" / "gcp.yaml").read_text())
    storage = changes.pop("storage", {})
    data.update(changes)
    data["storage"].update(storage)
    return data


def built(data: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    stack = build_stack(engine.App(), PlatformSpec.model_validate(data))
    return stack, stack_document(stack)


def ref(stack: Any, resource: Any, attribute: str) -> str:
    return "${" + f"{resource.terraform_resource_type}.{stack.get_logical_id(resource)}.{attribute}" + "}"


def bucket_grants(stack: Any, doc: dict[str, Any], store: Any) -> set[tuple[str, str]]:
    name = ref(stack, store.resource, "name")
    return {(g["role"], g["member"]) for g in doc["resource"]["google_storage_bucket_iam_member"].values()
            if g["bucket"] == name and "condition" not in g}


# ---------------------------------------------------------------------------------- the platform


def test_three_continents_get_a_serving_copy_with_its_key_in_every_region() -> None:
    stack, doc = built(reference(regions=THREE))
    models = stack.models
    # The model bucket is a dual-region in EU: its location is the multi-region, which Vertex AI
    # refuses for a regional upload, so no serving region imports straight from it.
    assert models.store.location == "EU" and not any(models.serves(r) for r in THREE)
    assert list(models.serving_copies) == THREE
    training = ref(stack, stack.training.service_account, "member")
    approver = ref(stack, models.approver, "member")
    vertex_agent = next(m for _, m in bucket_grants(stack, doc, models.serving_copies[THREE[0]]) if "gcp-sa-aiplatform" in m)
    deploy = doc["output"]["gcp_serving_churn_deploy"]["value"]
    artifacts = doc["output"]["gcp_serving_churn_model_artifacts"]["value"]
    for region in THREE:
        copy = models.serving_copies[region]
        bucket = doc["resource"]["google_storage_bucket"][stack.get_logical_id(copy.resource)]
        assert bucket["location"] == region.upper() and "custom_placement_config" not in bucket
        ring = doc["resource"]["google_kms_key_ring"][stack.get_logical_id(copy.key.key_ring)]
        assert ring["location"] == region  # the key lives where the bucket is
        assert bucket["encryption"]["default_kms_key_name"] == ref(stack, copy.key.resource, "id")
        # the registry bucket's secure defaults
        assert bucket["versioning"] == {"enabled": True} and bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced" and bucket["deletion_policy"] == "PREVENT"
        assert bucket["soft_delete_policy"] == {"retention_duration_seconds": 7 * 86400}
        registry_bucket = doc["resource"]["google_storage_bucket"][stack.get_logical_id(models.store.resource)]
        assert bucket["lifecycle_rule"] == registry_bucket["lifecycle_rule"]
        assert "logging" in bucket
        # least privilege: Vertex AI reads; training (the registry's writer) and the approver write
        assert bucket_grants(stack, doc, copy) == {
            (VIEWER, vertex_agent),
            (VIEWER, training), (CREATOR, training),
            (VIEWER, approver), (CREATOR, approver),
        }
        # the endpoint and the outputs point at the regional copy
        uri = ref(stack, copy.resource, "url") + "/approved/"
        endpoint = stack.endpoints["churn"][region]
        assert endpoint.model_artifacts_uri == f"{copy.store_url}/approved/" and endpoint.model_store is copy
        assert artifacts[region] == uri
        copy_line, upload, deploy_line = deploy[region].split("\n")
        assert copy_line == (f"gcloud storage rsync --recursive {ref(stack, models.store.resource, 'url')}"
                             f"/approved/VERSION {uri}VERSION")
        assert f"--region={region} " in upload and f"--artifact-uri={uri}VERSION " in upload
        assert upload.startswith("gcloud ai models upload ")
        assert deploy_line.startswith("gcloud ai endpoints deploy-model ") and f"--region={region} " in deploy_line


def test_a_region_the_regional_model_bucket_is_in_gets_no_copy() -> None:
    # London is in no multi-region: the model bucket is regional there and serves it; us-central1
    # still needs a copy.
    stack, doc = built(reference(regions=["europe-west2", "us-central1"]))
    models = stack.models
    assert models.store.replica is None and models.store.location == "EUROPE-WEST2"
    assert models.serves("europe-west2") and not models.serves("us-central1")
    assert list(models.serving_copies) == ["us-central1"]
    london = stack.endpoints["churn"]["europe-west2"]
    approved = ref(stack, models.store.resource, "url") + "/approved/"
    assert london.model_store is None and london.model_artifacts_uri is models.approved_uri
    assert doc["output"]["gcp_serving_churn_model_artifacts"]["value"]["europe-west2"] == approved
    lines = doc["output"]["gcp_serving_churn_deploy"]["value"]["europe-west2"].split("\n")
    assert [" ".join(line.split()[:3]) for line in lines] == ["gcloud ai models", "gcloud ai endpoints"]
    assert f"--artifact-uri={approved}VERSION " in lines[0]
    assert doc["output"]["gcp_serving_churn_deploy"]["value"]["us-central1"].startswith("gcloud storage rsync ")
    buckets = [b["location"] for b in doc["resource"]["google_storage_bucket"].values()
               if "/models/" in b["//"]["metadata"]["path"] and "LogBucket" not in b["//"]["metadata"]["path"]]
    assert sorted(buckets) == ["EUROPE-WEST2", "US-CENTRAL1"]


def test_single_region_platform_is_served_by_the_model_bucket() -> None:
    stack, doc = built(reference(regions=["us-central1"], routing=None))
    assert stack.models.serving_copies == {}
    approved = ref(stack, stack.models.store.resource, "url") + "/approved/"
    assert doc["output"]["gcp_serving_churn_model_artifacts"]["value"] == {"us-central1": approved}
    assert not any("/models/Serving" in b["//"]["metadata"]["path"]
                   for b in doc["resource"]["google_storage_bucket"].values())


def test_without_a_registry_endpoints_deploy_as_before() -> None:
    data = yaml.safe_load((ROOT / "examples" / "multi-region-serving" / "gcp.yaml").read_text())
    stack, doc = built(data)
    assert stack.models is None
    for endpoint in stack.endpoints["churn"].values():
        assert endpoint.model_artifacts_uri is None and endpoint.model_store is None
        assert "\n" not in endpoint.deploy_command and endpoint.deploy_command.startswith("gcloud ai endpoints deploy-model ")
    assert "gcp_serving_churn_model_artifacts" not in doc["output"]


@pytest.mark.slow
def test_three_continent_stack_scans_clean_with_checkov(tmp_path: Path) -> None:
    from constructs_lib.core.scan import scan

    spec = tmp_path / "gcp.yaml"
    spec.write_text(yaml.safe_dump(reference(name="three-gcp", regions=THREE)))
    result = synthesize([spec], outdir=tmp_path / "out")
    (r,) = scan(result.outdir)
    assert r.problems == [], r.problems
    assert r.failed == [], "\n".join(f"{f.check_id} {f.resource}: {f.check_name}" for f in r.failed)
    assert r.passed > 20 and all(f.reason for f in r.acknowledged)


# ------------------------------------------------------------------------------- the constructs


def test_serving_copy_is_made_once_and_later_writers_get_it(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack):
        reg = holder["reg"] = ModelRegistry(stack, "Models", ModelRegistryProps(
            name="ml-models", project=PROJECT, location="us-central1",
            encryption={"key_id": f"projects/{PROJECT}/locations/us-central1/keyRings/r/cryptoKeys/k"}))
        early = reg.grant_write("group:early@example.com")
        assert len(early) == 3  # no copy yet: bucket read, candidates/ write, publisher role
        copy = reg.serving_copy("asia-northeast1")
        assert reg.serving_copy("asia-northeast1") is copy and reg.serving_copy("us-central1") is None
        holder["late"] = reg.grant_write(TRAINER)

    b = build(body)
    reg = holder["reg"]
    copy = reg.serving_copies["asia-northeast1"]
    # a supplied key of the primary region cannot encrypt the copy: it gets its own key there
    assert copy.key is not None and copy.key.location == "asia-northeast1"
    name = "${" + b.address(copy.resource) + ".name}"
    members = {(g["role"], g["member"]) for g in b.resources("google_storage_bucket_iam_member").values()
               if g["bucket"] == name}
    for member in ("group:early@example.com", TRAINER):
        assert {(VIEWER, member), (CREATOR, member)} <= members
    late_on_copy = [g for g in holder["late"] if g.node.scope is copy]
    assert len(late_on_copy) == 2  # grant_write returns the copy's grants with the registry's
    assert reg.artifacts_uri("us-central1") == reg.approved_uri


def test_long_registry_names_keep_copy_names_valid(build) -> None:
    holder: dict[str, Any] = {}
    long_name = "a-very-long-platform-name-prod-models"  # 37 characters

    def body(stack):
        reg = holder["reg"] = ModelRegistry(stack, "Models", ModelRegistryProps(
            name=long_name, project=PROJECT, location="us-central1"))
        holder["a"] = reg.serving_copy("australia-southeast1")
        holder["b"] = reg.serving_copy("australia-southeast2")

    build(body)
    a, b = holder["a"].props.name, holder["b"].props.name
    assert len(a) <= 40 and a.endswith("-australia-southeast1") and a != b


def test_endpoint_refuses_a_registry_of_another_kind(build) -> None:
    with pytest.raises(ConstructTypeError, match="model_registry"):
        build(lambda s: Endpoint(s, "Ep", EndpointProps(name="churn", project=PROJECT, location="us-central1"),
                                 model_registry=object()))  # type: ignore[arg-type]

