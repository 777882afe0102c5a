"""A private network for ML workloads on Azure: a virtual network with a workload subnet and a
private-endpoint subnet, NSGs that deny inbound traffic from the internet, a NAT gateway for
outbound traffic (nodes have no public IPs), private DNS zones for every private-link service the
platform uses, VNet flow logs, and :meth:`Network.add_private_endpoint` for other constructs.

Example::

    net = Network(self, "Network", NetworkProps(name="ml-net", resource_group_name="rg-ml",
                                                location="westeurope"))
    store = DataStore(self, "Data", DataStoreProps(...), network=net)   # blob + dfs + vault endpoints
    net.add_private_endpoint(self, "AcrEndpoint", acr_id, "registry")

What is created (construct ids in brackets), unless ``existing`` is given:

* ``azurerm_virtual_network`` [Resource] with ``cidr``; ``azurerm_subnet`` [Workloads] (the first
  half of the range, at most a /20) and [Endpoints] (the next block of the same size), both
  without default outbound access; private-endpoint network policies are enabled, so NSGs apply
  to private endpoints too.
* ``azurerm_network_security_group`` [WorkloadsNsg], [EndpointsNsg], each denying inbound traffic
  from the ``Internet`` service tag ahead of Azure's default rules, and their
  ``azurerm_subnet_network_security_group_association``.
* ``azurerm_public_ip`` + ``azurerm_nat_gateway`` [Nat] and their associations with the workload
  subnet (``nat_gateway``, default on): Azure ML compute nodes without public IPs need an explicit
  outbound path (Azure retires default outbound access). About 32 USD/month plus data processed.
* ``azurerm_private_dns_zone`` + ``azurerm_private_dns_zone_virtual_network_link`` per zone of
  :data:`DEFAULT_ZONES` (more zones are added when an endpoint needs them).
* ``azurerm_network_watcher_flow_log`` [FlowLog] on the virtual network (VNet flow logs, which
  replace the NSG flow logs Azure is retiring), version 2, kept ``flow_log_retention_days``, written
  to a CMK-encrypted :class:`~constructs_lib.azure.storage.DataStore` [FlowLogs] unless
  ``flow_log_storage_account_id`` is given. Azure creates one Network Watcher per subscription and
  region (``NetworkWatcher_<region>`` in ``NetworkWatcherRG``); the flow log is placed there.

With ``existing``, nothing but DNS zones (linked to the existing network) and endpoints is created;
flow logs of an existing network belong to its owner.
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator, model_validator

from ..core import engine
from ..core.build_props import NetworkProps as _CoreNetworkProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.naming import bucket_name, short_hash
from ..core.props import LifecycleProps
from ..core.resource import Resource
from ._common import PrivateEndpoints, attr
from .storage import DataStore, DataStoreProps

__all__ = [
    "DEFAULT_ZONES",
    "PRIVATE_DNS_ZONES",
    "Network",
    "NetworkProps",
    "PrivateEndpoints",
]

#: Private DNS zones of each private-link subresource the platform uses.
PRIVATE_DNS_ZONES: dict[str, tuple[str, ...]] = {
    "blob": ("privatelink.blob.core.windows.net",),
    "dfs": ("privatelink.dfs.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "queue": ("privatelink.queue.core.windows.net",),
    "table": ("privatelink.table.core.windows.net",),
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "amlregistry": ("privatelink.api.azureml.ms",),
    "redisCache": ("privatelink.redis.cache.windows.net",),
}
#: Zones created with the network (every workload of the platform needs them).
DEFAULT_ZONES: tuple[str, ...] = (
    "privatelink.api.azureml.ms",
    "privatelink.azurecr.io",
    "privatelink.blob.core.windows.net",
    "privatelink.dfs.core.windows.net",
    "privatelink.file.core.windows.net",
    "privatelink.notebooks.azure.net",
    "privatelink.vaultcore.azure.net",
)
_MAX_SUBNET_PREFIX = 20


class NetworkProps(_CoreNetworkProps):
    """The shared network props plus where the network lives and the Azure-only knobs."""

    resource_group_name: str = Field(description="Resource group of the network and its endpoints.")
    location: str = Field(description="Azure region, e.g. 'westeurope'.")
    nat_gateway: bool = Field(
        default=True,
        description=(
            "Give the workload subnet a NAT gateway (static public IP, Standard SKU) as its only "
            "outbound path. Defaults to True: ML nodes have no public IPs and Azure retires default "
            "outbound access. Set False when a hub firewall provides outbound through a route table."
        ),
    )
    flow_log_storage_account_id: str | None = Field(
        default=None,
        description=(
            "Storage account that receives VNet flow logs. Defaults to None: with `flow_logs`, a "
            "CMK-encrypted store is created for them (`<name>-flow`), without deletion protection."
        ),
    )
    log_analytics_workspace_id: str | None = Field(
        default=None,
        description=(
            "Log Analytics workspace (Resource Manager id) for the access logs of the created "
            "flow-log store. Defaults to None: the store creates its own workspace."
        ),
    )
    endpoint_subnet_id: str | None = Field(
        default=None,
        description=(
            "With `existing`: the subnet for private endpoints. Defaults to None: the first of "
            "`existing.subnet_ids`."
        ),
    )
    network_watcher_name: str | None = Field(
        default=None,
        description=(
            "Network Watcher of the region that owns the flow log. Defaults to None: the one Azure "
            "creates automatically, `NetworkWatcher_<location>`."
        ),
    )
    network_watcher_resource_group_name: str = Field(
        default="NetworkWatcherRG",
        description="Resource group of that Network Watcher. Defaults to NetworkWatcherRG (Azure's automatic one).",
    )

    @field_validator("resource_group_name", "location")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _existing_only(self) -> "NetworkProps":
        if self.endpoint_subnet_id is not None and self.existing is None:
            raise ValueError("endpoint_subnet_id is only used with `existing`; remove it or set existing")
        return self


def subnet_ranges(cidr: str) -> tuple[str, str]:
    """(workload range, endpoint range) of ``cidr``: its first two blocks of half the range, at most
    /20 each. 10.40.0.0/16 -> 10.40.0.0/20 and 10.40.16.0/20."""
    net = ipaddress.ip_network(cidr)
    prefix = max(_MAX_SUBNET_PREFIX, net.prefixlen + 1)
    first, second = list(net.subnets(new_prefix=prefix))[:2]
    return str(first), str(second)


class Network(MlopsConstruct):
    """A private virtual network for ML workloads (see the module docstring for what is created).

    Attributes:
        resource: the ``azurerm_virtual_network``, or None with ``existing``.
        network_id: id of the virtual network (token or the given id).
        private_subnet_ids: ``[workload subnet id]`` (the given subnets with ``existing``): where
            compute nodes run; none of them has a public IP.
        endpoint_subnet_id: subnet of private endpoints.
        dns_zones: zone name -> ``azurerm_private_dns_zone``.
        nat_gateway: the ``azurerm_nat_gateway`` or None.
        flow_log: the ``azurerm_network_watcher_flow_log`` or None.
        flow_log_store: the created flow-log :class:`DataStore`, or None.
        private_endpoints: every endpoint made by :meth:`add_private_endpoint`, by construct path.
    """

    props_type = NetworkProps
    props_hint = "resource_group_name and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: NetworkProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self._rg, self._location = props.resource_group_name, props.location
        self.resource: Resource | None = None
        self.nat_gateway: Resource | None = None
        self.flow_log: Resource | None = None
        self.flow_log_store: DataStore | None = None
        self.dns_zones: dict[str, Resource] = {}
        self.private_endpoints: dict[str, Resource] = {}
        self.subnets: dict[str, Resource] = {}

        if props.existing is not None:
            self.network_id: str = props.existing.network_id
            self.private_subnet_ids: list[str] = list(props.existing.subnet_ids)
            self.endpoint_subnet_id: str = props.endpoint_subnet_id or props.existing.subnet_ids[0]
        else:
            self._create_network(props, provider)

        for zone in DEFAULT_ZONES:
            self._zone(zone)

        if props.existing is None and props.flow_logs:
            self._flow_logs(props, provider)

    # -- pieces ---------------------------------------------------------------------------------

    def _create_network(self, props: NetworkProps, provider: engine.TerraformProvider | None) -> None:
        rg, location = self._rg, self._location
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_virtual_network",
            provider=provider,
            name=f"vnet-{props.name}",
            resource_group_name=rg,
            location=location,
            address_space=[props.cidr],
        )
        self.network_id = attr(self.resource, "id")
        workloads, endpoints = subnet_ranges(props.cidr)
        for key, cidr in (("Workloads", workloads), ("Endpoints", endpoints)):
            subnet = Resource(
                self,
                key,
                "azurerm_subnet",
                provider=provider,
                name=f"snet-{key.lower()}",
                resource_group_name=rg,
                virtual_network_name=attr(self.resource, "name"),
                address_prefixes=[cidr],
                default_outbound_access_enabled=False,
                private_endpoint_network_policies="Enabled",
            )
            nsg = Resource(
                self,
                f"{key}Nsg",
                "azurerm_network_security_group",
                provider=provider,
                name=f"nsg-{props.name}-{key.lower()}",
                resource_group_name=rg,
                location=location,
                security_rule=[
                    {
                        "name": "deny-internet-inbound",
                        "description": "No inbound traffic from the internet; ML nodes and endpoints are private.",
                        "priority": 4000,
                        "direction": "Inbound",
                        "access": "Deny",
                        "protocol": "*",
                        "source_address_prefix": "Internet",
                        "source_port_range": "*",
                        "destination_address_prefix": "*",
                        "destination_port_range": "*",
                    }
                ],
            )
            Resource(
                self,
                f"{key}NsgAssociation",
                "azurerm_subnet_network_security_group_association",
                provider=provider,
                subnet_id=attr(subnet, "id"),
                network_security_group_id=attr(nsg, "id"),
            )
            self.subnets[key.lower()] = subnet
        self.private_subnet_ids = [attr(self.subnets["workloads"], "id")]
        self.endpoint_subnet_id = attr(self.subnets["endpoints"], "id")

        if props.nat_gateway:
            ip = Resource(
                self,
                "NatIp",
                "azurerm_public_ip",
                provider=provider,
                name=f"pip-{props.name}-nat",
                resource_group_name=rg,
                location=location,
                allocation_method="Static",
                sku="Standard",
            )
            self.nat_gateway = Resource(
                self,
                "Nat",
                "azurerm_nat_gateway",
                provider=provider,
                name=f"ng-{props.name}",
                resource_group_name=rg,
                location=location,
                sku_name="Standard",
                idle_timeout_in_minutes=4,
            )
            Resource(
                self,
                "NatIpAssociation",
                "azurerm_nat_gateway_public_ip_association",
                provider=provider,
                nat_gateway_id=attr(self.nat_gateway, "id"),
                public_ip_address_id=attr(ip, "id"),
            )
            Resource(
                self,
                "NatAssociation",
                "azurerm_subnet_nat_gateway_association",
                provider=provider,
                subnet_id=self.private_subnet_ids[0],
                nat_gateway_id=attr(self.nat_gateway, "id"),
            )

    def _flow_logs(self, props: NetworkProps, provider: engine.TerraformProvider | None) -> None:
        storage_id = props.flow_log_storage_account_id
        if storage_id is None:
            self.flow_log_store = DataStore(
                self,
                "FlowLogs",
                DataStoreProps(
                    name=bucket_name(props.name, "flow", max_length=40),
                    resource_group_name=self._rg,
                    location=self._location,
                    # Flow-log blobs are written once and expire with the retention policy.
                    versioning=False,
                    lifecycle=LifecycleProps(
                        infrequent_access_after_days=30,
                        archive_after_days=None,
                        noncurrent_version_expiry_days=7,
                    ),
                    deletion_protection=False,
                    log_analytics_workspace_id=props.log_analytics_workspace_id,
                ),
                provider=provider,
                network=self,
            )
            storage_id = self.flow_log_store.store_id
        self.flow_log = Resource(
            self,
            "FlowLog",
            "azurerm_network_watcher_flow_log",
            provider=provider,
            name=f"fl-{props.name}",
            network_watcher_name=props.network_watcher_name or f"NetworkWatcher_{self._location}",
            resource_group_name=props.network_watcher_resource_group_name,
            location=self._location,
            target_resource_id=self.network_id,
            storage_account_id=storage_id,
            enabled=True,
            version=2,
            retention_policy={"enabled": True, "days": props.flow_log_retention_days},
        )

    def _zone(self, zone: str) -> Resource:
        if zone not in self.dns_zones:
            key = re.sub(r"[^A-Za-z0-9]+", "-", zone.removeprefix("privatelink.")).strip("-")
            dns = Resource(
                self,
                f"Zone-{key}",
                "azurerm_private_dns_zone",
                provider=self._provider,
                name=zone,
                resource_group_name=self._rg,
            )
            Resource(
                self,
                f"ZoneLink-{key}",
                "azurerm_private_dns_zone_virtual_network_link",
                provider=self._provider,
                name=f"link-{self.props.name}",
                private_dns_zone_id=attr(dns, "id"),
                virtual_network_id=self.network_id,
                registration_enabled=False,
            )
            self.dns_zones[zone] = dns
        return self.dns_zones[zone]

    # -- endpoints ------------------------------------------------------------------------------

    def add_private_endpoint(
        self, scope: engine.Construct, id: str, target_id: str, subresource: str
    ) -> Resource:
        """An ``azurerm_private_endpoint`` (child ``id`` of ``scope``) in the endpoint subnet for
        ``subresource`` of ``target_id`` ("blob", "dfs", "file", "vault", "registry",
        "amlworkspace", "amlregistry", "redisCache"), registered in the matching private DNS
        zones (created on first use). The endpoint lives under ``scope`` so that it follows the
        target's construct path; its name derives from that path."""
        zones = PRIVATE_DNS_ZONES.get(subresource)
        if zones is None:
            raise ConstructError(
                self.node.path,
                f"no private DNS zone known for subresource {subresource!r}; "
                f"use one of {', '.join(sorted(PRIVATE_DNS_ZONES))}"
            )
        rel = "-".join(scope.node.path.split("/")[1:] + [id]).lower()
        name = re.sub(r"[^a-z0-9-]+", "-", f"pe-{self.props.name}-{rel}")
        if len(name) > 80:
            name = name[:73].rstrip("-") + "-" + short_hash(name)
        endpoint = Resource(
            scope,
            id,
            "azurerm_private_endpoint",
            provider=self._provider,
            name=name,
            resource_group_name=self._rg,
            location=self._location,
            subnet_id=self.endpoint_subnet_id,
            private_service_connection={
                "name": f"{name}-connection",
                "is_manual_connection": False,
                "private_connection_resource_id": target_id,
                "subresource_names": [subresource],
            },
            private_dns_zone_group={
                "name": "default",
                "private_dns_zone_ids": [attr(self._zone(z), "id") for z in zones],
            },
        )
        self.private_endpoints[f"{scope.node.path}/{id}"] = endpoint
        return endpoint
