"""Kubeflow Pipelines: what the GCP pipeline takes is a KFP v2 compiled pipeline.

A tiny pipeline is compiled with the real KFP SDK (``kfp`` 2.17, dev extra) and given to
:class:`constructs_lib.gcp.Pipeline` as its ``definition``. The test then checks it the way the
clouds' and KFP's own definitions see it:

* the spec object Terraform writes holds exactly the compiled JSON;
* the launcher's ``pipelineJobs.create`` body, with ``pipelineSpec`` filled in as Workflows fills it
  at run time (the object's JSON), is valid against Vertex AI's published discovery document
  (:func:`constructs_lib.core.google_rest.check_body`), and its ``parameterValues`` are inputs the
  compiled pipeline declares;
* the compiled spec and our placeholder spec both parse strictly into KFP's ``PipelineSpec`` protobuf
  (``kfp-pipeline-spec``: unknown fields are errors), and KFP loads the placeholder as a pipeline.
"""

# No `from __future__ import annotations`: KFP reads the component annotations as types.

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

kfp = pytest.importorskip("kfp", reason="kfp (dev extra) compiles the KFP v2 pipeline")
from google.protobuf import json_format  # noqa: E402
from kfp import compiler, components, dsl  # noqa: E402
from kfp.pipeline_spec import pipeline_spec_pb2  # noqa: E402

from constructs_lib.core import engine, google_rest  # noqa: E402
from constructs_lib.core.resource import Provider  # noqa: E402
from constructs_lib.core.schema import validate_stack  # noqa: E402
from constructs_lib.gcp import DataStore, DataStoreProps, Pipeline, PipelineProps  # noqa: E402
from constructs_lib.gcp.pipelines import placeholder_spec  # noqa: E402

PROJECT = "ml-platform-dev"


@dsl.component(base_image="python:3.12-slim")
def train(epochs: str, data: str) -> str:
    """A step that only echoes its inputs."""
    return f"{data}:{epochs}"


@dsl.pipeline(name="tiny-train", description="cdktf-mlops KFP test pipeline")
def tiny_train(epochs: str = "20", data: str = "gs://bucket/data"):
    train(epochs=epochs, data=data)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("kfp") / "pipeline.json"
    compiler.Compiler().compile(tiny_train, package_path=str(path))
    return json.loads(path.read_text())


def _synth(definition: dict[str, Any] | None, parameters: dict[str, str]) -> tuple[Pipeline, dict[str, Any]]:
    app = engine.App()
    stack = engine.TerraformStack(app, "kfp")
    Provider(stack, "google", "google", source="hashicorp/google", version=">= 8.0, < 9.0",
             project=PROJECT, region="us-central1")
    store = DataStore(stack, "artifacts", DataStoreProps(name="ml-artifacts", project=PROJECT, location="us-central1"))
    pipeline = Pipeline(
        stack,
        "train",
        PipelineProps(name="tiny-train", project=PROJECT, location="us-central1",
                      definition=definition, parameters=parameters),
        artifacts_store=store,
    )
    return pipeline, stack.to_terraform()


def _launcher_body(doc: dict[str, Any]) -> dict[str, Any]:
    (workflow,) = doc["resource"]["google_workflows_workflow"].values()
    steps = json.loads(workflow["source_contents"].replace("$${", "${"))["main"]["steps"]
    (start,) = [s["start_job"] for s in steps if "start_job" in s]
    return start["args"]["body"]


def test_compiled_pipeline_is_kfp_v2_ir(compiled) -> None:
    assert compiled["schemaVersion"].startswith("2.") and compiled["sdkVersion"] == f"kfp-{kfp.__version__}"
    json_format.ParseDict(compiled, pipeline_spec_pb2.PipelineSpec())  # strict: unknown fields raise


def test_launcher_takes_the_compiled_pipeline(compiled) -> None:
    parameters = {"epochs": "5", "data": "gs://ml-data/incoming"}
    pipeline, doc = _synth(compiled, parameters)
    assert not pipeline.placeholder
    # The spec object holds the compiled JSON, byte for byte after parsing.
    (obj,) = doc["resource"]["google_storage_bucket_object"].values()
    assert json.loads(obj["content"]) == compiled and obj["name"] == "pipelines/tiny-train/pipeline.json"
    # Whole stack: provider schema and every Vertex AI call against the discovery document.
    assert validate_stack(doc, stack="kfp") == []
    assert google_rest.validate_stack(doc) == []
    # At run time Workflows puts the object's JSON into pipelineSpec: check that body too.
    body = _launcher_body(doc)
    assert body["pipelineSpec"] == "${spec.body}"
    run_time = copy.deepcopy(body)
    run_time["pipelineSpec"] = compiled
    assert google_rest.check_body(google_rest.PIPELINE_JOBS_CREATE, run_time) == []
    declared = compiled["root"]["inputDefinitions"]["parameters"]
    assert set(body["runtimeConfig"]["parameterValues"]) <= set(declared)
    assert all(declared[k]["parameterType"] == "STRING" for k in body["runtimeConfig"]["parameterValues"])


def test_a_parameter_the_pipeline_does_not_declare_is_visible(compiled) -> None:
    """The check above can fail: a launcher parameter the compiled pipeline lacks is caught."""
    _, doc = _synth(compiled, {"epochs": "5", "learning_rate": "0.1"})
    declared = compiled["root"]["inputDefinitions"]["parameters"]
    assert set(_launcher_body(doc)["runtimeConfig"]["parameterValues"]) - set(declared) == {"learning_rate"}


def test_placeholder_is_a_pipeline_kfp_loads() -> None:
    spec = placeholder_spec("tiny-train", {"epochs": "20"})
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    loaded = components.load_component_from_text(json.dumps(spec))
    assert loaded.name == "tiny-train"
    assert set(loaded.component_spec.inputs or {}) == {"epochs"}
    broken = copy.deepcopy(spec)
    task = broken["root"]["dag"]["tasks"]["placeholder"]
    task["componentReff"] = task.pop("componentRef")
    with pytest.raises(json_format.ParseError):
        json_format.ParseDict(broken, pipeline_spec_pb2.PipelineSpec())


def test_readme_states_the_kfp_equivalents() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    row = next((line for line in readme.splitlines() if line.startswith("| Kubeflow")), "")
    assert "KFP v2" in row and "SageMaker Pipelines" in row and "Azure ML pipelines" in row
