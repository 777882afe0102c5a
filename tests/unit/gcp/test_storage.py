"""gcp.DataStore: synthesized JSON, props validation, grants, determinism, schema and checkov."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from constructs_lib.core import engine
from constructs_lib.core import props as core_props
from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.tags import Tags
from constructs_lib.gcp import DataStore, DataStoreProps, Key, Recovery

from .conftest import PROJECT

BUCKET = "google_storage_bucket"
BUCKET_IAM = "google_storage_bucket_iam_member"
KEY = "google_kms_crypto_key"
RING = "google_kms_key_ring"
KEY_IAM = "google_kms_crypto_key_iam_member"
SA = "serviceAccount:trainer@ml-platform-dev.iam.gserviceaccount.com"
SUPPLIED_KEY = f"projects/{PROJECT}/locations/us-central1/keyRings/shared/cryptoKeys/data"


def props(**kw) -> DataStoreProps:
    base = {"name": "training-data", "project": PROJECT, "location": "us-central1"}
    return DataStoreProps(**{**base, **kw})


def store(build, **kw):
    holder = {}

    def body(stack):
        holder["ds"] = DataStore(stack, "Data", props(**kw))

    built = build(body)
    return built, holder["ds"]


# --- the bucket ---------------------------------------------------------------------------------


def test_default_bucket_is_secure(build) -> None:
    built, ds = store(build)
    bucket = built.by_path(BUCKET, "gcp/Data/Resource")
    assert bucket["name"] == "ml-platform-dev-training-data"
    assert bucket["project"] == PROJECT
    assert bucket["location"] == "US-CENTRAL1"
    assert "custom_placement_config" not in bucket and "rpo" not in bucket
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["force_destroy"] is False
    assert bucket["storage_class"] == "STANDARD"
    assert bucket["soft_delete_policy"] == {"retention_duration_seconds": 7 * 86400}
    # deletion protection: Terraform's and the provider's own
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    assert bucket["deletion_policy"] == "PREVENT"
    # CMEK: the created key, and no other kind of key accepted for new objects
    assert bucket["encryption"] == {
        "default_kms_key_name": "${" + built.address(ds.key.resource) + ".id}",
        "google_managed_encryption_enforcement_config": {"restriction_mode": "FullyRestricted"},
        "customer_supplied_encryption_enforcement_config": {"restriction_mode": "FullyRestricted"},
    }
    # the service agent holds the key before the bucket is created
    grant = ds.key.grants[0]
    assert bucket["depends_on"] == [built.address(grant)]


def test_access_logs_go_to_a_hardened_log_bucket(build) -> None:
    built, ds = store(build, lifecycle={"noncurrent_version_expiry_days": 20})
    bucket = built.by_path(BUCKET, "gcp/Data/Resource")
    logs = built.by_path(BUCKET, "gcp/Data/LogBucket")
    assert bucket["logging"] == {
        "log_bucket": "${" + built.address(ds.log_bucket) + ".name}",
        "log_object_prefix": "ml-platform-dev-training-data",
    }
    assert logs["name"] == "ml-platform-dev-training-data-logs"
    assert logs["location"] == "US-CENTRAL1"
    assert logs["public_access_prevention"] == "enforced"
    assert logs["uniform_bucket_level_access"] is True
    assert logs["versioning"] == {"enabled": True}
    assert logs["encryption"]["default_kms_key_name"] == bucket["encryption"]["default_kms_key_name"]
    assert logs["lifecycle"] == {"prevent_destroy": True}
    assert "logging" not in logs
    assert logs["lifecycle_rule"][0] == {"action": {"type": "Delete"}, "condition": {"age": 365}}
    assert logs["lifecycle_rule"][1]["condition"]["days_since_noncurrent_time"] == 20
    writer = built.by_path(BUCKET_IAM, "gcp/Data/LogWriter")
    assert writer["role"] == "roles/storage.objectCreator"
    assert writer["member"] == "group:cloud-storage-analytics@google.com"
    assert writer["bucket"] == "${" + built.address(ds.log_bucket) + ".name}"
    # the log bucket's own missing log is acknowledged on it, with a reason, and nowhere else
    acks = {a.check_id: a.reason for a in Acknowledge.of(ds.log_bucket).effective()}
    assert "CKV_GCP_62" in acks and "usage-log bucket" in acks["CKV_GCP_62"]
    assert "CKV_GCP_62" not in {a.check_id for a in Acknowledge.of(ds.resource).effective()}


def test_lifecycle_rules_follow_props(build) -> None:
    built, _ = store(
        build,
        lifecycle={
            "infrequent_access_after_days": 45,
            "archive_after_days": 400,
            "noncurrent_version_expiry_days": 12,
            "abort_incomplete_upload_days": 3,
        },
    )
    rules = built.by_path(BUCKET, "gcp/Data/Resource")["lifecycle_rule"]
    assert rules == [
        {
            "action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
            "condition": {"age": 45, "matches_storage_class": ["STANDARD"]},
        },
        {
            "action": {"type": "SetStorageClass", "storage_class": "COLDLINE"},
            "condition": {"age": 400, "matches_storage_class": ["STANDARD", "NEARLINE"]},
        },
        {
            "action": {"type": "Delete"},
            "condition": {
                "days_since_noncurrent_time": 12,
                "with_state": "ARCHIVED",
                "send_age_if_zero": False,
            },
        },
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 3}},
    ]


def test_tiering_can_be_turned_off(build) -> None:
    built, _ = store(build, lifecycle={"infrequent_access_after_days": None, "archive_after_days": None})
    types = [r["action"]["type"] for r in built.by_path(BUCKET, "gcp/Data/Resource")["lifecycle_rule"]]
    assert types == ["Delete", "AbortIncompleteMultipartUpload"]


def test_created_key_matches_bucket_region(build) -> None:
    built, ds = store(build, encryption={"rotation_days": 90, "deletion_window_days": 7})
    assert isinstance(ds.key, Key)
    ring = built.by_path(RING, "gcp/Data/Key/Ring")
    key = built.by_path(KEY, "gcp/Data/Key/Resource")
    assert ring["location"] == "us-central1" and ring["project"] == PROJECT
    assert key["key_ring"] == "${" + built.address(ds.key.key_ring) + ".id}"
    assert key["purpose"] == "ENCRYPT_DECRYPT"
    assert key["rotation_period"] == "7776000s"
    assert key["destroy_scheduled_duration"] == "604800s"
    assert key["lifecycle"] == {"prevent_destroy": True} and key["deletion_policy"] == "PREVENT"
    # exactly one key grant: the Cloud Storage service agent, encrypter/decrypter, on this key only
    (grant,) = built.resources(KEY_IAM).values()
    assert grant["crypto_key_id"] == "${" + built.address(ds.key.resource) + ".id}"
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"] == "${data." + built.address(ds.service_agent) + ".member}"
    (agent,) = built.data("google_storage_project_service_account").values()
    assert agent["project"] == PROJECT
    # 90-day rotation meets CKV_GCP_43: nothing to acknowledge
    assert "CKV_GCP_43" not in {a.check_id for a in Acknowledge.of(ds.key.resource).effective()}


def test_supplied_key_is_used_and_granted_to_the_service_agent(build) -> None:
    built, ds = store(build, encryption={"key_id": SUPPLIED_KEY})
    assert ds.key is None and ds.key_id == SUPPLIED_KEY
    assert built.resources(KEY) == {} and built.resources(RING) == {}
    bucket = built.by_path(BUCKET, "gcp/Data/Resource")
    assert bucket["encryption"]["default_kms_key_name"] == SUPPLIED_KEY
    grant = built.by_path(KEY_IAM, "gcp/Data/KeyServiceAgent")
    assert grant["crypto_key_id"] == SUPPLIED_KEY
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert bucket["depends_on"] == [f"{KEY_IAM}.{next(iter(built.resources(KEY_IAM)))}"]


def test_supplied_key_grant_can_be_left_to_its_owner(build) -> None:
    built, _ = store(build, encryption={"key_id": SUPPLIED_KEY}, grant_key_to_service_agent=False)
    assert built.resources(KEY_IAM) == {}
    assert "depends_on" not in built.by_path(BUCKET, "gcp/Data/Resource")


# --- replication --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("primary", "second", "multi"),
    [
        ("us-central1", "us-east1", "US"),
        ("europe-west1", "europe-west4", "EU"),
        ("asia-northeast1", "asia-northeast2", "ASIA"),
    ],
)
def test_replication_is_a_turbo_dual_region_bucket(build, primary, second, multi) -> None:
    built, ds = store(build, location=primary, replication={"region": second})
    bucket = built.by_path(BUCKET, "gcp/Data/Resource")
    assert bucket["location"] == multi
    assert bucket["custom_placement_config"] == {"data_locations": [primary.upper(), second.upper()]}
    assert bucket["rpo"] == "ASYNC_TURBO"
    # key ring in the multi-region (lowercase); the log bucket in the same location, no placement
    assert built.by_path(RING, "gcp/Data/Key/Ring")["location"] == multi.lower()
    logs = built.by_path(BUCKET, "gcp/Data/LogBucket")
    assert logs["location"] == multi and "custom_placement_config" not in logs and "rpo" not in logs
    assert ds.replica is ds.resource
    assert ds.recovery == Recovery(rpo_minutes=15, rto_minutes=0, replica_region=second)
    assert ds.kms_location == multi.lower()


def test_relaxed_rpo_uses_default_replication(build) -> None:
    built, ds = store(build, replication={"region": "us-east4", "rpo_minutes": 720})
    assert built.by_path(BUCKET, "gcp/Data/Resource")["rpo"] == "DEFAULT"
    assert ds.recovery == Recovery(rpo_minutes=720, rto_minutes=0, replica_region="us-east4")


def test_regional_store_has_no_replica(build) -> None:
    _, ds = store(build)
    assert ds.replica is None
    assert ds.recovery == Recovery(rpo_minutes=None, rto_minutes=None)
    assert ds.location == "US-CENTRAL1" and ds.kms_location == "us-central1"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"replication": {"region": "europe-west1"}}, "not in the same Cloud Storage multi-region"),
        ({"location": "europe-west2", "replication": {"region": "europe-west1"}}, "same Cloud Storage multi-region"),
        ({"replication": {"region": "us-central1"}}, "must differ from location"),
        ({"replication": {"region": "US-EAST1"}}, "not a lowercase GCP region"),
        ({"location": "US"}, "not a lowercase GCP region"),
        ({"location": "us"}, "not a lowercase GCP region"),
        ({"replication": {"region": "us-east1"}, "versioning": False}, "replication needs versioning"),
        ({"soft_delete_days": 3}, "must be 0 (off) or between 7 and 90"),
        ({"encryption": {"key_id": "my-key"}}, "not a Cloud KMS crypto key id"),
        (
            {"replication": {"region": "us-east1"}, "encryption": {"key_id": SUPPLIED_KEY}},
            "needs a key in 'us'",
        ),
        ({"project": "Bad_Project"}, "project"),
        ({"name": "Bad Name"}, "name"),
        ({"tls": True}, "Extra inputs are not permitted"),
    ],
)
def test_props_errors_say_what_to_change(kw, message) -> None:
    with pytest.raises(ValueError) as err:
        props(**kw)
    assert isinstance(err.value, ValidationError)
    assert message in str(err.value)


def test_props_keep_the_shared_field_names() -> None:
    shared = set(core_props.DataStoreProps.model_fields)
    gcp = set(DataStoreProps.model_fields)
    assert shared <= gcp
    assert gcp - shared == {
        "project",
        "location",
        "soft_delete_days",
        "log_retention_days",
        "enforce_cmek_only",
        "grant_key_to_service_agent",
    }
    for name, field in DataStoreProps.model_fields.items():
        assert field.description, f"{name} has no description"


def test_shared_props_without_project_are_refused(build) -> None:
    with pytest.raises(TypeError, match=r"gcp\.storage\.DataStoreProps \(with project and location\)"):
        build(lambda s: DataStore(s, "Data", core_props.DataStoreProps(name="training-data")))


# --- switches -----------------------------------------------------------------------------------


def test_everything_off_is_explicit_and_acknowledged(build) -> None:
    built, ds = store(
        build,
        versioning=False,
        access_logging=False,
        deletion_protection=False,
        soft_delete_days=0,
        enforce_cmek_only=False,
    )
    bucket = built.by_path(BUCKET, "gcp/Data/Resource")
    assert bucket["versioning"] == {"enabled": False}
    assert "logging" not in bucket and "lifecycle" not in bucket and "deletion_policy" not in bucket
    assert bucket["soft_delete_policy"] == {"retention_duration_seconds": 0}
    assert set(bucket["encryption"]) == {"default_kms_key_name"}
    assert ds.log_bucket is None and len(built.resources(BUCKET)) == 1
    assert built.resources(BUCKET_IAM) == {}
    key = built.by_path(KEY, "gcp/Data/Key/Resource")
    assert "lifecycle" not in key and "deletion_policy" not in key
    # still secure where it is not a choice
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["uniform_bucket_level_access"] is True
    acks = {a.check_id for a in Acknowledge.of(ds.resource).effective()}
    assert {"CKV_GCP_62", "CKV_GCP_78"} <= acks
    assert "CKV_GCP_82" in {a.check_id for a in Acknowledge.of(ds.key.resource).effective()}


# --- grants -------------------------------------------------------------------------------------


def test_grant_read_is_object_viewer_only(build) -> None:
    holder = {}

    def body(stack):
        holder["ds"] = ds = DataStore(stack, "Data", props(access_logging=False))
        holder["read"] = ds.grant_read(SA)

    built = build(body)
    ds = holder["ds"]
    grants = list(built.resources(BUCKET_IAM).values())
    assert [(g["role"], g["member"]) for g in grants] == [("roles/storage.objectViewer", SA)]
    assert grants[0]["bucket"] == "${" + built.address(ds.resource) + ".name}"
    assert len(holder["read"]) == 1
    # readers get no key role: the service agent decrypts
    assert [g["member"] for g in built.resources(KEY_IAM).values()] == [
        "${data." + built.address(ds.service_agent) + ".member}"
    ]


def test_grant_write_is_creator_and_viewer_and_dedupes(build) -> None:
    group = "group:ml-engineers@example.com"

    def body(stack):
        ds = DataStore(stack, "Data", props(access_logging=False))
        ds.grant_write(SA)
        ds.grant_read(SA)  # already covered by the write grant's viewer role
        ds.grant_read(group)
        ds.grant_write(SA)  # idempotent

    built = build(body)
    pairs = sorted((g["role"], g["member"]) for g in built.resources(BUCKET_IAM).values())
    assert pairs == [
        ("roles/storage.objectCreator", SA),
        ("roles/storage.objectViewer", group),
        ("roles/storage.objectViewer", SA),
    ]
    roles = {g["role"] for g in built.resources(BUCKET_IAM).values()}
    assert not any("admin" in r.lower() or "owner" in r.lower() or "editor" in r.lower() for r in roles)


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ("allUsers", "would make the data store public"),
        ("allAuthenticatedUsers", "would make the data store public"),
        ("domain:example.com", "not an IAM member of a supported kind"),
        ("trainer@example.com", "not an IAM member of a supported kind"),
        ("serviceAccount:", "not an IAM member of a supported kind"),
        ("", "non-empty"),
    ],
)
def test_bad_principals_are_refused(build, principal, message) -> None:
    def body(stack):
        DataStore(stack, "Data", props()).grant_read(principal)

    with pytest.raises(ValueError, match=message):
        build(body)


def test_token_principals_need_a_stable_id(build) -> None:
    from constructs_lib.core.resource import Resource

    holder = {}

    def body(stack):
        ds = DataStore(stack, "Data", props(access_logging=False))
        sa = Resource(stack, "Trainer", "google_service_account", account_id="trainer")
        with pytest.raises(ValueError, match="pass id="):
            ds.grant_read(sa.ref("member"))
        holder["g"] = ds.grant_write(sa.ref("member"), id="Trainer")

    built = build(body)
    assert [g.node.id for g in holder["g"]] == ["ObjectCreatorTrainer", "ObjectViewerTrainer"]
    members = {g["member"] for g in built.resources(BUCKET_IAM).values()}
    assert members == {"${google_service_account.Trainer.member}"}


# --- attributes, labels, determinism, schema ----------------------------------------------------


def test_public_attributes_are_tokens_of_the_bucket(build) -> None:
    holder = {}

    def body(stack):
        ds = holder["ds"] = DataStore(stack, "Data", props())
        engine.TerraformOutput(stack, "name", value=ds.store_name)
        engine.TerraformOutput(stack, "id", value=ds.store_id)
        engine.TerraformOutput(stack, "key", value=ds.key_id)
        engine.TerraformOutput(stack, "url", value=ds.store_url)

    built = build(body)
    ds = holder["ds"]
    out = {k: v["value"] for k, v in built.doc["output"].items()}
    bucket = built.address(ds.resource)
    assert out == {
        "name": "${" + bucket + ".name}",
        "id": "${" + bucket + ".self_link}",
        "key": "${" + built.address(ds.key.resource) + ".id}",
        "url": "${" + bucket + ".url}",
    }
    assert ds.resource.node.id == "Resource"


def test_labels_reach_every_labelled_resource(build) -> None:
    from constructs_lib.core.synth import stack_document

    holder = {}

    def body(stack):
        holder["ds"] = DataStore(stack, "Data", props(tags={"Team": "ML Platform", "cost-center": "42"}))

    built = build(body)
    assert Tags.of(holder["ds"].resource).effective() == {"Team": "ML Platform", "cost-center": "42"}
    doc = stack_document(built.stack)
    expected = {"cost-center": "42", "team": "ml_platform"}
    assert {n: b["labels"] for n, b in doc["resource"][BUCKET].items()} == {
        n: expected for n in doc["resource"][BUCKET]
    }
    assert all(b["labels"] == expected for b in doc["resource"][KEY].values())


def _synth_text(tmp: Path, **kw) -> str:
    app = engine.App(outdir=str(tmp))
    stack = engine.TerraformStack(app, "gcp")
    ds = DataStore(stack, "Data", props(**kw))
    ds.grant_write(SA)
    return json.dumps(stack.to_terraform(), sort_keys=True)


def test_output_is_deterministic(tmp_path) -> None:
    first = _synth_text(tmp_path / "a", replication={"region": "us-east1"})
    second = _synth_text(tmp_path / "b", replication={"region": "us-east1"})
    assert first == second
    assert str(tmp_path) not in first


def test_blocks_match_the_bundled_google_schema(build) -> None:
    schema = importlib.util.find_spec("constructs_lib.core.schema")
    bundled = Path(__file__).resolve().parents[3] / "constructs_lib/core/schemas/google.json.gz"
    if schema is None or not bundled.exists():
        pytest.skip("constructs_lib.core.schema or the bundled google schema is not available")
    from constructs_lib.core.schema import validate_stack

    def body(stack):
        DataStore(stack, "Regional", props(tags={"team": "ml"})).grant_write(SA)
        DataStore(stack, "Dual", props(name="models", replication={"region": "us-east1"}))
        DataStore(stack, "Supplied", props(name="features", encryption={"key_id": SUPPLIED_KEY},
                                           access_logging=False, deletion_protection=False))

    assert validate_stack(build(body).doc, stack="gcp") == []


# --- checkov --------------------------------------------------------------------------------------


def _checkov() -> list[str] | None:
    local = Path(sys.executable).parent / "checkov"
    if importlib.util.find_spec("checkov") is None or not local.exists():
        return None
    return [str(local)]


def test_checkov_finds_nothing_unacknowledged(build, tmp_path) -> None:
    cmd = _checkov()
    if cmd is None:
        pytest.skip("checkov is not installed in this environment (pip install 'checkov>=3.3,<3.4')")

    def body(stack):
        DataStore(stack, "Regional", props(tags={"team": "ml"})).grant_write(SA)
        DataStore(stack, "Dual", props(name="models", replication={"region": "us-east1"})).grant_read(SA)
        DataStore(stack, "Supplied", props(name="features", encryption={"key_id": SUPPLIED_KEY}))
        DataStore(
            stack,
            "Scratch",
            props(name="scratch", versioning=False, access_logging=False, deletion_protection=False),
        )

    built = build(body)
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(built.doc, indent=2, sort_keys=True))
    proc = subprocess.run(
        [*cmd, "-f", str(path), "--framework", "terraform_json", "--skip-download",
         "--compact", "--quiet", "-o", "json"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 20, "checkov scanned too little: did it parse the file?"

    acked: dict[str, set[str]] = {}
    for node in built.stack.node.find_all():
        if isinstance(node, engine.TerraformElement) and hasattr(node, "terraform_resource_type"):
            acked[built.stack.get_logical_id(node)] = {a.check_id for a in Acknowledge.of(node).effective()}
    failed = report.get("results", {}).get("failed_checks", [])
    unacknowledged = [
        (f["check_id"], f["resource"])
        for f in failed
        if f["check_id"] not in acked.get(f["resource"].rsplit(".", 1)[-1], set())
    ]
    assert unacknowledged == []
    # every acknowledgement carries a reason, and each failed check is one we expect
    assert {f["check_id"] for f in failed} <= {"CKV_GCP_43", "CKV_GCP_62", "CKV_GCP_78", "CKV_GCP_82"}


def test_import_loads_no_other_cloud() -> None:
    code = (
        "import sys, constructs_lib.gcp\n"
        "bad = [m for m in sys.modules if m.startswith(('constructs_lib.aws', 'constructs_lib.azure',"
        " 'cdktf_cdktf_provider', 'cdktn_provider'))]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
