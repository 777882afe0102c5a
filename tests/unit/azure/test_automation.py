"""Azure automation: Pipeline, Retraining (schedule / new data / drift), cron conversion, the
spec's Airflow refusal, the kit's pipelines and retraining steps, and a checkov + least-privilege
scan of all of it."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.azure.pipelines import (
    DATA_SCIENTIST_ROLE,
    PIPELINE_STARTER_ACTIONS,
    Pipeline,
    PipelineProps,
)
from constructs_lib.azure.retraining import Retraining, RetrainingProps, alert_window, azure_ml_cron
from constructs_lib.azure.storage import DataStore, DataStoreProps
from constructs_lib.core import engine
from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.automation_props import DriftTrigger, NewDataTrigger
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.props import EncryptionProps
from constructs_lib.core.providers import declare_provider
from constructs_lib.core.resource import Resource
from constructs_lib.core.schema import validate_stack
from constructs_lib.core.spec import PlatformSpec
from constructs_lib.core.synth import stack_document, synth_app

WHERE = {"resource_group_name": "rg-ml", "location": "westeurope"}
SCHEDULES = "Microsoft.MachineLearningServices/workspaces/schedules@"


class Built:
    """A test stack: two stores, a minimal ML workspace with Application Insights, and whatever
    ``extra`` adds; ``doc`` is the synthesized JSON (tags merged)."""

    def __init__(self, outdir: Path, extra: Any = None, *, pipeline: dict[str, Any] | None = None,
                 retraining: dict[str, Any] | None = None) -> None:
        self.app = engine.App(outdir=str(outdir))
        st = self.stack = engine.TerraformStack(self.app, "t")
        declare_provider(st, "azurerm", features={})
        declare_provider(st, "azapi")
        self.data = DataStore(st, "data", DataStoreProps(name="ml-data", deletion_protection=False, **WHERE))
        self.artifacts = DataStore(st, "artifacts", DataStoreProps(name="ml-artifacts", deletion_protection=False, **WHERE))
        self.insights = Resource(st, "insights", "azurerm_application_insights", name="appi-ml",
                                 application_type="other", workspace_id=self.data.workspace.ref("id"), **WHERE)
        self.workspace = Resource(
            st, "ws", "azurerm_machine_learning_workspace", name="mlw-ml",
            application_insights_id=self.insights.ref("id"), key_vault_id=self.data.key.vault_id,
            storage_account_id=self.artifacts.store_id, storage_account_access_type="identity",
            high_business_impact=True, public_network_access_enabled=False, v1_legacy_mode_enabled=False,
            identity={"type": "SystemAssigned"}, **WHERE,
        )
        Acknowledge.of(self.workspace).add(
            "CKV2_AZURE_50",
            reason="Test fixture: the artifacts account disables public access with the azurerm 5 "
                   "argument public_network_access, which checkov 3.3 does not read.",
        )
        self.ws_id = "${azurerm_machine_learning_workspace.ws.id}"
        self.pipeline: Pipeline | None = None
        self.retraining: Retraining | None = None
        if pipeline is not None:
            self.pipeline = Pipeline(st, "Pipeline", PipelineProps(
                name="ml-train", workspace_id=self.workspace.ref("id"), **WHERE, **pipeline,
            ), artifacts_store=self.artifacts)
        if retraining is not None:
            assert self.pipeline is not None
            self.retraining = Retraining(st, "Retraining", RetrainingProps(
                name="ml-retrain", pipeline="train", application_insights_id=self.insights.ref("id"),
                **WHERE, **retraining,
            ), pipeline=self.pipeline, stores={"data": self.data, "artifacts": self.artifacts})
        self.doc = stack_document(st)

    def of(self, tf_type: str) -> dict[str, dict[str, Any]]:
        """Resources of ``tf_type`` by construct path (without the stack prefix)."""
        return {b["//"]["metadata"]["path"].removeprefix("t/"): b
                for b in self.doc["resource"].get(tf_type, {}).values()}

    def ref(self, path: str, tf_type: str, attribute: str) -> str:
        for name, body in self.doc["resource"][tf_type].items():
            if body["//"]["metadata"]["path"] == f"t/{path}":
                return "${%s.%s.%s}" % (tf_type, name, attribute)
        raise KeyError(path)


ALL_TRIGGERS: dict[str, Any] = {
    "schedule": "30 2 * * 7",
    "on_new_data": NewDataTrigger(store="data", prefix="raw/"),
    "on_drift": DriftTrigger(metric="feature_drift", threshold=0.35, evaluation_minutes=15),
}


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("full") / "out", pipeline={"parameters": {"epochs": "10"}},
                 retraining=ALL_TRIGGERS)


def _schedule(b: Built) -> dict[str, Any]:
    found = [r for r in b.of("azapi_resource").values() if r["type"].startswith(SCHEDULES)]
    assert len(found) == 1
    return found[0]


# -- Pipeline ---------------------------------------------------------------------------------------


def test_pipeline_placeholder_is_a_disabled_schedule_with_a_one_step_pipeline(tmp_path: Path) -> None:
    b = Built(tmp_path, pipeline={"parameters": {"epochs": "10", "lr": "0.1"}})
    sched = _schedule(b)
    assert sched["parent_id"] == b.ws_id and sched["name"] == "ml-train"
    props = sched["body"]["properties"]
    assert props["isEnabled"] is False  # no schedule: started on demand only
    job = props["action"]["jobDefinition"]
    assert props["action"]["actionType"] == "CreateJob" and job["jobType"] == "Pipeline"
    assert list(job["jobs"]) == ["placeholder"] and job["jobs"]["placeholder"]["type"] == "command"
    assert job["inputs"] == {"epochs": {"jobInputType": "literal", "value": "10"},
                             "lr": {"jobInputType": "literal", "value": "0.1"}}
    assert job["identity"]["resourceId"] == b.ref("Pipeline/Identity", "azurerm_user_assigned_identity", "id")
    assert b.pipeline is not None and b.pipeline.scheduled is False
    assert validate_stack(b.doc, stack="t") == []


def test_pipeline_uses_the_given_definition_escaped_for_terraform(tmp_path: Path) -> None:
    definition = {
        "jobType": "Pipeline",
        "inputs": {"lr": {"jobInputType": "literal", "value": "0.01"}},
        "jobs": {"train": {"type": "command", "componentId": "azureml:train:3",
                           "inputs": {"lr": {"jobInputType": "literal", "value": "${{parent.inputs.lr}}"}}}},
    }
    b = Built(tmp_path, pipeline={"definition": definition, "parameters": {"lr": "0.5", "epochs": "3"},
                                  "compute": "cpu"})
    job = _schedule(b)["body"]["properties"]["action"]["jobDefinition"]
    assert list(job["jobs"]) == ["train"]
    assert job["jobs"]["train"]["inputs"]["lr"]["value"] == "$${{parent.inputs.lr}}"
    assert job["inputs"]["lr"]["value"] == "0.01"  # the definition's own input wins over a default
    assert job["inputs"]["epochs"]["value"] == "3"
    assert job["settings"]["default_compute"] == "azureml:cpu"


def test_pipeline_identity_is_least_privilege(full: Built) -> None:
    principal = full.ref("Pipeline/Identity", "azurerm_user_assigned_identity", "principal_id")
    mine = {p: r for p, r in full.of("azurerm_role_assignment").items() if r["principal_id"] == principal}
    assert sorted((r["role_definition_name"], r["scope"]) for r in mine.values()) == sorted([
        (DATA_SCIENTIST_ROLE, full.ws_id),
        ("Storage Blob Data Contributor",
         full.ref("artifacts/Resource", "azurerm_storage_account", "id") + "/blobServices/default/containers/data"),
    ])
    assert full.pipeline is not None and full.pipeline.principal  # a token


# -- Retraining -------------------------------------------------------------------------------------


def test_schedule_trigger_enables_the_pipeline_schedule_with_converted_cron(full: Built) -> None:
    props = _schedule(full)["body"]["properties"]
    assert props["isEnabled"] is True
    assert props["trigger"] == {"triggerType": "Cron", "expression": "30 2 * * 0", "timeZone": "UTC"}
    assert full.retraining is not None and full.pipeline is not None
    assert full.retraining.triggers["schedule"] is full.pipeline.resource


def test_new_data_trigger_filters_the_named_store_and_prefix(full: Built) -> None:
    (topic,) = full.of("azurerm_eventgrid_system_topic").values()
    assert topic["source_resource_id"] == full.ref("data/Resource", "azurerm_storage_account", "id")
    assert topic["topic_type"] == "Microsoft.Storage.StorageAccounts"
    sub = full.of("azurerm_eventgrid_system_topic_event_subscription")["Retraining/NewData"]
    assert sub["included_event_types"] == ["Microsoft.Storage.BlobCreated"]
    assert sub["subject_filter"]["subject_begins_with"] == "/blobServices/default/containers/data/blobs/raw/"
    assert sub["webhook_endpoint"]["url"] == full.ref(
        "Retraining/NewData-Request", "azurerm_logic_app_trigger_http_request", "callback_url")
    assert sub["system_topic"] == full.ref("Retraining/NewData-Topic", "azurerm_eventgrid_system_topic", "name")


def test_drift_trigger_alerts_on_the_custom_metric(full: Built) -> None:
    alert = full.of("azurerm_monitor_metric_alert")["Retraining/Drift"]
    assert alert["scopes"] == [full.ref("insights", "azurerm_application_insights", "id")]
    assert alert["criteria"] == [{
        "metric_namespace": "cdktf-mlops/ml-retrain", "metric_name": "feature_drift",
        "aggregation": "Average", "operator": "GreaterThanOrEqual", "threshold": 0.35,
        "skip_metric_validation": True,
    }]
    assert (alert["window_size"], alert["frequency"]) == ("PT15M", "PT15M")
    group = full.of("azurerm_monitor_action_group")["Retraining/Drift-Actions"]
    assert alert["action"] == [{"action_group_id": full.ref("Retraining/Drift-Actions", "azurerm_monitor_action_group", "id")}]
    (receiver,) = group["logic_app_receiver"]
    assert receiver["resource_id"] == full.ref("Retraining/Drift-Bridge", "azurerm_logic_app_workflow", "id")
    assert receiver["callback_url"] == full.ref(
        "Retraining/Drift-Request", "azurerm_logic_app_trigger_http_request", "callback_url")


def test_each_trigger_identity_can_only_start_the_pipeline(full: Built) -> None:
    assert full.retraining is not None
    assert sorted(full.retraining.triggers) == ["on_drift", "on_new_data", "schedule"]
    (role,) = full.of("azurerm_role_definition").values()
    assert role["assignable_scopes"] == [full.ws_id] and role["scope"] == full.ws_id
    actions = role["permissions"][0]["actions"]
    assert actions == sorted(PIPELINE_STARTER_ACTIONS)
    assert not any("*" in a or "computes" in a or "roleAssignments" in a for a in actions)
    starter = full.ref("Pipeline/StarterRole", "azurerm_role_definition", "role_definition_resource_id")
    for label in ("NewData", "Drift"):
        principal = full.ref(f"Retraining/{label}-Identity", "azurerm_user_assigned_identity", "principal_id")
        grants = [r for r in full.of("azurerm_role_assignment").values() if r["principal_id"] == principal]
        assert [(g["role_definition_id"], g["scope"]) for g in grants] == [(starter, full.ws_id)]
        assert "role_definition_name" not in grants[0]
        identity_id = full.ref(f"Retraining/{label}-Identity", "azurerm_user_assigned_identity", "id")
        flow = full.of("azurerm_logic_app_workflow")[f"Retraining/{label}-Bridge"]
        assert flow["identity"] == {"type": "UserAssigned", "identity_ids": [identity_id]}
        body = json.loads(full.of("azurerm_logic_app_action_custom")[f"Retraining/{label}-Start"]["body"])
        start = body["else"]["actions"]["start-pipeline"] if label == "NewData" else body
        assert start["inputs"]["authentication"] == {
            "type": "ManagedServiceIdentity", "identity": identity_id, "audience": "https://management.azure.com/"}
        assert start["inputs"]["method"] == "PUT"
        assert start["inputs"]["uri"] == (
            f"https://management.azure.com{full.ws_id}/jobs/@{{guid()}}?api-version=2025-12-01")
        job = start["inputs"]["body"]["properties"]
        assert job["jobType"] == "Pipeline" and job["tags"]["trigger"] in ("on_new_data", "on_drift")


def test_new_data_bridge_answers_event_grid_validation(full: Built) -> None:
    body = json.loads(full.of("azurerm_logic_app_action_custom")["Retraining/NewData-Start"]["body"])
    assert body["type"] == "If"
    assert "Microsoft.EventGrid.SubscriptionValidationEvent" in json.dumps(body["expression"])
    answer = body["actions"]["answer-validation"]
    assert answer["type"] == "Response" and "validationCode" in answer["inputs"]["body"]["validationResponse"]


def test_only_configured_triggers_are_built(tmp_path: Path) -> None:
    b = Built(tmp_path, pipeline={}, retraining={"schedule": None, "on_drift": DriftTrigger()})
    assert b.retraining is not None and sorted(b.retraining.triggers) == ["on_drift"]
    assert _schedule(b)["body"]["properties"]["isEnabled"] is False
    assert "azurerm_eventgrid_system_topic" not in b.doc["resource"]
    assert b.of("azurerm_monitor_metric_alert")["Retraining/Drift"]["window_size"] == "PT1H"


def test_full_stack_is_schema_valid_and_audit_clean(full: Built) -> None:
    assert validate_stack(full.doc, stack="t") == []
    assert audit_stack(full.doc) == []
    assert set(full.doc["provider"]) == {"azurerm", "azapi"}  # constructs declared no provider


# -- props errors -----------------------------------------------------------------------------------


def test_props_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="application_insights_id"):
        RetrainingProps(name="ml-retrain", pipeline="train", on_drift=DriftTrigger(), **WHERE)
    with pytest.raises(ValidationError, match="both day of month and day of week"):
        RetrainingProps(name="ml-retrain", pipeline="train", schedule="0 3 1 * 1", **WHERE)
    with pytest.raises(ValidationError, match="at least one trigger"):
        RetrainingProps(name="ml-retrain", pipeline="train", schedule=None, **WHERE)
    with pytest.raises(ValidationError, match="jobType: Pipeline"):
        PipelineProps(name="ml-train", workspace_id="ws", definition={"jobType": "Command", "jobs": {"a": {}}}, **WHERE)
    with pytest.raises(ValidationError, match="at least one step"):
        PipelineProps(name="ml-train", workspace_id="ws", definition={"jobType": "Pipeline"}, **WHERE)
    with pytest.raises(ValidationError, match="encryption.key_id is not used"):
        PipelineProps(name="ml-train", workspace_id="ws", encryption=EncryptionProps(key_id="k"), **WHERE)
    with pytest.raises(ValidationError, match="workspace_id"):
        PipelineProps(name="ml-train", **WHERE)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="on_new_data.store 'lake' is not one of"):
        Built(tmp_path, pipeline={}, retraining={"on_new_data": NewDataTrigger(store="lake")})


def test_wrong_props_type_names_the_construct(tmp_path: Path) -> None:
    app = engine.App(outdir=str(tmp_path))
    st = engine.TerraformStack(app, "t")
    from constructs_lib.core.automation_props import PipelineProps as CorePipelineProps

    with pytest.raises(TypeError, match=r"t/P: props must be .*azure\.pipelines\.PipelineProps"):
        Pipeline(st, "P", CorePipelineProps(name="ml-train"), artifacts_store=None)  # type: ignore[arg-type]


# -- cron and alert windows -------------------------------------------------------------------------


@pytest.mark.parametrize(("cron", "azure"), [
    ("0 3 * * 1", "0 3 * * 1"),
    ("30 2 * * 7", "30 2 * * 0"),
    ("*/15 * * * MON-FRI", "*/15 * * * 1-5"),
    ("0 0 1 JAN,jul *", "0 0 1 1,7 *"),
    ("0 6 * * 5-7", "0 6 * * 5-6,0"),
    ("0 6 * * 0-7", "0 6 * * *"),
    ("0 0-23/6 * * *", "0 0-23/6 * * *"),
    ("  5 4 * * sun ", "5 4 * * 0"),
])
def test_azure_ml_cron_conversion(cron: str, azure: str) -> None:
    assert azure_ml_cron(cron) == azure


@pytest.mark.parametrize(("cron", "message"), [
    ("60 * * * *", "minute value 60 is outside 0-59"),
    ("0 24 * * *", "hour value 24 is outside"),
    ("0 3 * * 8", "day-of-week value 8 is outside"),
    ("0 3 1 * MON", "both day of month and day of week"),
    ("0 3 * *", "5-field"),
    ("*/0 * * * *", "step must be at least 1"),
    ("0 3 * FOO *", "month value 'FOO'"),
    ("0 3 5-1 * *", "runs backwards"),
    ("@daily", "5-field"),
])
def test_azure_ml_cron_refuses(cron: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        azure_ml_cron(cron)


@pytest.mark.parametrize(("minutes", "expected"), [
    (5, ("PT5M", "PT5M")), (10, ("PT15M", "PT15M")), (30, ("PT30M", "PT30M")), (45, ("PT1H", "PT1H")),
    (60, ("PT1H", "PT1H")), (61, ("PT6H", "PT1H")), (720, ("PT12H", "PT1H")), (1440, ("P1D", "PT1H")),
])
def test_alert_window(minutes: int, expected: tuple[str, str]) -> None:
    assert alert_window(minutes) == expected


# -- spec, Airflow and the platform wiring ----------------------------------------------------------


def _spec(**extra: Any) -> dict[str, Any]:
    return {
        "name": "auto-az", "cloud": "azure", "environment": "dev", "regions": ["westeurope"],
        "azure": {"resource_group": "rg-auto"}, "storage": {"stores": ["data", "artifacts"], "deletion_protection": False},
        "pipelines": [{"name": "train", "parameters": {"epochs": "10"}}],
        "retraining": {"pipeline": "train", "on_new_data": {"store": "data"}, "on_drift": {}},
        **extra,
    }


def test_spec_refuses_airflow_on_azure() -> None:
    with pytest.raises(ValidationError, match="Workflow Orchestration Manager"):
        PlatformSpec.model_validate(_spec(airflow={}))


def test_platform_pipelines_in_its_workspace(tmp_path: Path) -> None:
    from constructs_lib.platform import PlatformStack

    app = engine.App(outdir=str(tmp_path))
    spec = PlatformSpec.model_validate(_spec(tracking={}))
    stack = PlatformStack(app, spec)
    assert set(stack.pipelines) == {"train"} and isinstance(stack.retraining, Retraining)
    doc = stack_document(stack)
    sched = [r for r in doc["resource"]["azapi_resource"].values() if r["type"].startswith(SCHEDULES)]
    assert len(sched) == 1 and sched[0]["name"] == "auto-az-dev-train"
    assert sched[0]["body"]["properties"]["trigger"]["expression"] == "0 3 * * 1"
    assert sched[0]["parent_id"] == "${%s.id}" % stack.kit.workspace.resource.address
    pipeline_out = doc["output"]["pipeline_train"]["value"]
    assert pipeline_out["id"].startswith("${azapi_resource.") and pipeline_out.get("trigger") is None  # null
    alert = next(iter(doc["resource"]["azurerm_monitor_metric_alert"].values()))
    assert alert["criteria"][0]["metric_namespace"] == "cdktf-mlops/auto-az"
    assert alert["scopes"][0].startswith("${azurerm_application_insights.workspace_")
    # the pipeline reads the data store and writes the artifacts store
    pipeline_principal = next(
        "${azurerm_user_assigned_identity.%s.principal_id}" % n
        for n, r in doc["resource"]["azurerm_user_assigned_identity"].items()
        if r["//"]["metadata"]["path"].endswith("pipeline-train/Identity"))
    roles = sorted(r.get("role_definition_name") for r in doc["resource"]["azurerm_role_assignment"].values()
                   if r["principal_id"] == pipeline_principal)
    assert roles == [DATA_SCIENTIST_ROLE, "Storage Blob Data Contributor", "Storage Blob Data Reader"]
    assert validate_stack(doc, stack=spec.name) == [] and audit_stack(doc) == []
    # the pipeline identity is attached to the workspace once, after the workspace's own
    ids = _workspace_identity_ids(doc, "workspace/Resource")
    assert ids.count(pipeline_principal.replace(".principal_id}", ".id}")) == 1 and len(ids) == 2


def test_pipelines_without_a_workspace_build_nothing_and_warn(tmp_path: Path) -> None:
    from constructs_lib.platform import PlatformStack

    app = engine.App(outdir=str(tmp_path))
    spec = PlatformSpec.model_validate(_spec())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stack = PlatformStack(app, spec)
    assert any("need an Azure ML workspace" in str(w.message) for w in caught)
    doc = stack_document(stack)
    assert "azapi_resource" not in doc["resource"] and "azurerm_logic_app_workflow" not in doc["resource"]
    assert stack.pipelines == {} and stack.retraining is None and stack.kit.workspace is None
    assert "azapi" not in doc["provider"]  # nothing needs it


def _workspace_identity_ids(doc: dict[str, Any], path: str) -> list[str]:
    """``identity.identity_ids`` of the ML workspace at construct ``path`` (below the stack)."""
    (ws,) = [b for b in doc["resource"]["azurerm_machine_learning_workspace"].values()
             if b["//"]["metadata"]["path"].split("/", 1)[1] == path]
    assert ws["identity"]["type"] == "SystemAssigned, UserAssigned"
    return ws["identity"]["identity_ids"]


def _identity_ref(doc: dict[str, Any], path: str) -> str:
    (name,) = [n for n, b in doc["resource"]["azurerm_user_assigned_identity"].items()
               if b["//"]["metadata"]["path"].split("/", 1)[1] == path]
    return "${azurerm_user_assigned_identity.%s.id}" % name


@pytest.fixture(scope="module")
def reference_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from constructs_lib.core.spec import load_spec
    from constructs_lib.platform import build_stack

    root = Path(__file__).resolve().parents[3]
    app = engine.App(outdir=str(tmp_path_factory.mktemp("reference")))
    return stack_document(build_stack(app, load_spec(root / "examples" / "reference" / "azure.yaml")))


def test_reference_workspace_carries_the_pipeline_identity_once(reference_doc: dict[str, Any]) -> None:
    ids = _workspace_identity_ids(reference_doc, "workspace/Resource")
    own = _identity_ref(reference_doc, "workspace/Identity")
    pipeline = _identity_ref(reference_doc, "pipeline-train/Identity")
    assert ids == [own, pipeline]  # the workspace's own identity first, the pipeline's exactly once
    # the bridges submit jobs through Resource Manager: their identities are not attached
    bridges = [_identity_ref(reference_doc, f"retraining/{k}-Identity") for k in ("NewData", "Drift")]
    assert not set(bridges) & set(ids)
    # the serving workspace of the second region and the feature store run no pipeline
    assert _workspace_identity_ids(reference_doc, "workspace-northeurope/Resource") == [
        _identity_ref(reference_doc, "workspace-northeurope/Identity")]
    assert pipeline not in _workspace_identity_ids(reference_doc, "features/Resource/Resource")
    assert validate_stack(reference_doc, stack="reference-azure") == []


def test_platform_without_pipelines_leaves_the_workspace_identities_alone(tmp_path: Path) -> None:
    from constructs_lib.platform import PlatformStack

    data = {k: v for k, v in _spec(tracking={}).items() if k not in ("pipelines", "retraining")}
    stack = PlatformStack(engine.App(outdir=str(tmp_path)), PlatformSpec.model_validate(data))
    doc = stack_document(stack)
    assert _workspace_identity_ids(doc, "workspace/Resource") == [_identity_ref(doc, "workspace/Identity")]
    workspace = stack.kit.workspace
    assert workspace.identity_ids == [workspace.identity.ref("id")]
    assert not hasattr(stack, "workspace")  # the workspace is the kit's own, not a stack attribute


# -- checkov + least-privilege audit ----------------------------------------------------------------


@pytest.mark.slow
def test_scan_of_all_triggers_is_clean(tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "checkov").exists():
        pytest.skip("checkov is not installed next to this interpreter (pip install checkov==3.3.30)")
    from constructs_lib.core.scan import scan

    b = Built(tmp_path / "out", pipeline={"parameters": {"epochs": "10"}}, retraining=ALL_TRIGGERS)
    synth_app(b.app)
    (result,) = scan(tmp_path / "out")
    assert result.problems == [] and result.failed == []
    assert result.passed >= 40, "checkov must really have scanned the stack"
    automation = ("Pipeline", "Retraining")
    acked_here = [f for f in result.acknowledged
                  if any(f"_{p}" in f.resource or f".{p}" in f.resource for p in automation)]
    assert acked_here == []  # the automation constructs need no acknowledgement
