"""azapi request bodies checked at synth against the bundled Azure REST definitions (core/azapi_schema.py),
and cross-checked against the definitions the azapi provider itself embeds (../shared/azapi_specs/)."""

from __future__ import annotations

import copy
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.azure._common import ML_API_VERSION
from constructs_lib.core import azapi_schema, engine
from constructs_lib.core.azapi_schema import check_body, resolve, tag_target, validate_stack
from constructs_lib.core.errors import SchemaValidationError
from constructs_lib.core.resource import Provider, Resource
from constructs_lib.core.synth import synth_app
from constructs_lib.platform import synthesize
from constructs_lib.core.tags import Tags

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "azapi_specs"
NS = "Microsoft.MachineLearningServices"
V = ML_API_VERSION
ENDPOINT = f"{NS}/workspaces/onlineEndpoints@{V}"
ENV_VERSION = f"{NS}/workspaces/environments/versions@{V}"
ENTITY_VERSION = f"{NS}/workspaces/featurestoreEntities/versions@{V}"
DATA_VERSION = f"{NS}/workspaces/data/versions@{V}"
WS = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
GOOD_ENDPOINT = {"properties": {"authMode": "AADToken", "publicNetworkAccess": "Disabled"}}
GOOD_ENV_VERSION = {
    "properties": {
        "image": "mcr.microsoft.com/dotnet/samples:aspnetapp",
        "inferenceConfig": {
            "livenessRoute": {"path": "/healthz", "port": 8080},
            "readinessRoute": {"path": "/healthz", "port": 8080},
            "scoringRoute": {"path": "/score", "port": 8080},
        },
    }
}


# -- the library's own stacks ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def azure_docs(tmp_path_factory) -> dict[str, dict]:
    """Every example's Azure stack, synthesized (synthesis runs the azapi check itself)."""
    docs = {}
    for spec in sorted((ROOT / "examples").glob("*/azure.yaml")):
        result = synthesize([spec], outdir=tmp_path_factory.mktemp(spec.parent.name) / "out")
        docs[spec.parent.name] = json.loads((result.stacks[0].directory / "cdk.tf.json").read_text())
    return docs


def _azapi_blocks(doc: dict) -> list[tuple[str, dict]]:
    res = doc.get("resource", {})
    return [(t, b) for t in ("azapi_resource", "azapi_update_resource") for b in res.get(t, {}).values()]


def _job_actions(doc: dict) -> list[dict]:
    """The Logic App HTTP actions that PUT an Azure ML job (retraining triggers)."""
    out = []
    for block in doc.get("resource", {}).get("azurerm_logic_app_action_custom", {}).values():
        out.extend(inputs for _, inputs in azapi_schema._http_actions(json.loads(block["body"])))
    return out


def test_every_example_azure_stack_passes_and_every_body_is_checked(azure_docs) -> None:
    assert set(azure_docs) == {"reference", "retraining", "gpu-training", "multi-region-serving", "data-versioning"}
    checked = 0
    for name, doc in azure_docs.items():
        assert validate_stack(doc, stack=name) == []
        for _, block in _azapi_blocks(doc):
            # Not vacuous: every type the library writes has a bundled body at the emitted api-version.
            arm_type, api, data, model, problem = resolve(block["type"])
            assert (api, problem) == (V, None) and data is not None and model is not None, block["type"]
            checked += 1
    assert checked >= 40
    jobs = [a for doc in azure_docs.values() for a in _job_actions(doc)]
    assert len(jobs) == 4 and all(f"api-version={V}" in a["uri"] for a in jobs)


def test_no_azapi_resource_of_a_type_without_top_level_tags_gets_tags(azure_docs) -> None:
    for doc in azure_docs.values():
        for tf_type, block in _azapi_blocks(doc):
            target = tag_target(block["type"])
            assert ("tags" in block) == (tf_type == "azapi_resource" and target == "tags"), block["type"]
            if target == "properties.tags":
                assert block["body"]["properties"]["tags"]["managed-by"] == "cdktf-mlops", block["type"]


def test_placeholder_routes_and_index_column(azure_docs) -> None:
    doc = azure_docs["reference"]["resource"]["azapi_resource"]
    envs = [b["body"]["properties"] for b in doc.values() if b["type"] == ENV_VERSION]
    assert envs and all(e["inferenceConfig"] == GOOD_ENV_VERSION["properties"]["inferenceConfig"] for e in envs)
    entity = next(b["body"]["properties"] for b in doc.values() if b["type"] == ENTITY_VERSION)
    assert entity["indexColumns"] == [{"columnName": "customer_id", "dataType": "String"}]


def test_placeholder_health_path_must_satisfy_the_route_pattern() -> None:
    from constructs_lib.azure.serving import EndpointProps
    from constructs_lib.core.errors import MlopsError

    with pytest.raises(MlopsError, match="placeholder_health_path"):
        EndpointProps(name="churn", resource_group_name="rg", location="westeurope", workspace_id=WS,
                      placeholder_health_path="/")
    props = EndpointProps(name="churn", resource_group_name="rg", location="westeurope", workspace_id=WS)
    assert (props.placeholder_health_path, props.placeholder_port) == ("/healthz", 8080)


# -- each kind of mistake ---------------------------------------------------------------------------


def test_misspelled_property_suggests_the_right_one() -> None:
    body = {"properties": {"authMod": "AADToken"}}
    problems = check_body(ENDPOINT, body)
    assert f"body.properties.authMod: unknown property in {ENDPOINT}; did you mean 'authMode'?" in problems
    assert f"body.properties.authMode: required property is missing ({ENDPOINT})" in problems


def test_tags_on_a_type_that_takes_none_name_the_argument() -> None:
    problems = check_body(ENV_VERSION, {**GOOD_ENV_VERSION, "tags": {"a": "b"}}, merged=frozenset({"tags"}))
    assert problems == [
        f"tags: {ENV_VERSION} takes no top-level tags; azapi puts the `tags` argument into the body, remove "
        "the argument (this type keeps tags in body.properties.tags)"
    ]
    # Written in the body instead of as the argument: an unknown body property.
    assert check_body(ENV_VERSION, {**GOOD_ENV_VERSION, "tags": {"a": "b"}})[0].startswith(
        f"body.tags: unknown property in {ENV_VERSION}"
    )
    assert check_body(ENDPOINT, {**GOOD_ENDPOINT, "tags": {"a": "b"}, "location": "westeurope"}) == []


def test_enum_value_with_the_wrong_case() -> None:
    body = {"properties": {"indexColumns": [{"columnName": "id", "dataType": "string"}]}}
    assert check_body(ENTITY_VERSION, body) == [
        f"body.properties.indexColumns[0].dataType: 'string' is not a value of FeatureDataType in {ENTITY_VERSION} "
        "(values are case-sensitive); did you mean 'String'?"
    ]
    body["properties"]["indexColumns"][0]["dataType"] = "String"
    assert check_body(ENTITY_VERSION, body) == []
    # Not a case variant of a known value: may be a newer value of an extensible enum, not reported.
    body["properties"]["indexColumns"][0]["dataType"] = "Decimal128"
    assert check_body(ENTITY_VERSION, body) == []


def test_pattern_and_length() -> None:
    body = copy.deepcopy(GOOD_ENV_VERSION)
    body["properties"]["inferenceConfig"]["livenessRoute"]["path"] = "/"
    assert check_body(ENV_VERSION, body) == [
        "body.properties.inferenceConfig.livenessRoute.path: '/' does not match the pattern '[a-zA-Z0-9_]' "
        f"({ENV_VERSION})"
    ]
    body["properties"]["inferenceConfig"]["livenessRoute"]["path"] = ""
    assert check_body(ENV_VERSION, body) == [
        f"body.properties.inferenceConfig.livenessRoute.path: '' is shorter than 1 character(s) ({ENV_VERSION})",
        "body.properties.inferenceConfig.livenessRoute.path: '' does not match the pattern '[a-zA-Z0-9_]' "
        f"({ENV_VERSION})",
    ]


def test_read_only_property() -> None:
    body = {"properties": {**GOOD_ENDPOINT["properties"], "scoringUri": "https://x/score"}}
    assert check_body(ENDPOINT, body) == [
        f"body.properties.scoringUri: read-only property in {ENDPOINT}; remove it (the service sets it)"
    ]


def test_wrong_primitive_types() -> None:
    body = copy.deepcopy(GOOD_ENV_VERSION)
    body["properties"]["inferenceConfig"]["scoringRoute"]["port"] = "8080"
    body["properties"]["isAnonymous"] = "yes"
    body["properties"]["inferenceConfig"]["readinessRoute"] = "/healthz"
    assert sorted(check_body(ENV_VERSION, body)) == [
        f"body.properties.inferenceConfig.readinessRoute: must be an object (Route) in {ENV_VERSION}, got string",
        f"body.properties.inferenceConfig.scoringRoute.port: must be an integer in {ENV_VERSION}, got string",
        f"body.properties.isAnonymous: must be a boolean in {ENV_VERSION}, got string",
    ]


def test_missing_required_property() -> None:
    assert check_body(ENDPOINT, {}) == [f"body.properties: required property is missing ({ENDPOINT})"]
    # A tracked resource's missing location is left to the provider's default location (as azapi does).
    assert not any("location" in p for p in check_body(ENDPOINT, GOOD_ENDPOINT))


def test_unknown_discriminator_value() -> None:
    body = {"properties": {"dataType": "uri_folders", "dataUri": "https://a/b/"}}
    assert check_body(DATA_VERSION, body) == [
        "body.properties.dataType: 'uri_folders' is not one of mltable, uri_file, uri_folder "
        f"({DATA_VERSION}); did you mean 'uri_folder', 'uri_file'?"
    ]


def test_api_version_and_type_name() -> None:
    assert check_body(f"{NS}/workspaces/onlineEndpoints@2099-01-01", GOOD_ENDPOINT) == [
        f"type: api-version 2099-01-01 of {NS}/workspaces/onlineEndpoints is not one the bundled REST "
        f"definitions have ({V}); use {V}"
    ]
    assert check_body(f"{NS}/workspaces/onlineEndpoints@latest", GOOD_ENDPOINT) == [
        "type: 'latest' is not an api-version (YYYY-MM-DD[-preview])"
    ]
    problems = check_body(f"{NS}/workspaces/onlineEndpoint@{V}", GOOD_ENDPOINT)
    assert problems[0].startswith(f"type: unknown resource type {NS}/workspaces/onlineEndpoint at api-version {V}")
    assert f"'{NS}/workspaces/onlineEndpoints'" in problems[0]
    # Known types the bundle has no body for, and other namespaces, are not checked.
    assert check_body(f"{NS}/workspaces/computes@{V}", {"anything": 1}) == []
    assert check_body("Microsoft.Storage/storageAccounts@2023-01-01", {"anything": 1}) == []


def test_references_and_expressions_are_not_type_checked_but_names_around_them_are() -> None:
    body = {"properties": {"authMode": "${var.mode}", "traffic": "${local.t}", "description": "$${{x}}"}}
    assert check_body(ENDPOINT, body) == []
    body["properties"]["trafic"] = {"main": 100}
    assert check_body(ENDPOINT, body) == [
        f"body.properties.trafic: unknown property in {ENDPOINT}; did you mean 'traffic'?"
    ]


# -- a user's own azapi resources, through synthesis ---------------------------------------------


def _user_app(tmp_path: Path, **kwargs: Any) -> tuple[Any, Path]:
    out = tmp_path / "out"
    app = engine.App(outdir=str(out))
    stack = engine.TerraformStack(app, "user")
    Provider(stack, "azapi", "azapi", source="azure/azapi", version=">= 2.13, < 3.0")
    Resource(stack, "env", "azapi_resource", type=ENV_VERSION, name="1", parent_id=f"{WS}/environments/e", **kwargs)
    return app, out


def test_user_resource_with_a_misspelled_property_is_rejected_and_nothing_written(tmp_path: Path) -> None:
    body = copy.deepcopy(GOOD_ENV_VERSION)
    body["properties"]["imag"] = body["properties"].pop("image")
    app, out = _user_app(tmp_path, body=body)
    with pytest.raises(SchemaValidationError) as exc:
        synth_app(app)
    assert f"user/env: body.properties.imag: unknown property in {ENV_VERSION}; did you mean 'image'?" in str(exc.value)
    assert not list(out.rglob("*.json"))


def test_user_resource_with_tags_on_a_type_that_takes_none_is_rejected(tmp_path: Path) -> None:
    app, out = _user_app(tmp_path, body=GOOD_ENV_VERSION, tags={"team": "ml"})
    with pytest.raises(SchemaValidationError) as exc:
        synth_app(app)
    assert f"user/env: tags: {ENV_VERSION} takes no top-level tags" in str(exc.value)
    assert not list(out.rglob("*.json"))


def test_correct_user_resource_passes_and_inherited_tags_go_to_properties(tmp_path: Path) -> None:
    app, out = _user_app(tmp_path, body=GOOD_ENV_VERSION)
    stack = app.node.find_child("user")
    Resource(stack, "ep", "azapi_resource", type=ENDPOINT, name="ep", parent_id=WS, location="westeurope",
             body=GOOD_ENDPOINT)
    Resource(stack, "conn", "azapi_resource", type=f"{NS}/workspaces/connections@{V}", name="c", parent_id=WS,
             body={"properties": {"category": "ADLSGen2", "authType": "ManagedIdentity", "target": "https://x"}})
    Resource(stack, "other", "azapi_resource", type="Microsoft.Foo/bars@2024-01-01", name="b", parent_id=WS, body={})
    Tags.of(stack).add("team", "ml")
    synth_app(app)
    doc = json.loads((out / "stacks" / "user" / "cdk.tf.json").read_text())["resource"]["azapi_resource"]
    assert "tags" not in doc["env"] and doc["env"]["body"]["properties"]["tags"] == {"team": "ml"}
    assert doc["ep"]["tags"] == {"team": "ml"}
    assert "tags" not in doc["conn"] and "tags" not in doc["conn"]["body"]["properties"]
    assert "tags" not in doc["other"]  # outside the bundle: where tags go is unknown, none are added


def test_schema_validation_enabled_false_skips_the_body_check(tmp_path: Path) -> None:
    app, out = _user_app(tmp_path, body={"properties": {"imag": "x"}}, schema_validation_enabled=False)
    synth_app(app)
    assert (out / "stacks" / "user" / "cdk.tf.json").exists()


def test_update_resource_bodies_are_partial() -> None:
    block = {"type": ENDPOINT, "resource_id": f"{WS}/onlineEndpoints/ep", "body": {"properties": {"traffic": {"main": 100}}}}
    doc = {"resource": {"azapi_update_resource": {"t": block}}}
    assert validate_stack(doc) == []  # no authMode: merged into the existing endpoint
    block["body"]["properties"]["trafic"] = {}
    assert validate_stack(doc, stack="s") == [
        f"s: resource.azapi_update_resource.t: body.properties.trafic: unknown property in {ENDPOINT}; "
        "did you mean 'traffic'?"
    ]


def test_identity_and_location_arguments_are_merged_like_azapi() -> None:
    block = {"type": ENDPOINT, "name": "ep", "parent_id": WS, "location": "westeurope", "body": GOOD_ENDPOINT,
             "identity": [{"type": "SystemAssigned"}]}
    doc = {"resource": {"azapi_resource": {"ep": block}}}
    assert validate_stack(doc) == []
    block["identity"] = [{"type": "systemassigned"}]
    assert validate_stack(doc) == [
        "resource.azapi_resource.ep: identity.type: 'systemassigned' is not a value of ManagedServiceIdentityType "
        f"in {ENDPOINT} (values are case-sensitive); did you mean 'SystemAssigned'?"
    ]
    block["identity"], block["body"] = None, {**GOOD_ENDPOINT, "location": "northeurope"}
    assert validate_stack(doc) == [
        "resource.azapi_resource.ep: location: set both as an argument and in body; azapi rejects this, keep one"
    ]
    env = {"type": ENV_VERSION, "name": "1", "parent_id": WS, "location": "westeurope", "body": GOOD_ENV_VERSION}
    assert validate_stack({"resource": {"azapi_resource": {"e": env}}})[0].startswith(
        f"resource.azapi_resource.e: location: {ENV_VERSION} takes no top-level location"
    )


def test_logic_app_http_action_to_the_jobs_api_is_checked(azure_docs) -> None:
    doc = copy.deepcopy(azure_docs["retraining"])
    actions = doc["resource"]["azurerm_logic_app_action_custom"]
    name, block = sorted(actions.items())[0]
    action = json.loads(block["body"])
    inputs = next(i for _, i in azapi_schema._http_actions(action))
    inputs["body"]["properties"]["experimentNam"] = inputs["body"]["properties"].pop("experimentName")
    inputs["body"]["properties"]["jobType"] = "pipeline"
    block["body"] = json.dumps(action)
    problems = validate_stack(doc)
    assert len(problems) == 2, problems
    assert any("properties.experimentNam: unknown property in " f"{NS}/workspaces/jobs@{V}; did you mean 'experimentName'?"
               in p for p in problems)
    assert any("properties.jobType: 'pipeline' is not one of" in p and "did you mean 'Pipeline'?" in p for p in problems)
    inputs["uri"] = inputs["uri"].replace(f"api-version={V}", "api-version=2099-01-01")
    inputs["body"]["properties"]["jobType"] = "Pipeline"
    inputs["body"]["properties"]["experimentName"] = inputs["body"]["properties"].pop("experimentNam")
    block["body"] = json.dumps(action)
    assert [p.split(": ", 1)[1] for p in validate_stack(doc)] == [
        f"body: {'else.actions.start-pipeline.' if 'else' in action else ''}inputs.uri: api-version 2099-01-01 of "
        f"{NS}/workspaces/jobs is not one the bundled REST definitions have ({V}); use {V}"
    ]


def test_logic_app_http_action_resource_is_checked() -> None:
    uri = f"https://management.azure.com{WS}/jobs/run1?api-version={V}"
    block = {"uri": uri, "method": "PUT", "body": json.dumps({"properties": {"jobType": "Pipeline", "jobz": {}}})}
    problems = validate_stack({"resource": {"azurerm_logic_app_action_http": {"a": block}}})
    assert problems == [
        f"resource.azurerm_logic_app_action_http.a: body.properties.jobz: unknown property in {NS}/workspaces/jobs@{V}; "
        "did you mean 'jobs'?"
    ]
    block["method"] = "POST"  # not a create / update of the resource: not checked
    assert validate_stack({"resource": {"azurerm_logic_app_action_http": {"a": block}}}) == []


def test_bundle_is_compact_and_deterministic() -> None:
    raw = (ROOT / "constructs_lib" / "core" / "schemas" / azapi_schema.BUNDLE).read_bytes()
    assert len(raw) < 64_000 and raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
    data = json.loads(gzip.decompress(raw))
    assert list(data["api_versions"]) == [V]
    assert "azure-ai-ml 1.35.2" in data["generated_from"]["definitions"]
    assert data["constraints_from"]["Route.path"] == {"minLength": 1, "pattern": "[a-zA-Z0-9_]"}


# -- cross-check against the definitions the azapi provider embeds (../shared/azapi_specs) ---------


@pytest.fixture(scope="module")
def bicep() -> list[dict]:
    path = SHARED / f"machinelearningservices-{V}.types.json.gz"
    if not path.exists():
        pytest.skip(f"{path} is absent: the cross-check against the azapi provider's definitions needs it")
    return json.loads(gzip.decompress(path.read_bytes()))


class Bicep:
    """An independent reading of the bicep types: the checks azapi's ``schemaValidate`` makes at plan."""

    def __init__(self, types: list[dict]) -> None:
        self.types = types
        self.resources = {t["name"]: t for t in types if t["$type"] == "ResourceType"}

    def ref(self, r: dict) -> dict:
        return self.types[int(r["$ref"].rsplit("/", 1)[1])]

    def body(self, type_string: str) -> dict:
        return self.ref(self.resources[type_string]["body"])

    def validate(self, t: dict, v: Any, path: str) -> list[str]:
        if v is None or isinstance(v, str) and ("${" in v or "@{" in v or v.startswith("@") and not v.startswith("@@")):
            return []  # unknown at plan time
        kind = t["$type"]
        if kind == "ObjectType":
            return self.object(t["properties"], t.get("additionalProperties"), v, path)
        if kind == "DiscriminatedObjectType":
            if not isinstance(v, dict):
                return [f"{path}: object expected"]
            base = {k: x for k, x in v.items() if k in t["baseProperties"]}
            other = {k: x for k, x in v.items() if k not in t["baseProperties"]}
            errs = self.object(t["baseProperties"], None, base, path)
            value = other.get(t["discriminator"])
            if value is None:
                return errs + [f"{path}.{t['discriminator']}: required"]
            if value not in t["elements"]:
                return errs + [f"{path}.{t['discriminator']}: {value!r} not one of {sorted(t['elements'])}"]
            return errs + self.validate(self.ref(t["elements"][value]), other, path)
        if kind == "UnionType":
            if any(not self.validate(self.ref(e), v, path) for e in t["elements"]):
                return []
            return [f"{path}: {v!r} matches no element"]
        if kind == "StringLiteralType":
            return [] if v == t["value"] else [f"{path}: {v!r} is not {t['value']!r}"]
        if kind == "StringType":
            if not isinstance(v, str):
                return [f"{path}: string expected"]
            if v and ("minLength" in t and len(v) < t["minLength"] or "maxLength" in t and len(v) > t["maxLength"]
                      or t.get("pattern") and not re.search(t["pattern"], v)):
                return [f"{path}: {v!r} breaks the string rules {t}"]
            return []
        if kind == "IntegerType":
            return [] if isinstance(v, (int, float)) and not isinstance(v, bool) else [f"{path}: number expected"]
        if kind == "BooleanType":
            return [] if isinstance(v, bool) else [f"{path}: boolean expected"]
        if kind == "ArrayType":
            if not isinstance(v, list):
                return [f"{path}: array expected"]
            return [e for n, item in enumerate(v) for e in self.validate(self.ref(t["itemType"]), item, f"{path}[{n}]")]
        assert kind == "AnyType", kind
        return []

    def object(self, props: dict, additional: dict | None, v: Any, path: str) -> list[str]:
        if not isinstance(v, dict):
            return [f"{path}: object expected"]
        errs = []
        for key, item in v.items():
            p = props.get(key)
            if p is None:
                errs += self.validate(self.ref(additional), item, f"{path}.{key}") if additional else [f"{path}.{key}: not expected"]
            elif p["flags"] & 2:
                errs.append(f"{path}.{key}: read-only")
            else:
                errs += self.validate(self.ref(p["type"]), item, f"{path}.{key}")
        for key, p in props.items():
            if p["flags"] & 1 and v.get(key) is None and not (path == "" and key in ("name", "location", "tags")):
                errs.append(f"{path}.{key}: required")
        return errs

    def check_block(self, block: dict) -> list[str]:
        """An ``azapi_resource`` block as azapi validates it: name/location/tags/identity merged in."""
        body = {**block["body"], "name": block["name"]}
        for key in ("location", "tags"):
            if block.get(key):
                body[key] = block[key]
        if block.get("identity"):
            body["identity"] = {"type": block["identity"][0]["type"]}
        return self.validate(self.body(block["type"]), body, "")


def test_every_example_body_passes_the_azapi_providers_own_definitions(azure_docs, bicep) -> None:
    checker = Bicep(bicep)
    for name, doc in azure_docs.items():
        for tf_type, block in _azapi_blocks(doc):
            if tf_type == "azapi_resource":
                assert checker.check_block(block) == [], (name, block["type"])
        for action in _job_actions(doc):
            assert checker.validate(checker.body(f"{NS}/workspaces/jobs@{V}"), {**action["body"], "name": "j"}, "") == []


def test_the_independent_reading_finds_what_issue_8_reported(bicep) -> None:
    """The walker is not vacuous: the bodies that stopped `terraform plan` fail it, the fixed ones pass."""
    checker = Bicep(bicep)
    old = {"type": ENV_VERSION, "name": "1", "tags": {"team": "ml"}, "body": copy.deepcopy(GOOD_ENV_VERSION)}
    old["body"]["properties"]["inferenceConfig"]["livenessRoute"]["path"] = "/"
    assert sorted(checker.check_block(old)) == [
        ".properties.inferenceConfig.livenessRoute.path: '/' breaks the string rules "
        "{'$type': 'StringType', 'minLength': 1, 'pattern': '[a-zA-Z0-9_]'}",
        ".tags: not expected",
    ]
    assert checker.check_block({"type": ENV_VERSION, "name": "1", "body": GOOD_ENV_VERSION}) == []


MUTATIONS = [
    # (type, body, what both readings must reject)
    (ENDPOINT, {"properties": {"authMode": "AADToken", "trafic": {}}}, "unknown property"),
    (ENDPOINT, {"properties": {"authMode": "AADToken", "scoringUri": "x"}}, "read-only"),
    (ENDPOINT, {"properties": {"publicNetworkAccess": "Disabled"}}, "missing required"),
    (ENDPOINT, {"properties": {"authMode": "AADToken", "traffic": {"main": "all"}}}, "wrong type"),
    (ENV_VERSION, {"properties": {"image": "i", "inferenceConfig": {"scoringRoute": {"path": "/", "port": 1}}}}, "pattern"),
    (DATA_VERSION, {"properties": {"dataType": "uri_folders", "dataUri": "https://a"}}, "discriminator"),
    (DATA_VERSION, {"properties": {"dataType": "uri_folder"}}, "missing required (sub-model)"),
]


@pytest.mark.parametrize(("type_string", "body", "why"), MUTATIONS, ids=[m[2] for m in MUTATIONS])
def test_both_readings_reject_the_same_mistakes(bicep, type_string, body, why) -> None:
    checker = Bicep(bicep)
    block = {"type": type_string, "name": "n", "location": "westeurope", "body": body}
    if type_string != ENDPOINT:
        del block["location"]
    assert checker.check_block(block), f"azapi's definitions accept the {why} mutation"
    assert check_body(type_string, {**body, **({"location": "westeurope"} if type_string == ENDPOINT else {})}), \
        f"the bundled check accepts the {why} mutation"


#: Differences between the bundle (azure-ai-ml's TypeSpec client + msrest constraints) and the bicep
#: types azapi embeds, for the emitted types; each pattern is explained in schemas/README.md.
EXPLAINED = {
    # The bicep resource envelope: `name` is the Identifier azapi fills from the name argument,
    # `apiVersion` / `type` are constants; the REST models mark name/type read-only.
    "envelope": re.compile(r"^[\w/]+\.(apiVersion: only in bicep|name: (required|read-only|pattern|minLength|maxLength) .*"
                           r"|type: bundle s vs bicep StringLiteralType)"),
    # swagger `format: uuid` becomes a pattern in bicep; the TypeSpec Python models type it `str`.
    "uuid": re.compile(r"\.(principalId|tenantId|clientId|objectId): (pattern|minLength|maxLength) bundle=None bicep="
                       r"('\^\[0-9a-fA-F\]\{8\}.*|36)$"),
    # azure-ai-ml 1.35.2's TypeSpec has the FineTuning job type; the bicep types of 2025-12-01 do not.
    "finetuning": re.compile(r"^workspaces/jobs\.properties: discriminator values \[.*'FineTuning'.*\] vs \[.*\]$"),
    # A property typed as one sub-model (e.g. testData: MLTableJobInput): its discriminator is a
    # constant in the bundle, the whole enum in bicep.
    "fixed-sub-model": re.compile(r"\.(jobInputType|jobLimitsType): bundle =\w+ vs bicep UnionType$"),
    # Constraints come from the msrest models of 2025-01-01-preview; 2025-12-01 dropped this one.
    "older-constraint": re.compile(r"properties<Spark>\.codeId: (pattern|minLength) bundle=('\[a-zA-Z0-9_\]'|1) bicep=None$"),
    # Extensibility of enums is not in the Python source: the bundle treats every enum alike.
    "fixed-enum": re.compile(r"\.sku\.tier: bicep enum is NOT extensible: \['Basic', 'Free', 'Premium', 'Standard'\]$"),
}


def _differences(bicep_types: list[dict]) -> list[str]:
    checker = Bicep(bicep_types)
    version = azapi_schema.load().versions[V]
    out: list[str] = []
    seen: set[tuple[str, int]] = set()

    def typ(mine: Any, theirs: dict, path: str) -> None:
        kind = theirs["$type"]
        if isinstance(mine, list):
            if mine[0] == "[" and kind == "ArrayType":
                return typ(mine[1], checker.ref(theirs["itemType"]), f"{path}[]")
            if mine[0] == "{" and kind == "ObjectType" and not theirs.get("properties"):
                return typ(mine[1], checker.ref(theirs["additionalProperties"]), f"{path}{{}}")
            return out.append(f"{path}: bundle {mine} vs bicep {kind}")
        if mine.startswith("#"):
            if kind in ("ObjectType", "DiscriminatedObjectType"):
                return model(mine[1:], theirs, path)
            return out.append(f"{path}: bundle {mine} vs bicep {kind}")
        if mine.startswith("%"):
            if kind != "UnionType":
                return out.append(f"{path}: bundle enum {mine} vs bicep {kind}")
            elements = [checker.ref(e) for e in theirs["elements"]]
            values = sorted(e["value"] for e in elements if e["$type"] == "StringLiteralType")
            if values != sorted(version.enums[mine[1:]]):
                out.append(f"{path}: enum {mine[1:]} {sorted(version.enums[mine[1:]])} vs bicep {values}")
            if not any(e["$type"] == "StringType" for e in elements):
                out.append(f"{path}: bicep enum is NOT extensible: {values}")
            return None
        expected = "StringLiteralType" if mine.startswith("=") else {
            "s": "StringType", "t": "StringType", "d": "StringType", "i": "IntegerType", "n": "IntegerType",
            "b": "BooleanType", "a": "AnyType"}[mine]
        if expected != kind:
            out.append(f"{path}: bundle {mine} vs bicep {kind}")
        return None

    def props(mine: dict, theirs: dict, path: str) -> None:
        for key in sorted(set(mine) | set(theirs)):
            if key not in mine or key not in theirs:
                out.append(f"{path}.{key}: only in {'bicep' if key in theirs else 'bundle'}")
                continue
            (m_type, m_flags, *rules), t_flags = mine[key], theirs[key]["flags"]
            for bit, word in ((1, "required"), (2, "read-only")):
                if m_flags & bit != t_flags & bit:
                    out.append(f"{path}.{key}: {word} bundle={bool(m_flags & bit)} bicep={bool(t_flags & bit)}")
            t_type = checker.ref(theirs[key]["type"])
            typ(m_type, t_type, f"{path}.{key}")
            if t_type["$type"] == "StringType":
                for rule in ("pattern", "minLength", "maxLength"):
                    a, b = (rules[0] if rules else {}).get(rule), t_type.get(rule)
                    if a != b:
                        out.append(f"{path}.{key}: {rule} bundle={a!r} bicep={b!r}")

    def model(name: str, theirs: dict, path: str) -> None:
        if (name, id(theirs)) in seen:
            return
        seen.add((name, id(theirs)))
        mine = version.models[name]
        if theirs["$type"] == "DiscriminatedObjectType":
            if mine.get("x") != theirs["discriminator"]:
                return out.append(f"{path}: discriminator {mine.get('x')} vs {theirs['discriminator']}")
            if sorted(mine["m"]) != sorted(theirs["elements"]):
                out.append(f"{path}: discriminator values {sorted(mine['m'])} vs {sorted(theirs['elements'])}")
            for value in sorted(set(mine["m"]) & set(theirs["elements"])):
                element = checker.ref(theirs["elements"][value])
                props(version.models[mine["m"][value]]["p"], {**theirs["baseProperties"], **element["properties"]},
                      f"{path}<{value}>")
            return None
        if "x" in mine:
            out.append(f"{path}: discriminated in the bundle only")
        props(mine["p"], theirs["properties"], path)
        return None

    for arm_type, name in version.types.items():
        if name is not None:
            model(name, checker.body(f"{arm_type}@{V}"), arm_type.split("/", 1)[1])
    return out


def test_bundled_definitions_match_the_azapi_providers_for_the_emitted_types(bicep) -> None:
    """Property names, required and read-only flags, discriminators, enum values and string rules of
    every model reachable from the emitted types: equal, or one of the explained differences."""
    differences = _differences(bicep)
    unexplained = [d for d in differences if not any(p.search(d) for p in EXPLAINED.values())]
    assert unexplained == []
    # Each explanation is still needed (a regenerated bundle that closes a gap should drop it).
    used = {k for k, p in EXPLAINED.items() if any(p.search(d) for d in differences)}
    assert used == set(EXPLAINED)
    # Names, required and read-only agree everywhere below the envelope.
    flags = [d for d in differences if re.search(r": (required|read-only) bundle=", d)]
    assert all(EXPLAINED["envelope"].search(d) for d in flags), flags
