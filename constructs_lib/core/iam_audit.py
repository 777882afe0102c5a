"""Least-privilege audit of a synthesized stack, run by ``cdktf-mlops scan`` and the tests.

It reads every IAM policy document, role assignment and IAM binding of a stack and reports:

* AWS: an ``Allow`` of ``*`` (or ``service:*``) actions on ``*`` resources, ``NotAction`` allows,
  and attachments of AWS managed ``*FullAccess`` / ``AdministratorAccess`` / ``PowerUserAccess``
  policies. A KMS *key policy* is the one place where ``Resource: "*"`` means "this key" — there
  only an ``Action: "*"`` is reported.
* Azure: role assignments of Owner, Contributor, User Access Administrator or Role Based Access
  Control Administrator (by name or built-in role id), and custom roles allowing ``*``.
* GCP: bindings of ``roles/owner``, ``roles/editor`` and any ``*.admin`` / ``*Admin`` role, and
  custom roles that include a ``*.setIamPolicy`` permission (a path to any other role).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["audit_stack"]

_AWS_POLICY_ARGS: dict[str, tuple[str, ...]] = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_kms_key_policy": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_ecr_registry_policy": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
    "aws_secretsmanager_secret": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_sagemaker_model_package_group_policy": ("resource_policy",),
}
_KEY_POLICY_TYPES = frozenset({"aws_kms_key", "aws_kms_key_policy"})
_AWS_BROAD_MANAGED = re.compile(r"(FullAccess|AdministratorAccess|PowerUserAccess)$")
_AZURE_BROAD_NAMES = frozenset(
    {"owner", "contributor", "user access administrator", "role based access control administrator"}
)
_AZURE_BROAD_IDS = (
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",  # User Access Administrator
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168",  # Role Based Access Control Administrator
)
_GCP_BROAD = re.compile(r"^roles/(owner|editor)$|(\.admin|Admin)$")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _where(tf_type: str, name: str, body: Mapping[str, Any]) -> str:
    meta = body.get("//")
    path = meta.get("metadata", {}).get("path") if isinstance(meta, Mapping) else None
    return f"{path or name} ({tf_type}.{name})"


_WHOLE_REF = re.compile(r"^\$\{[^{}]+\}$")


class _Unreadable(Exception):
    """A policy the audit cannot read statically."""


def _statements(policy: Any) -> list[Mapping[str, Any]]:
    if isinstance(policy, str):
        if _WHOLE_REF.match(policy.strip()):
            return []  # one reference (e.g. an aws_iam_policy_document's json): audited at its source
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            raise _Unreadable from None
    if not isinstance(policy, Mapping):
        return []
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, Mapping)]


def _broad_action(action: str) -> bool:
    return action in ("*", "*:*") or action.endswith(":*")


def _aws_policy(tf_type: str, where: str, policy: Any) -> Iterator[str]:
    key_policy = tf_type in _KEY_POLICY_TYPES
    try:
        statements = _statements(policy)
    except _Unreadable:
        yield f"{where}: the policy is not static JSON (a function call inside?), so least privilege cannot be checked; build it as JSON"
        return
    for n, st in enumerate(statements):
        if st.get("Effect", "Allow") != "Allow":
            continue
        sid = st.get("Sid") or f"statement {n}"
        if "NotAction" in st:
            yield f"{where}: {sid} allows NotAction (everything but a list); allow named actions instead"
        actions = [str(a) for a in _as_list(st.get("Action"))]
        resources = [str(r) for r in _as_list(st.get("Resource"))]
        if any(a in ("*", "*:*") for a in actions):
            yield f"{where}: {sid} allows every action ('*'); list the actions the principal needs"
            continue
        if key_policy:
            continue  # in a key policy Resource "*" is the key itself
        broad = [a for a in actions if _broad_action(a)]
        if broad and (not resources or "*" in resources):
            yield f"{where}: {sid} allows {', '.join(sorted(broad))} on every resource ('*'); scope both"


def _aws(doc: Mapping[str, Any]) -> Iterator[str]:
    resources = doc.get("resource", {})
    for tf_type, args in _AWS_POLICY_ARGS.items():
        for name, body in resources.get(tf_type, {}).items():
            for arg in args:
                if arg in body:
                    yield from _aws_policy(tf_type, _where(tf_type, name, body), body[arg])
    for name, body in resources.get("aws_iam_role", {}).items():
        where = _where("aws_iam_role", name, body)
        for inline in _as_list(body.get("inline_policy")):
            if isinstance(inline, Mapping):
                yield from _aws_policy("aws_iam_role", where, inline.get("policy"))
        for arn in _as_list(body.get("managed_policy_arns")):
            if _AWS_BROAD_MANAGED.search(str(arn)):
                yield f"{where}: attaches broad managed policy {arn}; grant what is needed instead"
    for tf_type in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment",
                    "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment"):
        for name, body in resources.get(tf_type, {}).items():
            arn = str(body.get("policy_arn", ""))
            if _AWS_BROAD_MANAGED.search(arn):
                yield f"{_where(tf_type, name, body)}: attaches broad managed policy {arn}; grant what is needed instead"
    for name, body in doc.get("data", {}).get("aws_iam_policy_document", {}).items():
        where = _where("aws_iam_policy_document", name, body)
        for n, st in enumerate(_as_list(body.get("statement"))):
            if not isinstance(st, Mapping) or st.get("effect", "Allow") != "Allow":
                continue
            actions = [str(a) for a in _as_list(st.get("actions"))]
            resources_ = [str(r) for r in _as_list(st.get("resources"))]
            if st.get("not_actions"):
                yield f"{where}: statement {n} allows not_actions; allow named actions instead"
            if any(a in ("*", "*:*") for a in actions) or (
                any(_broad_action(a) for a in actions) and (not resources_ or "*" in resources_)
            ):
                yield f"{where}: statement {n} allows broad actions {actions} on {resources_ or ['*']}"


def _azure(doc: Mapping[str, Any]) -> Iterator[str]:
    resources = doc.get("resource", {})
    for name, body in resources.get("azurerm_role_assignment", {}).items():
        where = _where("azurerm_role_assignment", name, body)
        role = str(body.get("role_definition_name", "")).strip().lower()
        role_id = str(body.get("role_definition_id", "")).lower()
        if role in _AZURE_BROAD_NAMES or any(g in role_id for g in _AZURE_BROAD_IDS):
            yield f"{where}: assigns a broad role ({body.get('role_definition_name') or role_id}); use a data-plane or task role"
    for name, body in resources.get("azurerm_role_definition", {}).items():
        for perm in _as_list(body.get("permissions")):
            if isinstance(perm, Mapping) and "*" in _as_list(perm.get("actions")):
                yield f"{_where('azurerm_role_definition', name, body)}: custom role allows every action ('*')"
    for name, body in resources.get("azapi_resource", {}).items():
        if str(body.get("type", "")).lower().startswith("microsoft.authorization/roleassignments"):
            text = json.dumps(body.get("body", {})).lower()
            if any(g in text for g in _AZURE_BROAD_IDS):
                yield f"{_where('azapi_resource', name, body)}: assigns Owner/Contributor/User Access Administrator"


def _gcp(doc: Mapping[str, Any]) -> Iterator[str]:
    for tf_type, instances in doc.get("resource", {}).items():
        if not tf_type.startswith("google_") or not re.search(r"_iam_(member|binding)$", tf_type):
            continue
        for name, body in instances.items():
            role = str(body.get("role", ""))
            if _GCP_BROAD.search(role):
                yield f"{_where(tf_type, name, body)}: grants broad role {role}; use a narrower predefined role"
    for tf_type in ("google_project_iam_custom_role", "google_organization_iam_custom_role"):
        for name, body in doc.get("resource", {}).get(tf_type, {}).items():
            risky = sorted(p for p in _as_list(body.get("permissions")) if str(p).endswith(".setIamPolicy"))
            if risky:
                yield f"{_where(tf_type, name, body)}: custom role can change IAM policies ({', '.join(risky)})"
    for tf_type, instances in doc.get("data", {}).items():
        if tf_type == "google_iam_policy":
            for name, body in instances.items():
                for binding in _as_list(body.get("binding")):
                    role = str(binding.get("role", "")) if isinstance(binding, Mapping) else ""
                    if _GCP_BROAD.search(role):
                        yield f"{_where(tf_type, name, body)}: binds broad role {role}"


def audit_stack(doc: Mapping[str, Any]) -> list[str]:
    """Least-privilege problems of one synthesized stack (``cdk.tf.json`` as a dict); empty when clean."""
    return [*_aws(doc), *_azure(doc), *_gcp(doc)]
