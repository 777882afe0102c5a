"""Quantities of the priced AWS resource types the library emits."""

from __future__ import annotations

from typing import Any

from .profiles import HOURS_PER_MONTH
from .quantities import Line, Stack, extractor, one_per_month, pool_line, refs, runs_per_month, tier_shares

__all__ = ["VCPUS"]

#: vCPUs of the EC2 types the library's Batch pools use (AWS instance type pages), to turn
#: ``min_vcpus`` / ``max_vcpus`` into nodes.
VCPUS = {
    "m5.large": 2, "m5.xlarge": 4, "m5.2xlarge": 8, "m6i.large": 2, "m6i.xlarge": 4, "m6i.2xlarge": 8,
    "m6i.4xlarge": 16, "g5.xlarge": 4, "g5.2xlarge": 8, "g5.4xlarge": 16, "g5.8xlarge": 32,
    "g4dn.xlarge": 4, "g4dn.2xlarge": 8, "p3.2xlarge": 8,
}
_S3_CLASS = {"STANDARD": "standard", "STANDARD_IA": "standard_ia", "ONEZONE_IA": "onezone_ia",
             "INTELLIGENT_TIERING": "intelligent_tiering", "GLACIER_IR": "glacier_ir",
             "GLACIER": "glacier", "DEEP_ARCHIVE": "deep_archive"}


def _endpoint_scaling(stack: Stack, name: str) -> tuple[float, float] | None:
    for _, target in stack.referring("aws_appautoscaling_target", ("aws_sagemaker_endpoint", name)):
        return float(target.get("min_capacity", 1)), float(target.get("max_capacity", 1))
    return None


@extractor("aws_sagemaker_endpoint")
def _endpoint(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    region = stack.region("aws_sagemaker_endpoint", body)
    lines = []
    for t, n in refs(body.get("endpoint_config_name", "")):
        config = stack.get(t, n) or {}
        for variant in config.get("production_variants", []):
            serverless = variant.get("serverless_config")
            if serverless:
                gb = float(serverless.get("memory_size_in_mb", 1024)) / 1024
                conc = float(serverless.get("max_concurrency", 1))
                busy = stack.param("serverless_busy_share", "aws_sagemaker_endpoint", name, body)
                full = gb * conc * HOURS_PER_MONTH * 3600
                lines.append(Line("Serverless inference compute", "aws.sagemaker.serverless.gb_second", "GB-seconds",
                                  region, 0, full * busy, full, note=f"{gb:g} GB x max concurrency {conc:g}",
                                  tag=f"serverless:{name}"))
                continue
            itype = variant.get("instance_type", "?")
            scale = _endpoint_scaling(stack, name)
            initial = float(variant.get("initial_instance_count", 1))
            lo, hi = scale if scale else (initial, initial)
            load = stack.param("endpoint_load", "aws_sagemaker_endpoint", name, body)
            lines.append(Line(f"Instance usage ({itype})", f"aws.sagemaker.hosting.{itype}", "hours", region,
                              lo * HOURS_PER_MONTH, (lo + load * (hi - lo)) * HOURS_PER_MONTH, hi * HOURS_PER_MONTH,
                              note=f"min {lo:g} / max {hi:g} instances", tag=f"endpoint:{name}:{lo:g}:{hi:g}"))
    return lines


@extractor("aws_batch_compute_environment")
def _batch(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    res = body.get("compute_resources", {})
    tags = res.get("tags", {})
    pool = tags.get("pool", name)
    partners = {("spot" if (b.get("compute_resources", {}).get("type") == "SPOT") else "on-demand")
                for _, b in stack.of_type("aws_batch_compute_environment")
                if b.get("compute_resources", {}).get("tags", {}).get("pool", "") == pool}
    capacity = "spot" if res.get("type") in ("SPOT", "FARGATE_SPOT") else "on-demand"
    region = stack.region("aws_batch_compute_environment", body)
    types = res.get("instance_type", [])
    itype = types[0] if types else "?"
    vcpus = VCPUS.get(itype)
    lines = []
    if vcpus is None:
        hours = stack.hours_share(capacity, pool, partners, "aws_batch_compute_environment", name, body)
        return [Line(f"Instance usage ({itype}, {capacity})", f"aws.ec2.{itype}", "hours", region, 0, hours, hours,
                     note="vCPUs of this type unknown: max nodes not computed", tag=f"pool-{capacity}:{pool}")]
    lo, hi = float(res.get("min_vcpus", 0)) / vcpus, float(res.get("max_vcpus", 0)) / vcpus
    line = pool_line(stack, "aws_batch_compute_environment", name, body, name=f"Instance usage ({itype}, {capacity})",
                     key=f"aws.ec2.{itype}", region=region, min_nodes=lo, max_nodes=hi, capacity=capacity,
                     pool=pool, partners=partners, note=f"{lo:g}-{hi:g} nodes of {vcpus} vCPUs")
    lines.append(line)
    for t, n in refs(res.get("launch_template", {})):
        for bdm in (stack.get(t, n) or {}).get("block_device_mappings", []):
            ebs = bdm.get("ebs", {})
            size = float(ebs.get("volume_size", 0))
            vtype = ebs.get("volume_type", "gp3")
            if size:
                scale = size / HOURS_PER_MONTH
                lines.append(Line(f"Node disk ({vtype}, {size:g} GB per node)", f"aws.ebs.{vtype}", "GB-month", region,
                                  line.fixed * scale, line.estimate * scale, line.ceiling * scale,
                                  tag=f"disk-{capacity}:{pool}"))
    return lines


@extractor("aws_mwaa_environment")
def _mwaa(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    cls = body.get("environment_class", "mw1.small")
    region = stack.region("aws_mwaa_environment", body)
    lo, hi = float(body.get("min_workers", 1)), float(body.get("max_workers", body.get("min_workers", 1)))
    load = stack.param("airflow_load", "aws_mwaa_environment", name, body)
    h = HOURS_PER_MONTH
    return [
        Line(f"Environment ({cls})", f"aws.mwaa.environment.{cls}", "hours", region, h, h, h,
             note="scheduler, web server and the first worker", tag="airflow"),
        Line(f"Additional workers ({cls})", f"aws.mwaa.worker.{cls}", "hours", region, max(lo - 1, 0) * h,
             max(lo - 1 + load * (hi - lo), 0) * h, max(hi - 1, 0) * h,
             note=f"{lo:g}-{hi:g} workers; the environment price covers the first (assumption)", tag="airflow"),
    ]


@extractor("aws_sagemaker_mlflow_tracking_server")
def _mlflow(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    size = str(body.get("tracking_server_size", "Small")).lower()
    h = HOURS_PER_MONTH
    return [Line(f"MLflow tracking server ({size})", f"aws.sagemaker.mlflow.{size}", "hours",
                 stack.region("aws_sagemaker_mlflow_tracking_server", body), h, h, h, tag="tracking")]


@extractor("aws_sagemaker_monitoring_schedule")
def _monitoring(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    config = body.get("monitoring_schedule_config", {})
    expression = config.get("schedule_config", {}).get("schedule_expression", "cron(0 * ? * * *)")
    runs = runs_per_month(expression)
    minutes = stack.param("monitor_job_minutes", "aws_sagemaker_monitoring_schedule", name, body)
    lines = []
    for t, n in refs(config.get("monitoring_job_definition_name", "")):
        job = stack.get(t, n) or {}
        cluster = job.get("job_resources", {}).get("cluster_config", {})
        itype, count = cluster.get("instance_type", "?"), float(cluster.get("instance_count", 1))
        hours = runs * minutes / 60 * count
        lines.append(Line(f"Monitoring job ({itype})", f"aws.sagemaker.processing.{itype}", "hours",
                          stack.region(t, job), 0, hours, hours,
                          note=f"{runs:.0f} runs ({expression}) x {minutes:g} min x {count:g} instance(s)",
                          tag="monitoring"))
    return lines


def _lifecycle(stack: Stack, name: str) -> tuple[list[tuple[float, str]], float | None]:
    transitions: list[tuple[float, str]] = []
    expiry = None
    for _, cfg in stack.referring("aws_s3_bucket_lifecycle_configuration", ("aws_s3_bucket", name)):
        for rule in cfg.get("rule", []):
            if rule.get("status") != "Enabled" or (rule.get("filter") or {}).get("prefix", "") != "":
                continue
            transitions += [(float(t["days"]), t["storage_class"]) for t in rule.get("transition", []) if "days" in t]
            if "days" in (rule.get("expiration") or {}):
                expiry = float(rule["expiration"]["days"])
    return transitions, expiry


def is_log_store(path: str, bucket_name: str) -> bool:
    """Whether a store holds logs (access logs, flow logs) rather than data, artifacts or models."""
    return any(x in path for x in ("AccessLogs", "LogBucket", "FlowLogs")) or bucket_name.endswith("-logs")


@extractor("aws_s3_bucket")
def _bucket(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    path = stack.path(body)
    log = is_log_store(path, str(body.get("bucket", "")))
    gb = stack.param("log_storage_gb" if log else "storage_gb", "aws_s3_bucket", name, body)
    age = stack.param("data_age_days", "aws_s3_bucket", name, body)
    transitions, expiry = _lifecycle(stack, name)
    age = min(age, expiry) if expiry else age
    region = stack.region("aws_s3_bucket", body)
    lines = []
    for cls, share in tier_shares(transitions, age, "STANDARD"):
        sku = _S3_CLASS.get(cls, cls.lower())
        qty = gb * share
        lines.append(Line(f"Storage ({cls})", f"aws.s3.{sku}", "GB-month", region, 0, qty, qty,
                          note=f"{share:.0%} of {gb:g} GB (data up to {age:g} days old)",
                          tag=f"storage:{'log' if log else 'data'}:{'replica' if 'Replica' in path else 'primary'}"))
    return lines


@extractor("aws_s3_bucket_replication_configuration")
def _replication(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    gb = stack.param("replicated_gb", "aws_s3_bucket_replication_configuration", name, body)
    region = stack.region("aws_s3_bucket_replication_configuration", body)
    lines = [Line("Cross-region replication transfer", "aws.s3.replication_transfer", "GB", region, 0, gb, gb,
                  tag="replication")]
    if any((r.get("destination", {}).get("replication_time") or {}).get("status") == "Enabled" for r in body.get("rule", [])):
        lines.append(Line("Replication Time Control", "aws.s3.replication_time_control", "GB", region, 0, gb, gb,
                          tag="replication"))
    return lines


for _args in (
    ("aws_kms_key", "aws.kms.key", "Customer managed key", "keys"),
    ("aws_route53_zone", "aws.route53.zone", "Hosted zone", "zones", "global"),
    ("aws_route53_health_check", "aws.route53.health_check.aws_endpoint", "Health check", "checks", "global"),
    ("aws_cloudwatch_dashboard", "aws.cloudwatch.dashboard", "Dashboard", "dashboards"),
    ("aws_secretsmanager_secret", "aws.secretsmanager.secret", "Secret", "secrets"),
):
    extractor(_args[0])(one_per_month(*_args))


@extractor("aws_cloudwatch_metric_alarm")
def _alarm(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    metrics = len([q for q in body.get("metric_query", []) if q.get("metric")]) or 1
    return [Line("Alarm metrics (standard resolution)", "aws.cloudwatch.alarm", "alarm metrics",
                 stack.region("aws_cloudwatch_metric_alarm", body), metrics, metrics, metrics)]


@extractor("aws_ecr_repository")
def _ecr(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    gb = stack.param("image_storage_gb", "aws_ecr_repository", name, body)
    return [Line("Image storage", "aws.ecr.storage", "GB-month", stack.region("aws_ecr_repository", body), 0, gb, gb)]


@extractor("aws_vpc_endpoint")
def _vpc_endpoint(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    region = stack.region("aws_vpc_endpoint", body)
    kind = body.get("vpc_endpoint_type", "Gateway")
    if kind != "Interface":
        return [Line(f"{kind} endpoint", f"aws.vpc_endpoint.{kind.lower()}", "endpoints", region, 1, 1, 1)]
    zones = len(body.get("subnet_ids", [])) or 1
    gb = stack.param("endpoint_data_gb", "aws_vpc_endpoint", name, body)
    h = zones * HOURS_PER_MONTH
    return [Line(f"Interface endpoint ({zones} AZ)", "aws.vpc_endpoint.interface", "AZ-hours", region, h, h, h,
                 tag="network"),
            Line("Data processed", "aws.vpc_endpoint.data", "GB", region, 0, gb, gb)]


@extractor("aws_nat_gateway")
def _nat(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    region = stack.region("aws_nat_gateway", body)
    gb = stack.param("endpoint_data_gb", "aws_nat_gateway", name, body)
    h = HOURS_PER_MONTH
    return [Line("NAT gateway", "aws.nat_gateway.hour", "hours", region, h, h, h, tag="network"),
            Line("Data processed", "aws.nat_gateway.data", "GB", region, 0, gb, gb)]


@extractor("aws_dynamodb_table")
def _dynamodb(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
    """An on-demand table: write and read request units and storage under the profile, point-in-time-recovery
    storage on the same GB when enabled. A provisioned table bills capacity-hours: one unpriced line."""
    region = stack.region("aws_dynamodb_table", body)
    gb = stack.param("table_storage_gb", "aws_dynamodb_table", name, body)
    if body.get("billing_mode", "PROVISIONED") != "PAY_PER_REQUEST":
        wcu, rcu = float(body.get("write_capacity") or 0), float(body.get("read_capacity") or 0)
        h = HOURS_PER_MONTH
        lines = [Line("Write capacity units", "aws.dynamodb.wcu", "WCU-hours", region, wcu * h, wcu * h, wcu * h),
                 Line("Read capacity units", "aws.dynamodb.rcu", "RCU-hours", region, rcu * h, rcu * h, rcu * h)]
    else:
        writes = stack.param("table_write_millions", "aws_dynamodb_table", name, body) * 1e6
        reads = stack.param("table_read_millions", "aws_dynamodb_table", name, body) * 1e6
        lines = [Line("Write request units (on-demand)", "aws.dynamodb.wru", "WRUs", region, 0, writes, writes),
                 Line("Read request units (on-demand)", "aws.dynamodb.rru", "RRUs", region, 0, reads, reads)]
    lines.append(Line("Data storage", "aws.dynamodb.storage", "GB-month", region, 0, gb, gb,
                      note="before the account's free storage allowance"))
    if (body.get("point_in_time_recovery") or {}).get("enabled"):
        lines.append(Line("Point-in-time recovery storage", "aws.dynamodb.pitr", "GB-month", region, 0, gb, gb,
                          note="billed on the table's size"))
    return lines
