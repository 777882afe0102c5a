"""gcp.FeatureStore: CMEK BigQuery offline store, Bigtable online store with feature views, grants."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from constructs_lib.gcp import FeatureStore, FeatureStoreProps

from .conftest import PROJECT

SA = "serviceAccount:trainer@ml-platform-dev.iam.gserviceaccount.com"
GROUP = {
    "name": "customer_features",
    "record_identifier": "customer_id",
    "features": {"segment": "string", "orders_30d": "integral", "lifetime_value": "fractional"},
}


def props(**kw) -> FeatureStoreProps:
    return FeatureStoreProps(**{"name": "ml-feat", "project": PROJECT, "location": "us-central1", "groups": [GROUP], **kw})


def make(build, **kw):
    holder = {}

    def body(stack):
        fs = holder["fs"] = FeatureStore(stack, "Features", props(**kw))
        fs.grant_read(SA)

    built = build(body)
    return built, holder["fs"]


def test_offline_store(build) -> None:
    built, fs = make(build)
    ds = built.by_path("google_bigquery_dataset", "gcp/Features/Resource")
    key = "${" + built.address(fs.key.resource) + ".id}"
    assert ds["dataset_id"] == "ml_feat"
    assert ds["default_encryption_configuration"] == {"kms_key_name": key}
    assert ds["delete_contents_on_destroy"] is False
    table = built.by_path("google_bigquery_table", "gcp/Features/TableCustomerFeatures")
    assert table["encryption_configuration"] == {"kms_key_name": key}
    assert table["deletion_protection"] is True
    assert json.loads(table["schema"]) == [
        {"name": "customer_id", "type": "STRING", "mode": "REQUIRED", "description": "Record identifier"},
        {"name": "event_time", "type": "TIMESTAMP", "mode": "REQUIRED", "description": "Event time"},
        {"name": "lifetime_value", "type": "FLOAT64", "mode": "NULLABLE"},
        {"name": "orders_30d", "type": "INT64", "mode": "NULLABLE"},
        {"name": "segment", "type": "STRING", "mode": "NULLABLE"},
    ]
    assert table["time_partitioning"] == {"type": "DAY", "field": "event_time"}
    assert fs.online is None
    assert built.resources("google_vertex_ai_feature_online_store") == {}
    grants = sorted((b["role"], b["member"]) for t in ("google_bigquery_dataset_iam_member", "google_project_iam_member")
                    for b in built.resources(t).values())
    assert grants == [("roles/bigquery.dataViewer", SA), ("roles/bigquery.jobUser", SA)]


def test_online_store(build) -> None:
    built, fs = make(build, online=True, online_max_nodes=5, deletion_protection=False)
    online = built.by_path("google_vertex_ai_feature_online_store", "gcp/Features/Online")
    assert online["bigtable"]["auto_scaling"]["min_node_count"] == 1
    assert online["bigtable"]["auto_scaling"]["max_node_count"] == 5
    assert online["encryption_spec"] == {"kms_key_name": "${" + built.address(fs.key.resource) + ".id}"}
    view = built.by_path("google_vertex_ai_feature_online_store_featureview", "gcp/Features/ViewCustomerFeatures")
    assert view["big_query_source"] == {"uri": f"bq://{PROJECT}.ml_feat.customer_features", "entity_id_columns": ["customer_id"]}
    assert view["sync_config"] == {"cron": "0 * * * *"}
    table = built.by_path("google_bigquery_table", "gcp/Features/TableCustomerFeatures")
    assert table["deletion_protection"] is False
    members = {b["member"] for b in built.resources("google_bigquery_dataset_iam_member").values()}
    assert SA in members and any("gcp-sa-aiplatform" in m for m in members)
    roles = [b["role"] for b in built.resources("google_project_iam_member").values()]
    assert "roles/bigquery.jobUser" in roles and "${" + built.address(fs.online_role) + ".name}" in roles


def test_grant_write_uses_data_editor(build) -> None:
    def body(stack):
        FeatureStore(stack, "Features", props()).grant_write(SA, id="Writer")

    built = build(body)
    (grant,) = built.resources("google_bigquery_dataset_iam_member").values()
    assert grant["role"] == "roles/bigquery.dataEditor"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"online_min_nodes": 4, "online_max_nodes": 2}, "online_min_nodes"),
        ({"groups": [GROUP, GROUP]}, "unique"),
        ({"groups": [{**GROUP, "features": {"customer_id": "string"}}]}, "must not repeat"),
        ({"groups": [{**GROUP, "features": {"x": "boolean"}}]}, "features"),
    ],
)
def test_feature_store_props_validation(kw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        props(**kw)
