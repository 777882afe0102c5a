"""Feature store on GCP: BigQuery offline store plus an optional Vertex AI online store.

``FeatureStore`` emits:

* ``google_bigquery_dataset`` (child ``Resource``): the offline store, in ``props.location``,
  default CMEK (``default_encryption_configuration``), contents kept on destroy, deletion
  protection per the props;
* per entry of ``props.groups`` a ``google_bigquery_table`` (child ``Table<group>``) with the
  group's schema — the record identifier (``STRING``, required), the event time (``TIMESTAMP``,
  required) and the features (``string`` → ``STRING``, ``integral`` → ``INT64``, ``fractional`` →
  ``FLOAT64``) — day-partitioned on the event time, clustered on the identifier, CMEK-encrypted;
* with ``props.online``: ``google_vertex_ai_feature_online_store`` (child ``Online``) with
  Bigtable serving (the only online serving type that takes a CMEK; autoscaling
  ``online_min_nodes``..``online_max_nodes``) and one
  ``google_vertex_ai_feature_online_store_featureview`` per group (child ``View<group>``) syncing
  from its table on ``sync_cron``; the Vertex AI service agent gets ``roles/bigquery.dataViewer``
  on the dataset to run the sync;
* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  with encrypt/decrypt for the BigQuery encryption service account and (online) the Vertex AI
  service agent.

Grants: ``grant_read`` → ``roles/bigquery.dataViewer`` on the dataset; ``grant_write`` →
``roles/bigquery.dataEditor`` on the dataset; both add ``roles/bigquery.jobUser`` on the project
(queries run as jobs; it allows running jobs, not reading other data) and, with an online store,
the *online reader* custom role (fetch feature values; :data:`ONLINE_READ_PERMISSIONS`).
"""

from __future__ import annotations

import json

from pydantic import Field, model_validator

from ..core import build_props, engine
from ..core.construct import MlopsConstruct
from ..core.recovery import Recovery
from ..core.resource import DataSource, Resource
from ._common import (
    PROJECT_PATTERN,
    REGION_PATTERN,
    grant_suffix,
    own_key,
    require_services,
    role_id,
    service_agent,
    underscored,
    use_key,
)

__all__ = [
    "BQ_TYPES",
    "JOB_USER_ROLE",
    "ONLINE_READ_PERMISSIONS",
    "READ_ROLE",
    "WRITE_ROLE",
    "FeatureStore",
    "FeatureStoreProps",
    "table_schema",
]

BQ_TYPES = {"string": "STRING", "integral": "INT64", "fractional": "FLOAT64"}
"""Feature type -> BigQuery column type."""
READ_ROLE = "roles/bigquery.dataViewer"
WRITE_ROLE = "roles/bigquery.dataEditor"
JOB_USER_ROLE = "roles/bigquery.jobUser"
ONLINE_READ_PERMISSIONS: tuple[str, ...] = (
    "aiplatform.featureOnlineStores.get",
    "aiplatform.featureViews.fetchFeatureValues",
    "aiplatform.featureViews.get",
)
"""Permissions of the *online reader* role: fetch feature values from the online store."""


def table_schema(group: build_props.FeatureGroupSettings) -> str:
    """The BigQuery schema (JSON text) of a feature group's table."""
    fields = [
        {"name": group.record_identifier, "type": "STRING", "mode": "REQUIRED", "description": "Record identifier"},
        {"name": group.event_time, "type": "TIMESTAMP", "mode": "REQUIRED", "description": "Event time"},
        *(
            {"name": name, "type": BQ_TYPES[kind], "mode": "NULLABLE"}
            for name, kind in sorted(group.features.items())
        ),
    ]
    return json.dumps(fields, separators=(",", ":"))


class FeatureStoreProps(build_props.FeatureStoreProps):
    """GCP feature store props: the shared props plus project, region and online-store settings."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID of the dataset and online store.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the dataset, the online store and the key.")
    deletion_protection: bool = Field(
        default=True,
        description="Protect the dataset, tables and key from deletion. Defaults to True.",
    )
    online_min_nodes: int = Field(default=1, ge=1, description="Bigtable nodes kept for online serving. Defaults to 1.")
    online_max_nodes: int = Field(default=3, ge=1, description="Most Bigtable nodes for online serving (cost cap). Defaults to 3.")
    sync_cron: str = Field(
        default="0 * * * *",
        description="When feature views copy new rows from BigQuery to the online store (cron, UTC). Defaults to hourly.",
    )

    @model_validator(mode="after")
    def _nodes(self) -> "FeatureStoreProps":
        if self.online_min_nodes > self.online_max_nodes:
            raise ValueError(
                f"online_min_nodes ({self.online_min_nodes}) must not exceed online_max_nodes ({self.online_max_nodes})"
            )
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"feature group names must be unique, got {names}")
        return self


class FeatureStore(MlopsConstruct):
    """BigQuery offline feature tables (CMEK) and an optional Bigtable-backed online store.

    Public attributes (same names on every cloud): ``resource`` (the dataset), ``store_id``
    (token of the dataset's id, ``projects/P/datasets/D``), ``groups`` (group name ->
    ``google_bigquery_table``), ``group_ids`` (group name -> token of the table's id,
    ``projects/P/datasets/D/tables/T``), ``online`` (the online store or None), ``recovery``
    (regional: no cross-region copy), ``key`` / ``key_id``; GCP extras: ``dataset_id`` (the
    BigQuery dataset id, ``D``), ``views`` (group -> feature view).
    """

    props_type = FeatureStoreProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: FeatureStoreProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        protect = props.deletion_protection
        apis = ["bigquery.googleapis.com"]
        bq_agent = DataSource(self, "BigQueryAgent", "google_bigquery_default_service_account",
                              provider=provider, project=props.project)
        agents = [("BigQueryAgentKey", bq_agent.ref("member"))]
        if props.online:
            apis.append("aiplatform.googleapis.com")
            agents.append(("VertexAgentKey", service_agent(self, props.project, "aiplatform", provider=provider)))
        deps = require_services(self, props.project, apis, provider=provider)
        self.key = own_key(
            self,
            "Key",
            props.encryption,
            name=props.name,
            project=props.project,
            location=props.location,
            deletion_protection=protect,
            provider=provider,
        )
        self.key_id, key_grants = use_key(self, self.key, props.encryption, agents, provider=provider)
        self.dataset_id = underscored(props.name)
        self.resource = Resource(
            self,
            "Resource",
            "google_bigquery_dataset",
            provider=provider,
            depends_on=[*deps, *key_grants],
            prevent_destroy=protect,
            project=props.project,
            dataset_id=self.dataset_id,
            location=props.location,
            friendly_name=props.name,
            description="Offline feature store (cdktf-mlops)",
            delete_contents_on_destroy=False,
            default_encryption_configuration={"kms_key_name": self.key_id},
        )
        self.store_id: str = self.resource.ref("id")
        # A regional dataset and online store: no cross-region copy.
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=None)
        self.groups: dict[str, Resource] = {}
        for group in props.groups:
            self.groups[group.name] = Resource(
                self,
                f"Table{_title(group.name)}",
                "google_bigquery_table",
                provider=provider,
                prevent_destroy=protect,
                project=props.project,
                dataset_id=self.resource.ref("dataset_id"),
                table_id=group.name,
                description=f"Feature group {group.name} (cdktf-mlops)",
                deletion_protection=protect,
                schema=table_schema(group),
                time_partitioning={"type": "DAY", "field": group.event_time},
                clustering=[group.record_identifier],
                encryption_configuration={"kms_key_name": self.key_id},
            )
        self.group_ids: dict[str, str] = {name: table.ref("id") for name, table in self.groups.items()}

        self.online: Resource | None = None
        self.views: dict[str, Resource] = {}
        self.online_role: Resource | None = None
        if props.online:
            vertex = service_agent(self, props.project, "aiplatform", provider=provider)
            sync_grant = Resource(
                self,
                "VertexAgentRead",
                "google_bigquery_dataset_iam_member",
                provider=provider,
                project=props.project,
                dataset_id=self.resource.ref("dataset_id"),
                role=READ_ROLE,
                member=vertex,
            )
            self.online = Resource(
                self,
                "Online",
                "google_vertex_ai_feature_online_store",
                provider=provider,
                depends_on=[*deps, *key_grants],
                project=props.project,
                region=props.location,
                name=self.dataset_id,
                force_destroy=not protect,
                bigtable={
                    "auto_scaling": {
                        "min_node_count": props.online_min_nodes,
                        "max_node_count": props.online_max_nodes,
                        "cpu_utilization_target": 50,
                    }
                },
                encryption_spec={"kms_key_name": self.key_id},
            )
            for group in props.groups:
                self.views[group.name] = Resource(
                    self,
                    f"View{_title(group.name)}",
                    "google_vertex_ai_feature_online_store_featureview",
                    provider=provider,
                    depends_on=[sync_grant],
                    project=props.project,
                    region=props.location,
                    feature_online_store=self.online.ref("name"),
                    name=group.name,
                    big_query_source={
                        "uri": f"bq://{props.project}.{self.dataset_id}.{group.name}",
                        "entity_id_columns": [group.record_identifier],
                    },
                    sync_config={"cron": props.sync_cron},
                )
            self.online_role = Resource(
                self,
                "OnlineReaderRole",
                "google_project_iam_custom_role",
                provider=provider,
                depends_on=deps,
                project=props.project,
                role_id=role_id("mlops", props.name, "online", "reader"),
                title=f"{props.name} online feature reader",
                description="Fetch feature values from the online store (cdktf-mlops)",
                permissions=sorted(ONLINE_READ_PERMISSIONS),
                stage="GA",
            )

    def grant_read(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` read features: ``roles/bigquery.dataViewer`` on the dataset,
        ``roles/bigquery.jobUser`` on the project and, with an online store, the *online reader*
        role."""
        return self._grant(principal, READ_ROLE, "Read", id)

    def grant_write(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` write features: ``roles/bigquery.dataEditor`` on the dataset (rows and
        tables inside it; no dataset deletion or IAM), plus what :meth:`grant_read` adds."""
        return self._grant(principal, WRITE_ROLE, "Write", id)

    def _grant(self, principal: str, role: str, label: str, id: str | None) -> list[Resource]:
        suffix = grant_suffix(self.node.path, principal, id)
        props: FeatureStoreProps = self.props

        def make() -> list[Resource]:
            out = [
                Resource(
                    self,
                    f"{label}{suffix}",
                    "google_bigquery_dataset_iam_member",
                    provider=self._provider,
                    project=props.project,
                    dataset_id=self.resource.ref("dataset_id"),
                    role=role,
                    member=principal,
                ),
                self._once(f"jobs|{principal}", lambda: Resource(
                    self, f"Jobs{suffix}", "google_project_iam_member", provider=self._provider,
                    project=props.project, role=JOB_USER_ROLE, member=principal,
                )),
            ]
            if self.online_role is not None:
                out.append(self._once(f"online|{principal}", lambda: Resource(
                    self, f"OnlineRead{suffix}", "google_project_iam_member", provider=self._provider,
                    project=props.project, role=self.online_role.ref("name"), member=principal,
                )))
            return out

        return self._once(f"{role}|{principal}", make)


def _title(name: str) -> str:
    return "".join(p.capitalize() for p in name.replace("-", "_").split("_"))
