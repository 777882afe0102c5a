"""Data versioning on AWS, applied into moto: the Delta Lake lock table with a real writer, and DVC.

``examples/data-versioning/aws.yaml`` is applied with ``terraform`` into a moto server on loopback
(buckets, keys, the DynamoDB commit lock tables, the roles and their grants). Then, with the
stack's own outputs (``terraform output -json``) and only the endpoint and the fake credentials
added:

* the ``deltalake`` package (delta-rs) commits to a Delta table in the artifacts store with the
  storage options of ``store_artifacts_delta``: a create and two appends from two concurrent
  writers, all committed (versions 0, 1, 2), every row readable. delta-rs 1.6+ (the dev install)
  uses S3 conditional writes; delta-rs 1.5 (a side install, as Spark's log store would) commits
  through the ``lock_table`` of the output, and each commit is recorded there the way the DynamoDB
  log store records it (complete, with an ``expireTime`` for the TTL);
* ``cdktf-mlops dvc --tf-outputs`` prints the remotes with every value known (``sse: aws:kms`` and
  the store's key ARN), and ``dvc push`` / ``dvc pull`` round-trip through moto with objects
  encrypted under that key.

The stores' bucket policies are not applied here: they deny plain-HTTP requests
(``aws:SecureTransport``), and moto serves HTTP on loopback (see ``RUN_MOTO_TYPES`` in conftest).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.aws.delta import COMMIT_ACTIONS, HASH_KEY, RANGE_KEY, TTL_ATTRIBUTE, lock_options
from constructs_lib.ops.dvc import dvc_config
from constructs_lib.platform import synthesize

from .conftest import DEFAULT_MOTO_SERVICES, FAKE_CREDENTIALS, MOTO_SUPPORTED_TYPES

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "data-versioning" / "aws.yaml"
REGION = "eu-west-1"
#: What this test applies: the stores (keys, buckets and their settings), the lock tables and the
#: identities with their grants. Left out: bucket policies (TLS-only, which moto's plain-HTTP
#: endpoint cannot satisfy), lifecycle rules (a minute of waiting in moto, nothing to do with
#: versioning) and the network and training compute (covered by tests/deploy/test_aws_moto.py).
SUPPORTED = frozenset(
    t for t in MOTO_SUPPORTED_TYPES
    if t.startswith(("aws_s3_", "aws_kms_", "aws_iam_role")) and t not in ("aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration")
) | {"aws_dynamodb_table"}


@pytest.fixture(scope="module")
def deployed(moto_deploy, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("dataver-aws") / "cdktf.out"
    (stack,) = synthesize([SPEC], outdir=out).stacks
    doc = json.loads((stack.directory / "cdk.tf.json").read_text())
    for block in doc["provider"]["aws"]:
        # moto's account is the spec's 123456789012, but the moto override skips asking for it
        # (skip_requesting_account_id), so the provider could not check allowed_account_ids
        assert block.pop("allowed_account_ids") == ["123456789012"]
    result = moto_deploy(
        doc, tmp_path_factory.mktemp("dataver-aws-tf"),
        services=(*DEFAULT_MOTO_SERVICES, "dynamodb"), only_moto_supported=True, supported=SUPPORTED,
    )
    return result


def _value(deployed: dict[str, Any], name: str) -> Any:
    return deployed["outputs"][name]["value"]


def test_lock_tables_are_applied_as_delta_expects(deployed, boto3_client) -> None:
    ddb = boto3_client("dynamodb", REGION)
    keys = {o: _value(deployed, f"store_{o}_key") for o in ("data", "artifacts")}
    for store, key in keys.items():
        name = _value(deployed, f"store_{store}_delta")["lock_table"]
        table = ddb.describe_table(TableName=name)["Table"]
        assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {HASH_KEY: "HASH", RANGE_KEY: "RANGE"}
        assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {HASH_KEY: "S", RANGE_KEY: "S"}
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSEDescription"]["SSEType"] == "KMS" and table["SSEDescription"]["KMSMasterKeyArn"] == key
        assert table["DeletionProtectionEnabled"] is True
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": TTL_ATTRIBUTE}


def test_writers_may_commit_through_the_artifacts_lock_table_only(deployed) -> None:
    resources = deployed["resources"]
    table_arn = next(v["arn"] for a, v in resources.items() if a.startswith("aws_dynamodb_table.artifacts_"))
    commit_roles = set()
    for address, values in resources.items():
        if not address.startswith("aws_iam_role_policy."):
            continue
        statements = json.loads(values["policy"])["Statement"]
        dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
        if dynamo:
            assert [s["Resource"] for s in dynamo] == [table_arn] and dynamo[0]["Action"] == sorted(COMMIT_ACTIONS)
            commit_roles.add(values["role"])
    assert len(commit_roles) == 2 and any("training" in r for r in commit_roles) and any("prepare" in r for r in commit_roles)


def _overrides(moto_endpoint: str) -> dict[str, str]:
    """Only where and as whom: the emulator on loopback and its fake credentials."""
    return {
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_ENDPOINT_URL_DYNAMODB": moto_endpoint, "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["access_key"], "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["secret_key"],
    }


#: Two concurrent appends after a create, in a separate interpreter (so that a second deltalake
#: version can be put first on its path); prints the table version and the writers' rows.
WRITERS = """
import json, sys, threading
import deltalake, pyarrow as pa
uri, options = sys.argv[1], json.loads(sys.argv[2])
schema = pa.schema([("writer", pa.string()), ("rows", pa.int64())])
deltalake.DeltaTable.create(uri, schema=schema, storage_options=options)
errors = []
def write(name):
    try:
        deltalake.write_deltalake(uri, pa.table({"writer": [name], "rows": [1]}, schema=schema), mode="append", storage_options=options)
    except BaseException as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=write, args=(n,)) for n in ("job-a", "job-b")]
[t.start() for t in threads]
[t.join(timeout=120) for t in threads]
table = deltalake.DeltaTable(uri, storage_options=options)
print(json.dumps({"deltalake": deltalake.__version__, "errors": errors, "version": table.version(),
                  "writers": sorted(table.to_pyarrow_table().column("writer").to_pylist())}), flush=True)
import os
os._exit(0)  # skip interpreter teardown: delta-rs' runtime threads abort it ("terminate called ...")
"""


def _write_twice(uri: str, options: dict[str, str], pythonpath: str | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, "-c", WRITERS, uri, json.dumps(options)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_concurrent_delta_writers_both_commit(deployed, moto_endpoint) -> None:
    """delta-rs as installed (1.6+): the output's storage options, S3 conditional writes, no lock."""
    pytest.importorskip("deltalake", reason="deltalake not installed: pip install -e '.[dev]'")
    delta = _value(deployed, "store_artifacts_delta")
    result = _write_twice(delta["root"] + "events", {**delta["storage_options"], **_overrides(moto_endpoint)})
    assert result["errors"] == [] and result["version"] == 2 and result["writers"] == ["job-a", "job-b"], result


def test_the_lock_table_serves_a_writer_that_uses_it(deployed, moto_endpoint, boto3_client) -> None:
    """delta-rs 1.5 still commits through DynamoDB: with the lock table of the output, both writers
    commit and each commit is recorded in the table the way the log store records it."""
    legacy = Path(os.environ.get("CDKTF_MLOPS_DELTALAKE_LEGACY", ROOT / ".tools" / "deltalake-1.5.1"))
    if not (legacy / "deltalake").is_dir():
        pytest.skip(f"no deltalake 1.5 in {legacy}: pip install --no-deps --target {legacy} deltalake==1.5.1 (make tools)")
    delta = _value(deployed, "store_artifacts_delta")
    options = {**delta["storage_options"], **lock_options(delta["lock_table"], REGION), **_overrides(moto_endpoint)}
    uri = delta["root"] + "locked"
    result = _write_twice(uri, options, pythonpath=str(legacy))
    assert result["deltalake"].startswith("1.5.")
    assert result["errors"] == [] and result["version"] == 2 and result["writers"] == ["job-a", "job-b"], result
    items = boto3_client("dynamodb", REGION).scan(TableName=delta["lock_table"], ConsistentRead=True)["Items"]
    entries = {i[RANGE_KEY]["S"]: i for i in items if i[HASH_KEY]["S"].rstrip("/").endswith("/delta/locked")}
    for version in (0, 1, 2):
        entry = entries[f"{version:020d}.json"]
        assert entry["complete"]["S"] == "true" and int(entry[TTL_ATTRIBUTE]["N"]) > 0


def test_dvc_round_trip_with_the_deployed_outputs(deployed, moto_endpoint, boto3_client, tmp_path: Path, monkeypatch) -> None:
    exe = shutil.which("dvc") or str(Path(sys.executable).parent / "dvc")
    if not Path(exe).exists():
        pytest.skip("dvc is not installed: pip install -e '.[dev]'")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(deployed["outputs"]))
    snippet = dvc_config(tmp_path, tf_outputs=outputs, store="artifacts")
    key = _value(deployed, "store_artifacts_key")
    assert "    sse = aws:kms\n" in snippet and f"    sse_kms_key_id = {key}\n" in snippet
    for var, value in {"AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["access_key"], "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["secret_key"],
                       "DVC_NO_ANALYTICS": "1", "DVC_GLOBAL_CONFIG_DIR": str(tmp_path / "g"),
                       "DVC_SYSTEM_CONFIG_DIR": str(tmp_path / "s"), "DVC_SITE_CACHE_DIR": str(tmp_path / "c")}.items():
        monkeypatch.setenv(var, value)

    def dvc(*args: str) -> None:
        proc = subprocess.run([exe, *args], cwd=repo, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, f"dvc {' '.join(args)}: {proc.stderr}"

    repo = tmp_path / "repo"
    repo.mkdir()
    dvc("init", "--no-scm")
    with (repo / ".dvc" / "config").open("a") as f:
        f.write(snippet)
    dvc("remote", "modify", "--local", "artifacts", "endpointurl", moto_endpoint)
    (repo / "model.bin").write_bytes(b"\x00weights\x01")
    dvc("add", "model.bin")
    dvc("push", "-r", "artifacts")
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / "model.bin").unlink()
    dvc("pull", "-r", "artifacts")
    assert (repo / "model.bin").read_bytes() == b"\x00weights\x01"
    bucket = _value(deployed, "store_artifacts_name")
    s3 = boto3_client("s3", REGION)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dvc/")["Contents"]]
    assert keys and all(k.startswith("dvc/files/md5/") for k in keys)
    head = s3.head_object(Bucket=bucket, Key=keys[0])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key
