"""Helpers shared by the GCP build-side constructs (not public API).

* :func:`require_services` — one ``google_project_service`` per API and project for the whole stack
  (``disable_on_destroy = false``), created under a stack-level ``GcpServices`` construct so two
  constructs needing the same API do not emit it twice.
* :func:`project_number` — one ``google_project`` data source per project and stack; service-agent
  e-mails are built from its ``number``.
* :func:`service_agent` — the IAM member of a Google-managed service agent.
* :func:`account_id` — a service-account id from a name and a role.
* :func:`own_key` — a construct's own :class:`~constructs_lib.gcp.keys.Key` (None when
  ``encryption.key_id`` supplies one), and :func:`use_key` — the key id in use plus
  encrypt/decrypt on it for the service agents that use it.
* :func:`check_member` / :func:`grant_suffix` — validation and stable construct ids for grants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.construct import shared
from ..core.errors import ConstructError
from ..core.naming import short_hash
from ..core.props import EncryptionProps, Model
from ..core.resource import DataSource, Resource
from .keys import ENCRYPTER_DECRYPTER_ROLE, Key, KeyProps

__all__: list[str] = []

PROJECT_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
REGION_PATTERN = r"^[a-z]+-[a-z]+[0-9]+$"

_MEMBER_PREFIXES: tuple[str, ...] = (
    "serviceAccount:",
    "group:",
    "user:",
    "principal://",
    "principalSet://",
)
_PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})

#: service agent kind -> e-mail template (``{n}`` = project number)
SERVICE_AGENTS: dict[str, str] = {
    "artifactregistry": "service-{n}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "secretmanager": "service-{n}@gcp-sa-secretmanager.iam.gserviceaccount.com",
    "aiplatform": "service-{n}@gcp-sa-aiplatform.iam.gserviceaccount.com",
    "compute": "service-{n}@compute-system.iam.gserviceaccount.com",
    "container": "service-{n}@container-engine-robot.iam.gserviceaccount.com",
    "bigquery": "bq-{n}@bigquery-encryption.iam.gserviceaccount.com",
    "pubsub": "service-{n}@gcp-sa-pubsub.iam.gserviceaccount.com",
    "workflows": "service-{n}@gcp-sa-workflows.iam.gserviceaccount.com",
    "monitoring": "service-{n}@gcp-sa-monitoring-notification.iam.gserviceaccount.com",
    "composer": "service-{n}@cloudcomposer-accounts.iam.gserviceaccount.com",
    "transfer": "project-{n}@storage-transfer-service.iam.gserviceaccount.com",
}


class GcpPlacement(Model):
    """Where a GCP build-side construct lives: project and region."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the construct's resources.")
    location: str = Field(
        pattern=REGION_PATTERN,
        description="Region of the construct's resources, lowercase (e.g. 'us-central1').",
    )


class _Services(engine.Construct):
    """Stack-level holder of ``google_project_service`` and ``google_project`` blocks."""

    def __init__(self, scope: engine.Construct, id: str) -> None:
        super().__init__(scope, id)
        self.apis: dict[tuple[str, str], Resource] = {}
        self.projects: dict[str, DataSource] = {}


def _services(scope: engine.Construct, provider: Any) -> _Services:
    holder_id = "GcpServices" if provider is None else f"GcpServices{short_hash(provider.node.path, length=6)}"
    return shared(scope, holder_id, lambda stack: _Services(stack, holder_id))


def require_services(
    scope: engine.Construct, project: str, apis: Iterable[str], *, provider: Any = None
) -> list[Resource]:
    """Enable ``apis`` (e.g. ``container.googleapis.com``) in ``project``, once per stack.

    ``disable_on_destroy`` and ``disable_dependent_services`` are false: destroying this stack
    never turns an API off for other workloads of the project.
    """
    holder = _services(scope, provider)
    out: list[Resource] = []
    for api in apis:
        key = (project, api)
        if key not in holder.apis:
            label = "".join(p.capitalize() for p in api.split(".")[0].split("-"))
            first = next(iter(holder.apis), (project, ""))[0]
            suffix = "" if project == first else short_hash(project, length=6)
            holder.apis[key] = Resource(
                holder,
                f"{label}{suffix}",
                "google_project_service",
                provider=provider,
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
            )
        out.append(holder.apis[key])
    return out


def project_number(scope: engine.Construct, project: str, *, provider: Any = None) -> str:
    """Token of ``project``'s number (one ``google_project`` data source per project and stack)."""
    holder = _services(scope, provider)
    if project not in holder.projects:
        holder.projects[project] = DataSource(
            holder,
            f"Project{short_hash(project, length=6)}",
            "google_project",
            provider=provider,
            project_id=project,
        )
    return holder.projects[project].ref("number")


def service_agent(scope: engine.Construct, project: str, kind: str, *, provider: Any = None) -> str:
    """IAM member of the ``kind`` service agent of ``project`` (see :data:`SERVICE_AGENTS`)."""
    number = project_number(scope, project, provider=provider)
    return "serviceAccount:" + SERVICE_AGENTS[kind].format(n=number)


def own_key(
    scope: engine.Construct,
    id: str,
    encryption: EncryptionProps,
    *,
    name: str,
    project: str,
    location: str,
    deletion_protection: bool,
    provider: engine.TerraformProvider | None,
) -> Key | None:
    """The construct's own customer-managed key, or ``None`` when ``encryption.key_id`` brings one.

    The own key is ``Key(scope, id, KeyProps.for_encryption(name, encryption, ...))``: key ring
    and key named ``name`` in ``project`` / ``location`` (the location of the data it encrypts),
    rotated every ``encryption.rotation_days``, ``prevent_destroy`` with ``deletion_protection``.
    The same name and signature serve every GCP construct with a key (and match ``own_key`` of
    the other clouds); :func:`use_key` then grants its use to the service agents.
    """
    if encryption.key_id is not None:
        return None
    return Key(
        scope,
        id,
        KeyProps.for_encryption(
            name, encryption, project=project, location=location, deletion_protection=deletion_protection
        ),
        provider=provider,
    )


def use_key(
    scope: engine.Construct,
    key: Key | None,
    encryption: EncryptionProps,
    agents: Sequence[tuple[str, str]],
    *,
    provider: engine.TerraformProvider | None,
) -> tuple[str, list[Resource]]:
    """The key id in use (``key``'s, else ``encryption.key_id``) and encrypt/decrypt on it for ``agents``.

    ``agents`` are ``(construct id, member)`` pairs: the service agents that encrypt on the
    construct's behalf. On the own key the grants are the key's (:meth:`Key.grant_encrypt_decrypt`);
    on a supplied key they are ``google_kms_crypto_key_iam_member`` children of ``scope``.
    Resources that use the key should depend on the returned grants.
    """
    if key is not None:
        return key.key_id, [g for gid, member in agents for g in key.grant_encrypt_decrypt(member, id=gid)]
    key_id = encryption.key_id
    assert key_id is not None  # own_key returns a key whenever none is supplied
    grants = [
        Resource(
            scope,
            gid,
            "google_kms_crypto_key_iam_member",
            provider=provider,
            crypto_key_id=key_id,
            role=ENCRYPTER_DECRYPTER_ROLE,
            member=member,
        )
        for gid, member in agents
    ]
    return key_id, grants


def check_member(path: str, principal: str) -> None:
    """Refuse public members, domains and strings that are not IAM members (whole tokens pass)."""
    if not isinstance(principal, str) or not principal:
        raise ConstructError(path, "a principal must be a non-empty IAM member string")
    if principal in _PUBLIC_MEMBERS:
        raise ConstructError(
            path,
            f"{principal!r} would make the data store public; grant a service account, "
            "group or user instead"
        )
    if engine.Token.is_unresolved(principal) and principal.startswith("${"):
        return  # a whole-token member (e.g. another resource's ``member`` attribute)
    if not principal.startswith(_MEMBER_PREFIXES) or principal.endswith((":", "//")):
        allowed = ", ".join(repr(p) for p in _MEMBER_PREFIXES)
        raise ConstructError(
            path,
            f"principal {principal!r} is not an IAM member of a supported kind: it must "
            f"start with one of {allowed} (e.g. 'serviceAccount:trainer@my-project."
            "iam.gserviceaccount.com'); domains and public members are not granted"
        )


def grant_suffix(path: str, principal: str, id: str | None) -> str:
    """``id``, or a stable hash of ``principal``; a token principal needs an explicit ``id``."""
    check_member(path, principal)
    if id is not None:
        return id
    if engine.Token.is_unresolved(principal):
        raise ConstructError(
            path,
            "pass id=... to grant a principal that contains a token (a token's text is "
            "not stable, so it cannot name the grant)"
        )
    return short_hash(principal, length=8)


def account_id(name: str, role: str) -> str:
    """A service-account id (6-30 lowercase letters, digits, hyphens) from a name and a role:
    ``<name>-<role>``, or with a long name its head, a short hash of the whole and the role."""
    raw = f"{name}-{role}"
    if len(raw) <= 30:
        return raw
    suffix = short_hash(raw, length=5)
    head = raw[: 30 - len(suffix) - len(role) - 2].rstrip("-")
    return f"{head}-{suffix}-{role}"


def role_id(*parts: str) -> str:
    """A custom role id (``[a-zA-Z0-9_.]``, 3-64) from name parts."""
    raw = "_".join(re.sub(r"[^a-zA-Z0-9]+", "_", p) for p in parts if p)
    if len(raw) > 64:
        raw = raw[:57] + "_" + short_hash(raw, length=6)
    return raw


def underscored(name: str) -> str:
    """``my-name`` -> ``my_name`` (BigQuery datasets, Vertex feature stores)."""
    return name.replace("-", "_")
