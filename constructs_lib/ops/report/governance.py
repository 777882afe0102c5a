"""Governance and compliance: controls -> resources -> evidence, identities, checkov, model governance.

Every row names the resources that carry the control and the attribute that proves it, read from
the synthesized JSON; least privilege is :func:`~constructs_lib.core.iam_audit.audit_stack` plus a
per-identity list of what it may do; checkov lists every acknowledged finding with its reason
(``acknowledgements.json``) and, once ``cdktf-mlops scan`` ran, the checks and their results
(``scan.json``). The index to the EU AI Act and the NIST AI RMF is informative, not an attestation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...core.iam_audit import audit_stack
from .model import Block, StackModel
from .section import Doc, Section

__all__ = ["CONTROLS", "REGULATORY_INDEX", "governance_section"]

Check = Callable[[StackModel], tuple[list[Block], str]]


def _count(blocks: list[Block], ok: list[Block], what: str) -> str:
    return f"{len(ok)} of {len(blocks)} {what}" if blocks else f"no {what} in this stack"


def _encryption(m: StackModel) -> tuple[list[Block], str]:
    keys = m.of_type("aws_kms_key", "azurerm_key_vault_key", "google_kms_crypto_key")
    rotating = [k for k in keys if k.body.get("enable_key_rotation") is True or k.body.get("rotation_period")
                or (k.body.get("rotation_policy") or {}).get("automatic")]
    users = {b.address for b in m.blocks.values() if not b.data and b not in keys
             and any(r in keys for r in m.refs({k: v for k, v in b.body.items() if k != "depends_on"}))}
    return keys, f"{_count(keys, rotating, 'customer-managed keys rotate automatically')}; {len(users)} resources reference a key"


def _public(m: StackModel) -> tuple[list[Block], str]:
    if m.cloud == "aws":
        b = m.of_type("aws_s3_bucket_public_access_block")
        ok = [x for x in b if all(x.body.get(k) is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))]
        return b, _count(b, ok, "buckets block every kind of public access")
    if m.cloud == "azure":
        b = m.of_type("azurerm_storage_account")
        ok = [x for x in b if x.body.get("allow_nested_items_to_be_public") is False and x.body.get("public_network_access_enabled") is False]
        return b, _count(b, ok, "storage accounts deny public blobs and public network access")
    b = m.of_type("google_storage_bucket")
    ok = [x for x in b if x.body.get("public_access_prevention") == "enforced" and x.body.get("uniform_bucket_level_access") is True]
    return b, _count(b, ok, "buckets enforce public access prevention and uniform access")


def _tls(m: StackModel) -> tuple[list[Block], str]:
    if m.cloud == "aws":
        b = m.of_type("aws_s3_bucket_policy")
        ok = [x for x in b if "aws:SecureTransport" in json.dumps(x.body.get("policy", ""))]
        return b, _count(b, ok, "bucket policies deny requests without TLS (aws:SecureTransport)")
    if m.cloud == "azure":
        b = m.of_type("azurerm_storage_account")
        ok = [x for x in b if x.body.get("min_tls_version") == "TLS1_2" and x.body.get("https_traffic_only_enabled", True) is not False]
        return b, _count(b, ok, "storage accounts require HTTPS with TLS 1.2 or later")
    return m.of_type("google_storage_bucket"), "Google APIs accept TLS only (service property; nothing to configure)"


def _versioning(m: StackModel) -> tuple[list[Block], str]:
    stateful = [b for b in m.blocks.values() if not b.data and b.body.get("lifecycle", {}).get("prevent_destroy")]
    locks = m.of_type("azurerm_management_lock")
    versioned = (m.of_type("aws_s3_bucket_versioning") + [b for b in m.of_type("azurerm_storage_account") if (b.body.get("blob_properties") or {}).get("versioning_enabled")]
                 + [b for b in m.of_type("google_storage_bucket") if (b.body.get("versioning") or {}).get("enabled")])
    return stateful + locks, (f"{len(versioned)} stores versioned; {len(stateful)} resources with prevent_destroy; "
                              f"{len(locks)} CanNotDelete locks")


def _logging(m: StackModel) -> tuple[list[Block], str]:
    groups = m.of_type("aws_cloudwatch_log_group", "azurerm_log_analytics_workspace", "google_logging_project_bucket_config")
    days = sorted({int(d) for b in groups for k in ("retention_in_days", "retention_days") if str(d := b.body.get(k, "")).isdigit()})
    sinks = m.of_type("aws_s3_bucket_logging", "aws_flow_log", "azurerm_monitor_diagnostic_setting", "azurerm_network_watcher_flow_log",
                      "google_logging_project_sink", "aws_route53_query_log")
    return groups + sinks, f"{len(sinks)} log deliveries; {len(groups)} log stores, retention {', '.join(map(str, days)) or 'unknown'} days"


def _network(m: StackModel) -> tuple[list[Block], str]:
    private = m.of_type("aws_vpc_endpoint", "azurerm_private_endpoint", "google_compute_global_address")
    nets = m.of_type("aws_subnet", "azurerm_subnet", "google_compute_subnetwork")
    public_ips = m.of_type("azurerm_public_ip", "aws_eip", "aws_internet_gateway")
    return nets + private, (f"{len(nets)} private subnets; {len(private)} private endpoints to cloud services; "
                            f"{len(public_ips)} public addresses (NAT egress only)")


def _approval(m: StackModel) -> tuple[list[Block], str]:
    reg = m.output("model_registry") or {}
    blocks = [b for b in (m.ref(reg.get("id")), m.ref(reg.get("approver"))) if b is not None]
    if not blocks:
        return [], "no model registry in this stack"
    return blocks, "only the approver identity may approve model versions; serving deploys approved versions only"


#: (control, what it checks) in report order.
CONTROLS: tuple[tuple[str, Check], ...] = (
    ("Encryption and key rotation", _encryption),
    ("Public access blocked", _public),
    ("TLS only", _tls),
    ("Versioning and deletion protection", _versioning),
    ("Logging and retention", _logging),
    ("Network isolation", _network),
    ("Model approval gate", _approval),
)

#: Control -> (EU AI Act articles, NIST AI RMF functions). Informative, not an attestation.
REGULATORY_INDEX: dict[str, tuple[str, str]] = {
    "Encryption and key rotation": ("Art. 15 (accuracy, robustness, cybersecurity)", "Manage"),
    "Public access blocked": ("Art. 15", "Manage"),
    "TLS only": ("Art. 15", "Manage"),
    "Versioning and deletion protection": ("Art. 12 (record-keeping), Art. 18 (documentation keeping)", "Manage, Govern"),
    "Logging and retention": ("Art. 12 (record-keeping), Art. 19 (automatically generated logs)", "Measure, Govern"),
    "Network isolation": ("Art. 15", "Manage"),
    "Model approval gate": ("Art. 17 (quality management system), Art. 14 (human oversight)", "Govern, Manage"),
    "Least privilege": ("Art. 15, Art. 17", "Govern"),
    "checkov results and acknowledgements": ("Art. 17 (quality management system)", "Measure"),
    "Provenance (spec, versions, construct paths)": ("Art. 11 (technical documentation), Art. 18", "Map, Govern"),
    "Model card": ("Art. 11 and Annex IV (technical documentation), Art. 13 (transparency)", "Map"),
}


def _short(blocks: list[Block], n: int = 3) -> str:
    names = [f"`{b.address}`" for b in blocks[:n]]
    return ", ".join(names) + (f" and {len(blocks) - n} more" if len(blocks) > n else "")


def _statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            return []
    st = policy.get("Statement", []) if isinstance(policy, dict) else []
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]


def _may_do(m: StackModel, identity: Block) -> list[str]:
    """What ``identity`` may do: AWS actions of its policies; Azure roles; GCP roles (with where)."""
    out: set[str] = set()
    for b in m.blocks.values():
        if b.data or b is identity or identity not in m.refs({k: v for k, v in b.body.items() if k != "depends_on"}):
            continue
        if b.tf_type == "aws_iam_role_policy":
            for st in _statements(b.body.get("policy")):
                if st.get("Effect", "Allow") == "Allow":
                    acts = st.get("Action", [])
                    out.update(acts if isinstance(acts, list) else [acts])
        elif b.tf_type == "azurerm_role_assignment":
            role = b.body.get("role_definition_name") or (m.name_of(r) if (r := m.ref(b.body.get("role_definition_id"))) else "custom role")
            out.add(f"{role} on {(m.ref(b.body.get('scope')) or b).component}")
        elif b.tf_type.startswith("google_") and b.tf_type.endswith("_iam_member"):
            out.add(f"{b.body.get('role')} on {b.component}")
    return sorted(out)


def _identities(m: StackModel, doc: Doc) -> None:
    problems = audit_stack(m.doc)
    doc.heading("Least privilege: what each identity may do")
    doc.para(f"Least-privilege audit (`cdktf-mlops scan`): {len(problems)} finding(s)." + (" " + "; ".join(problems) if problems else
             " No `*` action on `*`, no broad managed or built-in admin role."))
    rows = []
    for ident in m.of_type("aws_iam_role", "azurerm_user_assigned_identity", "google_service_account"):
        may = _may_do(m, ident)
        shown = ", ".join(may[:14]) + (f" … and {len(may) - 14} more" if len(may) > 14 else "")
        name = m.name_of(ident) or m.render(str(ident.body.get("account_id", ""))) or ident.name
        rows.append([f"`{name}`", ident.component, str(ident.body.get("description") or ident.body.get("display_name") or ""), shown or "(nothing granted in this stack)"])
    doc.table(["identity", "construct", "purpose", "may"], rows)


def _checkov(m: StackModel, doc: Doc) -> None:
    doc.heading("checkov results and acknowledgements")
    scan = m.scan
    if scan:
        s = scan.get("summary", {})
        doc.para(f"checkov {scan.get('tool', {}).get('version', '')} ({scan.get('tool', {}).get('framework', '')}): "
                 f"{s.get('passed', 0)} passed, {s.get('failed', 0)} failed, {s.get('acknowledged', 0)} acknowledged; "
                 f"{len(scan.get('checks', {}))} checks ran. Result: {'ok' if s.get('ok') else 'FAILED'}.")
    else:
        doc.para("No scan results beside this stack: run `cdktf-mlops scan --out <folder>` before the report to include them.")
    rows = [[a["check_id"], f"`{address}`", a["reason"]] for address, acks in sorted(m.acknowledgements.items()) for a in acks]
    doc.para(f"{len(rows)} acknowledged finding(s), each with the reason written on its construct:")
    doc.table(["check", "resource", "reason"], rows)
    if scan and scan.get("checks"):
        doc.table(["check", "name", "passed", "failed", "acknowledged"],
                  [[cid, c.get("name", ""), str(len(c.get("passed", []))), str(len(c.get("failed", []))), str(len(c.get("acknowledged", [])))]
                   for cid, c in sorted(scan["checks"].items())])


def _model_governance(m: StackModel, doc: Doc) -> None:
    reg = m.output("model_registry") or {}
    registry, approver = m.ref(reg.get("id")), m.ref(reg.get("approver"))
    doc.heading("Model governance")
    flow = {
        "aws": "A pipeline registers each model version in the SageMaker model package group as PendingManualApproval; "
               "the approver role (MFA required) sets it to Approved; only approved versions are deployed to the endpoints.",
        "azure": "A pipeline registers model versions in the Azure ML registry; the approver identity promotes a version; "
                 "deployments reference registry versions only.",
        "gcp": "A pipeline writes candidate models to the model bucket; the approver service account alone may write the "
               "`approved/` prefix; serving copies approved versions to each region and deploys them.",
    }[m.cloud]
    doc.items([f"Approval flow: {flow}",
               f"Registry: `{m.name_of(registry) if registry else 'none'}`; approver: `{(m.name_of(approver) or approver.address) if approver else 'none'}`.",
               "Lineage: pipeline runs and their parameters, experiment runs (tracking), model versions with their artifact URIs, "
               "and the endpoint configuration that serves each version.",
               "Audit trails: store access logs, network flow logs, DNS query logs, diagnostic settings and data capture of "
               "requests and responses (where configured), kept per the retention in *Logging and retention*."])
    spec = (m.provenance or {}).get("spec") or {}
    endpoints = sorted(k[8:] for k in m.outputs if k.startswith("serving_"))
    doc.heading("Model card (skeleton)")
    doc.table(["field", "value"], [
        ["Platform stack", f"`{m.name}` ({m.cloud}, {', '.join(m.regions)})"],
        ["Spec", f"`{spec.get('path')}` sha256 `{spec.get('sha256')}`" if spec else "(not built from a spec file)"],
        ["Model registry / approver", f"`{m.name_of(registry) if registry else 'none'}` / `{(m.name_of(approver) or approver.address) if approver else 'none'}`"],
        ["Serving endpoints", ", ".join(endpoints) or "none"],
        ["Monitoring", "alert targets: " + (str(len(m.output("alert_targets") or [])) if m.output("alert_targets") else "none")],
        ["Model name and version", "(to fill)"], ["Owner and contact", "(to fill)"], ["Intended use and users", "(to fill)"],
        ["Out-of-scope uses", "(to fill)"], ["Training data and its provenance", "(to fill)"],
        ["Evaluation data, metrics and results", "(to fill)"], ["Known limitations and risks", "(to fill)"],
        ["Human oversight measures", "(to fill)"], ["Ethical considerations", "(to fill)"],
    ])


def governance_section(m: StackModel) -> Section:
    """The "Governance and compliance" section of ``m``'s report."""
    doc = Doc()
    doc.heading("Controls, resources and evidence")
    rows = []
    for control, check in CONTROLS:
        blocks, evidence = check(m)
        rows.append([control, _short(blocks), evidence])
    doc.table(["control", "resources", "evidence"], rows)
    _identities(m, doc)
    _checkov(m, doc)
    _model_governance(m, doc)
    doc.heading("Regulatory index")
    doc.para("Informative, not an attestation: which controls support which EU AI Act (Regulation (EU) 2024/1689) articles "
             "and NIST AI RMF 1.0 functions. Whether they apply, and whether they suffice, is for your assessment.", cls="note")
    doc.table(["control", "EU AI Act", "NIST AI RMF"], [[c, a, n] for c, (a, n) in REGULATORY_INDEX.items()])
    return doc.section("governance", "Governance and compliance")
