"""Quantities of the priced Azure resource types the library emits (azurerm and azapi)."""

from __future__ import annotations

import re
from typing import Any

from .profiles import HOURS_PER_MONTH
from .quantities import Line, Stack, extractor, pool_line, refs, tier_shares

__all__ = ["AZAPI_CLASSES"]

_DEPLOYMENT = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
#: Class of each azapi ``type`` (without ``@api-version``): (class, reason), like classes.CLASSES.
AZAPI_CLASSES: dict[str, tuple[str, str]] = {
    _DEPLOYMENT: ("priced", "managed online endpoint instances"),
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints": (
        "free", "the endpoint itself has no meter; its deployments' instances are priced"),
    "Microsoft.MachineLearningServices/registries": (
        "unpriced", "the registry's system-created Premium container registry and storage accounts bill; no price in the catalogue"),
    "Microsoft.MachineLearningServices/workspaces/schedules": (
        "free", "a schedule has no meter; the jobs it starts bill on their compute clusters"),
    "Microsoft.MachineLearningServices/workspaces/data": ("free", "metadata in the workspace"),
    "Microsoft.MachineLearningServices/workspaces/data/versions": ("free", "metadata in the workspace"),
    "Microsoft.MachineLearningServices/workspaces/environments": ("free", "metadata in the workspace"),
    "Microsoft.MachineLearningServices/workspaces/environments/versions": ("free", "metadata in the workspace"),
    "Microsoft.MachineLearningServices/workspaces/connections": ("free", "metadata in the workspace"),
    "Microsoft.MachineLearningServices/workspaces/featurestoreEntities": ("free", "metadata in the feature store"),
    "Microsoft.MachineLearningServices/workspaces/featurestoreEntities/versions": ("free", "metadata in the feature store"),
    "Microsoft.MachineLearningServices/workspaces/featuresets": (
        "unpriced", "materialization jobs bill Spark compute; no price in the catalogue"),
    "Microsoft.MachineLearningServices/workspaces/featuresets/versions": (
        "unpriced", "materialization jobs bill Spark compute; no price in the catalogue"),
}
_TIER = {"cool": "cool", "cold": "cold", "archive": "archive"}


def azapi_type(body: dict[str, Any]) -> str:
    """The ARM type of an azapi body, without its ``@api-version``."""
    return str(body.get("type", "")).split("@", 1)[0]


def _autoscale(stack: Stack, name: str, body: dict[str, Any]) -> tuple[float, float] | None:
    targets = {("azapi_resource", name)} | set(refs(body.get("parent_id", "")))
    for _, setting in stack.of_type("azurerm_monitor_autoscale_setting"):
        if targets & set(refs(setting)):
            capacity = (setting.get("profile") or [{}])[0].get("capacity", {})
            return float(capacity.get("minimum", 1)), float(capacity.get("maximum", 1))
    return None


@extractor("azapi_resource")
def _azapi(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    if azapi_type(body) != _DEPLOYMENT:
        return []
    props = body.get("body", {}).get("properties", {})
    size = props.get("instanceType", "?")
    initial = float(body.get("body", {}).get("sku", {}).get("capacity", 1))
    lo, hi = _autoscale(stack, name, body) or (initial, initial)
    load = stack.param("endpoint_load", "azapi_resource", name, body)
    h = HOURS_PER_MONTH
    return [Line(f"Instance usage ({size})", f"azure.vm.{size}", "hours", stack.region("azapi_resource", body),
                 lo * h, (lo + load * (hi - lo)) * h, hi * h,
                 note=f"min {lo:g} / max {hi:g} instances; priced at the VM size's Linux pay-as-you-go rate "
                      "(whether Azure ML adds a surcharge is not verified)",
                 tag=f"endpoint:{name}:{lo:g}:{hi:g}")]


@extractor("azurerm_machine_learning_compute_cluster")
def _cluster(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    pool = re.sub(r"-od$", "", str(body.get("name", name)))
    partners = {"spot" if b.get("vm_priority") == "LowPriority" else "on-demand"
                for _, b in stack.of_type("azurerm_machine_learning_compute_cluster")
                if re.sub(r"-od$", "", str(b.get("name", ""))) == pool}
    capacity = "spot" if body.get("vm_priority") == "LowPriority" else "on-demand"
    scale = body.get("scale_settings", {})
    size = body.get("vm_size", "?")
    return [pool_line(stack, "azurerm_machine_learning_compute_cluster", name, body,
                      name=f"Node usage ({size}, {'low-priority' if capacity == 'spot' else 'dedicated'})",
                      key=f"azure.vm.{size}", region=stack.region("azurerm_machine_learning_compute_cluster", body),
                      min_nodes=float(scale.get("min_node_count", 0)), max_nodes=float(scale.get("max_node_count", 0)),
                      capacity=capacity, pool=pool, partners=partners)]


def _policy(stack: Stack, name: str) -> tuple[list[tuple[float, str]], float | None]:
    transitions: list[tuple[float, str]] = []
    expiry = None
    for _, policy in stack.referring("azurerm_storage_management_policy", ("azurerm_storage_account", name)):
        for rule in policy.get("rule", []):
            if not rule.get("enabled", True):
                continue
            base = rule.get("actions", {}).get("base_blob", {})
            for field_, days in base.items():
                match = re.fullmatch(r"tier_to_(cool|cold|archive)_after_days_since_modification_greater_than", field_)
                if match:
                    transitions.append((float(days), _TIER[match.group(1)]))
                elif field_ == "delete_after_days_since_modification_greater_than":
                    expiry = float(days)
    return transitions, expiry


@extractor("azurerm_storage_account")
def _storage(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    path = stack.path(body)
    log = "FlowLogs" in path or "Logs" in path.split("/")[-1]
    gb = stack.param("log_storage_gb" if log else "storage_gb", "azurerm_storage_account", name, body)
    age = stack.param("data_age_days", "azurerm_storage_account", name, body)
    transitions, expiry = _policy(stack, name)
    age = min(age, expiry) if expiry else age
    repl = body.get("account_replication_type", "LRS")
    region = stack.region("azurerm_storage_account", body)
    first = str(body.get("access_tier", "Hot")).lower()
    lines = []
    for tier, share in tier_shares(transitions, age, first):
        qty = gb * share
        lines.append(Line(f"Blob capacity ({tier}, {repl})", f"azure.blob.{tier}.{repl}", "GB-month", region, 0, qty, qty,
                          note=f"{share:.0%} of {gb:g} GB (data up to {age:g} days old)",
                          tag=f"storage:{'log' if log else 'data'}:primary"))
    if repl in ("GRS", "RAGRS", "GZRS", "RAGZRS"):
        moved = stack.param("replicated_gb", "azurerm_storage_account", name, body)
        lines.append(Line("Geo-replication data transfer", "azure.blob.geo_replication_transfer", "GB", region,
                          0, moved, moved, tag="replication"))
    return lines


@extractor("azurerm_key_vault_key")
def _key(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    kind = body.get("key_type", "RSA")
    size = body.get("key_size")
    sku = f"{kind}-{size}" if size else str(kind)
    region = stack.region("azurerm_key_vault_key", body)
    lines = [Line(f"Key ({sku})", f"azure.keyvault.{'hsm_key' if kind.endswith('-HSM') else 'key'}.{sku}", "keys",
                  region, 1, 1, 1)]
    every = (body.get("rotation_policy") or {}).get("automatic", {}).get("time_after_creation", "")
    match = re.fullmatch(r"P(\d+)D", str(every))
    if match:
        per_month = (HOURS_PER_MONTH / 24) / int(match.group(1))
        lines.append(Line("Automatic rotation", "azure.keyvault.rotation", "rotations", region,
                          per_month, per_month, per_month, note=f"every {match.group(1)} days"))
    return lines


@extractor("azurerm_traffic_manager_profile")
def _traffic(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    queries = stack.param("dns_queries_millions", "azurerm_traffic_manager_profile", name, body)
    return [Line("DNS queries", "azure.traffic_manager.dns_queries", "million queries", "global", 0, queries, queries)]


@extractor("azurerm_traffic_manager_external_endpoint")
def _tm_endpoint(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    lines = [Line("Health check (external endpoint)", "azure.traffic_manager.health_check.external", "endpoints",
                  "global", 1, 1, 1)]
    for t, n in refs(body.get("profile_id", "")):
        interval = (stack.get(t, n) or {}).get("monitor_config", {}).get("interval_in_seconds", 30)
        if int(interval) == 10:
            lines.append(Line("Fast interval health check", "azure.traffic_manager.fast_interval.external",
                              "endpoints", "global", 1, 1, 1))
    return lines
