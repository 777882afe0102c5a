"""The reference example's AWS stack validates and applies into moto; boto3 sees secure stores."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def reference_deployed(reference_out, moto_deploy, tmp_path_factory) -> dict[str, Any]:
    (aws,) = [s for s in reference_out.stacks if s.name == "reference-aws"]
    result = moto_deploy(aws.directory, tmp_path_factory.mktemp("reference-aws"))
    result["outputs"] = {k: v["value"] for k, v in result["outputs"].items()}
    result["spec_regions"] = json.loads((aws.directory / "cdk.tf.json").read_text())["provider"]["aws"]
    return result


@pytest.mark.parametrize("store", ["data", "artifacts"])
def test_reference_store_is_versioned_encrypted_and_private(reference_deployed, boto3_client, store: str) -> None:
    outputs = reference_deployed["outputs"]
    bucket, key_arn = outputs[f"store_{store}_name"], outputs[f"store_{store}_key"]
    region = reference_deployed["spec_regions"][0]["region"]
    s3 = boto3_client("s3", region)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    sse = rule["ApplyServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms" and sse["KMSMasterKeyID"] == key_arn
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    kms = boto3_client("kms", region)
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    recovery = outputs[f"store_{store}_recovery"]
    assert recovery["replica_region"] == reference_deployed["spec_regions"][1]["region"]
    assert recovery["rpo_minutes"] == 15
