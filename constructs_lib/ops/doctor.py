"""``cdktf-mlops doctor``: is this machine ready to synthesize and deploy the given specs?

One line per check with a hint when something is missing: Node.js (jsii runs the engine on it),
the engine, terraform (optional: deploy and plan need it), cdktn, and credentials for each cloud
the specs use — boto3 STS caller identity, an azure-identity token, google-auth default
credentials. Cloud-instance metadata endpoints (EC2 IMDS, Azure managed identity, the GCE
metadata server) are not probed unless ``metadata=True``, so the doctor never waits on a network
it was not asked to use.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Check", "run_checks"]

Status = Literal["ok", "missing", "optional"]


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    detail: str
    hint: str = ""


def _version(cmd: list[str]) -> str | None:
    exe = shutil.which(cmd[0])
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, *cmd[1:]], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"v?(\d+\.\d+\.\d+)", out.stdout + out.stderr)
    return match.group(1) if match else None


def _node() -> Check:
    version = _version(["node", "--version"])
    if version is None:
        return Check("node", "missing", "Node.js not found", "install Node.js 18 or newer (jsii runs the engine on it)")
    if int(version.split(".")[0]) < 18:
        return Check("node", "missing", f"Node.js {version} is too old", "install Node.js 18 or newer")
    return Check("node", "ok", f"Node.js {version}")


#: cdktn-cli 0.24 (CDK Terrain's CLI) needs this Node.js; older Node fails inside the CLI with
#: ``util.markAsUncloneable is not a function``.
CDKTN_CLI_NODE = (22, 19)


def _cdktn_cli() -> Check | None:
    """The ``cdktn`` CLI, when on PATH: it runs only on Node.js >= 22.19."""
    if shutil.which("cdktn") is None:
        return None
    version = _version(["node", "--version"])
    if version is None or tuple(int(p) for p in version.split(".")[:2]) < CDKTN_CLI_NODE:
        need = ".".join(map(str, CDKTN_CLI_NODE))
        return Check(
            "cdktn-cli", "optional", f"the cdktn CLI needs Node.js >= {need}, found {version or 'none'}",
            f"run `cdktn` under Node.js {need}+ (e.g. `npm install node@22` and put its bin first on PATH), "
            "or use `cdktf-mlops synth` / `cdktf synth`",
        )
    return Check("cdktn-cli", "ok", f"cdktn CLI on Node.js {version}")


def _terraform() -> Check:
    version = _version(["terraform", "version"])
    if version is None:
        return Check("terraform", "optional", "not found", "install terraform >= 1.10 to plan and deploy (not needed to synthesize)")
    return Check("terraform", "ok", f"terraform {version}")


def _engine() -> Check:
    try:
        from ..core import engine
    except ImportError as err:
        return Check("engine", "missing", str(err), "pip install cdktf==0.21.0")
    return Check("engine", "ok", f"{engine.ENGINE} {engine.ENGINE_VERSION}")


def _aws(metadata: bool) -> Check:
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    except ImportError:
        return Check("aws", "missing", "boto3 not installed", "pip install 'cdktf-mlops[ops]'")
    if not metadata:
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    try:
        sts = boto3.session.Session().client(
            "sts", config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        )
        who = sts.get_caller_identity()
    except NoCredentialsError:
        return Check("aws", "missing", "no credentials", "aws configure / AWS_PROFILE, or OIDC in CI (see `cdktf-mlops ci github`)")
    except (ClientError, BotoCoreError) as err:
        return Check("aws", "missing", f"credentials found but STS refused them: {err}", "check the profile, role or session token")
    return Check("aws", "ok", f"{who['Arn']} (account {who['Account']})")


def _azure(metadata: bool) -> Check:
    try:
        from azure import identity
        from azure.core.exceptions import ClientAuthenticationError
    except ImportError:
        return Check("azure", "missing", "azure-identity not installed", "pip install 'cdktf-mlops[ops]'")
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    # The sources DefaultAzureCredential would try, one by one, so "none configured" and
    # "configured but refused" read differently; managed identity only with --metadata.
    sources: list[tuple[str, Callable[[], object]]] = [
        ("environment (service principal / OIDC)", identity.EnvironmentCredential),
        ("Azure CLI", identity.AzureCliCredential),
        ("Azure Developer CLI", identity.AzureDeveloperCliCredential),
    ]
    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
        sources.insert(1, ("workload identity", identity.WorkloadIdentityCredential))
    if metadata:
        sources.append(("managed identity", identity.ManagedIdentityCredential))
    for label, make in sources:
        try:
            make().get_token("https://management.azure.com/.default")  # type: ignore[attr-defined]
        except identity.CredentialUnavailableError:
            continue
        except (ClientAuthenticationError, ValueError) as err:
            text = str(err).strip().splitlines()
            return Check("azure", "missing", f"{label} found but no token: {text[0] if text else type(err).__name__}",
                         "check the tenant, client id and secret or federation")
        return Check("azure", "ok", f"token for Azure Resource Manager from {label}")
    return Check("azure", "missing", "no credentials", "az login, or AZURE_CLIENT_ID/AZURE_TENANT_ID with OIDC in CI")


def _gcp(metadata: bool) -> Check:
    if not metadata:
        os.environ.setdefault("NO_GCE_CHECK", "true")
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
    except ImportError:
        return Check("gcp", "missing", "google-auth not installed", "pip install 'cdktf-mlops[ops]'")
    try:
        credentials, project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except DefaultCredentialsError:
        return Check("gcp", "missing", "no application default credentials", "gcloud auth application-default login, or workload identity federation in CI")
    who = getattr(credentials, "service_account_email", None) or type(credentials).__name__
    return Check("gcp", "ok", f"{who} (project {project or 'not set'})")


def run_checks(clouds: Iterable[str], *, metadata: bool = False) -> list[Check]:
    """All checks, the cloud ones only for ``clouds`` (in aws, azure, gcp order)."""
    checks = [_node(), _engine(), _terraform()]
    import importlib.util

    if importlib.util.find_spec("cdktn") is not None:
        checks.append(Check("cdktn", "ok", "installed (CDKTF_MLOPS_ENGINE=cdktn selects it)"))
    else:
        checks.append(Check("cdktn", "optional", "not installed", "pip install 'cdktf-mlops[cdktn]' to use CDK Terrain"))
    cli = _cdktn_cli()
    if cli is not None:
        checks.append(cli)
    wanted = set(clouds)
    for cloud, check in (("aws", _aws), ("azure", _azure), ("gcp", _gcp)):
        if cloud in wanted:
            checks.append(check(metadata))
    return checks
