"""Naming, tags/labels and acknowledgements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.core import engine
from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.naming import bucket_name, compact_name
from constructs_lib.core.tags import Tags, gcp_labels


@given(st.lists(st.text(alphabet="abcXYZ-_.09 ", min_size=1, max_size=30), min_size=1, max_size=4))
def test_bucket_names_follow_rules(parts: list[str]) -> None:
    try:
        name = bucket_name(*parts)
    except ValueError:
        return
    assert 3 <= len(name) <= 63
    assert all(c.islower() or c.isdigit() or c == "-" for c in name)
    assert bucket_name(*parts) == name  # deterministic


def test_long_names_keep_distinct_with_hash() -> None:
    a = bucket_name("x" * 80, "a")
    b = bucket_name("x" * 80, "b")
    assert len(a) == 63 and a != b
    c = compact_name("reference-azure", "prod", "artifacts")
    assert len(c) <= 24 and c.isalnum() and c != compact_name("reference-azure", "prod", "artifactz")


def test_gcp_labels_are_normalised_and_collisions_refused() -> None:
    assert gcp_labels({"Cost Center": "A/B", "9x": "v"}) == {"cost_center": "a_b", "l_9x": "v"}
    with pytest.raises(ValueError, match="same GCP label"):
        gcp_labels({"Team": "a", "team": "b"})


def test_tags_and_acknowledgements_inherit_nearest_wins() -> None:
    app = engine.App()
    stack = engine.TerraformStack(app, "s")
    child = engine.Construct(stack, "c")
    Tags.of(stack).add_all({"team": "ml", "env": "dev"})
    Tags.of(child).add("env", "prod")
    assert Tags.of(child).effective() == {"env": "prod", "team": "ml"}
    Acknowledge.of(stack).add("CKV_AWS_1", reason="stack-wide reason")
    Acknowledge.of(child).add("CKV_AWS_1", reason="child reason")
    (ack,) = Acknowledge.of(child).effective()
    assert ack.reason == "child reason"


def test_acknowledgement_requires_reason_and_valid_id() -> None:
    app = engine.App()
    stack = engine.TerraformStack(app, "s")
    with pytest.raises(ValueError, match="needs a reason"):
        Acknowledge.of(stack).add("CKV_AWS_144", reason="  ")
    with pytest.raises(ValueError, match="not a checkov check id"):
        Acknowledge.of(stack).add("AWS_144", reason="x")


def test_resource_arguments_reach_the_json_once_set_replaces_and_meta_arguments_stay() -> None:
    from constructs_lib.core.construct import shared
    from constructs_lib.core.resource import DataSource, Resource
    from constructs_lib.core.synth import stack_document

    app = engine.App()
    stack = engine.TerraformStack(app, "s")
    bucket = Resource(stack, "b", "aws_s3_bucket", bucket="one", tags={"a": "1"}, force_destroy=None,
                      prevent_destroy=True)
    bucket.set(bucket="two")  # replaces, after creation
    bucket.add_override("tags.b", "2")  # a user's own override still merges on top
    found = DataSource(stack, "caller", "aws_caller_identity")
    assert shared(stack, "caller", lambda s: None) is found  # an existing child is reused
    assert shared(stack, "caller", lambda s: None) is found  # ... and remembered
    made = shared(stack, "region", lambda s: DataSource(s, "region", "aws_region"))
    assert shared(stack, "region", lambda s: None) is made

    doc = stack_document(stack)
    (body,) = doc["resource"]["aws_s3_bucket"].values()
    assert body["bucket"] == "two"
    assert body["tags"] == {"a": "1", "b": "2"}
    assert "force_destroy" not in body  # None values are dropped
    assert body["lifecycle"] == {"prevent_destroy": True}
    assert bucket.get("bucket") == "two"
    assert set(doc["data"]) == {"aws_caller_identity", "aws_region"}


def test_recovery_outputs_always_carry_three_keys(tmp_path) -> None:
    import json

    from constructs_lib.core.recovery import Recovery, recovery_output

    app = engine.App(outdir=str(tmp_path))
    stack = engine.TerraformStack(app, "s")
    recovery_output(stack, "recovery_x", Recovery(None, None), "nothing replicated")
    recovery_output(stack, "recovery_y", Recovery(15, 60, "eu-west-1"), "replicated")
    app.synth()  # the real synthesis: jsii drops nulls from maps it hands back to Python
    out = json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())["output"]
    assert out["recovery_x"]["value"] == {"rpo_minutes": None, "rto_minutes": None, "replica_region": None}
    assert out["recovery_y"]["value"] == {"rpo_minutes": 15, "rto_minutes": 60, "replica_region": "eu-west-1"}


def test_retraining_inputs_are_checked_alike_on_every_cloud() -> None:
    from constructs_lib.core.automation_props import RetrainingSettings, check_retraining_inputs

    class Pipeline:  # stands for a cloud's Pipeline class
        pass

    props = RetrainingSettings.model_validate({"pipeline": "train", "on_new_data": {"store": "lake"}})
    with pytest.raises(TypeError, match=r"app/r: pipeline must be a .*Pipeline, got str"):
        check_retraining_inputs("app/r", props, pipeline="train", pipeline_type=Pipeline, stores={})
    with pytest.raises(ValueError, match=r"'lake' is not one of the stores \['data'\]; pass it in `stores`"):
        check_retraining_inputs("app/r", props, pipeline=Pipeline(), pipeline_type=Pipeline, stores={"data": 1})
    check_retraining_inputs("app/r", props, pipeline=Pipeline(), pipeline_type=Pipeline, stores={"lake": 1})


def test_add_override_on_our_resources_replaces_like_the_engine() -> None:
    from constructs_lib.core.resource import Resource
    from constructs_lib.core.synth import stack_document

    app = engine.App()
    stack = engine.TerraformStack(app, "s")
    ep = Resource(stack, "ep", "aws_vpc_endpoint", vpc_id="vpc-1", service_name="com.amazonaws.x",
                  security_group_ids=["sg-a"], dns_options={"dns_record_ip_type": "ipv4"})
    ep.add_override("security_group_ids", ["sg-b"])  # replaced, not appended
    ep.add_override("dns_options.private_dns_only_for_inbound_resolver_endpoint", False)
    ep.add_override("subnet_ids", ["subnet-1"])  # an argument not set before: the engine's override
    ep.add_override("lifecycle.create_before_destroy", True)  # a meta argument: the engine's override
    (body,) = stack_document(stack)["resource"]["aws_vpc_endpoint"].values()
    assert body["security_group_ids"] == ["sg-b"]
    assert body["dns_options"] == {"dns_record_ip_type": "ipv4", "private_dns_only_for_inbound_resolver_endpoint": False}
    assert body["subnet_ids"] == ["subnet-1"]
    assert body["lifecycle"] == {"create_before_destroy": True}


def test_hcl_keeps_escaped_interpolations_literal() -> None:
    """``$${...}`` is a literal ``${...}`` (a Workflows expression): HCL writes it escaped, with its quotes
    escaped too, and terraform parses the result; a real ``${...}`` stays an expression."""
    import shutil
    import subprocess

    from constructs_lib.core.hcl import to_hcl

    value = '{"c": "$${map.get(s, ["k"]) != key}",\n "u": "${google_kms_crypto_key.k.id}"}'
    text = to_hcl({"locals": {"w": value}})
    assert '$${map.get(s, [\\"k\\"]) != key}' in text and "${google_kms_crypto_key.k.id}" in text
    assert "\n \\\"u\\\"" not in text and "\\n" in text, "the newline stays escaped inside the string"
    terraform = shutil.which("terraform")
    if terraform:
        proc = subprocess.run([terraform, "fmt", "-"], input=text, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
