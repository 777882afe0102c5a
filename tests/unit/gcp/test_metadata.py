"""gcp.MetadataStore: the workflow that creates the Vertex ML Metadata store with the platform key.

The workflow's ``metadataStores.create`` call is checked against Google's published discovery
document (the bundled extract, :mod:`constructs_lib.core.google_rest`), both as our construct emits
it and with mistakes that the check must catch.
"""

from __future__ import annotations

import copy
import json

import pytest

from constructs_lib.core import google_rest
from constructs_lib.core.schema import validate_stack
from constructs_lib.gcp import Tracking, TrackingProps
from constructs_lib.gcp.metadata import INIT_PERMISSIONS, METADATA_STORE_ID, init_source

from .conftest import PROJECT

KEY = f"projects/{PROJECT}/locations/us-central1/keyRings/r/cryptoKeys/k"


def make(build, **kw):
    holder = {}

    def body(stack):
        holder["t"] = Tracking(
            stack, "Tracking", TrackingProps(name="ml-track", project=PROJECT, location="us-central1", **kw)
        )

    return build(body), holder["t"]


def _steps(source: str) -> dict:
    """Top-level steps of a Workflows definition by name (as the service sees it: ``$${`` -> ``${``)."""
    return {k: v for step in json.loads(source.replace("$${", "${"))["main"]["steps"] for k, v in step.items()}


def test_workflow_creates_default_store_with_the_tracking_key(build) -> None:
    built, t = make(build)
    wf = built.by_path("google_workflows_workflow", "gcp/Tracking/Metadata/Resource")
    key_ref = "${" + built.address(t.key.resource) + ".id}"
    assert wf["crypto_key_name"] == key_ref and wf["region"] == "us-central1"
    steps = _steps(wf["source_contents"])
    post = steps["create"]["try"]["steps"][0]["post"]
    assert post["call"] == "http.post"
    assert post["args"]["url"] == (
        f"https://us-central1-aiplatform.googleapis.com/v1/projects/{PROJECT}/locations/us-central1"
        f"/metadataStores?metadataStoreId={METADATA_STORE_ID}"
    )
    # The key (a Terraform reference) is assigned to a variable, outside any Workflows expression,
    # so Terraform interpolates it; the body and the check use the variable.
    assert steps["init"] == {"assign": [{"key": key_ref}]}
    assert post["args"]["body"]["encryptionSpec"] == {"kmsKeyName": "${key}"}
    # An existing store is accepted only when it carries the same key.
    assert steps["create"]["except"]["steps"][0]["known"]["switch"][0] == {"condition": "${e.code == 409}", "next": "read"}
    check = steps["check"]["switch"][0]
    assert check["condition"].endswith("!= key}") and "cannot change" in check["raise"]
    assert t.metadata.store_name == f"projects/{PROJECT}/locations/us-central1/metadataStores/default"
    # The workflow's service agent may use the key it encrypts with.
    agents = {b["member"] for b in built.resources("google_kms_crypto_key_iam_member").values()}
    assert any("gcp-sa-workflows" in a for a in agents) and any("gcp-sa-aiplatform" in a for a in agents)


def test_call_is_valid_against_the_discovery_document(build) -> None:
    built, _ = make(build)
    assert google_rest.validate_stack(built.doc) == []
    assert validate_stack(built.doc, stack="gcp") == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.update(encryptionSpecs=b.pop("encryptionSpec")), "unknown field of GoogleCloudAiplatformV1MetadataStore"),
        (lambda b: b.update(name="x"), "output-only field"),
        (lambda b: b.update(description=3), "must be string"),
    ],
)
def test_discovery_check_catches_body_mistakes(mutate, message) -> None:
    body = _steps(init_source(PROJECT, "us-central1", KEY))["create"]["try"]["steps"][0]["post"]["args"]["body"]
    assert google_rest.check_body(google_rest.METADATA_STORES_CREATE, body) == []
    broken = copy.deepcopy(body)
    mutate(broken)
    problems = google_rest.check_body(google_rest.METADATA_STORES_CREATE, broken)
    assert problems and message in problems[0]


def test_discovery_check_catches_a_wrong_query_parameter() -> None:
    source = init_source(PROJECT, "us-central1", KEY).replace("metadataStoreId=", "metadataStoreID=")
    doc = {"resource": {"google_workflows_workflow": {"w": {"source_contents": source}}}}
    (problem,) = google_rest.validate_stack(doc)
    assert "unknown query parameter 'metadataStoreID'" in problem and "did you mean 'metadataStoreId'" in problem


def test_init_identity_holds_only_create_and_read(build) -> None:
    built, t = make(build)
    role = built.by_path("google_project_iam_custom_role", "gcp/Tracking/Metadata/Role")
    assert role["permissions"] == list(INIT_PERMISSIONS)
    runner = "${" + built.address(t.metadata.runner) + ".member}"
    roles = sorted(b["role"] for b in built.resources("google_project_iam_member").values() if b["member"] == runner)
    assert roles == sorted(["${" + built.address(t.metadata.role) + ".name}", "roles/logging.logWriter"])
    # Experiment code (the tracking-user role) can read the store but never create it with another key.
    tracking_role = built.by_path("google_project_iam_custom_role", "gcp/Tracking/Role")
    assert "aiplatform.metadataStores.get" in tracking_role["permissions"]
    assert "aiplatform.metadataStores.create" not in tracking_role["permissions"]
    assert t.metadata.init_command == (
        f"gcloud workflows run ml-track-metadata-init --location us-central1 --project {PROJECT}"
    )


def test_supplied_key_is_used_for_the_store(build) -> None:
    built, _ = make(build, encryption={"key_id": KEY})
    wf = built.by_path("google_workflows_workflow", "gcp/Tracking/Metadata/Resource")
    assert wf["crypto_key_name"] == KEY
    assert _steps(wf["source_contents"])["init"] == {"assign": [{"key": KEY}]}
