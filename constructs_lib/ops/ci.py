"""``cdktf-mlops ci github``: a GitHub Actions workflow for the platform's stacks.

Job graph (one ``plan`` and one ``deploy`` job per stack, a matrix)::

    scan ──> plan (per stack) ──> deploy (per stack; push to main only, environment `production`)

* ``scan`` synthesizes every stack and runs ``cdktf-mlops scan`` (checkov + least-privilege audit);
  the findings go to code scanning as SARIF and the result table with the acknowledged findings
  to the job summary. It then appends the stacks' monthly cost (``cdktf-mlops cost``, typical
  profile) to the job summary and uploads ``cdktf-mlops report`` (DR plan, governance, diagram,
  provenance, cost; HTML + Markdown per stack) as the artifact ``report``, kept
  :data:`ARTIFACT_RETENTION_DAYS` days, for the change review. It installs ``cdktf-mlops[scan]``
  and Graphviz (apt, for the diagram) and holds no cloud identity.
* ``plan`` synthesizes, runs ``terraform plan -out=tfplan`` for its stack, writes the plan's
  adds/changes/destroys to the job summary, and uploads the synthesized stack folder *with* the
  plan file (``.terraform`` left out, the lock file kept) as the artifact ``plan-<stack>``, kept
  :data:`ARTIFACT_RETENTION_DAYS` days. It installs plain ``cdktf-mlops`` (no extra).
* ``deploy`` runs after the ``production`` environment's approval (configure required reviewers
  on it). It does not check out, synthesize or plan: it downloads exactly the artifact of its
  stack from the same run and runs ``terraform apply tfplan``. A saved plan is applied as it is
  (no prompt, no ``-auto-approve``), and terraform refuses it with "Saved plan is stale" when the
  state changed after the plan was made (another apply ran in between): re-run the workflow to
  plan again. Applies of one stack never overlap (``concurrency`` group per stack, queued, never
  cancelled).

Cloud access uses OIDC federation only — no long-lived keys: AWS ``role-to-assume``, Azure
``client-id``/``tenant-id``/``subscription-id`` through ``azure/login``, GCP workload identity
federation through ``google-github-actions/auth``; the ids come from repository variables. Every
action is pinned to a full commit SHA (:data:`ACTION_PINS`); the workflow has no permissions at the
top level and each job gets only what it uses; checkouts keep no token (``persist-credentials:
false``); no ``${{ }}`` expression is expanded inside a ``run:`` script (values go through ``env:``).
The workflow installs the ``cdktf-mlops`` version that generated it (regenerate after upgrading).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from typing import Any

import yaml

from ..core.spec import PlatformSpec

__all__ = ["ACTION_PINS", "ARTIFACT_RETENTION_DAYS", "PLAN_SUMMARY_SCRIPT", "github_workflow", "pinned"]

_PY = "3.11"
_NODE = "20"
_TF = "1.11.4"
#: Days the plan artifacts (plan file + synthesized stack) are kept; long enough for a review.
ARTIFACT_RETENTION_DAYS = 5

#: Every action the workflow uses: ``owner/repo[/path]`` -> (full commit SHA, release tag).
#: The SHA is the commit the release tag points to, read from the action's repository.
#:
#: To update a pin: pick the new release tag of the action, resolve it to its commit —
#: ``git ls-remote https://github.com/<owner>/<repo> 'refs/tags/<tag>^{}' 'refs/tags/<tag>'``
#: (take the peeled ``^{}`` line when there is one: annotated tags point to a tag object), or
#: ``git rev-parse '<tag>^{commit}'`` in a clone — read the release notes for changed inputs, then
#: replace both SHA and tag here, regenerate the workflow (``cdktf-mlops ci github``) and run
#: ``tests/ops/test_ci.py`` (zizmor and actionlint). Tools such as Dependabot or Renovate update the
#: generated file's ``uses: ...@<sha> # <tag>`` lines the same way; bring their bump back here.
ACTION_PINS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/setup-node": ("820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "hashicorp/setup-terraform": ("dfe3c3f87815947d99a8997f908cb6525fc44e9e", "v4.0.1"),
    "github/codeql-action/upload-sarif": ("8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2"),
}

#: Python run in the plan job after ``terraform show -json tfplan > tfplan.json``: appends the
#: stack's adds/changes/destroys (counted like terraform's own "Plan:" line, a replacement is one add
#: and one destroy) and the changed addresses to ``$GITHUB_STEP_SUMMARY``. Reads ``STACK`` from the
#: environment.
PLAN_SUMMARY_SCRIPT = """\
import json, os
plan = json.load(open("tfplan.json"))
counts = {"create": 0, "update": 0, "delete": 0}
changed = []
for rc in plan.get("resource_changes", []):
    actions = rc["change"]["actions"]
    for action in actions:
        if action in counts:
            counts[action] += 1
    if actions not in (["no-op"], ["read"]):
        changed.append(f"- `{rc['address']}`: {'/'.join(actions)}")
lines = [f"### Plan: {os.environ['STACK']}", "",
         f"{counts['create']} to add, {counts['update']} to change, {counts['delete']} to destroy.", ""]
if changed:
    lines += ["<details><summary>changed resources</summary>", "", *changed[:200], "", "</details>", ""]
with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
    summary.write("\\n".join(lines) + "\\n")
"""

_SCAN_SCRIPT = """\
status=0
cdktf-mlops scan --out cdktf.out --sarif checkov.sarif > scan.txt 2>&1 || status=$?
cat scan.txt
{
  echo "### Scan (checkov + least-privilege audit)"
  echo
  echo '```text'
  cat scan.txt
  echo '```'
} >> "$GITHUB_STEP_SUMMARY"
exit "$status"
"""


def _review_steps() -> list[dict[str, Any]]:
    """Cost to the job summary; the report (with the scan's results in it) as an artifact."""
    return [
        {"name": "Cost (job summary)", "if": "always()",
         "run": 'cdktf-mlops cost --out cdktf.out --format markdown >> "$GITHUB_STEP_SUMMARY"'},
        {"name": "Graphviz (the report's diagram)", "if": "always()",
         "run": "sudo apt-get update -q\nsudo apt-get install -y -q --no-install-recommends graphviz\n"},
        {"name": "Report (DR plan, governance, diagram, provenance, cost)", "if": "always()",
         "run": "cdktf-mlops report --out cdktf.out -o report"},
        {"name": "Upload the report", "if": "always()", "uses": pinned("actions/upload-artifact"),
         "with": {"name": "report", "path": "report/", "if-no-files-found": "error",
                  "retention-days": ARTIFACT_RETENTION_DAYS}},
    ]


def pinned(action: str) -> str:
    """``uses:`` value of ``action`` from :data:`ACTION_PINS`: ``owner/repo@<sha>`` (tag as comment)."""
    sha, _tag = ACTION_PINS[action]
    return f"{action}@{sha}"


def _installed_version() -> str:
    return importlib.metadata.version("cdktf-mlops")


def _auth_steps(cloud: str) -> list[dict[str, Any]]:
    if cloud == "aws":
        return [{
            "name": "AWS credentials (OIDC)",
            "uses": pinned("aws-actions/configure-aws-credentials"),
            "with": {"role-to-assume": "${{ vars.AWS_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}"},
        }]
    if cloud == "azure":
        return [{
            "name": "Azure login (OIDC)",
            "uses": pinned("azure/login"),
            "with": {
                "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
            },
        }]
    return [{
        "name": "Google Cloud auth (workload identity federation)",
        "uses": pinned("google-github-actions/auth"),
        "with": {
            "workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
            "service_account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
        },
    }]


def _synth_steps(spec_args: str, requirement: str) -> list[dict[str, Any]]:
    return [
        {"name": "Check out", "uses": pinned("actions/checkout"), "with": {"persist-credentials": False}},
        {"name": "Python", "uses": pinned("actions/setup-python"), "with": {"python-version": _PY}},
        {"name": "Node.js", "uses": pinned("actions/setup-node"), "with": {"node-version": _NODE}},
        {"name": "Install", "run": f"python -m pip install '{requirement}'"},
        {"name": "Synthesize", "run": f"cdktf-mlops synth {spec_args} --out cdktf.out"},
    ]


def _cloud_steps(clouds: Sequence[str]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for cloud in clouds:
        for step in _auth_steps(cloud):
            steps.append({**step, "if": f"matrix.cloud == '{cloud}'"} if len(clouds) > 1 else step)
    steps.append({"name": "Terraform", "uses": pinned("hashicorp/setup-terraform"),
                  "with": {"terraform_version": _TF, "terraform_wrapper": False}})
    return steps


def github_workflow(specs: Sequence[PlatformSpec], spec_paths: Sequence[str], version: str | None = None) -> str:
    """The workflow YAML for ``specs`` (synthesized from ``spec_paths``).

    ``version`` is the ``cdktf-mlops`` version the jobs install; default: the installed one
    (``importlib.metadata``), so a workflow installs the version that generated it.
    """
    version = version or _installed_version()
    spec_args = " ".join(spec_paths)
    stacks = [{"stack": s.name, "cloud": s.cloud} for s in specs]
    clouds = sorted({s.cloud for s in specs})
    matrix = {"fail-fast": False, "matrix": {"include": stacks}}
    workdir = "cdktf.out/stacks/${{ matrix.stack }}"
    tf_env: dict[str, Any] = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    if "azure" in clouds:
        tf_env["ARM_USE_OIDC"] = "true"  # the azurerm provider and backend authenticate with the OIDC token

    plan_steps = [
        *_synth_steps(spec_args, f"cdktf-mlops=={version}"),
        *_cloud_steps(clouds),
        {"name": "terraform init", "working-directory": workdir, "run": "terraform init -input=false"},
        {"name": "terraform plan", "working-directory": workdir,
         "run": "terraform plan -input=false -lock-timeout=5m -out=tfplan"},
        {"name": "Plan summary", "working-directory": workdir, "env": {"STACK": "${{ matrix.stack }}"},
         "run": "terraform show -json tfplan > tfplan.json\npython - <<'PY'\n" + PLAN_SUMMARY_SCRIPT + "PY\n"},
        {"name": "Upload the plan and the stack it was made from", "uses": pinned("actions/upload-artifact"),
         "with": {
             "name": "plan-${{ matrix.stack }}",
             "path": f"{workdir}/\n!{workdir}/.terraform/\n!{workdir}/tfplan.json\n",
             "include-hidden-files": True,  # .terraform.lock.hcl: apply installs the providers the plan used
             "if-no-files-found": "error",
             "retention-days": ARTIFACT_RETENTION_DAYS,
         }},
    ]
    deploy_steps = [
        {"name": "Download the reviewed plan", "uses": pinned("actions/download-artifact"),
         "with": {"name": "plan-${{ matrix.stack }}", "path": "stack"}},
        *_cloud_steps(clouds),
        {"name": "terraform init", "working-directory": "stack", "run": "terraform init -input=false"},
        {"name": "terraform apply (the saved plan; refused when stale)", "working-directory": "stack",
         "run": "terraform apply -input=false -lock-timeout=5m tfplan"},
    ]

    workflow: dict[str, Any] = {
        "name": "cdktf-mlops",
        "on": {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}},
        "permissions": {},
        "concurrency": {"group": "cdktf-mlops-${{ github.ref }}", "cancel-in-progress": False},
        "jobs": {
            "scan": {
                "name": "Synthesize and scan",
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read", "security-events": "write", "actions": "read"},
                "steps": [
                    *_synth_steps(spec_args, f"cdktf-mlops[scan]=={version}"),
                    {"name": "Scan (checkov + least-privilege audit)", "env": {"COLUMNS": "160"},
                     "run": _SCAN_SCRIPT},
                    {"name": "Upload SARIF", "if": "always()", "uses": pinned("github/codeql-action/upload-sarif"),
                     "with": {"sarif_file": "checkov.sarif", "category": "cdktf-mlops"}},
                    *_review_steps(),
                ],
            },
            "plan": {
                "name": "Plan ${{ matrix.stack }}",
                "needs": "scan",
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read", "id-token": "write"},
                "strategy": matrix,
                "env": tf_env,
                "steps": plan_steps,
            },
            "deploy": {
                "name": "Deploy ${{ matrix.stack }}",
                "needs": "plan",
                "if": "github.event_name == 'push' && github.ref == 'refs/heads/main'",
                "runs-on": "ubuntu-latest",
                "environment": "production",
                "permissions": {"id-token": "write"},
                "concurrency": {"group": "cdktf-mlops-apply-${{ matrix.stack }}", "cancel-in-progress": False},
                "strategy": matrix,
                "env": tf_env,
                "steps": deploy_steps,
            },
        },
    }
    header = (
        f"# Generated by `cdktf-mlops ci github` (cdktf-mlops {version}). Cloud access is OIDC only: set the\n"
        "# repository variables named below and require reviewers on the `production` environment.\n"
        "# Actions are pinned to commit SHAs (tag in the comment); update them in constructs_lib/ops/ci.py.\n"
    )
    return header + _dump(workflow)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (readable scripts), no anchors; else as ``safe_dump``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.nodes.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


#: Why each job permission is there (written as a comment next to it in the workflow).
_PERMISSION_WHY = {
    "contents: read": "check out the repository",
    "security-events: write": "upload the SARIF findings to code scanning",
    "actions: read": "upload-sarif reads the workflow run (private repositories)",
    "id-token: write": "OIDC token for the cloud login (no stored keys)",
}


def _dump(workflow: dict[str, Any]) -> str:
    text = yaml.dump(workflow, Dumper=_Dumper, sort_keys=False, width=120)
    # the tag of each pin as a comment after its SHA: `uses: actions/checkout@<sha> # v7.0.1`
    lines = []
    for line in text.splitlines():
        stripped = line.strip().removeprefix("- ")
        if stripped.startswith("uses: "):
            action, _, sha = stripped.removeprefix("uses: ").partition("@")
            if ACTION_PINS.get(action, ("", ""))[0] == sha:
                line = f"{line} # {ACTION_PINS[action][1]}"
        elif stripped in _PERMISSION_WHY and line.startswith("      "):
            line = f"{line} # {_PERMISSION_WHY[stripped]}"
        lines.append(line)
    return "\n".join(lines) + "\n"
