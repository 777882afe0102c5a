"""Create the remote-state bucket / container before the first deploy, idempotently.

``bootstrap(spec)`` makes sure the state location named by the spec's ``state`` section exists
and is hardened; running it again changes nothing and reports every setting as ``ok``.

* AWS (boto3): S3 bucket with versioning, default SSE-KMS (AWS managed key, bucket keys), all
  four public-access blocks, BucketOwnerEnforced ownership and a TLS-only bucket policy. Locking
  uses S3-native lock files (``use_lockfile``), so no DynamoDB table is needed.
* Azure (azure-identity + azure-storage): the storage account (StorageV2, TLS 1.2, HTTPS only,
  no public blob access, no shared keys, blob versioning and soft delete) is created through the
  management API when it is missing; the container is created through the blob API. Blob leases
  lock the state.
* GCP (google-cloud-storage): bucket with versioning, uniform bucket-level access, public access
  prevention enforced; GCS locks the state itself.

Endpoints can be pointed at local emulators (``endpoint``; ``AZURE_STORAGE_CONNECTION_STRING``;
``STORAGE_EMULATOR_HOST``) — the tests use moto, Azurite and a GCS emulator on loopback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core.errors import MlopsError
from ..core.spec import PlatformSpec

__all__ = ["BootstrapReport", "Step", "bootstrap"]

Status = Literal["created", "updated", "ok"]


@dataclass(frozen=True)
class Step:
    """One setting of the state location and what bootstrap did about it."""

    setting: str
    status: Status


@dataclass
class BootstrapReport:
    """What bootstrap found and did for one spec."""

    cloud: str
    location: str
    steps: list[Step] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when anything was created or updated."""
        return any(s.status != "ok" for s in self.steps)

    def add(self, setting: str, status: Status) -> None:
        self.steps.append(Step(setting, status))


def bootstrap(spec: PlatformSpec, *, endpoint: str | None = None) -> BootstrapReport:
    """Create or harden the state location of ``spec``; raises :class:`MlopsError` on a clear problem."""
    if spec.state is None:
        raise MlopsError(
            f"{spec.name}: the spec has no `state` section; add `state: {{}}` for a remote backend "
            "(local state needs no bootstrap)"
        )
    run: Callable[[PlatformSpec, str | None], BootstrapReport] = {
        "aws": _aws, "azure": _azure, "gcp": _gcp
    }[spec.cloud]
    return run(spec, endpoint)


def _need(module: str, extra: str = "ops") -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MlopsError(f"{module} is not installed: pip install 'cdktf-mlops[{extra}]'") from None


# ------------------------------------------------------------------------------------------- AWS

_TLS_ONLY_SID = "DenyInsecureTransport"


def _aws(spec: PlatformSpec, endpoint: str | None) -> BootstrapReport:
    boto3 = _need("boto3")
    from botocore.config import Config
    from botocore.exceptions import ClientError, NoCredentialsError

    assert spec.state is not None
    bucket = spec.state_name
    region = spec.state.region or spec.primary_region
    report = BootstrapReport("aws", f"s3://{bucket}/{spec.state_key}")
    # A fresh session: credentials are resolved now, not taken from an earlier cached session.
    s3 = boto3.session.Session().client(
        "s3", region_name=region, endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
    )

    def code(err: ClientError) -> str:
        return str(err.response.get("Error", {}).get("Code", ""))

    def fail(err: Exception, doing: str) -> MlopsError:
        if isinstance(err, NoCredentialsError):
            return MlopsError("no AWS credentials: configure a profile or AWS_* variables (see `cdktf-mlops doctor`)")
        c = code(err) if isinstance(err, ClientError) else ""
        if c in ("AccessDenied", "403", "AllAccessDisabled"):
            return MlopsError(f"s3://{bucket}: permission denied while {doing}; the caller needs s3:* on this bucket only")
        if c == "BucketAlreadyExists":
            return MlopsError(f"s3://{bucket}: the name is taken by another AWS account; set `state.name` in the spec")
        return MlopsError(f"s3://{bucket}: {doing} failed: {err}")

    try:
        try:
            s3.head_bucket(Bucket=bucket)
            report.add("bucket", "ok")
        except ClientError as err:
            if code(err) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            args: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
            if region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                s3.create_bucket(**args)
                report.add("bucket", "created")
            except ClientError as err2:
                if code(err2) != "BucketAlreadyOwnedByYou":
                    raise
                report.add("bucket", "ok")

        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        if status != "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        report.add("versioning", "ok" if status == "Enabled" else "updated")

        wanted_sse = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}
        try:
            rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as err:
            if code(err) != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            rules = []
        sse_ok = bool(rules) and rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") == "aws:kms"
        if not sse_ok:
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [wanted_sse]})
        report.add("encryption (SSE-KMS)", "ok" if sse_ok else "updated")

        wanted_block = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
        try:
            block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except ClientError as err:
            if code(err) != "NoSuchPublicAccessBlockConfiguration":
                raise
            block = {}
        if block != wanted_block:
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted_block)
        report.add("public access block", "ok" if block == wanted_block else "updated")

        try:
            rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        except ClientError as err:
            if code(err) != "OwnershipControlsNotFoundError":
                raise
            rules = []
        owner_ok = rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        if not owner_ok:
            s3.put_bucket_ownership_controls(
                Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
            )
        report.add("object ownership", "ok" if owner_ok else "updated")

        arn = f"arn:aws:s3:::{bucket}"
        statement = {
            "Sid": _TLS_ONLY_SID,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        try:
            current = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as err:
            if code(err) != "NoSuchBucketPolicy":
                raise
            current = {"Version": "2012-10-17", "Statement": []}
        others = [s for s in current.get("Statement", []) if s.get("Sid") != _TLS_ONLY_SID]
        present = [s for s in current.get("Statement", []) if s.get("Sid") == _TLS_ONLY_SID]
        if present != [statement]:
            policy = {"Version": "2012-10-17", "Statement": [*others, statement]}
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        report.add("TLS-only policy", "ok" if present == [statement] else "updated")
    except (ClientError, NoCredentialsError) as err:
        raise fail(err, "bootstrapping the state bucket") from None
    return report


# ----------------------------------------------------------------------------------------- Azure


def _azure(spec: PlatformSpec, endpoint: str | None) -> BootstrapReport:
    blob = _need("azure.storage.blob")
    core_exc = _need("azure.core.exceptions")
    assert spec.state is not None and spec.azure is not None
    account = spec.state_name
    container = spec.state.container
    report = BootstrapReport("azure", f"{account}/{container}/{spec.state_key}")
    conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    try:
        if conn:  # an emulator (Azurite) or an explicit account connection
            service = blob.BlobServiceClient.from_connection_string(conn)
            report.add("storage account", "ok")
        else:
            service = _azure_account(spec, report, endpoint)
        props = service.get_service_properties()
        retention = props.get("delete_retention_policy")
        soft_ok = bool(retention and retention.enabled and (retention.days or 0) >= 7)
        if not soft_ok:
            service.set_service_properties(delete_retention_policy=blob.RetentionPolicy(enabled=True, days=30))
        report.add("blob soft delete", "ok" if soft_ok else "updated")
        try:
            service.create_container(container)
            report.add("container", "created")
        except core_exc.ResourceExistsError:
            report.add("container", "ok")
        access = service.get_container_client(container).get_container_properties().get("public_access")
        if access:
            raise MlopsError(f"{account}/{container}: the container allows public access ({access}); make it private")
    except core_exc.ClientAuthenticationError as err:
        raise MlopsError(f"{account}: authentication failed ({err.message}); see `cdktf-mlops doctor`") from None
    except core_exc.HttpResponseError as err:
        if err.status_code == 403:
            raise MlopsError(
                f"{account}/{container}: permission denied; the caller needs 'Storage Blob Data Contributor' "
                "on the state account"
            ) from None
        raise MlopsError(f"{account}/{container}: {err.message}") from None
    return report


def _azure_account(spec: PlatformSpec, report: BootstrapReport, endpoint: str | None) -> Any:
    """Create or harden the state storage account through the management API (real Azure only)."""
    identity = _need("azure.identity")
    mgmt = _need("azure.mgmt.storage")
    models = _need("azure.mgmt.storage.models")
    blob = _need("azure.storage.blob")
    assert spec.state is not None and spec.azure is not None
    subscription = spec.azure.subscription_id or os.environ.get("ARM_SUBSCRIPTION_ID") or os.environ.get("AZURE_SUBSCRIPTION_ID")
    if not subscription:
        raise MlopsError("azure: set azure.subscription_id in the spec or ARM_SUBSCRIPTION_ID to bootstrap state")
    credential = identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)
    client = mgmt.StorageManagementClient(credential, subscription)
    group = spec.state.resource_group or spec.azure.resource_group
    account = spec.state_name
    location = spec.state.region or spec.primary_region
    try:
        client.storage_accounts.get_properties(group, account)
        report.add("storage account", "ok")
    except Exception as err:  # ResourceNotFoundError: create it
        if getattr(err, "status_code", None) != 404:
            raise
        availability = client.storage_accounts.check_name_availability({"name": account, "type": "Microsoft.Storage/storageAccounts"})
        if not availability.name_available:
            raise MlopsError(f"{account}: storage account name unavailable ({availability.message}); set `state.name`") from None
        params = models.StorageAccountCreateParameters(
            sku=models.Sku(name="Standard_ZRS"),
            kind="StorageV2",
            location=location,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            tags={"managed-by": "cdktf-mlops", "purpose": "terraform-state"},
        )
        client.storage_accounts.begin_create(group, account, params).result()
        report.add("storage account", "created")
    current = client.blob_services.get_service_properties(group, account)
    versioning_ok = bool(current.is_versioning_enabled)
    if not versioning_ok:
        client.blob_services.set_service_properties(
            group, account, models.BlobServiceProperties(is_versioning_enabled=True)
        )
    report.add("blob versioning", "ok" if versioning_ok else "updated")
    url = endpoint or f"https://{account}.blob.core.windows.net"
    return blob.BlobServiceClient(url, credential=credential)


# ------------------------------------------------------------------------------------------- GCP


def _gcp(spec: PlatformSpec, endpoint: str | None) -> BootstrapReport:
    storage = _need("google.cloud.storage")
    exceptions = _need("google.api_core.exceptions")
    assert spec.state is not None and spec.gcp is not None
    name = spec.state_name
    location = (spec.state.region or spec.primary_region).upper()
    report = BootstrapReport("gcp", f"gs://{name}/{spec.state_key.rsplit('/', 1)[0]}")
    kwargs: dict[str, Any] = {"project": spec.gcp.project}
    if endpoint or os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        kwargs.update(credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint or os.environ["STORAGE_EMULATOR_HOST"]})
    try:
        client = storage.Client(**kwargs)
        bucket = client.lookup_bucket(name)
        if bucket is None:
            bucket = client.bucket(name)
            bucket.versioning_enabled = True
            bucket.iam_configuration.uniform_bucket_level_access_enabled = True
            bucket.iam_configuration.public_access_prevention = "enforced"
            bucket.labels = {"managed-by": "cdktf-mlops", "purpose": "terraform-state"}
            client.create_bucket(bucket, location=location)
            for setting in ("bucket", "versioning", "uniform access", "public access prevention"):
                report.add(setting, "created" if setting == "bucket" else "ok")
            return report
        report.add("bucket", "ok")
        changed = False
        if not bucket.versioning_enabled:
            bucket.versioning_enabled = True
            changed = True
        report.add("versioning", "updated" if changed else "ok")
        iam = bucket.iam_configuration
        ubla = bool(iam.uniform_bucket_level_access_enabled)
        if not ubla:
            iam.uniform_bucket_level_access_enabled = True
        report.add("uniform access", "ok" if ubla else "updated")
        pap = iam.public_access_prevention == "enforced"
        if not pap:
            iam.public_access_prevention = "enforced"
        report.add("public access prevention", "ok" if pap else "updated")
        if changed or not ubla or not pap:
            bucket.patch()
    except exceptions.Forbidden:
        raise MlopsError(f"gs://{name}: permission denied; the caller needs roles/storage.admin on the state bucket's project, or a pre-created bucket") from None
    except exceptions.Conflict:
        raise MlopsError(f"gs://{name}: the name is taken by another project; set `state.name` in the spec") from None
    except exceptions.GoogleAPIError as err:
        raise MlopsError(f"gs://{name}: {err}") from None
    return report
