"""PlatformSpec validation: each kind of bad spec gets one clear message naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.core.errors import SpecError
from constructs_lib.core.spec import PlatformSpec, load_spec, load_specs

GOOD = {
    "name": "demo-ml",
    "cloud": "aws",
    "environment": "dev",
    "regions": ["eu-west-1", "eu-central-1"],
}


def write(tmp_path: Path, data: object, name: str = "spec.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return p


def error_of(tmp_path: Path, data: object) -> str:
    with pytest.raises(SpecError) as exc:
        load_spec(write(tmp_path, data))
    return str(exc.value)


def test_minimal_spec_gets_documented_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.storage.stores == ["data", "artifacts"]
    assert spec.storage.encryption.key_id is None
    assert spec.storage.encryption.rotation_days == 90
    assert spec.storage.deletion_protection is True
    assert spec.replica_region == "eu-central-1"
    assert spec.all_tags["platform"] == "demo-ml" and spec.all_tags["environment"] == "dev"


def test_unknown_key_names_the_path(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "storage": {"versionning": True}})
    assert "storage.versionning" in msg and "unknown key" in msg


def test_missing_required_field(tmp_path: Path) -> None:
    data = dict(GOOD)
    del data["cloud"]
    msg = error_of(tmp_path, data)
    assert "cloud: required field is missing" in msg


def test_region_must_match_cloud(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "regions": ["westeurope"]})
    assert "regions[0]" in msg and "'us-east-1'" in msg


def test_azure_needs_its_section(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "cloud": "azure", "regions": ["westeurope"]})
    assert "azure: section is required" in msg and "resource_group" in msg


def test_section_of_other_cloud_is_rejected(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "gcp": {"project": "some-project-1"}})
    assert "gcp: section given but cloud is aws" in msg


def test_lifecycle_order_is_checked(tmp_path: Path) -> None:
    msg = error_of(
        tmp_path,
        {**GOOD, "storage": {"lifecycle": {"infrequent_access_after_days": 60, "archive_after_days": 30}}},
    )
    assert "storage.lifecycle" in msg and "archive_after_days (30)" in msg


def test_replicate_needs_second_region(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "regions": ["eu-west-1"], "storage": {"replicate": True}})
    assert "storage.replicate" in msg and "second region" in msg


AZURE = {"name": "demo-ml", "cloud": "azure", "environment": "dev", "azure": {"resource_group": "rg-ml"}}
GCP = {"name": "demo-ml", "cloud": "gcp", "environment": "dev", "gcp": {"project": "demo-project"}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({**GOOD, "regions": ["eu-west-1", "us-east-1", "ap-northeast-1"]}, "us-east-1"),
        ({**GOOD, "regions": ["eu-west-1", "us-east-1"], "storage": {"replica_region": "eu-central-1"}}, "eu-central-1"),
        ({**GOOD, "regions": ["eu-west-1"]}, None),
        ({**GOOD, "regions": ["eu-west-1"], "storage": {"replica_region": "eu-central-1"}}, "eu-central-1"),
        ({**GOOD, "storage": {"versioning": False}}, None),  # replicate when possible: not without versions
        ({**GOOD, "storage": {"replicate": False}}, None),
        ({**AZURE, "regions": ["westeurope", "eastus2", "japaneast"]}, "northeurope"),
        ({**AZURE, "regions": ["westeurope"], "storage": {"replicate": True}}, "northeurope"),
        ({**AZURE, "regions": ["polandcentral", "westeurope"]}, None),  # no paired region
        ({**GCP, "regions": ["europe-west4", "us-central1", "asia-northeast1"]}, "europe-north1"),
        ({**GCP, "regions": ["us-east4", "europe-west1", "us-west1"]}, "us-west1"),
        ({**GCP, "regions": ["europe-west2", "us-central1"]}, None),  # London: no multi-region
        ({**GCP, "regions": ["europe-west10", "us-central1"]}, "europe-west4"),
    ],
)
def test_replica_region_defaults_per_cloud(data: dict, expected: str | None) -> None:
    spec = PlatformSpec.model_validate(data)
    assert spec.replica_region == expected
    assert spec.store_settings()["replication"] == ({"region": expected} if expected else None)


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({**AZURE, "regions": ["westeurope", "eastus2"], "storage": {"replica_region": "eastus2"}},
         ["storage.replica_region", "'northeurope', the paired region"]),
        ({**AZURE, "regions": ["polandcentral"], "storage": {"replicate": True}},
         ["storage.replica_region", "no paired region"]),
        ({**GCP, "regions": ["europe-west4", "us-central1"], "storage": {"replica_region": "us-central1"}},
         ["storage.replica_region", "EU multi-region", "europe-north1"]),
        ({**GCP, "regions": ["southamerica-east1"], "storage": {"replicate": True}},
         ["storage.replica_region", "no Cloud Storage multi-region"]),
        ({**GOOD, "storage": {"replica_region": "westeurope"}}, ["storage.replica_region", "not a aws region"]),
        ({**GOOD, "storage": {"replica_region": "eu-west-1"}}, ["storage.replica_region", "primary region"]),
        ({**GOOD, "storage": {"replica_region": "us-east-1", "replicate": False}}, ["storage.replicate is false"]),
        ({**GOOD, "storage": {"replicate": True, "versioning": False}}, ["storage.replicate", "storage.versioning"]),
        ({**GOOD, "storage": {"versioning": False}, "serving": {"endpoints": [{"name": "churn"}]}},
         ["storage.versioning", "['eu-central-1']", "SageMaker"]),
    ],
)
def test_replica_region_errors_name_the_field(tmp_path: Path, data: dict, fragments: list[str]) -> None:
    msg = error_of(tmp_path, data)
    assert len(msg.splitlines()) == 1, msg
    for fragment in fragments:
        assert fragment in msg, msg


def test_routing_geo_is_checked_against_the_provider(tmp_path: Path) -> None:
    serving = {"endpoints": [{"name": "churn"}]}
    routing = {"policy": "geo", "domain": "ml.example.com"}
    ok = PlatformSpec.model_validate({**GOOD, "serving": serving,
                                      "routing": {**routing, "geo": {"eu-central-1": ["DE", "AT"], "eu-west-1": ["*"]}}})
    assert ok.routing is not None and ok.routing.geo == {"eu-central-1": ["DE", "AT"], "eu-west-1": ["*"]}
    cases = [
        ({**GOOD, "routing": {**routing, "geo": {"eu-central-1": ["GEO-EU"]}}}, "not a Route 53 location"),
        ({**GOOD, "routing": {**routing, "geo": {"us-east-1": ["US"]}}}, "not one of `regions`"),
        ({**GOOD, "routing": {**routing, "geo": {"eu-west-1": ["DE"], "eu-central-1": ["DE"]}}}, "is already answered by"),
        ({**GOOD, "routing": {**routing, "policy": "latency", "geo": {"eu-west-1": ["DE"]}}}, "only used with routing.policy: geo"),
        ({**AZURE, "regions": ["westeurope", "northeurope"], "routing": {**routing, "geo": {"northeurope": ["EU"]}}},
         "not a Traffic Manager geographic code"),
        ({**GCP, "regions": ["us-central1", "us-east1"], "routing": {**routing, "geo": {"us-east1": ["US"]}}},
         "GCP geo routing"),
        ({**GOOD, "routing": {**routing, "geo": {"eu-west-1": []}}}, "at least one location code"),
    ]
    for data, fragment in cases:
        msg = error_of(tmp_path, {**data, "serving": serving})
        assert "routing.geo" in msg and fragment in msg, msg
    azure_ok = PlatformSpec.model_validate({**AZURE, "regions": ["westeurope", "northeurope"], "serving": serving,
                                            "routing": {**routing, "geo": {"northeurope": ["IE", "GB", "GEO-ME", "US-CA"]}}})
    assert azure_ok.routing is not None


def test_gcp_region_names_with_two_digits(tmp_path: Path) -> None:
    spec = PlatformSpec.model_validate({**GCP, "regions": ["europe-west10", "europe-west12"]})
    assert spec.replica_region == "europe-west12"


def test_rotation_bounds(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "storage": {"encryption": {"rotation_days": 10}}})
    assert "storage.encryption.rotation_days" in msg and "90" in msg


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "name: [unclosed\ncloud: aws\n")
    assert "invalid YAML" in msg and "line" in msg


def test_not_a_mapping(tmp_path: Path) -> None:
    assert "must be a YAML mapping" in error_of(tmp_path, "- a\n- b\n")


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such spec file"):
        load_specs([tmp_path / "nope.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match="holds no"):
        load_specs([tmp_path / "empty"])


def test_duplicate_stack_names(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(SpecError, match="already used"):
        load_specs([tmp_path])


def test_spec_is_frozen() -> None:
    spec = PlatformSpec.model_validate(GOOD)
    with pytest.raises(Exception):
        spec.name = "other"  # type: ignore[misc]


@given(st.text(min_size=1, max_size=40))
def test_names_are_validated_not_crashing(name: str) -> None:
    try:
        spec = PlatformSpec.model_validate({**GOOD, "name": name})
    except Exception as exc:  # pydantic ValidationError
        assert "name" in str(exc)
    else:
        assert spec.name[0].isalpha() and spec.name == spec.name.lower()


def test_reference_specs_are_valid() -> None:
    specs = load_specs([Path(__file__).parents[2] / "examples" / "reference"])
    assert sorted(s.cloud for s in specs) == ["aws", "azure", "gcp"]
    assert all(len(s.regions) == 2 for s in specs)


def test_retraining_must_name_a_pipeline(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "pipelines": [{"name": "train"}], "retraining": {"pipeline": "trian"}})
    assert "retraining.pipeline: 'trian' is not one of pipelines ['train']" in msg


def test_retraining_schedule_is_cron(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "pipelines": [{"name": "train"}], "retraining": {"pipeline": "train", "schedule": "daily"}})
    assert "retraining.schedule" in msg and "5-field cron" in msg


def test_airflow_is_refused_on_azure(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "cloud": "azure", "regions": ["westeurope"], "azure": {"resource_group": "rg"}, "airflow": {}})
    assert "airflow: Azure has no managed Airflow" in msg


def test_state_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, {**GOOD, "state": {}}))
    assert spec.state_name == "demo-ml-dev-tfstate" and spec.state_key == "demo-ml/terraform.tfstate"
    az = PlatformSpec.model_validate({**GOOD, "cloud": "azure", "regions": ["westeurope"], "azure": {"resource_group": "rg"}, "state": {}})
    assert az.state_name == "demomldevtfstate"


def test_placeholder_image_and_baseline_are_checked_per_cloud(tmp_path: Path) -> None:
    gcp = {**GOOD, "cloud": "gcp", "regions": ["us-central1"], "gcp": {"project": "demo-project-1"}}
    msg = error_of(tmp_path, {**gcp, "serving": {"endpoints": [{"name": "churn", "placeholder_image": "r/img:1"}]}})
    assert "serving.endpoints[0].placeholder_image" in msg and "remove it" in msg
    azure = {**GOOD, "cloud": "azure", "regions": ["westeurope"], "azure": {"resource_group": "rg-ml"}}
    msg = error_of(tmp_path, {**azure, "monitoring": {"alert_emails": ["a@example.com"],
                                                      "data_quality_baseline_uri": "s3://bucket/base"}})
    assert "monitoring.data_quality_baseline_uri" in msg and "AWS" in msg
    msg = error_of(tmp_path, {**GOOD, "monitoring": {"alert_emails": ["a@example.com"],
                                                     "data_quality_baseline_uri": "https://x/y"}})
    assert "data_quality_baseline_uri" in msg
    spec = load_spec(write(tmp_path, {
        **GOOD,
        "serving": {"endpoints": [{"name": "churn", "placeholder_image": "123.dkr.ecr.eu-west-1.amazonaws.com/ph:1"}]},
        "monitoring": {"alert_emails": ["a@example.com"], "data_quality_baseline_uri": "s3://bucket/base"},
    }))
    assert spec.serving is not None and spec.serving.endpoints[0].placeholder_image.endswith("/ph:1")
    assert spec.monitoring is not None and spec.monitoring.data_quality_baseline_uri == "s3://bucket/base"


def test_on_demand_max_nodes_rules(tmp_path: Path) -> None:
    def pool_error(pool: dict) -> str:
        return error_of(tmp_path, {**GOOD, "network": {}, "training": {"pools": [{"name": "gpu", **pool}]}})

    assert "must not exceed max_nodes" in pool_error({"max_nodes": 2, "on_demand_max_nodes": 3})
    assert "remove it" in pool_error({"spot": False, "on_demand_max_nodes": 1})
    spec = load_spec(write(tmp_path, {**GOOD, "network": {},
                                      "training": {"pools": [{"name": "gpu", "max_nodes": 4, "on_demand_max_nodes": 1}]}}))
    assert spec.training is not None and spec.training.pools[0].fallback_max_nodes == 1


def test_airflow_on_aws_needs_two_zones(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "network": {"zones": 1}, "airflow": {}})
    assert "network.zones" in msg and "airflow" in msg


def test_list_positions_read_like_the_spec(tmp_path: Path) -> None:
    msg = error_of(tmp_path, {**GOOD, "network": {}, "training": {"pools": [{"name": "gpu", "max_nodes": "two"}]}})
    assert "training.pools[0].max_nodes:" in msg


def test_every_cross_field_problem_is_reported_on_its_own_line(tmp_path: Path) -> None:
    spec = write(tmp_path, {
        **GOOD,
        "regions": ["eu-west-1", "eu-west-1"],
        "gcp": {"project": "some-project-1"},
        "routing": {"domain": "ml.example.com"},
        "storage": {"replicate": True},
        "network": {"zones": 1},
        "airflow": {},
    })
    with pytest.raises(SpecError) as exc:
        load_spec(spec)
    lines = str(exc.value).splitlines()
    assert lines == [
        f"{spec}: regions: each region may appear once",
        f"{spec}: gcp: section given but cloud is aws; remove it",
        f"{spec}: routing: needs a `serving` section with at least one endpoint",
        f"{spec}: network.zones: airflow (MWAA) runs in the platform network and needs private subnets in two "
        "availability zones, but zones is 1; set network.zones to 2 or 3, or remove airflow",
    ]


def test_spec_remembers_its_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_spec(path).source == str(path)
    assert PlatformSpec.model_validate(GOOD).source is None


def test_azure_spec_cannot_name_an_existing_store_key(tmp_path: Path) -> None:
    azure = {**GOOD, "cloud": "azure", "regions": ["westeurope"], "azure": {"resource_group": "rg-ml"}}
    key = "https://kv-ml.vault.azure.net/keys/data/0123456789abcdef0123456789abcdef"
    msg = error_of(tmp_path, {**azure, "storage": {"encryption": {"key_id": key}}})
    assert "storage.encryption.key_id: on Azure" in msg and "remove key_id" in msg


def test_binary_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"name: abc\n\xff\xfe")
    with pytest.raises(SpecError, match=r"spec.yaml: not UTF-8 text \(byte 10\)"):
        load_spec(path)


def test_gcp_spec_cannot_use_an_existing_network(tmp_path: Path) -> None:
    gcp = {**GOOD, "cloud": "gcp", "regions": ["us-central1"], "gcp": {"project": "demo-project-1"}}
    existing = {"network_id": "projects/p/global/networks/n", "subnet_ids": ["projects/p/regions/us-central1/subnetworks/s"]}
    msg = error_of(tmp_path, {**gcp, "network": {"existing": existing}})
    assert "network.existing: on GCP" in msg and "remove existing" in msg
