"""The bundled compact provider schemas (constructs_lib/core/schemas/*.json.gz).

The spot checks are there to catch a broken extractor (tools/extract_schemas.py): wrong names,
lost required flags, lost nesting. The expected values are what the provider schemas really say.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "constructs_lib" / "core" / "schemas"
TOOL = ROOT / "tools" / "extract_schemas.py"

# file stem -> (provider local name, registry source, expected version prefix, min resources, min data sources)
EXPECTED = {
    "aws": ("aws", "hashicorp/aws", "6.", 1000, 400),
    "azurerm": ("azurerm", "hashicorp/azurerm", "5.", 800, 250),
    "google": ("google", "hashicorp/google", "8.", 1000, 300),
    "azapi": ("azapi", "azure/azapi", "2.", 4, 4),
    "aws-5.100": ("aws", "hashicorp/aws", "5.100.0", 1000, 400),
}


def _load(stem: str) -> dict[str, Any]:
    with gzip.open(SCHEMA_DIR / f"{stem}.json.gz", "rt", encoding="utf-8") as f:
        stored = json.load(f)
    assert stored["format"] == 2, "stored schemas keep each block as a JSON string (format 2)"
    return {
        **stored,
        "format": 1,
        "resources": {k: json.loads(v) for k, v in stored["resources"].items()},
        "data_sources": {k: json.loads(v) for k, v in stored["data_sources"].items()},
    }


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return {stem: _load(stem) for stem in EXPECTED}


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("extract_schemas", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def _check_block(block: Any, path: str) -> None:
    assert isinstance(block, dict), path
    assert set(block) <= {"a", "b"}, f"{path}: unexpected keys {set(block) - {'a', 'b'}}"
    if "a" in block:
        assert block["a"], f"{path}: empty 'a' must be omitted"
        for name, req in block["a"].items():
            assert req in (0, 1), f"{path}.{name}"
    if "b" in block:
        assert block["b"], f"{path}: empty 'b' must be omitted"
        for name, entry in block["b"].items():
            assert isinstance(entry, list) and len(entry) == 3, f"{path}.{name}"
            min_items, max_items, child = entry
            assert isinstance(min_items, int) and min_items >= 0, f"{path}.{name}"
            assert isinstance(max_items, int) and max_items >= 0, f"{path}.{name}"
            assert max_items == 0 or min_items <= max_items, f"{path}.{name}"
            assert name not in block.get("a", {}), f"{path}.{name} is both attribute and block"
            _check_block(child, f"{path}.{name}")


def _attrs(block: dict[str, Any]) -> dict[str, int]:
    return block.get("a", {})


def _blocks(block: dict[str, Any]) -> dict[str, list[Any]]:
    return block.get("b", {})


# --------------------------------------------------------------------------------------------
# Every file
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_file_header_and_counts(schemas, stem):
    doc = schemas[stem]
    provider, source, version, min_res, min_ds = EXPECTED[stem]
    assert set(doc) == {"format", "provider", "source", "version", "generated_from", "provider_block",
                        "resources", "data_sources"}
    assert doc["format"] == 1
    assert doc["provider"] == provider
    assert doc["source"] == source
    assert isinstance(doc["version"], str) and doc["version"].startswith(version)
    assert all(part.isdigit() for part in doc["version"].split("."))
    assert doc["generated_from"]
    assert len(doc["resources"]) >= min_res
    assert len(doc["data_sources"]) >= min_ds
    prefix = f"{provider}_"
    assert all(name.startswith(prefix) for name in doc["resources"])
    assert all(name.startswith(prefix) for name in doc["data_sources"])


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_blocks_are_well_formed(schemas, stem):
    doc = schemas[stem]
    _check_block(doc["provider_block"], "provider")
    for kind in ("resources", "data_sources"):
        for name, block in doc[kind].items():
            _check_block(block, f"{kind}.{name}")


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_files_are_canonical(tool, stem):
    """Re-encoding gives the same bytes: sorted keys, compact JSON, gzip level 9, mtime 0."""
    data = (SCHEMA_DIR / f"{stem}.json.gz").read_bytes()
    assert data[4:8] == b"\x00\x00\x00\x00", "gzip mtime must be 0"
    assert tool.encode(tool.from_wire(json.loads(gzip.decompress(data)))) == data


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_file_sizes_reasonable(stem):
    assert (SCHEMA_DIR / f"{stem}.json.gz").stat().st_size < 400_000


def test_no_meta_arguments_leak(schemas):
    """cdktf meta-arguments (count, depends_on, for_each, lifecycle, provider, ...) are not schema args."""
    for stem in ("aws", "azurerm", "google", "azapi"):
        doc = schemas[stem]
        assert "alias" not in _attrs(doc["provider_block"])
        for kind in ("resources", "data_sources"):
            for name, block in doc[kind].items():
                for meta in ("depends_on", "for_each", "provisioners", "connection"):
                    assert meta not in _attrs(block), f"{stem} {name}.{meta}"
                    assert meta not in _blocks(block), f"{stem} {name}.{meta}"


# --------------------------------------------------------------------------------------------
# Spot checks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["aws", "aws-5.100"])
def test_aws_s3(schemas, stem):
    res = schemas[stem]["resources"]
    bucket = res["aws_s3_bucket"]
    assert _attrs(bucket)["bucket"] == 0
    assert _attrs(bucket)["bucket_prefix"] == 0
    assert _attrs(bucket)["id"] == 0  # optional+computed id stays settable
    assert "arn" not in _attrs(bucket)  # computed-only

    versioning = res["aws_s3_bucket_versioning"]
    assert _attrs(versioning)["bucket"] == 1
    min_items, max_items, conf = _blocks(versioning)["versioning_configuration"]
    assert (min_items, max_items) == (1, 1)
    assert _attrs(conf)["status"] == 1
    assert _attrs(conf)["mfa_delete"] == 0

    sse = res["aws_s3_bucket_server_side_encryption_configuration"]
    rule = _blocks(sse)["rule"]
    assert rule[0] == 1
    default = _blocks(rule[2])["apply_server_side_encryption_by_default"]
    assert _attrs(default[2])["sse_algorithm"] == 1
    assert _attrs(default[2])["kms_master_key_id"] == 0


def test_aws_6(schemas):
    doc = schemas["aws"]
    res, ds = doc["resources"], doc["data_sources"]
    kms = res["aws_kms_key"]
    assert _attrs(kms)["enable_key_rotation"] == 0
    assert _attrs(kms)["deletion_window_in_days"] == 0
    # aws 6.x: per-resource region override
    assert _attrs(res["aws_s3_bucket"])["region"] == 0
    assert _attrs(res["aws_iam_role"])["assume_role_policy"] == 1
    assert "region" not in _attrs(res["aws_iam_role"])  # IAM is global
    assert _attrs(doc["provider_block"])["region"] == 0
    assert "tags" in _attrs(_blocks(doc["provider_block"])["default_tags"][2])

    statement = _blocks(ds["aws_iam_policy_document"])["statement"]
    assert statement[:2] == [0, 0]
    principals = _blocks(statement[2])["principals"]
    assert _attrs(principals[2]) == {"identifiers": 1, "type": 1}
    assert _attrs(_blocks(statement[2])["condition"][2]) == {"test": 1, "values": 1, "variable": 1}

    # registry-link names differ from a camel->snake conversion (addressLine1 -> address_line_1)
    assert "address_line_1" in _attrs(res["aws_account_primary_contact"])


def test_aws_5_100_exact_nesting(schemas):
    doc = schemas["aws-5.100"]
    assert doc["version"] == "5.100.0"
    assert doc["generated_from"] == "terraform providers schema (aws 5.100.0)"
    res = doc["resources"]
    assert "region" not in _attrs(res["aws_s3_bucket"])  # added in 6.0
    # exact max_items from the provider binary (the jsii bindings can only say 1 or unbounded)
    forward = _blocks(_blocks(res["aws_lb_listener"])["default_action"][2])["forward"][2]
    assert _blocks(forward)["target_group"][:2] == [1, 5]
    # a framework "single" block: optional, at most one
    assert _blocks(res["aws_verifiedpermissions_schema"])["definition"][:2] == [0, 1]


def test_azurerm(schemas):
    doc = schemas["azurerm"]
    assert doc["version"] == "5.10.0"
    res = doc["resources"]
    sa = _attrs(res["azurerm_storage_account"])
    for name in ("name", "resource_group_name", "location", "account_tier", "account_replication_type"):
        assert sa[name] == 1, name
    assert sa["min_tls_version"] == 0
    assert sa["shared_access_key_enabled"] == 0
    identity = _blocks(res["azurerm_storage_account"])["identity"]
    assert identity[1] == 1 and _attrs(identity[2])["type"] == 1
    assert _attrs(res["azurerm_resource_group"]) == {"id": 0, "location": 1, "managed_by": 0, "name": 1,
                                                        "tags": 0}
    assert "features" in _blocks(doc["provider_block"])
    assert "subscription_id" in _attrs(doc["provider_block"])


def test_google(schemas):
    doc = schemas["google"]
    assert doc["version"] == "8.7.0"
    bucket = doc["resources"]["google_storage_bucket"]
    assert _attrs(bucket)["name"] == 1
    assert _attrs(bucket)["location"] == 1
    assert _attrs(bucket)["uniform_bucket_level_access"] == 0
    versioning = _blocks(bucket)["versioning"]
    assert versioning[:2] == [0, 1]
    assert _attrs(versioning[2])["enabled"] == 1
    assert "encryption" in _blocks(bucket)
    assert _attrs(doc["resources"]["google_kms_crypto_key"])["key_ring"] == 1
    assert _attrs(doc["provider_block"])["project"] == 0
    # registry-link names differ from a camel->snake conversion (detectMd5Hash -> detect_md5hash)
    assert "detect_md5hash" in _attrs(doc["resources"]["google_apigee_api"])


def test_azapi(schemas):
    doc = schemas["azapi"]
    assert doc["version"] == "2.13.0"
    assert {"azapi_resource", "azapi_update_resource", "azapi_resource_action"} <= set(doc["resources"])
    resource = doc["resources"]["azapi_resource"]
    assert _attrs(resource)["type"] == 1
    # azapi 2.x: name and parent_id are optional (name can be derived, parent_id defaults by scope)
    assert _attrs(resource)["name"] == 0
    assert _attrs(resource)["parent_id"] == 0
    assert _attrs(resource)["body"] == 0
    assert _blocks(resource)["identity"][:2] == [0, 0]
    assert _attrs(_blocks(resource)["identity"][2])["type"] == 1
    assert "azapi_resource" in doc["data_sources"]


# --------------------------------------------------------------------------------------------
# The extractor's conversions on small inputs
# --------------------------------------------------------------------------------------------


def test_tf_block_conversion(tool):
    block = {
        "attributes": {
            "name": {"type": "string", "required": True},
            "id": {"type": "string", "optional": True, "computed": True},
            "arn": {"type": "string", "computed": True},
            "settings": {"nested_type": {"nesting_mode": "single",
                                         "attributes": {"x": {"type": "string", "required": True}}},
                         "optional": True},
            "rules": {"nested_type": {"nesting_mode": "list",
                                      "attributes": {"y": {"type": "string", "optional": True}}},
                      "required": True},
            "by_key": {"nested_type": {"nesting_mode": "map",
                                       "attributes": {"z": {"type": "string", "optional": True}}},
                       "optional": True},
        },
        "block_types": {
            "one": {"nesting_mode": "list", "min_items": 1, "max_items": 1,
                    "block": {"attributes": {"s": {"type": "string", "required": True}}}},
            "many": {"nesting_mode": "set", "block": {}},
            "single": {"nesting_mode": "single", "block": {"attributes": {"t": {"type": "string", "optional": True}}}},
        },
    }
    assert tool.tf_block(block) == {
        "a": {"name": 1, "id": 0, "by_key": 0},
        "b": {
            "settings": [0, 1, {"a": {"x": 1}}],
            "rules": [1, 0, {"a": {"y": 0}}],
            "one": [1, 1, {"a": {"s": 1}}],
            "many": [0, 0, {}],
            "single": [0, 1, {"a": {"t": 0}}],
        },
    }


def _prop(name, typ, anchor=None, optional=True):
    docs = {"summary": "x."}
    if anchor:
        docs["remarks"] = ("Docs at Terraform Registry: {@link https://registry.terraform.io/providers/"
                           f"hashicorp/demo/1.2.3/docs/resources/thing#{anchor} Thing#{anchor}}}")
    p = {"name": name, "type": typ, "docs": docs}
    if optional:
        p["optional"] = True
    return p


def test_jsii_extraction(tool):
    m = "@x/provider-demo.thing."
    struct = {"kind": "interface", "datatype": True}
    types = {
        m + "Thing": {
            "kind": "class",
            "docs": {"summary": "Represents a {@link https://registry.terraform.io/providers/hashicorp/demo/"
                                "1.2.3/docs/resources/thing demo_thing}."},
            "initializer": {"parameters": [{"name": "scope", "type": {"fqn": "constructs.Construct"}},
                                           {"name": "id", "type": {"primitive": "string"}},
                                           {"name": "config", "type": {"fqn": m + "ThingConfig"}}]},
        },
        m + "ThingConfig": {**struct, "interfaces": ["cdktn.TerraformMetaArguments"], "properties": [
            _prop("name", {"primitive": "string"}, "name", optional=False),
            _prop("addressLine1", {"primitive": "string"}, "address_line_1"),
            _prop("fetchhDetails", {"fqn": m + "ThingDetails"}, "geth_details"),
            _prop("rule", {"union": {"types": [{"fqn": "cdktn.IResolvable"}, {"collection": {
                "kind": "array", "elementtype": {"fqn": m + "ThingRule"}}}]}}, "rule", optional=False),
            _prop("kmsKeyId", {"primitive": "string"}),  # no link -> fallback
            _prop("dependsOn", {"collection": {"kind": "array", "elementtype": {"primitive": "string"}}}),
        ]},
        m + "ThingDetails": {**struct, "properties": [_prop("enabled", {"primitive": "boolean"}, "enabled")]},
        m + "ThingRule": {**struct, "properties": [_prop("status", {"primitive": "string"}, "status", False)]},
    }
    ex = tool.JsiiExtractor({"types": types})
    assert ex.config_fqn(types[m + "Thing"]) == m + "ThingConfig"
    assert ex.block(m + "ThingConfig") == {
        "a": {"name": 1, "address_line_1": 0, "kms_key_id": 0},
        "b": {"geth_details": [0, 1, {"a": {"enabled": 0}}], "rule": [1, 0, {"a": {"status": 1}}]},
    }
    assert len(ex.stats.fallbacks) == 1
    assert tool.camel_to_snake("ipv6CidrBlock") == "ipv6_cidr_block"
    assert tool.camel_to_snake("enableHTTPEndpoint") == "enable_http_endpoint"
