"""azapi request bodies checked at synth against the bundled Azure REST definitions.

The provider schema only says that ``azapi_resource`` has a ``body``; what the body may contain is
the Azure REST definition of its ``type@api-version``, which the azapi provider checks at
``terraform plan``. :func:`validate_stack` runs the same kind of check at synth, for every
``azapi_resource`` and ``azapi_update_resource`` of a stack (ours and a user's) and for every Logic
App HTTP action (``azurerm_logic_app_action_custom`` / ``azurerm_logic_app_action_http``) that
sends a ``PUT`` or ``PATCH`` to a Resource Manager URL of a bundled type. One problem per mistake, each
naming the construct path and the JSON path in the body:

* unknown property (with "did you mean"), read-only property set, missing required property;
* wrong JSON type (string, integer, number, boolean, object, array), ISO 8601 date-time/duration;
* an unknown discriminator value (``jobType``, ``authType``, ...), exact as azapi compares it;
* an enum value that differs from a known value only by case (``string`` for ``String``);
* a string against its pattern / minimum / maximum length (and numbers against min / max);
* an api-version of a bundled type that is not bundled, and an unknown type name at a bundled
  api-version.

azapi puts the ``location``, ``tags`` and ``identity`` arguments into the body before validating
it; so does this check, and a type whose body has no top-level ``tags`` (Azure ML proxy resources:
data and environment versions, connections, schedules, ...) is an error naming the ``tags``
argument. As in azapi, ``name`` comes from the ``name`` argument, and a missing ``location`` /
``tags`` is not reported (the provider may supply defaults). ``azapi_update_resource`` bodies are
partial (merged into the existing resource): required properties are not checked there.

What is not checked:

* values only known at apply time (Terraform references ``${...}``, escaped Azure ML expressions
  ``$${{...}}``, Logic App expressions ``@...``): their types and values are skipped, the
  property names around them are checked;
* types outside the bundle (other namespaces, and Azure ML types the library does not write: the
  bundle's ``types`` lists them as known but without a body), and resources with
  ``schema_validation_enabled = false`` (azapi's own switch, honoured here);
* enum values that are not a case variant of a known value: the Python source the definitions
  come from does not say which enums are extensible (in the Azure ML REST specs nearly all are),
  so an unknown value may be a newer, valid one. A case variant is reported because Azure returns
  the canonical casing, which Terraform would then show as a change on every plan.

The bundle (``schemas/azure-ml-rest.json.gz``) is made by ``tools/extract_azapi_schemas.py`` from
the REST client that ``azure-ai-ml`` ships (see ``schemas/README.md``). It is read once per process
and each model is parsed on first use.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import gzip
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from .schema import LazyJson, construct_path

__all__ = [
    "BUNDLE",
    "Definitions",
    "check_body",
    "load",
    "resolve",
    "tag_target",
    "validate_stack",
]

#: The bundled definitions file in ``core/schemas/``.
BUNDLE = "azure-ml-rest.json.gz"

_DURATION = re.compile(r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-[a-z]+)?$")
_ARM = re.compile(r"^https://management\.azure\.com(?P<path>[^?#]*)\?(?P<query>[^#]*)$", re.I)
_REF = re.compile(r"\$\{(?P<type>[a-z0-9_]+)\.(?P<name>[^.}\s]+)\.id\}")
#: Terraform types whose ``id`` is the Resource Manager id of a known resource type.
_AZURERM_TYPES = {
    "azurerm_machine_learning_workspace": "Microsoft.MachineLearningServices/workspaces",
    "azurerm_resource_group": "resourceGroups",
}
_TOP_MERGED = ("location", "tags", "identity")
_JSON_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "object", list: "array"}


#: Model name -> MODEL, parsed on first access (the file stores each model as a JSON string).
_Models = LazyJson


@dataclass(frozen=True)
class _Version:
    types: Mapping[str, str | None]  # resource type -> body model (None: known, not bundled)
    lower: Mapping[str, str]  # lower-case resource type -> resource type
    models: _Models
    enums: Mapping[str, list[str]]


@dataclass(frozen=True)
class Definitions:
    """The bundled REST definitions of one resource-provider namespace."""

    namespace: str
    generated_from: Mapping[str, str]
    versions: Mapping[str, _Version]

    def bundled_versions(self, arm_type: str) -> list[str]:
        """The api-versions at which ``arm_type``'s body is bundled (sorted)."""
        out = []
        for version, data in self.versions.items():
            name = data.lower.get(arm_type.lower())
            if name is not None and data.types[name] is not None:
                out.append(version)
        return sorted(out)


@lru_cache(maxsize=1)
def load() -> Definitions:
    """The bundled definitions (read once per process; models are parsed when first used)."""
    raw = resources.files(__package__).joinpath("schemas", BUNDLE).read_bytes()
    data = json.loads(gzip.decompress(raw))
    if data.get("format") != 1:
        raise RuntimeError(f"bundled {BUNDLE} has unsupported format {data.get('format')!r}")
    versions = {
        version: _Version(
            types=v["types"],
            lower={t.lower(): t for t in v["types"]},
            models=_Models(v["models"]),
            enums=v["enums"],
        )
        for version, v in data["api_versions"].items()
    }
    return Definitions(namespace=data["namespace"], generated_from=data["generated_from"], versions=versions)


def _suggest(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _json_name(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


def _terraform_dynamic(value: str) -> bool:
    # `${` / `%{` also covers escaped `$${{...}}` Azure ML expressions, only known at run time.
    return "${" in value or "%{" in value


def _logic_app_dynamic(value: str) -> bool:
    return _terraform_dynamic(value) or "@{" in value or (value.startswith("@") and not value.startswith("@@"))


def _literal(value: str) -> str:
    """The string the service receives from a literal Terraform / Logic App string."""
    value = value.replace("$${", "${").replace("%%{", "%{")
    return value[1:] if value.startswith("@@") else value


@dataclass
class _Walk:
    """One body being checked: where it is, and what counts as a run-time value."""

    version: _Version
    label: str
    dynamic: Callable[[str], bool]
    partial: bool

    def value(self, value: Any, typ: Any, trail: str) -> Iterator[str]:
        if value is None:
            return  # azapi skips nulls (Terraform drops them from the request)
        if isinstance(value, str) and self.dynamic(value):
            return
        if isinstance(typ, list):
            kind, inner = typ
            if kind == "[":
                if not isinstance(value, list):
                    yield f"{trail}: must be an array in {self.label}, got {_json_name(value)}"
                    return
                for n, item in enumerate(value):
                    yield from self.value(item, inner, f"{trail}[{n}]")
            else:
                if not isinstance(value, dict):
                    yield f"{trail}: must be an object (a map) in {self.label}, got {_json_name(value)}"
                    return
                for key, item in value.items():
                    yield from self.value(item, inner, f"{trail}.{key}")
            return
        head = typ[0]
        if head == "#":
            yield from self.model(value, typ[1:], trail)
        elif head == "%":
            yield from self.enum(value, typ[1:], trail)
        elif head == "=":
            if value != typ[1:]:
                yield f"{trail}: must be {typ[1:]!r} in {self.label}, got {value!r}"
        else:
            yield from self.primitive(value, typ, trail)

    def primitive(self, value: Any, typ: str, trail: str) -> Iterator[str]:
        if typ == "a":
            return
        ok = {
            "s": isinstance(value, str),
            "t": isinstance(value, str),
            "d": isinstance(value, str),
            "b": isinstance(value, bool),
            "i": isinstance(value, int) and not isinstance(value, bool)
            or isinstance(value, float) and value.is_integer(),
            "n": isinstance(value, (int, float)) and not isinstance(value, bool),
        }[typ]
        if not ok:
            expected = {"s": "a string", "t": "a date-time string", "d": "a duration string", "b": "a boolean",
                        "i": "an integer", "n": "a number"}[typ]
            yield f"{trail}: must be {expected} in {self.label}, got {_json_name(value)}"
            return
        if typ == "d" and not _DURATION.match(_literal(value)):
            yield f"{trail}: {value!r} is not an ISO 8601 duration such as 'PT5M' ({self.label})"
        if typ == "t":
            try:
                _dt.datetime.fromisoformat(_literal(value).replace("Z", "+00:00"))
            except ValueError:
                yield f"{trail}: {value!r} is not an ISO 8601 date-time ({self.label})"

    def constraints(self, value: Any, rules: Mapping[str, Any], trail: str) -> Iterator[str]:
        if isinstance(value, str):
            if self.dynamic(value):
                return
            text = _literal(value)
            if "minLength" in rules and len(text) < rules["minLength"]:
                yield f"{trail}: {value!r} is shorter than {rules['minLength']} character(s) ({self.label})"
            if "maxLength" in rules and len(text) > rules["maxLength"]:
                yield f"{trail}: {value!r} is longer than {rules['maxLength']} characters ({self.label})"
            pattern = _pattern(rules.get("pattern"))
            if pattern is not None and not pattern.search(text):
                yield f"{trail}: {value!r} does not match the pattern {rules['pattern']!r} ({self.label})"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in rules and value < rules["minimum"]:
                yield f"{trail}: {value} is below the minimum {rules['minimum']} ({self.label})"
            if "maximum" in rules and value > rules["maximum"]:
                yield f"{trail}: {value} is above the maximum {rules['maximum']} ({self.label})"

    def enum(self, value: Any, name: str, trail: str) -> Iterator[str]:
        if not isinstance(value, str):
            yield f"{trail}: must be a string ({name}) in {self.label}, got {_json_name(value)}"
            return
        known = self.version.enums.get(name, [])
        text = _literal(value)
        if text in known:
            return
        same = [k for k in known if k.lower() == text.lower()]
        if same:
            yield (f"{trail}: {value!r} is not a value of {name} in {self.label} (values are "
                   f"case-sensitive); did you mean {same[0]!r}?")

    def model(self, value: Any, name: str, trail: str, *, top: frozenset[str] = frozenset()) -> Iterator[str]:
        if not isinstance(value, dict):
            yield f"{trail}: must be an object ({name}) in {self.label}, got {_json_name(value)}"
            return
        model = self.version.models[name]
        tolerated: set[str] = set()
        resolved = {name}
        while "x" in model:
            disc, mapping = model["x"], model["m"]
            chosen = value.get(disc)
            if isinstance(chosen, str) and not self.dynamic(chosen) and _literal(chosen) in mapping:
                if mapping[_literal(chosen)] in resolved:
                    break  # a model mapped to itself: nothing more to resolve
                name = mapping[_literal(chosen)]
                resolved.add(name)
                model = self.version.models[name]
                continue
            if chosen is None and not self.partial:
                yield f"{self._at(trail, disc)}: required property is missing ({self.label}; one of {', '.join(sorted(mapping))})"
            elif isinstance(chosen, str) and not self.dynamic(chosen):
                same = [k for k in mapping if k.lower() == _literal(chosen).lower()]
                hint = f"; did you mean {same[0]!r}?" if same else _suggest(_literal(chosen), mapping)
                yield f"{self._at(trail, disc)}: {chosen!r} is not one of {', '.join(sorted(mapping))} ({self.label}){hint}"
            elif chosen is not None and not isinstance(chosen, str):
                yield f"{self._at(trail, disc)}: must be a string in {self.label}, got {_json_name(chosen)}"
            tolerated = self._all_keys(mapping)  # sub-model unknown: its properties cannot be told apart
            break
        props: Mapping[str, list[Any]] = model["p"]
        for key, item in value.items():
            where = self._at(trail, key)
            spec = props.get(key)
            if spec is None:
                if key in tolerated or (not trail and key == "name"):
                    continue  # `name` comes from the name argument (azapi overwrites it)
                if key in top:
                    yield (f"{key}: {self.label} takes no top-level {key}; azapi puts the `{key}` argument "
                           f"into the body, remove the argument{self._properties_hint(name, key)}")
                else:
                    yield f"{where}: unknown property in {self.label}{_suggest(key, props)}"
                continue
            if spec[1] & 2:
                if not trail and key == "name":
                    continue
                yield f"{key if key in top else where}: read-only property in {self.label}; remove it (the service sets it)"
                continue
            yield from self.value(item, spec[0], key if key in top else where)
            if len(spec) > 2 and item is not None:
                yield from self.constraints(item, spec[2], where)
        if self.partial:
            return
        for key, spec in sorted(props.items()):
            if spec[1] & 1 and value.get(key) is None and not spec[1] & 2:
                if not trail and key in ("location", "tags", "name"):
                    continue  # azapi: the provider may supply a default location / tags
                yield f"{self._at(trail, key)}: required property is missing ({self.label})"

    @staticmethod
    def _at(trail: str, key: str) -> str:
        return f"{trail}.{key}" if trail else key

    def _all_keys(self, mapping: Mapping[str, str], seen: set[str] | None = None) -> set[str]:
        """Property names of every sub-model reachable through ``mapping``."""
        seen = set() if seen is None else seen
        out: set[str] = set()
        for sub in mapping.values():
            if sub in seen:
                continue
            seen.add(sub)
            model = self.version.models[sub]
            out.update(model["p"])
            if "m" in model:
                out.update(self._all_keys(model["m"], seen))
        return out

    def _properties_hint(self, name: str, key: str) -> str:
        if key == "tags" and _tag_target_of(self.version, name) == "properties.tags":
            return " (this type keeps tags in body.properties.tags)"
        return ""


@lru_cache(maxsize=256)
def _pattern(pattern: str | None) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None  # a pattern Python cannot read is not checked (azapi logs and skips too)


def resolve(type_string: str) -> tuple[str, str, _Version | None, str | None, str | None]:
    """``(type, api-version, version data, body model, problem)`` for an azapi ``type`` argument.

    ``version data`` is None when the type is outside the bundle (not checked); ``problem`` is a
    message when the api-version or type name is wrong for a bundled type.
    """
    arm_type, _, api = type_string.partition("@")
    defs = load()
    namespace = arm_type.split("/", 1)[0]
    if namespace.lower() != defs.namespace.lower():
        return arm_type, api, None, None, None
    if not api:
        return arm_type, api, None, None, f"{type_string!r} has no api-version; write <type>@<api-version>"
    data = defs.versions.get(api)
    if data is None:
        bundled = defs.bundled_versions(arm_type)
        if not bundled:
            return arm_type, api, None, None, None  # a type the bundle has no body for
        if not _API_VERSION.match(api):
            return arm_type, api, None, None, f"{api!r} is not an api-version (YYYY-MM-DD[-preview])"
        return arm_type, api, None, None, (
            f"api-version {api} of {arm_type} is not one the bundled REST definitions have "
            f"({', '.join(bundled)}); use {bundled[-1]}"
        )
    canonical = data.lower.get(arm_type.lower())
    if canonical is None:
        return arm_type, api, None, None, (
            f"unknown resource type {arm_type} at api-version {api}{_suggest(arm_type, data.types)}"
        )
    return canonical, api, data, data.types[canonical], None


def check_body(
    type_string: str,
    body: Any,
    *,
    trail: str = "body",
    partial: bool = False,
    merged: frozenset[str] = frozenset(),
    dynamic: Callable[[str], bool] = _terraform_dynamic,
) -> list[str]:
    """Problems of ``body`` as the request body of ``type_string`` (``<type>@<api-version>``).

    ``partial``: a body merged into an existing resource (no required-property check).
    ``merged``: top-level keys that azapi took from arguments (messages name the argument).
    An empty list means valid, or a type the bundle has no body for.
    """
    arm_type, api, data, model, problem = resolve(type_string)
    if problem:
        return [f"type: {problem}"]
    if data is None or model is None:
        return []
    walk = _Walk(version=data, label=f"{arm_type}@{api}", dynamic=dynamic, partial=partial)
    if not isinstance(body, dict):
        return [f"{trail}: must be an object ({model}) in {walk.label}, got {_json_name(body)}"]
    out = []
    for p in walk.model(body, model, "", top=merged):
        head = p.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
        out.append(p if head in merged else f"{trail}.{p}")
    return out


def _tag_target_of(version: _Version, model: str) -> str | None:
    """Where a body of ``model`` takes tags: ``"tags"``, ``"properties.tags"`` or None."""
    props = version.models[model]["p"]
    if _writable_map(props.get("tags")):
        return "tags"
    spec = props.get("properties")
    if spec and isinstance(spec[0], str) and spec[0].startswith("#") and not spec[1] & 2:
        inner = version.models[spec[0][1:]]["p"]
        if _writable_map(inner.get("tags")):
            return "properties.tags"
    return None


def _writable_map(spec: list[Any] | None) -> bool:
    return bool(spec) and spec[0] == ["{", "s"] and not spec[1] & 2  # type: ignore[index]


def tag_target(type_string: Any) -> str | None:
    """Where an ``azapi_resource`` of ``type_string`` takes tags.

    ``"tags"`` (the top-level ``tags`` argument) when its body has top-level tags,
    ``"properties.tags"`` when only ``body.properties`` has them (Azure ML assets, schedules), and
    None when it has neither or the type is outside the bundle: inherited tags are then not added.
    """
    if not isinstance(type_string, str) or "${" in type_string:
        return None
    return _cached_tag_target(type_string)


@lru_cache(maxsize=256)
def _cached_tag_target(type_string: str) -> str | None:
    _, _, data, model, problem = resolve(type_string)
    if problem or data is None or model is None:
        return None
    return _tag_target_of(data, model)


def _where(body: Mapping[str, Any], fallback: str) -> str:
    return construct_path(body) or fallback


def _identity(block: Any) -> Any:
    """The body ``identity`` azapi builds from the ``identity`` block (a one-item list in JSON)."""
    item = block[0] if isinstance(block, list) and block else block
    if not isinstance(item, Mapping) or "type" not in item:
        return None
    out: dict[str, Any] = {"type": item["type"]}
    ids = item.get("identity_ids")
    if isinstance(ids, list) and ids:
        out["userAssignedIdentities"] = {str(i): {} for i in ids}
    return out


def _azapi_problems(tf_type: str, block: Mapping[str, Any]) -> list[str]:
    type_string, body = block.get("type"), block.get("body")
    if not isinstance(type_string, str) or "${" in type_string:
        return []
    if block.get("schema_validation_enabled") is False:
        return []
    if body is None:
        _, _, _, _, problem = resolve(type_string)
        return [f"type: {problem}"] if problem else []
    if not isinstance(body, dict):
        return []  # a JSON string or a reference: only known at apply time
    merged = dict(body)
    taken: set[str] = set()
    problems: list[str] = []
    if tf_type == "azapi_resource":
        for key in _TOP_MERGED:
            arg = block.get(key)
            value = _identity(arg) if key == "identity" else arg
            if value in (None, "", {}, []):
                continue
            if key in body:
                problems.append(f"{key}: set both as an argument and in body; azapi rejects this, keep one")
                continue
            merged[key] = value
            taken.add(key)
    problems += check_body(type_string, merged, partial=tf_type == "azapi_update_resource", merged=frozenset(taken))
    return problems


def _http_actions(node: Any, trail: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every Logic App ``Http`` action in a workflow-definition fragment, with its JSON path."""
    if isinstance(node, Mapping):
        if str(node.get("type", "")).lower() == "http" and isinstance(node.get("inputs"), Mapping):
            yield trail, node["inputs"]
        for key, value in node.items():
            yield from _http_actions(value, f"{trail}.{key}" if trail else str(key))
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from _http_actions(item, f"{trail}[{n}]")


def _placeholder_id(arm_type: str) -> str:
    namespace, *names = arm_type.split("/")
    if namespace == "resourceGroups":
        return "/subscriptions/s/resourceGroups/g"
    return "/subscriptions/s/resourceGroups/g/providers/" + "/".join([namespace, *(f"{n}/x" for n in names)])


def _arm_call(uri: Any, doc: Mapping[str, Any]) -> str | None:
    """``<type>@<api-version>`` of a Resource Manager URL, or None when it cannot be told statically.

    A leading Terraform reference to the ``id`` of an ``azapi_resource`` or of a known azurerm type
    (the Azure ML workspace) stands for that resource's id.
    """
    if not isinstance(uri, str):
        return None
    match = _ARM.match(uri)
    if not match:
        return None
    api = dict(p.partition("=")[::2] for p in match["query"].split("&")).get("api-version", "")
    if not api or "${" in api or "@" in api:
        return None

    def known_id(ref: re.Match[str]) -> str:
        tf_type, name = ref["type"], ref["name"]
        if tf_type in _AZURERM_TYPES:
            return _placeholder_id(_AZURERM_TYPES[tf_type])
        if tf_type == "azapi_resource":
            target = doc.get("resource", {}).get("azapi_resource", {}).get(name, {}).get("type")
            if isinstance(target, str) and "${" not in target:
                return _placeholder_id(target.partition("@")[0])
        return ref.group(0)

    path = _REF.sub(known_id, match["path"])
    _, sep, tail = path.rpartition("/providers/")
    if not sep:
        return None
    namespace, *rest = tail.strip("/").split("/")
    names = [seg for n, seg in enumerate(rest) if n % 2 == 0]
    if len(rest) % 2 or not names or any("${" in s or "@" in s for s in [namespace, *names]):
        return None
    return "/".join([namespace, *names]) + "@" + api


def _action_problems(fragment: Any, doc: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for path, inputs in _http_actions(fragment):
        method = str(inputs.get("method", "")).upper()
        if method not in ("PUT", "PATCH"):
            continue
        call = _arm_call(inputs.get("uri"), doc)
        if call is None:
            continue
        trail = f"{prefix}{path + '.' if path else ''}inputs.body"
        for p in check_body(call, inputs.get("body"), trail=trail, partial=method == "PATCH",
                            dynamic=_logic_app_dynamic):
            yield p if not p.startswith("type: ") else f"{prefix}{path + '.' if path else ''}inputs.uri: {p[6:]}"


def _logic_app_problems(tf_type: str, block: Mapping[str, Any], doc: Mapping[str, Any]) -> Iterator[str]:
    if tf_type == "azurerm_logic_app_action_custom":
        raw = block.get("body")
        if not isinstance(raw, str) or raw.startswith("${"):
            return
        try:
            fragment = json.loads(raw)
        except ValueError:
            return  # the Logic Apps service reports its own syntax errors
        yield from _action_problems(fragment, doc, "body: ")
    else:  # azurerm_logic_app_action_http: uri/method/body are arguments
        raw = block.get("body")
        try:
            body = json.loads(raw) if isinstance(raw, str) and not raw.startswith("${") else None
        except ValueError:
            body = None
        if body is not None:
            fragment = {"type": "Http", "inputs": {"method": block.get("method"), "uri": block.get("uri"), "body": body}}
            for p in _action_problems(fragment, doc, ""):
                yield p.replace("inputs.body", "body", 1).replace("inputs.uri", "uri", 1)


def validate_stack(doc: Mapping[str, Any], *, stack: str = "") -> list[str]:
    """Problems of every azapi body and Azure Resource Manager HTTP action of ``doc`` (a synthesized
    stack as a dict). An empty list means every checkable body matches its REST definition."""
    problems: list[str] = []
    prefix = f"{stack}: " if stack else ""
    resources_ = doc.get("resource", {})
    for tf_type in ("azapi_resource", "azapi_update_resource"):
        for name, block in sorted(resources_.get(tf_type, {}).items()):
            where = _where(block, f"resource.{tf_type}.{name}")
            problems.extend(f"{prefix}{where}: {p}" for p in _azapi_problems(tf_type, block))
    for tf_type in ("azurerm_logic_app_action_custom", "azurerm_logic_app_action_http"):
        for name, block in sorted(resources_.get(tf_type, {}).items()):
            where = _where(block, f"resource.{tf_type}.{name}")
            problems.extend(f"{prefix}{where}: {p}" for p in _logic_app_problems(tf_type, block, doc))
    return problems
