"""The Vertex AI pipelineJobs call in Workflows launchers, checked against Google's discovery document
(bundled) and cross-checked against the proto definitions transcribed in ../shared/azapi_specs/."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from constructs_lib.core import engine
from constructs_lib.core.errors import SchemaValidationError
from constructs_lib.core.google_rest import PIPELINE_JOBS_CREATE, check_body, load, validate_stack
from constructs_lib.core.resource import Provider, Resource
from constructs_lib.core.synth import synth_app
from constructs_lib.platform import synthesize

ROOT = Path(__file__).resolve().parents[2]
SHARED_VERTEX = ROOT.parent / "shared" / "azapi_specs" / "vertex_v1_pipelinejob.json"
URL = "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/pipelineJobs"


def _workflow(body: dict) -> str:
    steps = [{"start": {"call": "http.post", "args": {"url": URL, "auth": {"type": "OAuth2"}, "body": body}, "result": "r"}}]
    return json.dumps({"main": {"steps": steps}})


def _doc(body: dict) -> dict:
    wf = {"source_contents": _workflow(body), "//": {"metadata": {"path": "user/launcher"}}}
    return {"resource": {"google_workflows_workflow": {"launcher": wf}}}


GOOD = {
    "displayName": "train",
    "pipelineSpec": "$${spec.body}",
    "runtimeConfig": {"gcsOutputDirectory": "gs://b/root", "parameterValues": {"epochs": "20"}},
    "encryptionSpec": {"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
    "labels": {"pipeline": "train"},
}


@pytest.fixture(scope="module")
def gcp_launchers(tmp_path_factory) -> dict[str, dict]:
    """Every GCP example stack that has a pipeline launcher."""
    docs = {}
    for spec in sorted((ROOT / "examples").glob("*/gcp.yaml")):
        result = synthesize([spec], outdir=tmp_path_factory.mktemp(spec.parent.name) / "out")
        doc = json.loads((result.stacks[0].directory / "cdk.tf.json").read_text())
        if doc["resource"].get("google_workflows_workflow"):
            docs[spec.parent.name] = doc
    return docs


def _bodies(doc: dict) -> list[dict]:
    out = []
    for wf in doc["resource"]["google_workflows_workflow"].values():
        source = yaml.safe_load(wf["source_contents"])
        for step in source["main"]["steps"]:
            for call in step.values():
                if call.get("call") == "http.post" and "pipelineJobs" in call["args"]["url"]:
                    out.append(call["args"]["body"])
    return out


def test_every_example_launcher_is_checked_and_valid(gcp_launchers) -> None:
    assert {"reference", "retraining"} <= set(gcp_launchers), "the examples with pipelines must have launchers"
    for name, doc in gcp_launchers.items():
        bodies = _bodies(doc)
        assert bodies, f"{name}: no pipelineJobs call found (a blind check would pass)"
        assert validate_stack(doc) == []
        # The check really looks at these bodies: one misspelt field in each is reported.
        bad = copy.deepcopy(doc)
        for wf in bad["resource"]["google_workflows_workflow"].values():
            wf["source_contents"] = wf["source_contents"].replace('"displayName"', '"displayname"')
        problems = validate_stack(bad)
        assert problems and all("did you mean 'displayName'" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b.update(serviceAcount="sa@p.iam.gserviceaccount.com"), "serviceAcount: unknown field of GoogleCloudAiplatformV1PipelineJob"),
        (lambda b: b.update(state="PIPELINE_STATE_RUNNING"), "state: output-only field"),
        (lambda b: b.update(displayName=3), "displayName: must be string"),
        (lambda b: b["runtimeConfig"].update(failurePolicy="FAIL_FAST"), "is not one of PIPELINE_FAILURE_POLICY_UNSPECIFIED"),
        (lambda b: b["runtimeConfig"].pop("gcsOutputDirectory"), "runtimeConfig.gcsOutputDirectory: required field"),
        (lambda b: b.update(labels={"a": 1}), "labels.a: must be string"),
        (lambda b: b.update(reservedIpRanges="r1"), "reservedIpRanges: must be array"),
    ],
)
def test_bad_bodies_are_reported(change, expected: str) -> None:
    assert check_body(PIPELINE_JOBS_CREATE, GOOD) == []
    body = copy.deepcopy(GOOD)
    change(body)
    problems = check_body(PIPELINE_JOBS_CREATE, body)
    assert len(problems) == 1 and expected in problems[0], problems


def test_expressions_and_references_are_not_type_checked() -> None:
    body = {**GOOD, "displayName": "${var.name}", "network": "$${net}"}
    assert check_body(PIPELINE_JOBS_CREATE, body) == []


def test_other_calls_and_other_urls_are_ignored() -> None:
    doc = _doc({"nonsense": 1})
    wf = doc["resource"]["google_workflows_workflow"]["launcher"]
    assert validate_stack(doc, stack="user") == [
        "user: user/launcher: source_contents step start: body.nonsense: unknown field of "
        f"GoogleCloudAiplatformV1PipelineJob in {PIPELINE_JOBS_CREATE} "
        f"(aiplatform v1 discovery revision {load()['revision']})"
    ]
    wf["source_contents"] = wf["source_contents"].replace("pipelineJobs", "customJobs")
    assert validate_stack(doc) == []


def test_user_workflow_with_a_bad_body_stops_synth(tmp_path: Path) -> None:
    app = engine.App(outdir=str(tmp_path / "out"))
    stack = engine.TerraformStack(app, "user")
    Provider(stack, "google", "google", source="hashicorp/google", version=">= 6.0", project="p", region="europe-west4")
    Resource(stack, "launcher", "google_workflows_workflow", name="l", region="europe-west4",
             source_contents=_workflow({**GOOD, "pipelineSpecs": {}}))
    with pytest.raises(SchemaValidationError) as exc:
        synth_app(app)
    assert "user/launcher: source_contents step start: body.pipelineSpecs: unknown field" in str(exc.value)
    assert "did you mean 'pipelineSpec'" in str(exc.value)
    assert not list((tmp_path / "out").rglob("*.json"))


@pytest.fixture(scope="module")
def shared_vertex() -> dict:
    if not SHARED_VERTEX.exists():
        pytest.skip(f"{SHARED_VERTEX} is absent: the cross-check against the proto definitions needs it")
    return json.loads(SHARED_VERTEX.read_text())


def test_bundle_agrees_with_the_proto_definitions(shared_vertex) -> None:
    """Field names and output-only flags of the discovery extract match the proto transcription."""
    schemas = load()["schemas"]
    pairs = {
        "PipelineJob": "GoogleCloudAiplatformV1PipelineJob",
        "RuntimeConfig": "GoogleCloudAiplatformV1PipelineJobRuntimeConfig",
        "EncryptionSpec": "GoogleCloudAiplatformV1EncryptionSpec",
    }
    for proto, discovery in pairs.items():
        fields = shared_vertex["messages"][proto]
        ours = schemas[discovery]
        assert set(fields) <= set(ours), f"{proto}: fields missing from the bundle: {set(fields) - set(ours)}"
        for name, f in fields.items():
            assert bool(f.get("output_only")) == bool(ours[name].get("ro")), f"{proto}.{name} output-only differs"
            assert bool(f.get("required")) == bool(ours[name].get("req")), f"{proto}.{name} required differs"
            if f.get("type") == "enum" and "values" in f:
                assert ours[name]["enum"] == f["values"], f"{proto}.{name} enum values differ"
    create = shared_vertex["operations"]["CreatePipelineJob"]
    assert create["method"] == load()["methods"][PIPELINE_JOBS_CREATE]["http"]


def test_example_bodies_against_the_proto_definitions(gcp_launchers, shared_vertex) -> None:
    """An independent reading: every field we send exists, is settable, and meets the proto's rules."""
    messages = shared_vertex["messages"]
    for name, doc in gcp_launchers.items():
        for body in _bodies(doc):
            for key, value in body.items():
                field = messages["PipelineJob"].get(key)
                assert field is not None and not field.get("output_only"), f"{name}: {key}"
                if field.get("type") == "message":
                    sub = messages[field["message"]]
                    assert set(value) <= set(sub), f"{name}: {key} has {set(value) - set(sub)}"
                    assert all(k in value for k, f in sub.items() if f.get("required")), f"{name}: {key}"
            assert len(body["displayName"]) <= messages["PipelineJob"]["displayName"]["max_len"]
            for k, v in body["labels"].items():
                assert len(k) <= 64 and len(v) <= 64 and k == k.lower() and v == v.lower(), (k, v)
