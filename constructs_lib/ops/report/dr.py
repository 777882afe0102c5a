"""The disaster-recovery plan of a stack, from its synthesized JSON and ``recovery_*`` outputs.

For each component (stores, registries, tracking, feature store, serving, training and pipelines)
and each disruption (zone loss, region loss, accidental deletion or corruption, a bad model
release): the objective and what the stack achieves, with the resource that proves it. The
region-loss objective is the one the construct publishes (``store_<x>_recovery`` /
``recovery_<thing>`` outputs); the other objectives are this plan's default targets
(:data:`DEFAULT_OBJECTIVES`). What cannot be recovered is said so; what is not measured is
"unknown", never zero. Then failover and failback steps with the cloud's CLI and the synthesized
resource names, a drill checklist and a table to record drills.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .cite import DrPlan
from .model import Block, StackModel
from .runbook import runbook
from .section import Doc, Section

__all__ = ["DEFAULT_OBJECTIVES", "DISRUPTIONS", "DrPlan", "dr_section"]

DISRUPTIONS = ("zone loss", "region loss", "deletion or corruption", "bad model release")
#: The plan's default targets (RPO minutes, RTO minutes) where no construct publishes an objective.
DEFAULT_OBJECTIVES: dict[str, tuple[int | None, int | None]] = {
    "zone loss": (0, 0),
    "deletion or corruption": (0, 240),
    "bad model release": (None, 30),
}
NOT_RECOVERABLE = "not recoverable"


@dataclass(frozen=True)
class Cell:
    """What the stack achieves for one component and one disruption."""

    achieved: str
    evidence: str = ""
    objective: str = ""


def _fmt(rpo: Any, rto: Any) -> str:
    def one(label: str, v: Any) -> str:
        return f"{label} {v} min" if isinstance(v, int) else f"{label} unknown"
    return f"{one('RPO', rpo)} / {one('RTO', rto)}"


def _objective(rec: Any, disruption: str) -> str:
    if disruption == "region loss":
        if isinstance(rec, dict) and (rec.get("rpo_minutes") is not None or rec.get("rto_minutes") is not None):
            return _fmt(rec.get("rpo_minutes"), rec.get("rto_minutes")) + " (construct output)"
        return "none published (no cross-region copy)"
    rpo, rto = DEFAULT_OBJECTIVES.get(disruption, (None, None))
    if disruption == "bad model release":
        return f"RTO {rto} min (plan default)"
    return _fmt(rpo, rto) + " (plan default)"


def _region_cell(rec: Any, evidence: str) -> Cell:
    if isinstance(rec, dict) and rec.get("replica_region"):
        return Cell(f"{_fmt(rec.get('rpo_minutes'), rec.get('rto_minutes'))} from {rec['replica_region']}", evidence)
    return Cell(f"{NOT_RECOVERABLE} until the region returns: no cross-region copy", evidence)


def _refs_to(model: StackModel, target: Block, *types: str) -> list[Block]:
    """Blocks of ``types`` whose body references ``target``."""
    return [b for b in model.of_type(*types) if target in model.refs({k: v for k, v in b.body.items() if k != "depends_on"})]


# ---------------------------------------------------------------------------------------------
# Stores


def _store_cells(model: StackModel, store: Block, rec: Any) -> dict[str, Cell]:
    body = store.body
    if model.cloud == "aws":
        zone = Cell("RPO 0 / RTO 0: S3 keeps objects in at least three zones of the region", f"`{store.address}`")
        repl = _refs_to(model, store, "aws_s3_bucket_replication_configuration")
        ver = [b for b in _refs_to(model, store, "aws_s3_bucket_versioning")
               if b.body.get("versioning_configuration", {}).get("status") == "Enabled"]
        guard = "prevent_destroy" if body.get("lifecycle", {}).get("prevent_destroy") else ""
        deletion = (Cell("RPO 0 / RTO unknown (measure in a drill): restore the previous object versions; "
                         "delete markers are replicated, so the replica is no backup", ", ".join(f"`{b.address}`" for b in ver) + (f"; {guard}" if guard else ""))
                    if ver else Cell(f"{NOT_RECOVERABLE}: versioning is off", f"`{store.address}`"))
        region = _region_cell(rec, ", ".join(f"`{b.address}`" for b in repl))
    elif model.cloud == "azure":
        sku = str(body.get("account_replication_type", "LRS"))
        zonal = sku in ("ZRS", "GZRS", "RAGZRS")
        zone = Cell(f"RPO 0 / RTO 0: {sku} writes synchronously to three zones" if zonal
                    else f"RPO 0 / RTO: until the zone returns ({sku} is not zone-redundant)", f"`{store.address}` account_replication_type={sku}")
        blob = body.get("blob_properties") or {}
        days = (blob.get("delete_retention_policy") or {}).get("days")
        locks = _refs_to(model, store, "azurerm_management_lock")
        text = f"RPO 0 / RTO unknown (measure in a drill): blob versions and soft delete ({days} days) restore objects"
        text += "; a CanNotDelete lock guards the account" if locks else ""
        deletion = (Cell(text, f"`{store.address}` blob_properties") if blob.get("versioning_enabled")
                    else Cell(f"{NOT_RECOVERABLE}: versioning is off", f"`{store.address}`"))
        region = _region_cell(rec, f"`{store.address}` account_replication_type={sku}")
    else:
        zone = Cell("RPO 0 / RTO 0: Cloud Storage keeps objects in several zones", f"`{store.address}`")
        versioned = (body.get("versioning") or {}).get("enabled")
        soft = (body.get("soft_delete_policy") or {}).get("retention_duration_seconds")
        days = f"soft delete {int(soft) // 86400} days, " if isinstance(soft, (int, str)) and str(soft).isdigit() else ""
        deletion = (Cell(f"RPO 0 / RTO unknown (measure in a drill): {days}noncurrent versions restore objects", f"`{store.address}` versioning")
                    if versioned else Cell(f"{NOT_RECOVERABLE}: versioning is off", f"`{store.address}`"))
        placement = body.get("custom_placement_config") or {}
        region = _region_cell(rec, f"`{store.address}` location {body.get('location')} {placement.get('data_locations', '')}".strip())
    return {"zone loss": zone, "region loss": region, "deletion or corruption": deletion,
            "bad model release": Cell("not applicable")}


# ---------------------------------------------------------------------------------------------
# Other components


_MANAGED_ZONES = "RPO 0 / RTO 0: a regional managed service spread over zones"


def _component_cells(model: StackModel, kind: str, block: Block | None, rec: Any) -> dict[str, Cell]:
    where = f"`{block.address}`" if block else ""
    rows: dict[str, dict[str, Cell]] = {
        "container registry": {
            "zone loss": Cell(_MANAGED_ZONES, where),
            "deletion or corruption": Cell(f"{NOT_RECOVERABLE} for deleted images: rebuild them from source and push again; "
                                           "tags cannot be overwritten" if block and block.body.get("image_tag_mutability") == "IMMUTABLE"
                                           else f"{NOT_RECOVERABLE} for deleted images: rebuild them from source and push again", where),
        },
        "model registry": {
            "zone loss": Cell(_MANAGED_ZONES, where),
            "deletion or corruption": Cell("registry entries: not recoverable (register the versions again); model artifacts: "
                                           "from the versioned artifacts store", where),
            "bad model release": Cell("roll back to the previous approved version (steps below); RTO unknown (measure in a drill)", where),
        },
        "tracking": {
            "zone loss": Cell(_MANAGED_ZONES, where),
            "deletion or corruption": Cell(f"run metadata: {NOT_RECOVERABLE} unless exported; artifacts: from the store they are written to", where),
        },
        "feature store": {
            "zone loss": Cell(_MANAGED_ZONES, where),
            "deletion or corruption": Cell("online store: rebuild from the offline store by ingesting again (RTO unknown); "
                                           "offline store: as the store that holds it", where),
        },
        "training and pipelines": {
            "zone loss": Cell("RPO 0 (no data) / RTO: jobs retried; pools use private subnets in several zones", where),
            "deletion or corruption": Cell("RPO 0 (definitions are code) / RTO: one `terraform apply`", where),
        },
    }
    cells = dict(rows.get(kind, {}))
    if kind == "training and pipelines":
        cells["region loss"] = Cell(f"{NOT_RECOVERABLE} in place: pools and pipelines exist in the primary region only; "
                                    "move `regions` in the spec and apply", where)
    else:
        cells["region loss"] = _region_cell(rec, where)
    cells.setdefault("bad model release", Cell("not applicable"))
    return cells


def _serving_cells(model: StackModel, endpoints: list[Block], routing: list[Block], rec: Any) -> dict[str, Cell]:
    mins = [b.body.get("min_capacity") for b in model.of_type("aws_appautoscaling_target")]
    for b in model.of_type("azurerm_monitor_autoscale_setting"):
        mins += [(p.get("capacity") or {}).get("minimum") for p in _as_list(b.body.get("profile"))]
    for b in model.of_type("google_vertex_ai_deployment_resource_pool"):
        mins.append(((b.body.get("dedicated_resources") or {}).get("min_replica_count")))
    known = [int(m) for m in mins if isinstance(m, (int, str)) and str(m).isdigit()]
    ev = ", ".join(f"`{b.address}`" for b in endpoints)
    zone = (Cell(f"RPO 0 / RTO 0: at least {min(known)} instances per endpoint, placed across zones", ev) if known and min(known) >= 2
            else Cell("RTO unknown: a single instance is replaced after a zone loss", ev))
    return {
        "zone loss": zone,
        "region loss": _region_cell(rec, ", ".join(f"`{b.address}`" for b in routing) or ev),
        "deletion or corruption": Cell("RPO 0 (configuration is code) / RTO unknown: `terraform apply`, then deploy the approved model again", ev),
        "bad model release": Cell("roll back to the previous model (steps below); RTO unknown (measure in a drill)", ev),
    }


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [] if v is None else [v]


# ---------------------------------------------------------------------------------------------
# The components of a stack


def components(model: StackModel) -> list[tuple[str, dict[str, Cell]]]:
    """(component label, disruption -> cell) for every component of the stack, objectives filled in."""
    out: list[tuple[str, dict[str, Cell]]] = []

    def add(label: str, cells: dict[str, Cell], rec: Any) -> None:
        out.append((label, {d: Cell(c.achieved, c.evidence, _objective(rec, d)) for d, c in cells.items()}))

    for key in sorted(k for k in model.outputs if re.fullmatch(r"store_.+_name", k)):
        store = model.ref(model.outputs[key])
        rec = model.output(key[: -len("_name")] + "_recovery")
        if store is not None:
            add(f"store {key[6:-5]}", _store_cells(model, store, rec), rec)
    things = (("container registry", "container_registry", "recovery_container_registry"),
              ("model registry", "model_registry", "recovery_model_registry"),
              ("tracking", "tracking_uri", "recovery_tracking"),
              ("feature store", "feature_store", "recovery_features"))
    for label, output, recovery in things:
        if output in model.outputs:
            value = model.outputs[output]
            block = model.ref(value.get("id", value) if isinstance(value, dict) else value)
            add(label, _component_cells(model, label, block, model.output(recovery)), model.output(recovery))
    endpoints = [b for k, v in sorted(model.outputs.items()) if k.startswith("serving_") and isinstance(v, dict)
                 for r in v.values() if isinstance(r, dict) and (b := model.ref(r.get("id")))]
    if endpoints:
        routing = [b for b in model.blocks.values() if b.component.startswith("routing") and not b.data and
                   b.tf_type in ("aws_route53_record", "azurerm_traffic_manager_profile", "google_dns_record_set")]
        rec = model.output("recovery_serving")
        add("serving", _serving_cells(model, endpoints, routing, rec), rec)
    if "training_principal" in model.outputs or any(k.startswith("pipeline_") for k in model.outputs):
        add("training and pipelines", _component_cells(model, "training and pipelines",
                                                        model.ref(model.outputs.get("training_principal")), None), None)
    return out


def dr_section(model: StackModel) -> Section:
    """The "Disaster recovery" section of ``model``'s report."""
    plan = DrPlan(model)
    doc = Doc()
    doc.para("Objectives for region loss are the ones each construct publishes in its recovery output; the others are "
             "this plan's default targets. *Achieved* is what the synthesized resources give, with the resource that "
             "proves it. Unknown means not measured: record it in a drill.")
    rows = []
    for label, cells in components(model):
        for disruption in DISRUPTIONS:
            c = cells.get(disruption)
            if c is not None and c.achieved != "not applicable":
                rows.append([label, disruption, c.objective, c.achieved, c.evidence])
    doc.heading("Objectives and what the stack achieves")
    doc.table(["component", "disruption", "objective", "achieved", "evidence"], rows)
    runbook(plan, doc)
    doc.heading("Drill checklist")
    doc.items([
        "Announce the drill window; confirm on-call and the alert target receive alerts.",
        "Run the failover steps above against the secondary region and time each step.",
        "Score requests through the global hostname during the failover; count failed requests.",
        "Restore one deleted object and one overwritten object from versions; time it.",
        "Roll a deliberately bad model back to the previous approved version; time it.",
        "Fail back; check replication resumed and the primary serves again.",
        "Record the measured RPO/RTO below and update this plan where they differ from the objectives.",
    ], checkbox=True)
    doc.heading("Drill record")
    doc.table(["date", "scenario", "measured RPO", "measured RTO", "result", "follow-ups", "by"],
              [["", "region loss (failover + failback)", "", "", "", "", ""],
               ["", "deletion / corruption restore", "", "", "", "", ""],
               ["", "bad model release rollback", "", "", "", "", ""]])
    return doc.section("disaster-recovery", "Disaster recovery", plan.citations)
