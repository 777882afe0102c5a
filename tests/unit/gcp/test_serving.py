"""gcp.Endpoint: pool autoscaling, CMEK, request capture, private access, two-phase deployment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.core.recovery import Recovery
from constructs_lib.core.schema import validate_stack
from constructs_lib.gcp import DataStore, DataStoreProps, Endpoint, EndpointProps, Network, NetworkProps
from constructs_lib.gcp.serving import AUTOSCALING_METRIC, CAPTURE_TABLE, machine_memory_gib

from .conftest import PROJECT


def props(**kw) -> EndpointProps:
    return EndpointProps(**{"name": "churn", "project": PROJECT, "location": "us-central1", **kw})


def make(build, *, store_region: str | None = "us-east1", network: bool = False,
         failover_region: str | None = None, **kw):
    holder: dict = {}

    def body(stack):
        store = None
        if store_region is not None:
            store = holder["store"] = DataStore(
                stack, "data", DataStoreProps(name="ml-data", project=PROJECT, location="us-central1",
                                              replication={"region": store_region})
            )
        net = None
        if network:
            net = holder["net"] = Network(stack, "net", NetworkProps(name="ml-net", project=PROJECT, location="us-central1"))
        holder["ep"] = Endpoint(stack, "Endpoint", props(**kw), capture_store=store, network=net,
                                failover_region=failover_region)

    built = build(body)
    return built, holder


def test_pool_autoscaling_follows_props(build) -> None:
    built, h = make(build, min_instances=2, max_instances=6, target_invocations_per_instance=200)
    pool = built.by_path("google_vertex_ai_deployment_resource_pool", "gcp/Endpoint/Pool")
    res = pool["dedicated_resources"]
    assert (res["min_replica_count"], res["max_replica_count"]) == (2, 6)
    assert res["autoscaling_metric_specs"] == [{"metric_name": AUTOSCALING_METRIC, "target": 200}]
    assert res["machine_spec"] == {"machine_type": "n2-standard-4"}
    assert pool["region"] == "us-central1"
    ep = h["ep"]
    assert ep.autoscaling["scale_in_cooldown_seconds"] == 300 and ep.autoscaling["scale_out_cooldown_seconds"] == 60


def test_gpu_endpoint_gets_accelerator(build) -> None:
    built, _ = make(build, gpu=True)
    spec = built.by_path("google_vertex_ai_deployment_resource_pool", "gcp/Endpoint/Pool")["dedicated_resources"]["machine_spec"]
    assert spec == {"machine_type": "g2-standard-8", "accelerator_type": "NVIDIA_L4", "accelerator_count": 1}


def test_gpu_machine_without_gpu_is_refused(build) -> None:
    with pytest.raises(ValueError, match="no built-in GPU"):
        make(build, gpu=True, machine_type="n2-standard-8")


def test_endpoint_cmek_public_dedicated_and_pipeline_owned_traffic(build) -> None:
    built, h = make(build)
    ep = h["ep"]
    body = built.by_path("google_vertex_ai_endpoint", "gcp/Endpoint/Resource")
    assert body["encryption_spec"] == {"kms_key_name": "${" + built.address(ep.key.resource) + ".id}"}
    assert ep.key.location == "us-central1"  # Vertex AI needs the key in the endpoint's region
    assert body["dedicated_endpoint_enabled"] is True and "network" not in body
    # two-phase path: no model in Terraform, the pipeline owns traffic_split
    assert body["lifecycle"] == {"ignore_changes": ["traffic_split"]}
    assert "deployed_models" not in body and "traffic_split" not in body
    assert "--shared-resources=projects/ml-platform-dev/locations/us-central1/deploymentResourcePools/churn-pool" in ep.deploy_command
    assert ep.health_target.endswith("/v1/projects/ml-platform-dev/locations/us-central1/endpoints/churn:predict")
    assert ep.invoke_url == ep.health_target  # the contract's scoring URL
    assert ep.recovery == Recovery(rpo_minutes=None, rto_minutes=None)  # one region: nothing to fail over to
    grants = {b["member"] for b in built.resources("google_kms_crypto_key_iam_member").values()
              if b["crypto_key_id"] == "${" + built.address(ep.key.resource) + ".id}"}
    assert any("gcp-sa-aiplatform" in m for m in grants)


def test_capture_percent_into_store_key_dataset(build) -> None:
    built, h = make(build, data_capture_percent=20)
    body = built.by_path("google_vertex_ai_endpoint", "gcp/Endpoint/Resource")
    table = f"bq://{PROJECT}.churn_us_central1_capture.{CAPTURE_TABLE}"
    assert body["predict_request_response_logging_config"] == {
        "enabled": True, "sampling_rate": 0.2, "bigquery_destination": {"output_uri": table},
    }
    ds = built.by_path("google_bigquery_dataset", "gcp/Endpoint/Capture")
    store = h["store"]
    assert ds["location"] == "US"  # dual-region US store: its key lives in "us"
    assert ds["default_encryption_configuration"] == {"kms_key_name": "${" + built.address(store.key.resource) + ".id}"}
    writer = built.by_path("google_bigquery_dataset_iam_member", "gcp/Endpoint/CaptureWriter")
    assert writer["role"] == "roles/bigquery.dataEditor" and "gcp-sa-aiplatform" in writer["member"]
    bq = [b for b in built.resources("google_kms_crypto_key_iam_member").values() if "bigquery-encryption" in b["member"]]
    assert [b["crypto_key_id"] for b in bq] == ["${" + built.address(store.key.resource) + ".id}"]


def test_capture_in_a_region_the_store_key_cannot_serve_uses_own_key(build) -> None:
    built, h = make(build, store_region=None, location="us-east1")  # regional us-central1 store
    ds = built.by_path("google_bigquery_dataset", "gcp/Endpoint/Capture")
    assert ds["location"] == "us-east1"
    assert ds["default_encryption_configuration"] == {"kms_key_name": "${" + built.address(h["ep"].key.resource) + ".id}"}


def test_capture_off(build) -> None:
    built, h = make(build, data_capture_percent=0)
    body = built.by_path("google_vertex_ai_endpoint", "gcp/Endpoint/Resource")
    assert "predict_request_response_logging_config" not in body
    assert built.resources("google_bigquery_dataset") == {} and h["ep"].capture is None


def test_private_endpoint_peers_the_network(build) -> None:
    built, h = make(build, network=True)
    body = built.by_path("google_vertex_ai_endpoint", "gcp/Endpoint/Resource")
    assert body["network"].startswith("projects/${data.google_project.")
    assert body["network"].endswith("/global/networks/${" + built.address(h["net"].resource) + ".name}")
    assert "dedicated_endpoint_enabled" not in body
    conn = built.by_path("google_service_networking_connection", "gcp/net/PrivateServicesAccess/Connection")
    assert conn["service"] == "servicenetworking.googleapis.com"
    rng = built.by_path("google_compute_global_address", "gcp/net/PrivateServicesAccess/Range")
    assert rng["purpose"] == "VPC_PEERING"
    assert h["ep"].health_target is None and h["ep"].private
    assert h["ep"].invoke_url is None  # the peered predict URL exists only once a model is deployed


def test_schema_valid(build) -> None:
    built, _ = make(build, gpu=True, network=True)
    assert validate_stack(built.doc, stack="gcp") == []


def test_props_errors() -> None:
    with pytest.raises(ValidationError, match="must not exceed max_instances"):
        props(min_instances=5, max_instances=2)
    with pytest.raises(ValidationError, match="location"):
        props(location="US")
    with pytest.raises(ValidationError, match="data_capture_percent"):
        props(data_capture_percent=101)


def test_machine_memory() -> None:
    assert machine_memory_gib("n2-standard-4") == 16
    assert machine_memory_gib("n1-standard-4") == 15
    assert machine_memory_gib("g2-standard-8") == 32
    assert machine_memory_gib("ct5lp-hightpu-1t") is None


def test_failover_region_gives_the_routing_rto(build) -> None:
    _, h = make(build, failover_region="us-east1")
    # detection (3 failed 60 s uptime checks) + the 60 s record TTL
    assert h["ep"].recovery == Recovery(rpo_minutes=None, rto_minutes=4, replica_region="us-east1")
