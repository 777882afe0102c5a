"""The architecture diagram of a stack: Graphviz ``dot`` source built from the synthesized JSON, as SVG.

One node per top-level construct and region (a store and its replica are two nodes), grouped in a
cluster per region (primary first) and a ``global`` cluster for what has no region (DNS routing,
budget, identities). Edges that matter: ``grants`` (an IAM policy, role assignment or binding that
lets one construct's identity use another construct), ``replicates`` (a construct present in two
regions, or a geo-replica the stack's recovery outputs name), ``triggers`` (retraining and
pipelines starting what they reference), ``routes`` (global routing in front of the endpoints).

The SVG comes from the ``dot`` executable (Graphviz, Debian package ``graphviz``); the comment
lines that name the Graphviz version are dropped, so the same stack gives the same bytes.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass

from ...core.errors import MlopsError
from .model import Block, StackModel

__all__ = ["Diagram", "DiagramError", "diagram", "dot_source", "render_svg"]

_IAM_TYPES = frozenset({
    "aws_iam_role_policy", "aws_iam_policy", "aws_s3_bucket_policy", "aws_kms_key", "aws_kms_key_policy",
    "aws_iam_role_policy_attachment", "aws_ecr_repository_policy", "aws_sagemaker_model_package_group_policy",
    "aws_secretsmanager_secret_policy", "aws_sns_topic_policy", "aws_sqs_queue_policy",
    "azurerm_role_assignment", "azurerm_key_vault_access_policy", "azurerm_redis_cache_access_policy_assignment",
})
_IDENTITY_TYPES = frozenset({"aws_iam_role", "azurerm_user_assigned_identity", "google_service_account"})
#: (kind, fill colour) by top-level construct id prefix; first match wins.
_KINDS: tuple[tuple[str, str, str], ...] = (
    ("routing", "routing", "#fde2e4"),
    ("endpoint-", "endpoint", "#e2ece9"),
    ("serving-network-", "network", "#eef1f5"),
    ("serving-store-", "store", "#fff1d6"),
    ("serving-", "endpoint", "#e2ece9"),
    ("pipeline-", "pipeline", "#e8e1f5"),
    ("retraining", "trigger", "#e8e1f5"),
    ("airflow", "pipeline", "#e8e1f5"),
    ("network", "network", "#eef1f5"),
    ("training", "training", "#dbeafe"),
    ("containers", "registry", "#dbeafe"),
    ("models", "registry", "#dbeafe"),
    ("tracking", "tracking", "#dbeafe"),
    ("features", "feature store", "#dbeafe"),
    ("workspace", "workspace", "#dbeafe"),
    ("monitoring", "monitoring", "#f3f4f6"),
    ("budget", "budget", "#f3f4f6"),
)
#: Types of global services: drawn in the ``global`` cluster whatever their provider's region.
_GLOBAL_TYPES = re.compile(r"^(aws_route53|aws_budgets|aws_iam_|azurerm_traffic_manager|azurerm_dns_|azurerm_consumption_budget"
                           r"|google_dns_|google_billing_|google_service_account|azurerm_user_assigned_identity)")
_EDGE_STYLE = {
    "grants": 'color="#6b7280" fontcolor="#6b7280" style=dashed',
    "replicates": 'color="#b45309" fontcolor="#b45309" penwidth=2',
    "triggers": 'color="#6d28d9" fontcolor="#6d28d9"',
    "routes": 'color="#be123c" fontcolor="#be123c" penwidth=2',
}


class DiagramError(MlopsError):
    """Graphviz is missing or failed."""


@dataclass(frozen=True)
class Diagram:
    """Nodes (id -> (label, cluster, fill)) and edges ((from, to) -> kind) of a stack's diagram."""

    nodes: dict[str, tuple[str, str, str]]
    edges: dict[tuple[str, str], str]


def _kind(component: str, stores: set[str]) -> tuple[str, str]:
    if component in stores:
        return "store", "#fff1d6"
    for prefix, kind, fill in _KINDS:
        if component == prefix or component.startswith(prefix):
            return kind, fill
    return "", "#ffffff"


def _short(component: str, stores: dict[str, str], regions: list[str]) -> str:
    """A node's name: the store name, or the construct id without kind prefix and region suffix."""
    if component in stores:
        return stores[component]
    for region in regions:
        component = component.removesuffix("-" + region)
    for prefix in ("endpoint-", "serving-network", "serving-store", "serving-", "pipeline-", "routing-"):
        if component.startswith(prefix) and component != prefix:
            return component[len(prefix):].lstrip("-") or component
    return component


def _node_id(component: str, region: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{component}__{region}")


def _stores(model: StackModel) -> dict[str, str]:
    """Component id -> store name, from the ``store_<name>_name`` outputs."""
    out = {}
    for key, value in model.outputs.items():
        m = re.fullmatch(r"store_(.+)_name", key)
        block = model.ref(value) if m else None
        if m and block:
            out[block.component] = m.group(1)
    return out


def _placement(model: StackModel) -> dict[str, list[str]]:
    """Component -> the clusters (regions, or ``global``) it has blocks in, majority first."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in model.blocks.values():
        if b.data or "/" not in b.path:
            continue
        region = "global" if _GLOBAL_TYPES.match(b.tf_type) else model.region_of(b)
        counts[b.component][region or "global"] += 1
    out = {}
    for comp, regions in counts.items():
        regional = {r: n for r, n in regions.items() if r != "global"}
        chosen = regional or regions
        out[comp] = sorted(chosen, key=lambda r: (model.regions.index(r) if r in model.regions else 99, r))
    return out


def _grant_edges(model: StackModel, edges: dict[tuple[str, str], str]) -> None:
    for b in model.blocks.values():
        is_iam = b.tf_type in _IAM_TYPES or re.search(r"^google_.*_iam_(member|binding)$", b.tf_type)
        if b.data or not is_iam:
            continue
        refs = model.refs({k: v for k, v in b.body.items() if k != "depends_on"})
        principals = [r for r in refs if r.tf_type in _IDENTITY_TYPES or r.tf_type == "azurerm_machine_learning_workspace"]
        principal = principals[0].component if principals else b.component
        for target in {b.component, *(r.component for r in refs if r not in principals)}:
            if target != principal:
                edges.setdefault((principal, target), "grants")


def _trigger_edges(model: StackModel, edges: dict[tuple[str, str], str]) -> None:
    for b in model.blocks.values():
        if b.data or not (b.component.startswith("retraining") or b.component.startswith("airflow")):
            continue
        for r in model.refs({k: v for k, v in b.body.items() if k != "depends_on"}):
            if r.component.startswith("pipeline-") or r.component == "workspace":
                edges[(b.component, r.component)] = "triggers"


def diagram(model: StackModel) -> Diagram:
    """The nodes and edges of ``model``'s diagram."""
    stores = _stores(model)
    placement = _placement(model)
    nodes: dict[str, tuple[str, str, str]] = {}
    primary: dict[str, str] = {}
    edges: dict[tuple[str, str], str] = {}
    node_edges: dict[tuple[str, str], str] = {}
    for comp in sorted(placement):
        kind, fill = _kind(comp, set(stores))
        if not kind:
            continue
        regions = ["global"] if kind in ("routing", "budget") else placement[comp]
        for n, region in enumerate(regions):
            nid = _node_id(comp, region)
            suffix = "" if n == 0 else " (replica)" if kind == "store" else f" ({region})"
            short = _short(comp, stores, model.regions)
            nodes[nid] = (f"{kind}\n{short}{suffix}" if short != kind else f"{short}{suffix}", region, fill)
            if n == 0:
                primary[comp] = nid
            elif kind == "store":
                node_edges[(primary[comp], nid)] = "replicates"
    for key, value in sorted(model.outputs.items()):  # geo-replicas the cloud keeps (no block of their own)
        m = re.fullmatch(r"store_(.+)_recovery", key)
        comp = next((c for c, s in stores.items() if m and s == m.group(1)), None)
        replica = value.get("replica_region") if isinstance(value, dict) else None
        if comp in primary and replica and len(placement.get(comp, [])) == 1:
            nid = _node_id(comp, replica)
            nodes[nid] = (f"store\n{stores[comp]} (geo-replica)", replica, "#fff7e6")
            node_edges[(primary[comp], nid)] = "replicates"
    _grant_edges(model, edges)
    _trigger_edges(model, edges)
    for key, value in model.outputs.items():  # routing in front of the endpoints
        if key.startswith("serving_") and isinstance(value, dict):
            for region_value in value.values():
                ep = model.ref(region_value.get("id") if isinstance(region_value, dict) else None)
                for comp in (c for c in primary if c.startswith("routing")):
                    if ep is not None and ep.component in primary:
                        suffix = key[len("serving_"):].replace("_", "-")
                        if comp in ("routing", f"routing-{suffix}"):
                            edges[(comp, ep.component)] = "routes"
    for (a, b), kind in sorted(edges.items()):
        if a in primary and b in primary and a != b:
            near = _node_id(b, nodes[primary[a]][1])  # the copy of b in a's region, when there is one
            node_edges.setdefault((primary[a], near if near in nodes else primary[b]), kind)
    return Diagram(nodes=dict(sorted(nodes.items())), edges=dict(sorted(node_edges.items())))


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_source(model: StackModel, d: Diagram | None = None) -> str:
    """The Graphviz source of ``model``'s diagram (deterministic)."""
    d = d or diagram(model)
    clusters: dict[str, list[str]] = defaultdict(list)
    for nid, (_, cluster, _) in d.nodes.items():
        clusters[cluster].append(nid)
    order = sorted(clusters, key=lambda c: (model.regions.index(c) if c in model.regions else 98 if c != "global" else 99, c))
    lines = [
        f"digraph {_q(model.name)} {{",
        '  graph [rankdir=LR fontname="DejaVu Sans" fontsize=11 nodesep=0.25 ranksep=0.6 bgcolor="white" pad=0.2];',
        '  node [shape=box style="rounded,filled" fontname="DejaVu Sans" fontsize=10 color="#94a3b8" margin="0.12,0.06"];',
        '  edge [fontname="DejaVu Sans" fontsize=9 arrowsize=0.7];',
    ]
    for n, cluster in enumerate(order):
        label = cluster if cluster == "global" else f"{cluster}{' (primary)' if model.regions[:1] == [cluster] else ''}"
        lines.append(f'  subgraph cluster_{n} {{ label={_q(label)} style="rounded" color="#cbd5e1" fontcolor="#334155";')
        for nid in clusters[cluster]:
            text, _, fill = d.nodes[nid]
            lines.append(f"    {nid} [label={_q(text)} fillcolor={_q(fill)} tooltip={_q(text)}];")
        lines.append("  }")
    for (a, b), kind in d.edges.items():
        lines.append(f"  {a} -> {b} [label={_q(kind)} {_EDGE_STYLE[kind]}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(source: str) -> str:
    """SVG of ``source`` from Graphviz ``dot``: the XML prolog, doctype and comments removed."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError("Graphviz `dot` is not installed: apt-get install graphviz (the report draws its diagram with it)")
    proc = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DiagramError(f"dot failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}")
    svg = proc.stdout
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = svg.replace("<svg ", '<svg role="img" aria-label="Architecture diagram" ', 1)
    return svg.strip() + "\n"


def legend() -> str:
    """One line naming the edge kinds (for the section's text)."""
    return ", ".join(f"{html.escape(k)}" for k in _EDGE_STYLE)
