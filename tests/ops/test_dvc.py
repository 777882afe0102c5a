"""``cdktf-mlops dvc``: the printed ``.dvc/config`` snippet is accepted by DVC itself and works.

The snippet comes from the synthesized ``examples/data-versioning`` stacks. DVC (3.67, with the
dvc-s3, dvc-azure and dvc-gs plugins) reads it on a scratch repository (``dvc remote list``,
``dvc config -l``, ``dvc status``, which validates every option against DVC's schema, as the
negative test shows), and
a ``dvc push`` / ``dvc pull`` round trip runs against the emulators on loopback: moto (S3), Azurite
(Blob Storage), fake-gcs-server (Cloud Storage). The printed ``.dvc/config`` stays as printed: only
the endpoint and the emulator's credentials go into ``.dvc/config.local`` (``dvc remote modify
--local``) or the environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from constructs_lib.cli import app
from constructs_lib.ops.dvc import DvcConfigError, dvc_config, remotes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "data-versioning"
STACKS = {"aws": "dataver-aws", "azure": "dataver-azure", "gcp": "dataver-gcp"}


def _dvc_exe() -> str:
    exe = shutil.which("dvc") or str(Path(sys.executable).parent / "dvc")
    if not Path(exe).exists():
        pytest.skip("dvc is not installed: pip install -e '.[dev]' (dvc==3.67.1 with dvc-s3, dvc-azure, dvc-gs)")
    return exe


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from constructs_lib.platform import synthesize

    out = tmp_path_factory.mktemp("dataver") / "cdktf.out"
    synthesize([EXAMPLE], outdir=out)
    return out


@pytest.fixture
def dvc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``dvc(*args, cwd=repo)`` running the real DVC CLI with private global/system config and site cache."""
    exe = _dvc_exe()
    for var, sub in (("DVC_GLOBAL_CONFIG_DIR", "global"), ("DVC_SYSTEM_CONFIG_DIR", "system"), ("DVC_SITE_CACHE_DIR", "site")):
        monkeypatch.setenv(var, str(tmp_path / "dvc-home" / sub))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")

    def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"dvc {' '.join(args)} exited {proc.returncode}\n{proc.stderr}\n{proc.stdout}")
        return proc

    return run


def _repo(dvc, path: Path, snippet: str) -> Path:
    path.mkdir(parents=True)
    dvc("init", "--no-scm", cwd=path)
    with (path / ".dvc" / "config").open("a") as f:
        f.write(snippet)
    return path


def _config(dvc, repo: Path) -> dict[str, str]:
    lines = dvc("config", "-l", "--project", cwd=repo).stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


# --- the snippet ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", sorted(STACKS))
def test_dvc_accepts_the_printed_remotes(cloud: str, synthesized: Path, dvc, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dvc", "--out", str(synthesized), "--stack", STACKS[cloud]])
    assert result.exit_code == 0, result.output
    repo = _repo(dvc, tmp_path / "repo", result.stdout)
    dvc("status", cwd=repo)  # loads the repository: validates every option against DVC's schema
    listed = dict(line.split(None, 1) for line in dvc("remote", "list", cwd=repo).stdout.splitlines())
    expected = {r.name: r for r in remotes(synthesized, stack=STACKS[cloud])}
    assert {k: v.strip() for k, v in listed.items()} == {name: r.url for name, r in expected.items()}
    config = _config(dvc, repo)
    for name, remote in expected.items():
        assert config[f"remote.{name}.url"] == remote.url
        for key, value in remote.settings.items():
            assert config[f"remote.{name}.{key}"] == str(value), (name, key)
    scheme = {"aws": "s3://", "azure": "azure://", "gcp": "gs://"}[cloud]
    assert all(r.url.startswith(scheme) and r.url.endswith("/dvc") for r in expected.values())
    for line in result.stdout.splitlines():
        if not line.lstrip().startswith("#"):
            assert "${" not in line, line


def test_dvc_rejects_an_option_its_plugin_does_not_have(synthesized: Path, dvc, tmp_path: Path) -> None:
    """The acceptance above means something: DVC validates remote options against its schema."""
    snippet = dvc_config(synthesized, stack="dataver-gcp", store="data") + "    region = europe-west4\n"
    repo = _repo(dvc, tmp_path / "repo", snippet)
    proc = dvc("status", cwd=repo, check=False)
    assert proc.returncode != 0 and "extra keys not allowed" in proc.stderr and "region" in proc.stderr


def test_expected_settings_per_cloud(synthesized: Path) -> None:
    aws = {r.name: r for r in remotes(synthesized, stack="dataver-aws")}
    assert aws["data"].url == "s3://dataver-aws-dev-data-123456789012/dvc"
    assert aws["data"].settings == {"region": "eu-west-1"}  # the key ARN is only known after apply
    assert any("sse_kms_key_id" in note for note in aws["data"].notes)
    azure = {r.name: r for r in remotes(synthesized, stack="dataver-azure")}
    assert azure["artifacts"].url == "azure://data/dvc"
    assert re.match(r"^st[a-z0-9]{3,22}$", azure["artifacts"].settings["account_name"])
    gcp = {r.name: r for r in remotes(synthesized, stack="dataver-gcp")}
    assert gcp["data"].url == "gs://dataver-dev-dataver-gcp-dev-data/dvc"
    assert gcp["data"].settings == {"projectname": "dataver-dev"}


def test_terraform_outputs_give_the_sse_settings(tmp_path: Path) -> None:
    outputs = {
        "store_data_dvc": {"sensitive": False, "type": ["object", {}], "value": {
            "url": "s3://b-123456789012/dvc",
            "settings": {"region": "eu-west-1", "sse": "aws:kms",
                         "sse_kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        }},
        "store_data_name": {"sensitive": False, "type": "string", "value": "b-123456789012"},
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    text = dvc_config(tmp_path / "unused", tf_outputs=path)
    assert "    sse = aws:kms\n" in text and "    sse_kms_key_id = arn:aws:kms:eu-west-1:" in text


def test_errors_are_one_line(synthesized: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    several = runner.invoke(app, ["dvc", "--out", str(synthesized)])
    assert several.exit_code == 1 and "choose one with --stack" in several.output and "Traceback" not in several.output
    missing = runner.invoke(app, ["dvc", "--out", str(synthesized), "--stack", "dataver-gcp", "--store", "nope"])
    assert missing.exit_code == 1 and "no store 'nope'" in missing.output
    with pytest.raises(DvcConfigError, match="no synthesized stacks"):
        dvc_config(tmp_path / "empty")
    doc = json.loads((synthesized / "stacks" / "dataver-aws" / "cdk.tf.json").read_text())
    for block in doc["provider"]["aws"]:
        block.pop("allowed_account_ids", None)
    other = tmp_path / "noacct" / "stacks" / "dataver-aws"
    other.mkdir(parents=True)
    (other / "cdk.tf.json").write_text(json.dumps(doc))
    with pytest.raises(DvcConfigError, match="--account-id"):
        dvc_config(tmp_path / "noacct")
    assert "s3://dataver-aws-dev-data-210987654321/dvc" in dvc_config(tmp_path / "noacct", account_id="210987654321")


def test_delta_outputs_have_one_shape(synthesized: Path) -> None:
    """``store_<store>_delta``: same keys on every cloud; AWS names its lock table (Spark, delta-rs < 1.6),
    the others need none (the storage creates a commit file only if absent)."""
    values = {}
    for cloud, stack in STACKS.items():
        outputs = json.loads((synthesized / "stacks" / stack / "cdk.tf.json").read_text())["output"]
        values[cloud] = outputs["store_artifacts_delta"]["value"]
    assert {tuple(sorted(v)) for v in values.values()} == {("commit", "lock_table", "root", "storage_options")}
    assert values["aws"]["storage_options"] == {"AWS_REGION": "eu-west-1"}  # delta-rs >= 1.6: S3 conditional writes
    assert values["aws"]["lock_table"] == "dataver-aws-dev-artifacts-delta-log"
    assert values["azure"]["lock_table"] is None and values["gcp"]["lock_table"] is None
    assert set(values["azure"]["storage_options"]) == {"azure_storage_account_name"}
    assert values["gcp"]["storage_options"] == {}
    assert values["azure"]["root"] == "az://data/delta/" and values["gcp"]["root"].startswith("gs://")


# --- round trips against the emulators --------------------------------------------------------------


def _round_trip(dvc, repo: Path, remote: str) -> None:
    (repo / "train.csv").write_text("id,label\n1,0\n2,1\n")
    dvc("add", "train.csv", cwd=repo)
    dvc("push", "-r", remote, cwd=repo)
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / "train.csv").unlink()
    dvc("pull", "-r", remote, cwd=repo)
    assert (repo / "train.csv").read_text() == "id,label\n1,0\n2,1\n"


def _snippet(synthesized: Path, cloud: str, store: str) -> tuple[str, str]:
    text = dvc_config(synthesized, stack=STACKS[cloud], store=store)
    (remote,) = remotes(synthesized, stack=STACKS[cloud], store=store)
    return text, remote.url


def test_s3_round_trip_in_moto(synthesized: Path, dvc, tmp_path: Path, moto_url: str, offline_env, monkeypatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for var in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):  # empty files: s3fs refuses missing ones
        (tmp_path / var).write_text("")
        monkeypatch.setenv(var, str(tmp_path / var))
    text, url = _snippet(synthesized, "aws", "data")
    bucket = url.removeprefix("s3://").split("/")[0]
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto_url)
    kms = boto3.client("kms", region_name="eu-west-1", endpoint_url=moto_url)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    try:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        created = True
    except s3.exceptions.BucketAlreadyOwnedByYou:  # moto's state is per process: tests/deploy applied it
        created = False
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": True}]})
    try:
        repo = _repo(dvc, tmp_path / "repo", text)
        dvc("remote", "modify", "--local", "data", "endpointurl", moto_url, cwd=repo)
        _round_trip(dvc, repo, "data")
        objects = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert objects and all(k.startswith("dvc/files/md5/") for k in objects)
        head = s3.head_object(Bucket=bucket, Key=objects[0])
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key
    finally:  # leave no bucket behind for tests/deploy, which applies the same spec into moto
        if created:
            for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
            s3.delete_bucket(Bucket=bucket)


def test_azure_round_trip_in_azurite(synthesized: Path, dvc, tmp_path: Path, azurite: str, offline_env) -> None:
    from azure.storage.blob import BlobServiceClient

    text, url = _snippet(synthesized, "azure", "artifacts")
    container = url.removeprefix("azure://").split("/")[0]
    service = BlobServiceClient.from_connection_string(azurite)
    if not service.get_container_client(container).exists():
        service.create_container(container)
    repo = _repo(dvc, tmp_path / "repo", text)
    dvc("remote", "modify", "--local", "artifacts", "connection_string", azurite, cwd=repo)
    _round_trip(dvc, repo, "artifacts")
    names = [b.name for b in service.get_container_client(container).list_blobs(name_starts_with="dvc/")]
    assert names and all(n.startswith("dvc/files/md5/") for n in names)


def test_gcs_round_trip_in_fake_gcs(synthesized: Path, dvc, tmp_path: Path, gcs_emulator: str, offline_env) -> None:
    text, url = _snippet(synthesized, "gcp", "data")
    bucket = url.removeprefix("gs://").split("/")[0]
    request = urllib.request.Request(
        f"{gcs_emulator}/storage/v1/b?project=dataver-dev", data=json.dumps({"name": bucket}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    repo = _repo(dvc, tmp_path / "repo", text)
    dvc("remote", "modify", "--local", "data", "endpointurl", gcs_emulator, cwd=repo)
    dvc("remote", "modify", "--local", "data", "allow_anonymous_login", "true", cwd=repo)
    _round_trip(dvc, repo, "data")
    with urllib.request.urlopen(f"{gcs_emulator}/storage/v1/b/{bucket}/o?prefix=dvc/", timeout=10) as resp:
        names = [o["name"] for o in json.load(resp).get("items", [])]
    assert names and all(n.startswith("dvc/files/md5/") for n in names)
    assert os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") is None  # nothing but the emulator was reachable
