"""`cdktf-mlops doctor` with and without credentials; cloud calls go to loopback only."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from constructs_lib.cli import app
from constructs_lib.ops.doctor import run_checks

from .conftest import free_port


def by_name(checks):
    return {c.name: c for c in checks}


def test_without_credentials_every_cloud_is_missing_with_a_hint(offline_env) -> None:
    checks = by_name(run_checks(["aws", "azure", "gcp"]))
    assert checks["node"].status == "ok" and checks["engine"].status == "ok"
    for cloud in ("aws", "azure", "gcp"):
        assert checks[cloud].status == "missing" and checks[cloud].detail.startswith("no "), checks[cloud]
        assert checks[cloud].hint
    assert "OIDC" in checks["aws"].hint and "az login" in checks["azure"].hint


def test_only_the_clouds_asked_for_are_checked(offline_env) -> None:
    names = [c.name for c in run_checks(["gcp"])]
    assert "gcp" in names and "aws" not in names and "azure" not in names


def test_aws_credentials_are_verified_with_sts(offline_env, monkeypatch, moto_url) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    check = by_name(run_checks(["aws"]))["aws"]
    assert check.status == "ok" and "123456789012" in check.detail


def test_gcp_service_account_credentials_are_found(offline_env, monkeypatch, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    sa = tmp_path / "sa.json"
    sa.write_text(json.dumps({
        "type": "service_account", "project_id": "doctor-test", "private_key_id": "k1",
        "private_key": pem, "client_email": "ci@doctor-test.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://127.0.0.1:1/token",
    }))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(sa))
    check = by_name(run_checks(["gcp"]))["gcp"]
    assert check.status == "ok" and "ci@doctor-test" in check.detail and "doctor-test" in check.detail


def test_azure_configured_but_refused_reads_differently(offline_env, monkeypatch) -> None:
    # A service principal in the environment whose authority is a closed loopback port.
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000")
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-a-secret")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", f"https://127.0.0.1:{free_port()}")
    check = by_name(run_checks(["azure"]))["azure"]
    assert check.status == "missing" and check.detail.startswith("environment (service principal / OIDC) found but no token")


def test_cli_exits_non_zero_when_credentials_are_missing(offline_env) -> None:
    res = CliRunner().invoke(app, ["doctor", "examples/reference/gcp.yaml"])
    assert res.exit_code == 1
    assert "gcp" in res.output and "missing" in res.output and "aws " not in res.output


def test_cdktn_cli_on_old_node_gets_a_hint(offline_env, monkeypatch, tmp_path: Path) -> None:
    def fake_tools(node_version: str) -> None:
        bin_dir = tmp_path / node_version
        bin_dir.mkdir()
        for name, text in (("node", f"v{node_version}"), ("cdktn", "0.24.0")):
            exe = bin_dir / name
            exe.write_text(f"#!/bin/sh\necho {text}\n")
            exe.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    fake_tools("20.19.0")
    check = by_name(run_checks([]))["cdktn-cli"]
    assert check.status == "optional" and "22.19" in check.detail and "node@22" in check.hint
    fake_tools("22.19.1")
    assert by_name(run_checks([]))["cdktn-cli"].status == "ok"
