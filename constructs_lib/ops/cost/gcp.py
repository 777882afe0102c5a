"""Quantities of the priced Google Cloud resource types the library emits."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .profiles import HOURS_PER_MONTH
from .quantities import Line, Stack, extractor, one_per_month, pool_line, tier_shares

__all__: list[str] = []


@extractor("google_vertex_ai_deployment_resource_pool")
def _pool(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    res = body.get("dedicated_resources", {})
    spec = res.get("machine_spec", {})
    machine = spec.get("machine_type", "?")
    lo, hi = float(res.get("min_replica_count", 1)), float(res.get("max_replica_count", res.get("min_replica_count", 1)))
    load = stack.param("endpoint_load", "google_vertex_ai_deployment_resource_pool", name, body)
    region = stack.region("google_vertex_ai_deployment_resource_pool", body)
    h = HOURS_PER_MONTH
    tag = f"endpoint:{name}:{lo:g}:{hi:g}"
    lines = [Line(f"Prediction nodes ({machine})", f"gcp.vertex.prediction.{machine}", "node-hours", region,
                  lo * h, (lo + load * (hi - lo)) * h, hi * h,
                  note=f"min {lo:g} / max {hi:g} replicas; Vertex AI prediction does not scale to zero", tag=tag)]
    if spec.get("accelerator_type"):
        n = float(spec.get("accelerator_count", 1))
        acc = spec["accelerator_type"]
        lines.append(Line(f"Prediction accelerators ({acc})", f"gcp.vertex.prediction.{acc.lower()}", "GPU-hours",
                          region, n * lo * h, n * (lo + load * (hi - lo)) * h, n * hi * h, tag=tag))
    return lines


@extractor("google_container_node_pool")
def _node_pool(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    cfg = body.get("node_config", {})
    labels = cfg.get("labels", {})
    pool = labels.get("mlops.dev/pool") or re.sub(r"-ondemand$", "", str(body.get("name", name)))
    capacity = "spot" if (cfg.get("spot") or cfg.get("preemptible")) else "on-demand"
    partners = {"spot" if (b.get("node_config", {}).get("spot") or b.get("node_config", {}).get("preemptible"))
                else "on-demand" for _, b in stack.of_type("google_container_node_pool")
                if (b.get("node_config", {}).get("labels", {}).get("mlops.dev/pool")
                    or re.sub(r"-ondemand$", "", str(b.get("name", "")))) == pool}
    auto = body.get("autoscaling", {})
    lo = float(auto.get("total_min_node_count", auto.get("min_node_count", 0)))
    hi = float(auto.get("total_max_node_count", auto.get("max_node_count", 0)))
    machine = cfg.get("machine_type", "?")
    region = stack.region("google_container_node_pool", body)
    node = pool_line(stack, "google_container_node_pool", name, body, name=f"Node usage ({machine}, {capacity})",
                     key=f"gcp.gce.{machine}", region=region, min_nodes=lo, max_nodes=hi, capacity=capacity,
                     pool=pool, partners=partners)
    if machine.startswith("g2-") and cfg.get("guest_accelerator"):
        node = replace(node, note="; ".join(x for x in (node.note, "the G2 price includes its attached L4 GPU(s)") if x))
    lines = [node]
    # A G2 machine type comes with its L4 GPUs and its catalogue price includes them (prices.csv note):
    # a separate GPU line would count them twice.
    for acc in [] if machine.startswith("g2-") else cfg.get("guest_accelerator", []):
        n = float(acc.get("count", 1))
        lines.append(Line(f"GPU ({acc.get('type', '?')} x {n:g})", f"gcp.gpu.{acc.get('type', '?')}", "GPU-hours", region,
                          node.fixed * n, node.estimate * n, node.ceiling * n, tag=f"gpu-{capacity}:{pool}"))
    size = float(cfg.get("disk_size_gb", 0))
    if size:
        scale = size / HOURS_PER_MONTH
        lines.append(Line(f"Boot disk ({cfg.get('disk_type', 'pd-standard')}, {size:g} GB per node)",
                          f"gcp.pd.{cfg.get('disk_type', 'pd-standard')}", "GB-month", region,
                          node.fixed * scale, node.estimate * scale, node.ceiling * scale, tag=f"disk-{capacity}:{pool}"))
    return lines


@extractor("google_container_cluster")
def _cluster(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    h = HOURS_PER_MONTH
    return [Line("Cluster management fee", "gcp.gke.cluster_fee", "hours", stack.region("google_container_cluster", body),
                 h, h, h, note="the default node pool is removed after creation" if body.get("remove_default_node_pool") else "")]


@extractor("google_composer_environment")
def _composer(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    size = str(body.get("config", {}).get("environment_size", "ENVIRONMENT_SIZE_SMALL")).replace("ENVIRONMENT_SIZE_", "").lower()
    image = str(body.get("config", {}).get("software_config", {}).get("image_version", ""))
    gen = "composer3" if image.startswith("composer-3") else "composer2"
    h = HOURS_PER_MONTH
    return [Line(f"Environment ({size})", f"gcp.{gen}.environment.{size}", "environment-hours",
                 stack.region("google_composer_environment", body), h, h, h,
                 note="billed in DCU-hours (gcp.composer3.dcu); the DCUs of an environment size are not in the catalogue",
                 tag="airflow")]


def _location(body: dict[str, Any]) -> str:
    loc = str(body.get("location", "US")).upper()
    places = (body.get("custom_placement_config") or {}).get("data_locations")
    return f"{loc}({'+'.join(sorted(p.upper() for p in places))})" if places else loc


@extractor("google_storage_bucket")
def _bucket(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    path = stack.path(body)
    log = "LogBucket" in path or str(body.get("name", "")).endswith("-logs")
    gb = stack.param("log_storage_gb" if log else "storage_gb", "google_storage_bucket", name, body)
    age = stack.param("data_age_days", "google_storage_bucket", name, body)
    transitions: list[tuple[float, str]] = []
    for rule in body.get("lifecycle_rule", []):
        action, cond = rule.get("action", {}), rule.get("condition", {})
        if action.get("type") == "SetStorageClass" and "age" in cond:
            transitions.append((float(cond["age"]), action["storage_class"]))
        elif action.get("type") == "Delete" and "age" in cond and not cond.get("with_state"):
            age = min(age, float(cond["age"]))
    loc = _location(body)
    lines = []
    for cls, share in tier_shares(transitions, age, str(body.get("storage_class", "STANDARD"))):
        qty = gb * share
        lines.append(Line(f"Storage ({cls}, {loc})", f"gcp.gcs.{cls.lower()}.{loc}", "GiB-month", loc, 0, qty, qty,
                          note=f"{share:.0%} of {gb:g} GiB (data up to {age:g} days old)",
                          tag=f"storage:{'log' if log else 'data'}:primary"))
    if "(" in loc:
        moved = stack.param("replicated_gb", "google_storage_bucket", name, body)
        lines.append(Line("Dual-region replication", "gcp.gcs.dual_region_replication", "GiB", loc, 0, moved, moved,
                          tag="replication"))
        if body.get("rpo") == "ASYNC_TURBO":
            lines.append(Line("Turbo replication", "gcp.gcs.turbo_replication", "GiB", loc, 0, moved, moved,
                              tag="replication"))
    return lines


@extractor("google_kms_crypto_key")
def _key(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    seconds = re.fullmatch(r"(\d+)s", str(body.get("rotation_period", "")))
    months = stack.param("key_age_months", "google_kms_crypto_key", name, body)
    versions = 1.0
    note = "no rotation"
    if seconds:
        every_days = int(seconds.group(1)) / 86400
        versions = 1 + int(months * (HOURS_PER_MONTH / 24) // every_days)
        note = f"rotated every {every_days:g} days: {versions:g} versions after {months:g} months (none destroyed)"
    level = "hsm" if (body.get("version_template") or {}).get("protection_level") == "HSM" else "software"
    key = "gcp.kms.key_version" if level == "software" else "gcp.kms.hsm_key_version"
    return [Line(f"Key versions ({level})", key, "key versions", stack.region("google_kms_crypto_key", body),
                 versions, versions, versions, note=note)]


extractor("google_dns_managed_zone")(one_per_month("google_dns_managed_zone", "gcp.dns.zone", "Managed zone", "zones", "global"))


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    settings = body.get("settings") or {}
    return (settings[0] if settings else {}) if isinstance(settings, list) else settings


@extractor("google_sql_database_instance")
def _sql(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    """A Cloud SQL instance: vCPU- and memory-hours of its tier and its disk, both twice when REGIONAL (HA: the
    primary and its standby bill), and its backups under the profile. A ``db-custom-N-M`` tier is N vCPUs and
    M MiB; other tiers are one instance-hours line."""
    settings = _settings(body)
    tier = str(settings.get("tier", "?"))
    engine = str(body.get("database_version", "?")).split("_", 1)[0].lower()
    edition = str(settings.get("edition") or "unset").lower()
    base = f"gcp.cloudsql.{engine}" if edition == "enterprise" else f"gcp.cloudsql.{engine}.{edition}"
    ha = settings.get("availability_type", "ZONAL") == "REGIONAL"
    copies = 2.0 if ha else 1.0
    ha_note = "REGIONAL (high availability): the primary and its standby both bill, x2" if ha else "ZONAL"
    region = stack.region("google_sql_database_instance", body)
    h = HOURS_PER_MONTH
    custom = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    if custom:
        cpus, gib = float(custom.group(1)), float(custom.group(2)) / 1024
        lines = [Line(f"vCPUs ({tier}, {cpus:g} vCPU x {copies:g})", f"{base}.vcpu", "vCPU-hours", region,
                      *[copies * cpus * h] * 3, note=ha_note, tag="database"),
                 Line(f"Memory ({tier}, {gib:g} GiB x {copies:g})", f"{base}.memory", "GiB-hours", region,
                      *[copies * gib * h] * 3, note=f"{custom.group(2)} MiB = {gib:g} GiB; {ha_note}", tag="database")]
    else:
        lines = [Line(f"Instance ({tier} x {copies:g})", f"{base}.tier.{tier}", "instance-hours", region,
                      *[copies * h] * 3, note=ha_note, tag="database")]
    size = float(settings.get("disk_size") or 10)
    grows = settings.get("disk_autoresize", True) is not False
    data = stack.param("database_gb", "google_sql_database_instance", name, body)
    limit = float(settings.get("disk_autoresize_limit") or 0)
    held = max(size, min(data, limit) if limit else data) if grows else size
    top = max(held, limit) if grows and limit else held
    disk = {"PD_SSD": "ssd", "PD_HDD": "hdd"}.get(str(settings.get("disk_type", "PD_SSD")), str(settings.get("disk_type")).lower())
    sized = f"disk_size {size:g} GB" if settings.get("disk_size") else "disk_size unset: 10 GB, the smallest disk"
    grown = f"; grows to hold database_gb {data:g}" + (f" up to {limit:g} GB" if limit else "") if grows else ""
    lines.append(Line(f"Storage ({disk.upper()}, x {copies:g})", f"gcp.cloudsql.{disk}", "GB-month", region,
                      copies * size, copies * held, copies * top, note=f"{sized}{grown}; {ha_note}", tag="database"))
    if (settings.get("backup_configuration") or {}).get("enabled"):
        gb = stack.param("database_backup_gb", "google_sql_database_instance", name, body)
        lines.append(Line("Backups and point-in-time-recovery logs", "gcp.cloudsql.backup", "GB-month", region,
                          0, gb, gb, note="database_backup_gb of the profile", tag="database"))
    return lines


def _cpus(value: Any) -> float:
    text = str(value).strip()
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


_MEMORY = {"Ki": 2 ** -20, "Mi": 2 ** -10, "Gi": 1.0, "Ti": 2 ** 10, "k": 1e3 / 2 ** 30, "M": 1e6 / 2 ** 30,
           "G": 1e9 / 2 ** 30, "T": 1e12 / 2 ** 30}


def _gib(value: Any) -> float:
    text = str(value).strip()
    unit = re.sub(r"^[\d.]+", "", text)
    return float(text[: len(text) - len(unit)]) * _MEMORY.get(unit, 2 ** -30)


@extractor("google_cloud_run_v2_service")
def _run(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    """A Cloud Run service: instance time x the vCPUs and GiB of all its containers (sidecars included) — min
    instances all month (fixed), plus ``service_busy_hours`` (estimate), max instances all month (ceiling) — and,
    with request-based billing, its requests."""
    template = body.get("template") or {}
    containers = template.get("containers") or [{}]
    limits = [((c.get("resources") or {}).get("limits") or {}) for c in containers]
    cpus = sum(_cpus(x.get("cpu", "1")) for x in limits)
    gib = sum(_gib(x.get("memory", "512Mi")) for x in limits)
    ingress = next((c for c in containers if c.get("ports")), containers[0])
    by_request = (ingress.get("resources") or {}).get("cpu_idle", "resources" not in ingress) is True
    scaling = template.get("scaling") or {}
    lo, hi = float(scaling.get("min_instance_count", 0)), float(scaling.get("max_instance_count", 100))
    wanted = stack.param("service_busy_hours", "google_cloud_run_v2_service", name, body)
    busy = min(wanted, max(hi - lo, 0) * HOURS_PER_MONTH)
    region = stack.region("google_cloud_run_v2_service", body)
    seconds = [lo * HOURS_PER_MONTH * 3600, (lo * HOURS_PER_MONTH + busy) * 3600, hi * HOURS_PER_MONTH * 3600]
    billing = "request" if by_request else "instance"
    note = (f"{billing}-based billing; min {lo:g} / max {hi:g} instances; {busy:g} busy instance-hours"
            + (f" (service_busy_hours {wanted:g} capped at max instances)" if busy < wanted else "")
            + ("; idle min instances priced at the active rate: the most they cost" if by_request and lo else "")
            + "; before the billing account's monthly free tier")
    lines = [Line(f"CPU ({cpus:g} vCPU per instance, {len(containers)} container(s))", f"gcp.run.{billing}.cpu",
                  "vCPU-seconds", region, *[cpus * s for s in seconds], note=note, tag="service"),
             Line(f"Memory ({gib:g} GiB per instance)", f"gcp.run.{billing}.memory", "GiB-seconds", region,
                  *[gib * s for s in seconds], note=note, tag="service")]
    if by_request:
        n = stack.param("service_requests_millions", "google_cloud_run_v2_service", name, body) * 1e6
        lines.append(Line("Requests", "gcp.run.requests", "requests", region, 0, n, n,
                          note="service_requests_millions of the profile", tag="service"))
    return lines
