"""``cdktf-mlops ci github``: a GitHub Actions workflow for the platform's stacks.

Pull requests: synthesize, scan (checkov results uploaded as SARIF to code scanning) and
``terraform plan`` every stack. Pushes to main: the same, then ``terraform apply`` per stack behind
the ``production`` environment (configure required reviewers on it in the repository settings).
Cloud access uses OIDC federation only — no long-lived keys: AWS ``role-to-assume``, Azure
``client-id``/``tenant-id``/``subscription-id`` through ``azure/login``, GCP workload identity
federation through ``google-github-actions/auth``; the ids come from repository variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from ..core.spec import PlatformSpec

__all__ = ["github_workflow"]

_PY = "3.11"
_NODE = "20"
_TF = "1.11.4"


def _auth_steps(cloud: str) -> list[dict[str, Any]]:
    if cloud == "aws":
        return [{
            "name": "AWS credentials (OIDC)",
            "uses": "aws-actions/configure-aws-credentials@v4",
            "with": {"role-to-assume": "${{ vars.AWS_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}"},
        }]
    if cloud == "azure":
        return [{
            "name": "Azure login (OIDC)",
            "uses": "azure/login@v2",
            "with": {
                "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
            },
        }, {"name": "Terraform uses OIDC", "run": "echo 'ARM_USE_OIDC=true' >> \"$GITHUB_ENV\""}]
    return [{
        "name": "Google Cloud auth (workload identity federation)",
        "uses": "google-github-actions/auth@v2",
        "with": {
            "workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
            "service_account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
        },
    }]


def _setup(spec_args: str) -> list[dict[str, Any]]:
    return [
        {"name": "Check out", "uses": "actions/checkout@v4"},
        {"name": "Python", "uses": "actions/setup-python@v5", "with": {"python-version": _PY}},
        {"name": "Node.js", "uses": "actions/setup-node@v4", "with": {"node-version": _NODE}},
        {"name": "Install", "run": "pip install 'cdktf-mlops[dev]' || pip install -e '.[dev]'"},
        {"name": "Synthesize", "run": f"cdktf-mlops synth {spec_args} --out cdktf.out"},
    ]


def github_workflow(specs: Sequence[PlatformSpec], spec_paths: Sequence[str]) -> str:
    """The workflow YAML for ``specs`` (synthesized from ``spec_paths``)."""
    spec_args = " ".join(spec_paths)
    stacks = [{"stack": s.name, "cloud": s.cloud} for s in specs]
    clouds = sorted({s.cloud for s in specs})

    def per_cloud(kind: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        for cloud in clouds:
            for step in _auth_steps(cloud):
                steps.append({**step, "if": f"matrix.cloud == '{cloud}'"})
        workdir = "cdktf.out/stacks/${{ matrix.stack }}"
        steps += [
            {"name": "Terraform", "uses": "hashicorp/setup-terraform@v3",
             "with": {"terraform_version": _TF, "terraform_wrapper": False}},
            {"name": "terraform init", "working-directory": workdir, "run": "terraform init -input=false"},
        ]
        if kind == "plan":
            steps.append({"name": "terraform plan", "working-directory": workdir,
                          "run": "terraform plan -input=false -lock-timeout=5m -out=tfplan"})
        else:
            steps.append({"name": "terraform apply", "working-directory": workdir,
                          "run": "terraform apply -input=false -lock-timeout=5m -auto-approve"})
        return steps

    matrix = {"fail-fast": False, "matrix": {"include": stacks}}
    workflow: dict[str, Any] = {
        "name": "cdktf-mlops",
        "on": {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}},
        "permissions": {"contents": "read"},
        "concurrency": {"group": "cdktf-mlops-${{ github.ref }}", "cancel-in-progress": False},
        "jobs": {
            "scan": {
                "name": "Synthesize and scan",
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read", "security-events": "write"},
                "steps": [
                    *_setup(spec_args),
                    {"name": "Scan (checkov + least-privilege audit)",
                     "run": "cdktf-mlops scan --out cdktf.out --sarif checkov.sarif"},
                    {"name": "Upload SARIF", "if": "always()", "uses": "github/codeql-action/upload-sarif@v3",
                     "with": {"sarif_file": "checkov.sarif", "category": "cdktf-mlops"}},
                ],
            },
            "plan": {
                "name": "Plan ${{ matrix.stack }}",
                "needs": "scan",
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read", "id-token": "write"},
                "strategy": matrix,
                "steps": [*_setup(spec_args), *per_cloud("plan")],
            },
            "deploy": {
                "name": "Deploy ${{ matrix.stack }}",
                "needs": "plan",
                "if": "github.event_name == 'push' && github.ref == 'refs/heads/main'",
                "runs-on": "ubuntu-latest",
                "environment": "production",
                "permissions": {"contents": "read", "id-token": "write"},
                "strategy": matrix,
                "steps": [*_setup(spec_args), *per_cloud("apply")],
            },
        },
    }
    header = (
        "# Generated by `cdktf-mlops ci github`. Cloud access is OIDC only: set the repository\n"
        "# variables named below and require reviewers on the `production` environment.\n"
    )
    return header + yaml.safe_dump(workflow, sort_keys=False, width=120)
