"""Schema validation of every block, ours and a user's, with deliberately broken blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from constructs_lib.core import engine
from constructs_lib.core.errors import SchemaValidationError
from constructs_lib.core.resource import DataSource, Provider, Resource
from constructs_lib.core.schema import validate_stack
from constructs_lib.core.synth import synth_app


def stack_with(build) -> dict:
    app = engine.App()
    stack = engine.TerraformStack(app, "user")
    Provider(stack, "aws", "aws", source="hashicorp/aws", version=">= 5.100, < 7.0", region="eu-west-1")
    build(stack)
    return stack.to_terraform()


def test_valid_blocks_pass() -> None:
    def build(s):
        b = Resource(s, "b", "aws_s3_bucket", bucket="ok-bucket")
        Resource(s, "v", "aws_s3_bucket_versioning", bucket=b.ref("id"),
                 versioning_configuration={"status": "Enabled"})
        DataSource(s, "me", "aws_caller_identity")
    assert validate_stack(stack_with(build)) == []


def test_unknown_argument_names_path_and_suggests() -> None:
    problems = validate_stack(stack_with(lambda s: Resource(s, "b", "aws_s3_bucket", buckett="x")), stack="user")
    assert problems, "a misspelt argument must be reported"
    assert problems[0].startswith("user: user/b: buckett: unknown argument in aws_s3_bucket")
    assert "did you mean 'bucket'" in problems[0]


def test_unknown_type_suggests() -> None:
    problems = validate_stack(stack_with(lambda s: Resource(s, "b", "aws_s3_buckett", bucket="x")))
    assert any("unknown resource type 'aws_s3_buckett'" in p and "'aws_s3_bucket'" in p for p in problems)


def test_missing_required_argument_and_block() -> None:
    problems = validate_stack(stack_with(lambda s: Resource(s, "v", "aws_s3_bucket_versioning")))
    assert any("bucket: required argument is missing" in p for p in problems)
    assert any("versioning_configuration: required block is missing" in p for p in problems)


def test_wrong_nesting_is_reported() -> None:
    def build(s):
        Resource(s, "v", "aws_s3_bucket_versioning", bucket="b",
                 versioning_configuration={"status": "Enabled", "mfa": "x"})
    problems = validate_stack(stack_with(build))
    assert any("versioning_configuration.mfa: unknown argument" in p for p in problems)

    def build2(s):
        Resource(s, "v", "aws_s3_bucket_versioning", bucket="b", versioning_configuration="Enabled")
    assert any("is a nested block" in p for p in validate_stack(stack_with(build2)))

    def build3(s):
        Resource(s, "v", "aws_s3_bucket_versioning", bucket="b",
                 versioning_configuration=[{"status": "Enabled"}, {"status": "Suspended"}])
    assert any("at most 1 block" in p for p in validate_stack(stack_with(build3)))


def test_argument_missing_in_one_aws_major_is_reported() -> None:
    # aws_s3_bucket `region` exists as a resource argument in aws 6.x only (enhanced region support).
    problems = validate_stack(stack_with(lambda s: Resource(s, "b", "aws_s3_bucket", bucket="x", region="eu-west-1")))
    assert problems and all("aws 5.100.0" in p for p in problems)


def test_provider_block_is_checked() -> None:
    app = engine.App()
    stack = engine.TerraformStack(app, "user")
    Provider(stack, "aws", "aws", source="hashicorp/aws", version=">= 5.100, < 7.0", regoin="eu-west-1")
    problems = validate_stack(stack.to_terraform())
    assert any("provider.aws" in p and "regoin" in p and "'region'" in p for p in problems)


def test_other_providers_are_not_checked() -> None:
    doc = stack_with(lambda s: Resource(s, "r", "random_id", byte_length=4, anything="goes"))
    assert validate_stack(doc) == []


def test_synth_refuses_invalid_user_block_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    app = engine.App(outdir=str(out))
    stack = engine.TerraformStack(app, "user")
    Provider(stack, "aws", "aws", source="hashicorp/aws", version=">= 5.100, < 7.0", region="eu-west-1")
    Resource(stack, "b", "aws_s3_bucket", bucket="x", versioning_enabled=True)
    with pytest.raises(SchemaValidationError) as exc:
        synth_app(app)
    assert "user/b: versioning_enabled: unknown argument" in str(exc.value)
    # The engine creates the empty output folder when the app is built; no stack file is written.
    assert not list(out.rglob("*.json"))
