"""Deploy synthesized AWS stacks with the real ``terraform`` CLI into a moto server on loopback.

Nothing here reaches a network beyond 127.0.0.1: providers come from a filesystem mirror
(``CDKTF_MLOPS_TF_MIRROR``, default ``/opt/tf-plugins``), every AWS endpoint points at moto, and
credentials are fake. Tests are skipped, naming what is missing, when ``terraform``, the mirror or
moto is absent.

Reuse from other tests (e.g. the reference example)::

    def test_reference_deploys(moto_deploy, tmp_path):
        result = moto_deploy(synthesized_stack_dir_or_json, tmp_path)
        assert result["resources"]["aws_s3_bucket.x"]["bucket"] == ...

``deploy_to_moto(stack_json, workdir)`` is the plain function behind the ``moto_deploy`` fixture;
alone it starts its own moto server and writes its own CLI config.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "AUTOMATION_MOTO_SERVICES",
    "AUTOMATION_MOTO_TYPES",
    "DEFAULT_MOTO_SERVICES",
    "KNOWN_MOTO_GAPS",
    "MOTO_SUPPORTED_TYPES",
    "PLATFORM_MOTO_SERVICES",
    "RUN_MOTO_SERVICES",
    "RUN_MOTO_TYPES",
    "TerraformFailed",
    "deploy_to_moto",
    "moto_override",
    "moto_server",
    "moto_targets",
    "terraform_env",
    "write_cli_config",
]

#: ``endpoints`` keys of the aws provider pointed at moto (all exist in aws 5.100 and 6.x).
DEFAULT_MOTO_SERVICES: tuple[str, ...] = ("iam", "kms", "s3", "s3control", "sts")
#: Services the build side adds (network, registries, tracking secrets, model registry).
PLATFORM_MOTO_SERVICES: tuple[str, ...] = (
    *DEFAULT_MOTO_SERVICES, "ec2", "ecr", "logs", "sagemaker", "secretsmanager",
)
#: Services the run side adds (alert topics, alarms and dashboards, routing, budgets, scaling, rules).
RUN_MOTO_SERVICES: tuple[str, ...] = (
    *PLATFORM_MOTO_SERVICES, "applicationautoscaling", "budgets", "cloudwatch", "events", "route53", "sns",
)
#: Services the automation side adds (retraining schedule, dead-letter queue of the trigger rules).
AUTOMATION_MOTO_SERVICES: tuple[str, ...] = (*RUN_MOTO_SERVICES, "scheduler", "sqs")
#: Resource types that moto 5.2 creates and reads back well enough for ``terraform apply`` and a
#: drift-free plan with the aws provider 5.100. A stack applied with ``only_moto_supported=True``
#: gets one ``-target`` per resource of these types whose references (transitively) stay inside
#: this set; everything else is covered by schema validation, ``terraform validate`` of the whole
#: stack and synth assertions (see docs/aws.md). Types left out on purpose:
#: ``aws_batch_*`` (moto's Batch needs a Docker daemon to manage compute environments),
#: ``aws_sagemaker_mlflow_tracking_server``, ``aws_sagemaker_feature_group``,
#: ``aws_sagemaker_model_package_group_policy`` (not implemented by moto 5.2), ``aws_launch_template``
#: and ``aws_flow_log`` (moto does not return every argument the provider reads back), and
#: ``aws_iam_role_policy_attachment`` (moto 5.2 does not know the AWS managed policy
#: ``service-role/AmazonEC2ContainerServiceforEC2Role`` that Batch hosts get).
MOTO_SUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "aws_cloudwatch_log_group",
        "aws_default_security_group",
        "aws_ecr_lifecycle_policy",
        "aws_ecr_repository",
        "aws_iam_instance_profile",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_kms_alias",
        "aws_kms_key",
        "aws_route_table",
        "aws_route_table_association",
        "aws_s3_bucket",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_logging",
        "aws_s3_bucket_notification",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_replication_configuration",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
        "aws_sagemaker_model_package_group",
        "aws_secretsmanager_secret",
        "aws_security_group",
        "aws_subnet",
        "aws_vpc",
        "aws_vpc_endpoint",
        "aws_vpc_security_group_egress_rule",
        "aws_vpc_security_group_ingress_rule",
    }
)
#: Run-side types (serving, routing, monitoring) that moto 5.2 *creates*, used by
#: ``tests/deploy/test_serving_moto.py`` together with :data:`MOTO_SUPPORTED_TYPES` and without the
#: drift check: moto does not return ``EnableNetworkIsolation``, ``VpcConfig`` or the data-capture
#: settings of SageMaker models and configurations, nor the defaults of CLOUDWATCH_METRIC health
#: checks, so a plan after the apply shows replacements that are moto's, not the stack's. Left out
#: (see docs/aws-run.md): ``aws_appautoscaling_*`` (moto 5.2 lacks ListTagsForResource of
#: Application Auto Scaling), ``aws_budgets_budget`` (no DescribeSubscribersForNotification),
#: ``aws_route53_query_log`` (moto does not find the us-east-1 log group),
#: ``aws_route53_key_signing_key`` / ``aws_route53_hosted_zone_dnssec`` and
#: ``aws_sagemaker_data_quality_job_definition`` / ``aws_sagemaker_monitoring_schedule`` (not
#: implemented), ``aws_s3_object`` (moto enforces the stores' TLS-only bucket policy against its
#: plain-HTTP endpoint, so the provider cannot read the object back).
RUN_MOTO_TYPES: frozenset[str] = frozenset(
    {
        "aws_cloudwatch_dashboard",
        "aws_cloudwatch_log_resource_policy",
        "aws_cloudwatch_metric_alarm",
        "aws_route53_health_check",
        "aws_route53_record",
        "aws_route53_zone",
        "aws_sagemaker_endpoint",
        "aws_sagemaker_endpoint_configuration",
        "aws_sagemaker_model",
        "aws_sns_topic",
        "aws_sns_topic_policy",
        "aws_sns_topic_subscription",
    }
)
#: Automation types (pipelines, retraining triggers) that moto 5.2 creates and reads back well
#: enough for ``terraform apply`` and a drift-free plan with the aws provider 5.100, used by
#: ``tests/deploy/test_automation_moto.py`` together with :data:`MOTO_SUPPORTED_TYPES` and
#: :data:`RUN_MOTO_TYPES` (the drift alarm) *with* the drift check: on
#: ``examples/retraining/aws.yaml`` the plan after the apply changes nothing beyond
#: :data:`KNOWN_MOTO_GAPS`. Left out (see docs/aws-automation.md): ``aws_mwaa_environment`` (moto
#: 5.2 has no MWAA backend; MWAA's key, role, security group and endpoints are ordinary types in
#: :data:`MOTO_SUPPORTED_TYPES`). Not exercised by moto: matching of the rules' event patterns
#: (moto's TestEventPattern is a stub; the test uses moto's in-process matcher instead) and delivery
#: to the pipeline (moto's EventBridge and Scheduler never invoke a SageMaker target).
AUTOMATION_MOTO_TYPES: frozenset[str] = frozenset(
    {
        "aws_cloudwatch_event_rule",
        "aws_cloudwatch_event_target",
        "aws_sagemaker_pipeline",
        "aws_scheduler_schedule",
        "aws_sqs_queue",
        "aws_sqs_queue_policy",
    }
)
_REFERENCE = re.compile(r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")
#: Fake credentials: moto accepts any; real AWS would reject them.
FAKE_CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
MOTO_REGION = "us-east-1"
_TF_TIMEOUT_S = 300


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "deploy: terraform validate/apply into a local emulator (needs terraform and a provider mirror)",
    )


class TerraformFailed(AssertionError):
    """A terraform command exited non-zero; the message carries its stderr and stdout tail."""


def _mirror_dir() -> Path:
    return Path(os.environ.get("CDKTF_MLOPS_TF_MIRROR", "/opt/tf-plugins"))


def _missing() -> str | None:
    """Why the deploy tests cannot run here, or None when they can."""
    if shutil.which("terraform") is None:
        return "terraform CLI not found on PATH"
    mirror = _mirror_dir()
    aws = mirror / "registry.terraform.io" / "hashicorp" / "aws"
    if not aws.is_dir() or not any(aws.glob("*/*/terraform-provider-aws_*")):
        return (
            f"no hashicorp/aws provider in the filesystem mirror {mirror} "
            "(set CDKTF_MLOPS_TF_MIRROR to a directory with registry.terraform.io/hashicorp/aws/<version>/<os_arch>/)"
        )
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:  # pragma: no cover - moto is a test dependency
        return f"moto[server] is not importable: {exc}"
    return None


def write_cli_config(path: Path) -> Path:
    """Write a terraform CLI config that installs hashicorp/aws only from the filesystem mirror."""
    mirror = json.dumps(str(_mirror_dir()))
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {mirror}\n"
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )
    return path


@pytest.fixture(scope="session")
def terraform_cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A terraform CLI config that installs hashicorp/aws only from the filesystem mirror."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    return write_cli_config(tmp_path_factory.mktemp("terraform-cli") / "terraform.rc")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (a free port) for the ``with`` block; yields its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one INFO line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server on 127.0.0.1 (a free port), stopped after the session."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    with moto_server() as url:
        yield url


def terraform_env(cli_config: Path) -> dict[str, str]:
    """Environment for terraform subprocesses: fake credentials, mirror config, no prompts."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_")) and k not in ("CHECKPOINT_DISABLE",)
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["access_key"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["secret_key"],
            "AWS_DEFAULT_REGION": MOTO_REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
    )
    return env


@pytest.fixture(scope="session")
def tf_env(terraform_cli_config: Path) -> dict[str, str]:
    """Environment for terraform subprocesses (see :func:`terraform_env`)."""
    return terraform_env(terraform_cli_config)


def _aws_providers(stack: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = (stack.get("provider") or {}).get("aws") or []
    if isinstance(blocks, Mapping):
        blocks = [blocks]
    return list(blocks)


def moto_override(
    stack: Mapping[str, Any],
    endpoint: str,
    services: Sequence[str] = DEFAULT_MOTO_SERVICES,
) -> dict[str, Any]:
    """A ``*_override.tf.json`` body pointing every aws provider block of ``stack`` at moto.

    Provider blocks are matched by alias (Terraform merges override files into the blocks with the
    same name and alias). The backend is forced to ``local`` in the working directory, whatever the
    stack declares. A stack without any aws provider block gets a default one.
    """
    providers = _aws_providers(stack) or [{}]
    overrides = []
    for block in providers:
        entry: dict[str, Any] = {
            **FAKE_CREDENTIALS,
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "s3_use_path_style": True,
            "max_retries": 2,
            "endpoints": [{service: endpoint for service in services}],
        }
        if block.get("alias"):
            entry["alias"] = block["alias"]
        else:
            entry.setdefault("region", block.get("region") or MOTO_REGION)
        overrides.append(entry)
    return {
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
        "provider": {"aws": overrides},
    }


#: Attributes that always show as changed after an apply into moto because moto does not store or
#: return them: resource type -> attribute path (nested blocks as ``block.*.attr``) -> why. Only
#: in-place updates confined to these paths are tolerated by the drift check.
KNOWN_MOTO_GAPS: dict[str, dict[str, str]] = {
    "aws_kms_key": {
        "rotation_period_in_days": "moto 5.2 GetKeyRotationStatus does not return RotationPeriodInDays",
    },
    "aws_s3_bucket_notification": {
        "eventbridge": "moto 5.2 GetBucketNotificationConfiguration omits EventBridgeConfiguration",
    },
    "aws_vpc_security_group_egress_rule": {
        "description": "moto 5.2 drops the description of a rule whose destination is a prefix list",
        "referenced_security_group_id": "moto 5.2 does not return the group of a self-referencing rule",
    },
    "aws_vpc_security_group_ingress_rule": {
        "description": "moto 5.2 drops the description of a self-referencing rule",
        "referenced_security_group_id": "moto 5.2 does not return the group of a self-referencing rule",
    },
    "aws_s3_bucket_replication_configuration": {
        "rule.*.delete_marker_replication": "moto 5.2 GetBucketReplication always answers Disabled",
        "rule.*.source_selection_criteria": "moto 5.2 GetBucketReplication drops SourceSelectionCriteria",
    },
}


def _diff_paths(before: Any, after: Any, unknown: Any, path: str = "") -> set[str]:
    """Dotted paths (list items as ``*``) where ``after`` differs from ``before``, known values only."""
    if unknown is True or before == after:
        return set()
    if isinstance(before, dict) and isinstance(after, dict):
        unknown = unknown if isinstance(unknown, dict) else {}
        out: set[str] = set()
        for key in set(before) | set(after):
            out |= _diff_paths(before.get(key), after.get(key), unknown.get(key), f"{path}{key}.")
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        unknown = unknown if isinstance(unknown, list) else [None] * len(after)
        out = set()
        for b, a, u in zip(before, after, unknown):
            out |= _diff_paths(b, a, u, f"{path}*.")
        return out
    return {path.rstrip(".")}


def _tolerated(path: str, allowed: Mapping[str, str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in allowed)


def _check_no_drift(
    work: Path,
    env: Mapping[str, str],
    allowed: Mapping[str, Mapping[str, str]] | None,
    target_args: Sequence[str] = (),
) -> None:
    allowed = KNOWN_MOTO_GAPS if allowed is None else allowed
    args = ["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=drift.tfplan", *target_args]
    plan = subprocess.run(
        ["terraform", *args], cwd=work, env=dict(env), capture_output=True, text=True,
        timeout=_TF_TIMEOUT_S, check=False,
    )
    if plan.returncode == 0:
        return
    if plan.returncode != 2:
        raise TerraformFailed(
            f"`terraform {' '.join(args)}` exited {plan.returncode} in {work}\n"
            f"--- stderr ---\n{plan.stderr.strip()}\n--- stdout (tail) ---\n{plan.stdout[-4000:].strip()}"
        )
    shown = json.loads(_run(["show", "-json", "-no-color", "drift.tfplan"], work, env).stdout)
    problems = []
    for change in shown.get("resource_changes", []):
        actions = change["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        diff = change["change"]
        changed = _diff_paths(diff.get("before"), diff.get("after"), diff.get("after_unknown"))
        gaps = allowed.get(change["type"], {})
        untolerated = sorted(p for p in changed if not _tolerated(p, gaps))
        if actions != ["update"] or untolerated:
            problems.append(f"{change['address']}: {'/'.join(actions)} {untolerated}")
    if problems:
        raise TerraformFailed(
            f"`terraform plan` after apply wants changes (drift) in {work}:\n  "
            + "\n  ".join(problems)
            + f"\n--- plan (tail) ---\n{plan.stdout[-6000:].strip()}"
        )


def _run(args: list[str], workdir: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["terraform", *args],
        cwd=workdir,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=_TF_TIMEOUT_S,
        check=False,
    )
    if proc.returncode not in (0,):
        raise TerraformFailed(
            f"`terraform {' '.join(args)}` exited {proc.returncode} in {workdir}\n"
            f"--- stderr ---\n{proc.stderr.strip()}\n--- stdout (tail) ---\n{proc.stdout[-4000:].strip()}"
        )
    return proc


def moto_targets(stack: Mapping[str, Any], supported: frozenset[str] = MOTO_SUPPORTED_TYPES) -> list[str]:
    """Addresses of the resources of ``stack`` that moto can create, for ``terraform apply -target``.

    A resource qualifies when its type is in ``supported`` and everything it references (other
    resources, data sources, ``depends_on``), transitively, qualifies too; data sources qualify when
    what they reference does. The result is sorted (deterministic command lines).
    """
    nodes: dict[str, tuple[bool, set[str]]] = {}
    for kind in ("resource", "data"):
        for tf_type, instances in (stack.get(kind) or {}).items():
            for name, body in instances.items():
                address = f"{tf_type}.{name}" if kind == "resource" else f"data.{tf_type}.{name}"
                refs = {
                    f"{m.group(1) or ''}{m.group(2)}.{m.group(3)}"
                    for m in _REFERENCE.finditer(json.dumps({k: v for k, v in body.items() if k != "//"}))
                }
                refs.discard(address)
                nodes[address] = (kind == "data" or tf_type in supported, refs)
    ok: dict[str, bool] = {}

    def check(address: str, seen: frozenset[str]) -> bool:
        if address in ok:
            return ok[address]
        if address not in nodes:
            return True  # an attribute path or a provider reference, not a block
        if address in seen:
            return True
        own, refs = nodes[address]
        result = own and all(check(r, seen | {address}) for r in refs)
        ok[address] = result
        return result

    return sorted(a for a in nodes if not a.startswith("data.") and check(a, frozenset()))


def _load_stack(stack_json: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    if isinstance(stack_json, Mapping):
        return json.loads(json.dumps(stack_json))
    path = Path(stack_json)
    if path.is_dir():
        path = path / "cdk.tf.json"
    return json.loads(path.read_text())


def deploy_to_moto(
    stack_json: Mapping[str, Any] | str | os.PathLike[str],
    workdir: str | os.PathLike[str],
    *,
    endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
    services: Sequence[str] = DEFAULT_MOTO_SERVICES,
    check_no_drift: bool = True,
    allowed_drift: Mapping[str, Mapping[str, str]] | None = None,
    only_moto_supported: bool = False,
    supported: frozenset[str] | None = None,
) -> dict[str, Any]:
    """``terraform init`` / ``validate`` / ``apply`` a synthesized stack against moto at ``endpoint``.

    ``only_moto_supported`` applies (and checks for drift) only :func:`moto_targets` — the
    resources of :data:`MOTO_SUPPORTED_TYPES` whose dependencies moto can create too — with one
    ``-target`` each; ``validate`` still covers the whole stack. The result then also holds
    ``"targets"`` (the applied addresses) and ``"skipped"`` (the others); ``supported`` replaces
    :data:`MOTO_SUPPORTED_TYPES` for that selection. Outputs with a literal
    value, which a targeted apply does not record, are read from the stack JSON.

    ``stack_json`` is the stack's JSON (a dict), its ``cdk.tf.json`` file or the synthesized stack
    directory holding it. The JSON is written to ``workdir/cdk.tf.json`` with a
    ``moto_override.tf.json`` next to it (:func:`moto_override`). With ``check_no_drift`` a
    ``terraform plan -detailed-exitcode`` after the apply must find nothing to change, except
    in-place updates of the attributes listed in ``allowed_drift`` (default
    :data:`KNOWN_MOTO_GAPS`: what moto does not store or return, each with the reason).

    Returns ``{"resources": {address: values}, "outputs": {...}, "seconds": {step: s}}``; raises
    :class:`TerraformFailed` (an ``AssertionError``) with terraform's stderr on any failure.
    Provider blocks that assume roles or read profiles are not neutralised: point such stacks'
    providers at plain regions before deploying them here.

    ``endpoint`` is the moto URL; ``None`` starts a private moto server for this call only (then
    the returned state is all there is to inspect). ``env`` is the terraform environment
    (:func:`terraform_env`); ``None`` writes a mirror-only CLI config into ``workdir``. Raises
    ``RuntimeError`` naming what is missing when terraform or the provider mirror is absent.
    """
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    if env is None:
        missing = _missing()
        if missing:
            raise RuntimeError(missing)
        env = terraform_env(write_cli_config(work / "terraform.rc"))
    if endpoint is None:
        with moto_server() as url:
            return deploy_to_moto(
                stack_json, work, endpoint=url, env=env, services=services,
                check_no_drift=check_no_drift, allowed_drift=allowed_drift,
                only_moto_supported=only_moto_supported, supported=supported,
            )
    stack = _load_stack(stack_json)
    targets: list[str] = moto_targets(stack, supported or MOTO_SUPPORTED_TYPES) if only_moto_supported else []
    target_args = [f"-target={t}" for t in targets]
    (work / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
    (work / "moto_override.tf.json").write_text(json.dumps(moto_override(stack, endpoint, services), indent=2))

    seconds: dict[str, float] = {}

    def step(name: str, args: list[str]) -> subprocess.CompletedProcess[str]:
        start = time.monotonic()
        try:
            return _run(args, work, env)
        finally:
            seconds[name] = round(time.monotonic() - start, 2)

    step("init", ["init", "-input=false", "-no-color"])
    step("validate", ["validate", "-no-color"])
    step("apply", ["apply", "-auto-approve", "-input=false", "-no-color", *target_args])
    if check_no_drift:
        start = time.monotonic()
        try:
            _check_no_drift(work, env, allowed_drift, target_args)
        finally:
            seconds["plan"] = round(time.monotonic() - start, 2)
    shown = json.loads(step("show", ["show", "-json", "-no-color"]).stdout)
    outputs = json.loads(step("output", ["output", "-json", "-no-color"]).stdout or "{}")
    resources: dict[str, Any] = {}
    for res in (shown.get("values") or {}).get("root_module", {}).get("resources", []):
        resources[res["address"]] = res.get("values") or {}
    result: dict[str, Any] = {"resources": resources, "outputs": outputs, "seconds": seconds}
    if only_moto_supported:
        # a targeted apply skips outputs that depend on no targeted resource, such as literal values
        for name, out in (stack.get("output") or {}).items():
            if name not in outputs and "${" not in json.dumps(out.get("value")):
                outputs[name] = {"value": out.get("value"), "sensitive": bool(out.get("sensitive")), "literal": True}
        every = {f"{t}.{n}" for t, inst in (stack.get("resource") or {}).items() for n in inst}
        result["targets"] = targets
        result["skipped"] = sorted(every - set(targets))
    return result


@pytest.fixture(scope="session")
def moto_deploy(
    moto_endpoint: str, tf_env: dict[str, str]
) -> Callable[..., dict[str, Any]]:
    """:func:`deploy_to_moto` bound to this session's moto server and terraform environment."""

    def deploy(stack_json: Any, workdir: Any, **kwargs: Any) -> dict[str, Any]:
        return deploy_to_moto(stack_json, workdir, endpoint=moto_endpoint, env=tf_env, **kwargs)

    return deploy


@pytest.fixture(scope="session")
def boto3_client(moto_endpoint: str) -> Callable[..., Any]:
    """``boto3_client("s3", region)``: a client of the session's moto server with fake credentials."""
    import boto3

    def make(service: str, region: str = MOTO_REGION) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=moto_endpoint,
            aws_access_key_id=FAKE_CREDENTIALS["access_key"],
            aws_secret_access_key=FAKE_CREDENTIALS["secret_key"],
        )

    return make
