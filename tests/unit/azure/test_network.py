"""Azure Network: private subnets, NSGs, NAT, DNS zones, VNet flow logs, private endpoints, props errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.azure import DataStore, DataStoreProps, Key, KeyProps, Network, NetworkProps
from constructs_lib.azure.network import DEFAULT_ZONES, subnet_ranges
from constructs_lib.core.build_props import ExistingNetwork
from constructs_lib.core.build_props import NetworkProps as CoreNetworkProps

from .build_helpers import WHERE, Built, acks_of

VNET_ID = "/subscriptions/0/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub"
SUBNETS = [f"{VNET_ID}/subnets/ml", f"{VNET_ID}/subnets/pe"]


def net(**overrides) -> NetworkProps:
    return NetworkProps(name="ml-net", **WHERE, **overrides)


@pytest.fixture(scope="module")
def default() -> Built:
    return Built(lambda st: Network(st, "Net", net()))


def test_vnet_and_private_subnets(default: Built) -> None:
    vnet = default.at("azurerm_virtual_network", "Net/Resource")
    assert vnet["address_space"] == ["10.40.0.0/16"]
    subnets = default.of("azurerm_subnet")
    assert {p: s["address_prefixes"] for p, s in subnets.items()} == {
        "Net/Workloads": ["10.40.0.0/20"],
        "Net/Endpoints": ["10.40.16.0/20"],
    }
    assert all(s["default_outbound_access_enabled"] is False for s in subnets.values())
    n = default.built
    assert n.private_subnet_ids == [n.subnets["workloads"].ref("id")]
    assert n.network_id == n.resource.ref("id")


def test_every_subnet_has_an_nsg_denying_internet_inbound(default: Built) -> None:
    nsgs = default.of("azurerm_network_security_group")
    assert set(nsgs) == {"Net/WorkloadsNsg", "Net/EndpointsNsg"}
    for nsg in nsgs.values():
        (rule,) = nsg["security_rule"]
        assert (rule["direction"], rule["access"], rule["source_address_prefix"]) == ("Inbound", "Deny", "Internet")
    assoc = default.of("azurerm_subnet_network_security_group_association")
    assert assoc["Net/WorkloadsNsgAssociation"]["subnet_id"] == default.ref("azurerm_subnet", "Net/Workloads", "id")
    assert assoc["Net/EndpointsNsgAssociation"]["network_security_group_id"] == default.ref(
        "azurerm_network_security_group", "Net/EndpointsNsg", "id")


def test_nat_gateway_is_the_workload_outbound_path(default: Built) -> None:
    assoc = default.at("azurerm_subnet_nat_gateway_association", "Net/NatAssociation")
    assert assoc["subnet_id"] == default.ref("azurerm_subnet", "Net/Workloads", "id")
    assert default.at("azurerm_public_ip", "Net/NatIp")["sku"] == "Standard"
    off = Built(lambda st: Network(st, "Net", net(nat_gateway=False, flow_logs=False)))
    assert "azurerm_nat_gateway" not in off.doc["resource"]


def test_private_dns_zones_are_linked(default: Built) -> None:
    zones = {z["name"] for z in default.of("azurerm_private_dns_zone").values()}
    assert zones == set(DEFAULT_ZONES)
    links = default.of("azurerm_private_dns_zone_virtual_network_link")
    assert len(links) == len(DEFAULT_ZONES)
    vnet = default.ref("azurerm_virtual_network", "Net/Resource", "id")
    assert all(l["virtual_network_id"] == vnet and l["registration_enabled"] is False for l in links.values())


def test_vnet_flow_logs_to_an_encrypted_store(default: Built) -> None:
    fl = default.at("azurerm_network_watcher_flow_log", "Net/FlowLog")
    assert fl["target_resource_id"] == default.ref("azurerm_virtual_network", "Net/Resource", "id")
    assert fl["retention_policy"] == {"enabled": True, "days": 90}
    assert fl["version"] == 2 and fl["enabled"] is True
    assert fl["network_watcher_name"] == "NetworkWatcher_westeurope"
    assert fl["storage_account_id"] == default.ref("azurerm_storage_account", "Net/FlowLogs/Resource", "id")
    acct = default.at("azurerm_storage_account", "Net/FlowLogs/Resource")
    assert "customer_managed_key" in acct
    given = Built(lambda st: Network(st, "Net", net(flow_log_storage_account_id="/x/st", flow_log_retention_days=120)))
    fl = given.at("azurerm_network_watcher_flow_log", "Net/FlowLog")
    assert fl["storage_account_id"] == "/x/st" and fl["retention_policy"]["days"] == 120
    assert "azurerm_storage_account" not in given.doc["resource"]


def test_existing_network_creates_only_zones(default: Built) -> None:
    b = Built(lambda st: Network(st, "Net", net(existing=ExistingNetwork(network_id=VNET_ID, subnet_ids=SUBNETS))))
    assert "azurerm_virtual_network" not in b.doc["resource"]
    assert "azurerm_network_watcher_flow_log" not in b.doc["resource"]
    assert b.built.private_subnet_ids == SUBNETS and b.built.endpoint_subnet_id == SUBNETS[0]
    links = b.of("azurerm_private_dns_zone_virtual_network_link").values()
    assert {l["virtual_network_id"] for l in links} == {VNET_ID}


def test_private_endpoint_gets_the_right_zones(default: Built) -> None:
    def build(st):
        n = Network(st, "Net", net(flow_logs=False))
        n.add_private_endpoint(st, "Ws", "/ws", "amlworkspace")
        n.add_private_endpoint(st, "Cache", "/redis", "redisCache")
        return n

    b = Built(build)
    ws = b.at("azurerm_private_endpoint", "Ws")
    assert ws["subnet_id"] == b.ref("azurerm_subnet", "Net/Endpoints", "id")
    assert ws["private_service_connection"]["subresource_names"] == ["amlworkspace"]
    assert ws["private_service_connection"]["private_connection_resource_id"] == "/ws"
    assert ws["private_dns_zone_group"]["private_dns_zone_ids"] == [
        b.ref("azurerm_private_dns_zone", "Net/Zone-api-azureml-ms", "id"),
        b.ref("azurerm_private_dns_zone", "Net/Zone-notebooks-azure-net", "id"),
    ]
    # A zone outside the defaults is created on first use.
    assert "privatelink.redis.cache.windows.net" in {z["name"] for z in b.of("azurerm_private_dns_zone").values()}
    with pytest.raises(ValueError, match="no private DNS zone known for subresource 'sql'"):
        b.built.add_private_endpoint(b.stack, "Sql", "/sql", "sql")


def test_store_and_key_with_network_need_no_private_endpoint_acknowledgement() -> None:
    def build(st):
        n = Network(st, "Net", net(flow_logs=False))
        with_net = DataStore(st, "Data", DataStoreProps(name="ml-data", **WHERE), network=n)
        without = DataStore(st, "Other", DataStoreProps(name="ml-other", **WHERE))
        key = Key(st, "Cmk", KeyProps(name="cmk", **WHERE), network=n)
        return with_net, without, key

    b = Built(build)
    with_net, without, key = b.built
    assert set(with_net.private_endpoints) == {"blob", "dfs"}
    eps = b.of("azurerm_private_endpoint")
    assert eps["Data/PrivateEndpoint-blob"]["private_service_connection"]["private_connection_resource_id"] == b.ref(
        "azurerm_storage_account", "Data/Resource", "id")
    assert eps["Data/Key/PrivateEndpoint"]["private_service_connection"]["subresource_names"] == ["vault"]
    assert eps["Cmk/PrivateEndpoint"]["private_service_connection"]["private_connection_resource_id"] == b.ref(
        "azurerm_key_vault", "Cmk/Vault", "id")
    assert not {"CKV2_AZURE_33", "CKV2_AZURE_32"} & acks_of(with_net)
    assert "CKV2_AZURE_32" not in acks_of(key)
    assert {"CKV2_AZURE_33", "CKV2_AZURE_32"} <= acks_of(without)
    assert not any(p.startswith("Other/") for p in eps)
    with pytest.raises(ValueError, match="needs the store to be created with network="):
        without.add_private_endpoint("file")
    assert with_net.add_private_endpoint("dfs") is with_net.private_endpoints["dfs"]


def test_subnet_ranges() -> None:
    assert subnet_ranges("10.40.0.0/16") == ("10.40.0.0/20", "10.40.16.0/20")
    assert subnet_ranges("10.1.0.0/20") == ("10.1.0.0/21", "10.1.8.0/21")


def test_props_errors() -> None:
    with pytest.raises(ValidationError, match="must be a private IPv4 range"):
        net(cidr="8.8.0.0/16")
    with pytest.raises(ValidationError, match="endpoint_subnet_id is only used with `existing`"):
        net(endpoint_subnet_id="/x")
    with pytest.raises(ValidationError, match="resource_group_name"):
        NetworkProps(name="ml-net", location="westeurope")
    with pytest.raises(TypeError, match="props must be constructs_lib.azure.network.NetworkProps"):
        Built(lambda st: Network(st, "Net", CoreNetworkProps(name="ml-net")))
