"""gcp.MlflowServer (through Tracking with mlflow=True): Cloud Run + private Cloud SQL, IAM only.

The server's command line is parsed by MLflow's own CLI (``mlflow.cli.server`` from
``mlflow-skinny``, the version of the pinned image) and its host check is MLflow's own function, so
a flag MLflow does not have, or a tracking URI whose host MLflow would refuse, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from constructs_lib.core import engine
from constructs_lib.core.errors import ConstructError
from constructs_lib.core.schema import validate_stack
from constructs_lib.gcp import DataStore, DataStoreProps, Network, NetworkProps, Tracking, TrackingProps
from constructs_lib.gcp.mlflow import DATABASE_ROLES, INVOKER_ROLE, MLFLOW_IMAGE, PROXY_IMAGE

from .conftest import PROJECT

SA = "serviceAccount:trainer@ml-platform-dev.iam.gserviceaccount.com"


def make(build, *, grant: bool = True, **kw):
    holder: dict = {}

    def body(stack):
        net = holder["net"] = Network(stack, "net", NetworkProps(name="ml-net", project=PROJECT, location="us-central1"))
        store = holder["store"] = DataStore(
            stack, "artifacts", DataStoreProps(name="ml-artifacts", project=PROJECT, location="us-central1")
        )
        t = holder["t"] = Tracking(
            stack,
            "Tracking",
            TrackingProps(name="ml-track", project=PROJECT, location="us-central1", mlflow=True, **kw),
            network=net,
            artifacts_store=store,
        )
        if grant:
            t.grant_access(SA)
        engine.TerraformOutput(stack, "tracking_uri", value=t.tracking_uri)

    return build(body), holder


def _ref(built, element, attr: str) -> str:
    return "${" + built.address(element) + f".{attr}}}"


def _containers(built) -> dict[str, dict]:
    svc = built.by_path("google_cloud_run_v2_service", "gcp/Tracking/Mlflow/Resource")
    return {c["name"]: c for c in svc["template"]["containers"]}


def test_service_is_private_iam_only_and_encrypted(build) -> None:
    built, h = make(build)
    t, net = h["t"], h["net"]
    svc = built.by_path("google_cloud_run_v2_service", "gcp/Tracking/Mlflow/Resource")
    key = _ref(built, t.key.resource, "id")
    assert svc["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert svc["invoker_iam_disabled"] is False and svc["deletion_protection"] is True
    assert svc["template"]["encryption_key"] == key
    assert svc["template"]["vpc_access"] == {
        "egress": "ALL_TRAFFIC", "network_interfaces": [{"subnetwork": _ref(built, net.subnet, "id")}]
    }
    assert svc["template"]["service_account"] == _ref(built, t.mlflow.identity, "email")
    # run.invoker only for the granted principal, on this service only; nobody public anywhere.
    invokers = built.resources("google_cloud_run_v2_service_iam_member")
    assert [(b["member"], b["role"]) for b in invokers.values()] == [(SA, INVOKER_ROLE)]
    assert "allUsers" not in json.dumps(built.doc) and "allAuthenticatedUsers" not in json.dumps(built.doc)
    with pytest.raises(ConstructError, match="public"):
        t.mlflow.grant_invoke("allUsers")
    # Cloud Run, Cloud SQL and Artifact Registry service agents may use the key.
    agents = {b["member"] for b in built.resources("google_kms_crypto_key_iam_member").values()}
    for agent in ("serverless-robot-prod", "gcp-sa-cloud-sql", "gcp-sa-artifactregistry"):
        assert any(agent in a for a in agents), agent


def test_database_is_private_backed_up_protected_and_passwordless(build) -> None:
    built, h = make(build)
    t, net = h["t"], h["net"]
    db = built.by_path("google_sql_database_instance", "gcp/Tracking/Mlflow/Database")
    s = db["settings"]
    assert db["database_version"].startswith("POSTGRES_")
    assert db["encryption_key_name"] == _ref(built, t.key.resource, "id")
    assert db["deletion_protection"] is True and s["deletion_protection_enabled"] is True
    assert s["ip_configuration"] == {
        "ipv4_enabled": False,
        "private_network": _ref(built, net.resource, "id"),
        "ssl_mode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
    }
    assert s["connector_enforcement"] == "REQUIRED"
    backup = s["backup_configuration"]
    assert backup["enabled"] and backup["point_in_time_recovery_enabled"] and backup["transaction_log_retention_days"] >= 7
    assert {"name": "cloudsql.iam_authentication", "value": "on"} in s["database_flags"]
    # Private services access exists on the network before the instance.
    assert built.resources("google_service_networking_connection")
    # IAM database login only: no password, secret version or root password anywhere.
    (user,) = built.resources("google_sql_user").values()
    assert user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT" and user["name"] == f"ml-track-mlflow@{PROJECT}.iam"
    text = json.dumps(built.doc)
    assert "password" not in text and "google_secret_manager_secret_version" not in text


def test_identity_roles_are_conditioned_on_the_instance(build) -> None:
    built, h = make(build)
    member = _ref(built, h["t"].mlflow.identity, "member")
    grants = [b for b in built.resources("google_project_iam_member").values() if b["member"] == member]
    assert sorted(b["role"] for b in grants) == sorted(DATABASE_ROLES)
    for b in grants:
        assert b["condition"]["expression"] == f'resource.name == "projects/{PROJECT}/instances/ml-track-mlflow"'
    # artifacts: write (create + view), no delete, on the artifacts bucket only
    bucket_roles = {b["role"] for b in built.resources("google_storage_bucket_iam_member").values() if b["member"] == member}
    assert bucket_roles and not any("admin" in r or "Admin" in r for r in bucket_roles)


def _mlflow_host_check():
    """MLflow's own Host-header check (``mlflow/server/security_utils.py``), loaded from its file:
    importing ``mlflow.server`` would pull the full server's dependencies (SQLAlchemy, alembic)."""
    import importlib.util

    import mlflow

    path = Path(mlflow.__file__).parent / "server" / "security_utils.py"
    spec = importlib.util.spec_from_file_location("_mlflow_security_utils", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_allowed_host_header


def test_server_command_is_what_mlflow_accepts(build) -> None:
    cli = pytest.importorskip("mlflow.cli", reason="mlflow-skinny (dev extra) parses the server command line")
    from mlflow.version import VERSION

    is_allowed_host_header = _mlflow_host_check()
    built, h = make(build)
    mlflow = _containers(built)["mlflow"]
    assert mlflow["command"] == ["mlflow"] and mlflow["args"][0] == "server"
    # The CLI we check with is the server's own version.
    assert MLFLOW_IMAGE.endswith(f":v{VERSION}-full")
    params = cli.server.make_context("server", list(mlflow["args"][1:])).params
    assert params["port"] == mlflow["ports"]["container_port"] == 8080
    assert params["host"] == "0.0.0.0" and params["serve_artifacts"] is True
    bucket = _ref(built, h["store"].resource, "name")
    assert params["artifacts_destination"] == f"gs://{bucket}/mlflow"
    backend = urlsplit(params["backend_store_uri"])
    assert backend.scheme == "postgresql+psycopg2" and backend.hostname == "127.0.0.1" and backend.port == 5432
    assert unquote(backend.username or "") == f"ml-track-mlflow@{PROJECT}.iam" and backend.password is None
    assert backend.path == "/mlflow"
    # MLflow's host check admits the host of the tracking URI (what clients send as Host), no other.
    allowed = [a.strip() for a in params["allowed_hosts"].split(",")]
    uri = built.doc["output"]["tracking_uri"]["value"]
    assert uri.startswith("https://ml-track-mlflow-${data.google_project.") and uri.endswith(".us-central1.run.app")
    assert is_allowed_host_header(allowed, urlsplit(uri).netloc)
    assert not is_allowed_host_header(allowed, "evil.example.com")
    assert not is_allowed_host_header(allowed, "ml-track-mlflow-abc123-uc.a.run.app")


def test_proxy_sidecar_and_images(build) -> None:
    built, h = make(build)
    c = _containers(built)
    proxy = c["cloud-sql-proxy"]
    assert proxy["image"] == PROXY_IMAGE and "@sha256:" in PROXY_IMAGE
    assert {"--private-ip", "--auto-iam-authn", "--port=5432"} <= set(proxy["args"])
    assert proxy["args"][-1] == _ref(built, h["t"].mlflow.database, "connection_name")
    assert c["mlflow"]["depends_on"] == ["cloud-sql-proxy"]
    # ghcr.io is pulled through a CMEK Artifact Registry remote repository.
    repo = built.by_path("google_artifact_registry_repository", "gcp/Tracking/Mlflow/Images")
    assert repo["mode"] == "REMOTE_REPOSITORY" and repo["kms_key_name"] == _ref(built, h["t"].key.resource, "id")
    assert repo["remote_repository_config"]["docker_repository"]["custom_repository"]["uri"] == "https://ghcr.io"
    assert c["mlflow"]["image"] == (
        f"us-central1-docker.pkg.dev/{PROJECT}/ml-track-ghcr/" + MLFLOW_IMAGE.removeprefix("ghcr.io/")
    )


def test_schema_valid(build) -> None:
    built, _ = make(build)
    assert validate_stack(built.doc, stack="gcp") == []


def test_mlflow_needs_network_and_artifacts(build) -> None:
    def body(stack):
        Tracking(stack, "Tracking", TrackingProps(name="ml-track", project=PROJECT, location="us-central1", mlflow=True))

    with pytest.raises(ConstructError, match="mlflow=True needs network="):
        build(body)


def test_longest_tracking_name_fits(build) -> None:
    name = "a" * 40  # the longest logical name the props allow
    def body(stack):
        net = Network(stack, "net", NetworkProps(name="ml-net", project=PROJECT, location="us-central1"))
        store = DataStore(stack, "a", DataStoreProps(name="ml-artifacts", project=PROJECT, location="us-central1"))
        Tracking(stack, "T", TrackingProps(name=name, project=PROJECT, location="us-central1", mlflow=True),
                 network=net, artifacts_store=store)

    built = build(body)
    (svc,) = built.resources("google_cloud_run_v2_service").values()
    assert len(svc["name"]) <= 49  # Cloud Run service names: at most 49 characters
    (wf,) = built.resources("google_workflows_workflow").values()
    assert len(wf["name"]) <= 64  # Workflows names: at most 64 characters


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_mlflow_flag_means_the_same_on_aws_and_azure(cloud) -> None:
    """`tracking.mlflow: true` is accepted where tracking already is MLflow and changes nothing."""
    from constructs_lib.core.spec import load_spec
    from constructs_lib.core.synth import stack_document
    from constructs_lib.platform import build_stack

    spec = load_spec(Path(__file__).resolve().parents[3] / "examples" / "reference" / f"{cloud}.yaml")
    assert spec.tracking is not None and spec.tracking.mlflow is False  # the documented default
    with_flag = spec.model_copy(update={"tracking": spec.tracking.model_copy(update={"mlflow": True})})
    docs = [stack_document(build_stack(engine.App(), s)) for s in (spec, with_flag)]
    assert docs[0] == docs[1]
