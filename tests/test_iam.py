"""Least privilege across every synthesized stack, and the audit itself on deliberately bad blocks."""

from __future__ import annotations

import json

import pytest

from constructs_lib.core.iam_audit import audit_stack


@pytest.fixture(scope="module")
def all_stacks(example_stacks) -> dict[str, dict]:
    return example_stacks  # every example, synthesized once per session (conftest)


def test_every_stack_is_least_privilege(all_stacks) -> None:
    assert all_stacks, "no example was synthesized"
    problems = {name: audit_stack(doc) for name, doc in all_stacks.items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_audit_sees_the_policies_it_should(all_stacks) -> None:
    # Guard against a silently blind audit: the reference stacks do contain grants to read.
    ref = all_stacks["reference/reference-aws"]["resource"]
    assert "aws_iam_role_policy" in ref or "aws_iam_policy" in ref
    az = all_stacks["reference/reference-azure"]["resource"]
    assert "azurerm_role_assignment" in az
    gcp = all_stacks["reference/reference-gcp"]["resource"]
    assert any(t.endswith("_iam_member") for t in gcp)


def _policy(statement: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(
    ("tf_type", "body", "expected"),
    [
        ("aws_iam_role_policy", {"policy": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}, "every action"),
        ("aws_iam_role_policy", {"policy": _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})}, "on every resource"),
        ("aws_iam_policy", {"policy": _policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}, "NotAction"),
        ("aws_iam_role_policy_attachment", {"policy_arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}, "broad managed policy"),
        ("aws_iam_role", {"managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}, "broad managed policy"),
        ("aws_kms_key", {"policy": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}, "every action"),
        ("azurerm_role_assignment", {"role_definition_name": "Contributor"}, "broad role"),
        ("azurerm_role_assignment", {"role_definition_id": "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}, "broad role"),
        ("google_project_iam_member", {"role": "roles/editor", "member": "user:a@b.c"}, "broad role"),
        ("google_storage_bucket_iam_member", {"role": "roles/storage.admin", "member": "user:a@b.c"}, "broad role"),
        ("google_project_iam_custom_role", {"permissions": ["storage.objects.get", "storage.buckets.setIamPolicy"]}, "change IAM policies"),
        ("aws_iam_role_policy", {"policy": '{"Statement": [{"Resource": "${split(":", var.x)}"}]'}, "not static JSON"),
    ],
)
def test_audit_reports_broad_grants(tf_type: str, body: dict, expected: str) -> None:
    doc = {"resource": {tf_type: {"bad": body}}}
    problems = audit_stack(doc)
    assert len(problems) == 1 and expected in problems[0] and f"{tf_type}.bad" in problems[0]


def test_audit_accepts_scoped_grants() -> None:
    doc = {
        "resource": {
            "aws_iam_role_policy": {"ok": {"policy": _policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"})}},
            "aws_kms_key": {"k": {"policy": _policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"})}},
            "aws_s3_bucket_policy": {"p": {"policy": _policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})}},
            "aws_iam_policy": {"ref": {"policy": "${data.aws_iam_policy_document.x.json}"}},
            "azurerm_role_assignment": {"r": {"role_definition_name": "Storage Blob Data Reader"}},
            "google_storage_bucket_iam_member": {"g": {"role": "roles/storage.objectViewer"}},
        }
    }
    assert audit_stack(doc) == []
