"""The generated workflow's plan → apply hand-off, run for real: terraform against moto on loopback.

The AWS reference stack (``examples/reference/aws.yaml``) goes through the commands of the
workflow that ``cdktf-mlops ci github`` generates for it — the ``plan`` job's ``terraform init``,
``terraform plan -out=tfplan`` and plan-summary step in the synthesized stack folder, then the
``deploy`` job's ``terraform init`` and ``terraform apply tfplan`` in a *copy* of that folder
without ``.terraform`` (what the plan artifact carries). Providers come from the filesystem
mirror; the plan and apply folders share one state file (the remote backend's role), and
``TF_CLI_ARGS_plan`` limits the plans to the stack's data stores (:data:`STORE_TYPES`, with
:func:`moto_targets`).

1. spec v1: plan, summary, hand-off, apply from the file → the resources exist with v1's tag.
2. spec v2 (the tag changed): planned and saved — the plan a reviewer approves.
3. spec v3 (the tag changed again) is planned and applied first: the state moved on.
4. applying v2's saved plan is refused by terraform ("Saved plan is stale"); the state keeps v3.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import MOTO_SUPPORTED_TYPES, PLATFORM_MOTO_SERVICES, moto_override, moto_targets

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "reference" / "aws.yaml"
_TIMEOUT_S = 300
#: The plans target the stack's data stores (buckets, their settings, their keys): three plans and
#: applies of the whole moto-supported part take over three minutes, and moto 5.2 rejects the
#: in-place tag update of some security group rules (ModifySecurityGroupRules without ports).
#: Lifecycle configurations are left out too: against moto the provider waits ~55 s for each.
STORE_TYPES = frozenset(
    t for t in MOTO_SUPPORTED_TYPES
    if t.startswith(("aws_s3_bucket", "aws_kms_")) and t != "aws_s3_bucket_lifecycle_configuration"
)


#: The stack name of this test (see :func:`_synth`).
STACK = "handoff-aws"


def _workflow_jobs() -> dict[str, Any]:
    from constructs_lib.core.spec import load_specs
    from constructs_lib.ops.ci import github_workflow

    return yaml.safe_load(github_workflow(load_specs([EXAMPLE]), [str(EXAMPLE)]))["jobs"]


def _step(job: dict[str, Any], name_start: str) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s["name"].startswith(name_start)]
    return step


def _bash(script: str, cwd: Path, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    """One ``run:`` of the workflow, as GitHub runs it (``bash -e``)."""
    start = time.monotonic()
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=_TIMEOUT_S, check=False)
    print(f"{time.monotonic() - start:6.1f} s  {script.splitlines()[0]}  ({cwd.name})")
    for ln in re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout).splitlines():
        if re.search(r"complete after (\d\dm|\d+m\d+s|[1-9]\d+s)", ln):
            print("   slow:", ln)
    if ok:
        assert proc.returncode == 0, f"{script!r} in {cwd} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout[-3000:]}"
    return proc


def _synth(tag: str, work: Path) -> dict[str, Any]:
    """The reference AWS spec's stores synthesized with ``tags.team = tag``, named
    ``handoff-aws``: the other deploy tests apply the reference stack into the same moto state
    (moto keeps one state per process), so its bucket names and key aliases must differ."""
    from constructs_lib.platform import synthesize

    spec = yaml.safe_load(EXAMPLE.read_text())
    # Only the stores are applied: keep the sections that name them, so that no other construct's
    # key or alias (named from its own spec section, not the stack) meets the other deploy tests'.
    spec = {k: v for k, v in spec.items() if k in ("version", "cloud", "environment", "regions", "tags", "storage", "aws")}
    spec["name"] = STACK
    spec["tags"]["team"] = tag
    spec_file = work / f"spec-{tag}" / "aws.yaml"
    spec_file.parent.mkdir(parents=True)
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    start = time.monotonic()
    (stack,) = synthesize([spec_file], outdir=work / f"cdktf.out-{tag}").stacks
    print(f"{time.monotonic() - start:6.1f} s  synth {tag}")
    return json.loads((stack.directory / "cdk.tf.json").read_text())


def test_apply_runs_the_reviewed_plan_and_refuses_a_stale_one(
    moto_endpoint: str, tf_env: dict[str, str], tmp_path: Path
) -> None:
    jobs = _workflow_jobs()
    plan_job, deploy_job = jobs["plan"], jobs["deploy"]
    plan_runs = [_step(plan_job, n)["run"] for n in ("terraform init", "terraform plan", "Plan summary")]
    deploy_runs = [_step(deploy_job, n)["run"] for n in ("terraform init", "terraform apply")]
    state = tmp_path / "remote.tfstate"  # the shared backend of plan and apply jobs
    started = time.monotonic()

    def plan(tag: str) -> Path:
        """The plan job for spec ``tag``; returns the artifact folder (stack + tfplan, no .terraform)."""
        stack = _synth(tag, tmp_path)
        folder = tmp_path / f"stack-{tag}"
        folder.mkdir()
        (folder / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
        override = moto_override(stack, moto_endpoint, PLATFORM_MOTO_SERVICES)
        override["terraform"]["backend"]["local"]["path"] = str(state)
        (folder / "moto_override.tf.json").write_text(json.dumps(override, indent=2))
        summary = tmp_path / f"summary-{tag}.md"
        env = {
            **tf_env, **{k: str(v) for k, v in plan_job["env"].items()},
            "TF_CLI_ARGS_plan": " ".join(f"-target={t}" for t in moto_targets(stack, STORE_TYPES)),
            "STACK": STACK, "GITHUB_STEP_SUMMARY": str(summary),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{tf_env['PATH']}",  # `python` of the summary step
        }
        _bash(plan_runs[0], folder, env)
        planned = _bash(plan_runs[1], folder, env)
        _bash(plan_runs[2], folder, env)
        # the summary counts what terraform's own "Plan:" line says
        plain = re.sub(r"\x1b\[[0-9;]*m", "", planned.stdout)
        (line,) = [ln for ln in plain.splitlines() if ln.startswith("Plan: ")]
        counts = line.removeprefix("Plan: ").rstrip(".")
        assert f"{counts}." in summary.read_text(), (line, summary.read_text())
        artifact = tmp_path / f"artifact-{tag}"
        shutil.copytree(folder, artifact, ignore=shutil.ignore_patterns(".terraform", "tfplan.json"))
        assert (artifact / "tfplan").is_file() and (artifact / ".terraform.lock.hcl").is_file()
        return artifact

    def apply(artifact: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**tf_env, **{k: str(v) for k, v in deploy_job["env"].items()}}
        _bash(deploy_runs[0], artifact, env)
        return _bash(deploy_runs[1], artifact, env, ok=ok)

    def resources() -> list[dict[str, Any]]:
        shown = json.loads(subprocess.run(
            ["terraform", "show", "-json", str(state)], cwd=tmp_path / "stack-v1",  # initialized
            env=tf_env, capture_output=True, text=True, timeout=_TIMEOUT_S, check=True).stdout)
        found = shown["values"]["root_module"]["resources"]
        assert found, "nothing in the state"
        return found

    def addresses() -> list[str]:
        return [r["address"] for r in resources()]

    def team_tags() -> set[str]:
        return {r["values"]["tags_all"]["team"] for r in resources() if (r.get("values") or {}).get("tags_all")}

    apply(plan("v1"))
    assert team_tags() == {"v1"}
    assert any(r.startswith("aws_s3_bucket.") for r in addresses()) and any(r.startswith("aws_kms_key.") for r in addresses())

    reviewed = plan("v2")  # approved in the production environment, not applied yet
    apply(plan("v3"))  # meanwhile another change reached the state
    assert team_tags() == {"v3"}

    refused = apply(reviewed, ok=False)
    assert refused.returncode != 0
    assert "Saved plan is stale" in refused.stderr + refused.stdout, refused.stderr
    assert team_tags() == {"v3"}, "the stale plan changed nothing"
    print(f"plan → apply hand-off: {time.monotonic() - started:.0f} s")
