#!/usr/bin/env python3
"""Extract the Azure REST definitions that ``constructs_lib/core/azapi_schema.py`` checks azapi bodies against.

Dev-only tool (not part of the installed package). Output:
``constructs_lib/core/schemas/azure-ml-rest.json.gz``.

Sources (both published by Microsoft on PyPI, read from the wheels without installing them):

* **Definitions** — ``azure-ai-ml`` 1.35.2 ships ``azure/ai/ml/_restclient/arm_ml_service``, the
  Azure Machine Learning Resource Manager client generated from the service's TypeSpec at
  api-version 2025-12-01. The package is imported from a temporary copy of that folder (it needs
  only ``azure-core`` and ``isodate``) and read by introspection:

  - resource types: every ``build_*_request`` that sends a ``PUT`` gives the URL template
    (``.../providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}/data/{name}``
    -> ``Microsoft.MachineLearningServices/workspaces/data``); the operations method that calls it
    has a typed overload whose ``body`` parameter names the body model;
  - properties: the model's ``rest_field(name=..., visibility=[...])`` attributes along the MRO,
    the REST name being ``name`` (or the attribute name);
  - read-only: a property whose visibility is only ``["read"]``;
  - required: a keyword-only parameter without a default in the model's typed ``__init__``
    overload (``typing.get_overloads``). That overload is what the generator derives from the
    TypeSpec "optional" marker, so it is the reliable signal; the docstrings' "Required." is
    compared with it and differences are reported (there are none for the bundled models);
  - types: from the annotations (``str``, ``int``, ``float``, ``bool``, ``datetime`` and
    ``timedelta`` — both sent as strings —, ``Any``, ``list[...]``, ``dict[str, ...]``, models,
    and ``Union[str, <Enum>]`` for enums, whose known values come from ``models/_enums.py``);
  - discriminators: a model with its own ``__mapping__`` and a ``rest_discriminator`` field; the
    mapping gives discriminator value -> sub-model.

  What the Python source cannot say: whether an enum is extensible (``x-ms-enum`` ``modelAsString``;
  every generated field is ``Union[str, Enum]``) and string constraints (patterns, lengths). The
  bundle records enum values only; see ``core/azapi_schema.py`` for the rule applied.

* **String constraints** — ``azure-ai-ml`` 1.27.1 is the last release that ships msrest models
  (``_restclient/v2025_01_01_preview/models/_models_py3.py``) whose ``_validation`` dicts carry
  ``pattern`` / ``min_length`` / ``max_length`` (and ``minimum`` / ``maximum``). The file is parsed
  with ``ast`` (never imported); a constraint is copied onto a bundled property when the class name
  and the property's REST name match. Every copied constraint is listed in the bundle's
  ``constraints_from`` record.

Only the resource types the library emits (``TYPES``) and the models reachable from their bodies
are bundled; ``types`` also lists every other writable resource type of the namespace at that
api-version (with ``null``), so an unknown type name can be told from a type that is simply not
bundled. Format::

    {"format": 1, "namespace": "Microsoft.MachineLearningServices",
     "generated_from": {...}, "api_versions": {"2025-12-01": {
        "types": {"Microsoft.MachineLearningServices/workspaces/data": "DataContainer" | null, ...},
        "models": {NAME: "<compact JSON of MODEL>"},      # parsed lazily by the validator
        "enums": {NAME: [value, ...]}}},
     "constraints_from": {"<Model>.<prop>": {"pattern": ..., ...}}}
    MODEL = {"p": {rest_name: [TYPE, FLAGS] | [TYPE, FLAGS, {"pattern"|"minLength"|"maxLength"|
                                                          "minimum"|"maximum": value}]},
             "x": discriminator rest name, "m": {value: sub-model NAME}}   # "x"/"m" only when discriminated
    TYPE = "s" string | "i" integer | "n" number | "b" boolean | "a" any | "t" date-time string
           | "d" duration string | "#NAME" model | "%NAME" enum | "=VALUE" constant
           | ["[", TYPE] array | ["{", TYPE] map with string keys
    FLAGS = 1 required | 2 read-only

Output is ``json.dumps(sort_keys=True, separators=(",", ":"))`` gzip level 9 with ``mtime=0``: the
same wheels give a byte-identical file.

Usage::

    python tools/extract_azapi_schemas.py                       # wheels from --wheel-dir or pip download
    python tools/extract_azapi_schemas.py --wheel-dir /tmp/schema-src
"""

from __future__ import annotations

import argparse
import ast
import datetime
import enum
import gzip
import importlib
import inspect
import io
import json
import re
import shutil
import sys
import tempfile
import typing
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract_schemas import DEFAULT_WHEEL_DIR, REPO_ROOT, ensure_wheel, log  # noqa: E402

OUT = REPO_ROOT / "constructs_lib" / "core" / "schemas" / "azure-ml-rest.json.gz"
NAMESPACE = "Microsoft.MachineLearningServices"
FORMAT = 1

#: The package whose TypeSpec-generated client gives the definitions, and its api-version.
DEFINITIONS = {"package": "azure-ai-ml", "pin": "1.35.2", "folder": "azure/ai/ml/_restclient/arm_ml_service"}
API_VERSION = "2025-12-01"
#: The package whose msrest models give the string constraints.
CONSTRAINTS = {
    "package": "azure-ai-ml",
    "pin": "1.27.1",
    "file": "azure/ai/ml/_restclient/v2025_01_01_preview/models/_models_py3.py",
    "api_version": "2025-01-01-preview",
}

#: Resource types whose bodies are bundled: every type the library's Azure constructs write
#: (``azapi_resource`` / ``azapi_update_resource``, and the Logic App action that submits a job).
TYPES = (
    "Microsoft.MachineLearningServices/registries",
    "Microsoft.MachineLearningServices/workspaces/connections",
    "Microsoft.MachineLearningServices/workspaces/data",
    "Microsoft.MachineLearningServices/workspaces/data/versions",
    "Microsoft.MachineLearningServices/workspaces/environments",
    "Microsoft.MachineLearningServices/workspaces/environments/versions",
    "Microsoft.MachineLearningServices/workspaces/featurestoreEntities",
    "Microsoft.MachineLearningServices/workspaces/featurestoreEntities/versions",
    "Microsoft.MachineLearningServices/workspaces/jobs",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
    "Microsoft.MachineLearningServices/workspaces/schedules",
)

_CONSTRAINT_KEYS = {"pattern": "pattern", "min_length": "minLength", "max_length": "maxLength",
                    "minimum": "minimum", "maximum": "maximum"}


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def encode(doc: dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, compact separators, gzip level 9, mtime 0, no file name."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(_compact(doc).encode("utf-8"))
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# The TypeSpec-generated client (definitions)
# --------------------------------------------------------------------------------------------


def import_client(wheel: Path, tmp: Path) -> Any:
    """Copy ``arm_ml_service`` out of the wheel and import it as a top-level package."""
    prefix = DEFINITIONS["folder"] + "/"
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith(prefix) and name.endswith(".py"):
                target = tmp / "arm_ml_service" / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
    sys.path.insert(0, str(tmp))
    return importlib.import_module("arm_ml_service")


def resource_types(client: Any) -> dict[str, str]:
    """ARM resource type -> body model name, from the PUT request builders and their operations."""
    ops = importlib.import_module("arm_ml_service.operations._operations")
    source = inspect.getsource(ops)
    builders: dict[str, str] = {}
    for match in re.finditer(
        r'def (build_\w+_request)\(.*?_url = "([^"]+)".*?HttpRequest\(method="(\w+)"', source, re.S
    ):
        name, url, method = match.groups()
        if method == "PUT":
            builders[name] = url
    out: dict[str, str] = {}
    for cname, cls in inspect.getmembers(ops, inspect.isclass):
        if not cname.endswith("Operations"):
            continue
        for mname, fn in inspect.getmembers(cls, inspect.isfunction):
            text = inspect.getsource(fn)
            for builder, url in builders.items():
                if not re.search(rf"\b{builder}\(", text):
                    continue
                public = f"begin_{mname[1:-len('_initial')]}" if mname.endswith("_initial") else mname
                model = _body_model(getattr(cls, public), client)
                arm_type = arm_type_of(url)
                if model is not None and arm_type is not None:
                    previous = out.setdefault(arm_type, model)
                    if previous != model:
                        raise SystemExit(f"error: {arm_type} has two body models: {previous}, {model}")
    return dict(sorted(out.items()))


def _body_model(method: Any, client: Any) -> str | None:
    """The model named by the first typed overload's body parameter."""
    from arm_ml_service._utils.model_base import Model

    for overload in typing.get_overloads(method):
        for param in inspect.signature(overload).parameters.values():
            if param.name in ("body", "parameters", "resource"):
                ann = param.annotation
                for candidate in (ann, *typing.get_args(ann)):
                    if isinstance(candidate, type) and issubclass(candidate, Model):
                        return candidate.__name__
    return None


def arm_type_of(url: str) -> str | None:
    """``/subscriptions/{s}/.../providers/NS/a/{x}/b/{y}`` -> ``NS/a/b``."""
    _, sep, tail = url.partition("/providers/")
    if not sep:
        return None
    namespace, *rest = tail.split("/")
    names = [seg for n, seg in enumerate(rest) if n % 2 == 0]
    return "/".join([namespace, *names]) if names else None


class Models:
    """Models and enums reachable from the bundled bodies, in the compact form."""

    def __init__(self, client: Any) -> None:
        self.mod = importlib.import_module("arm_ml_service.models")
        base = importlib.import_module("arm_ml_service._utils.model_base")
        self.Model, self.RestField = base.Model, base._RestField
        self.models: dict[str, dict[str, Any]] = {}
        self.enums: dict[str, list[str]] = {}
        self.docstring_mismatches: list[str] = []

    def cls(self, name: str) -> type:
        return getattr(self.mod, name)

    def fields(self, cls: type) -> dict[str, Any]:
        """Attribute name -> _RestField along the MRO (base first, as the runtime does)."""
        out: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if not key.startswith("_") and isinstance(value, self.RestField):
                    out[key] = value
        return out

    def required(self, cls: type) -> set[str]:
        """Attribute names without a default in the keyword-only ``__init__`` overload."""
        for overload in typing.get_overloads(cls.__init__):
            params = list(inspect.signature(overload).parameters.values())[1:]
            if params and all(p.kind is p.KEYWORD_ONLY for p in params):
                return {p.name for p in params if p.default is inspect.Parameter.empty}
        return set()

    def docstring_required(self, cls: type) -> set[str]:
        doc = inspect.getdoc(cls) or ""
        out = set()
        for match in re.finditer(r":ivar (\w+): (.*?)(?=\n:ivar |\n:vartype |\Z)", doc, re.S):
            if re.search(r"(?<!\[)\bRequired\.(\s|$)", " ".join(match.group(2).split())):
                out.add(match.group(1))
        return out

    def add(self, name: str) -> None:
        if name in self.models:
            return
        cls = self.cls(name)
        self.models[name] = {}  # placeholder against recursion
        hints = typing.get_type_hints(cls, localns={"_models": self.mod})
        required = self.required(cls)
        fields = self.fields(cls)
        own_mapping = "__mapping__" in vars(cls)
        disc_field = None
        props: dict[str, list[Any]] = {}
        for attr, rf in fields.items():
            rest = rf._rest_name_input or attr
            readonly = rf._visibility == ["read"]
            ann = hints.get(attr)
            literal = _literal(ann)
            if literal is not None:
                typ: Any = f"={literal}"
                flags = 1
            else:
                typ = self.type_of(ann, f"{name}.{attr}")
                flags = (1 if attr in required else 0) | (2 if readonly else 0)
            if rf._is_discriminator and own_mapping and literal is None:
                disc_field = rest
                flags |= 1
            props[rest] = [typ, flags]
        if own_mapping and disc_field is None:
            raise SystemExit(f"error: {name} has a __mapping__ but no discriminator field")
        model: dict[str, Any] = {"p": props}
        if own_mapping:
            model["x"] = disc_field
            model["m"] = {value: sub.__name__ for value, sub in sorted(cls.__mapping__.items())}
            for sub in model["m"].values():
                self.add(sub)
        self.models[name] = model
        # Docstring "Required." vs the overload (reported, not used).
        docs = self.docstring_required(cls)
        writable_required = set(required)
        doc_writable = {a for a in docs if a in fields and fields[a]._visibility != ["read"]
                        and _literal(hints.get(a)) is None}  # a sub-model's constant discriminator
        if doc_writable != writable_required:
            self.docstring_mismatches.append(
                f"{name}: overload {sorted(writable_required)} vs docstring {sorted(doc_writable)}"
            )

    def type_of(self, ann: Any, where: str) -> Any:
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is typing.Union:
            real = [a for a in args if a is not type(None)]
            enums = [a for a in real if isinstance(a, type) and issubclass(a, enum.Enum)]
            if enums and all(a is str or a in enums for a in real) and len(enums) == 1:
                return self.enum(enums[0])
            if len(real) == 1:
                return self.type_of(real[0], where)
            raise SystemExit(f"error: {where}: unsupported union {ann!r}")
        if origin is list:
            return ["[", self.type_of(args[0], where)]
        if origin is dict:
            if args[0] is not str:
                raise SystemExit(f"error: {where}: map with {args[0]!r} keys")
            return ["{", self.type_of(args[1], where)]
        if ann is str:
            return "s"
        if ann is bool:
            return "b"
        if ann is int:
            return "i"
        if ann is float:
            return "n"
        if ann is typing.Any or ann is None:
            return "a"
        if ann is datetime.datetime:
            return "t"
        if ann is datetime.timedelta:
            return "d"
        if isinstance(ann, type) and issubclass(ann, enum.Enum):
            return self.enum(ann)
        if isinstance(ann, type) and issubclass(ann, self.Model):
            self.add(ann.__name__)
            return f"#{ann.__name__}"
        raise SystemExit(f"error: {where}: unsupported annotation {ann!r}")

    def enum(self, cls: type) -> str:
        self.enums[cls.__name__] = [m.value for m in cls]  # type: ignore[attr-defined]
        return f"%{cls.__name__}"


def _literal(ann: Any) -> str | None:
    if typing.get_origin(ann) is typing.Literal:
        (value,) = typing.get_args(ann)
        return value.value if isinstance(value, enum.Enum) else str(value)
    return None


# --------------------------------------------------------------------------------------------
# The msrest models (string constraints)
# --------------------------------------------------------------------------------------------


def msrest_constraints(wheel: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(class name, REST key) -> constraints, from ``_validation`` / ``_attribute_map`` literals."""
    with zipfile.ZipFile(wheel) as zf:
        tree = ast.parse(zf.read(CONSTRAINTS["file"]).decode("utf-8"))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        literals: dict[str, Any] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                if stmt.targets[0].id in ("_validation", "_attribute_map"):
                    literals[stmt.targets[0].id] = ast.literal_eval(stmt.value)
        keys = {attr: spec["key"] for attr, spec in literals.get("_attribute_map", {}).items()}
        for attr, rules in literals.get("_validation", {}).items():
            picked = {_CONSTRAINT_KEYS[k]: v for k, v in rules.items() if k in _CONSTRAINT_KEYS}
            key = keys.get(attr)
            if picked and key and "." not in key:
                out[(node.name, key)] = picked
    return out


def apply_constraints(models: dict[str, dict[str, Any]], found: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """Copy constraints onto matching string / number properties; returns the provenance record."""
    applied: dict[str, Any] = {}
    for name, model in models.items():
        for rest, spec in model["p"].items():
            rules = found.get((name, rest))
            if not rules:
                continue
            typ = spec[0]
            ok = {k: v for k, v in rules.items()
                  if (k in ("pattern", "minLength", "maxLength") and typ == "s")
                  or (k in ("minimum", "maximum") and typ in ("i", "n"))}
            if ok:
                spec.append(ok)
                applied[f"{name}.{rest}"] = ok
    return dict(sorted(applied.items()))


# --------------------------------------------------------------------------------------------


def build(definitions_wheel: Path, constraints_wheel: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="arm-ml-") as tmp:
        client = import_client(definitions_wheel, Path(tmp))
        cfg = inspect.getsource(importlib.import_module("arm_ml_service._configuration"))
        if f'"{API_VERSION}"' not in cfg:
            raise SystemExit(f"error: {definitions_wheel.name} is not api-version {API_VERSION}")
        all_types = resource_types(client)
        missing = [t for t in TYPES if t not in all_types]
        if missing:
            raise SystemExit(f"error: no PUT operation for {missing}")
        models = Models(client)
        for arm_type in TYPES:
            models.add(all_types[arm_type])
        mismatches = models.docstring_mismatches
    applied = apply_constraints(models.models, msrest_constraints(constraints_wheel))
    for line in mismatches:
        log(f"  note: required from __init__ differs from the docstrings: {line}")
    log(f"  {len(all_types)} writable resource types, {len(TYPES)} bundled; "
        f"{len(models.models)} models, {len(models.enums)} enums, {len(applied)} constraints")
    return {
        "format": FORMAT,
        "namespace": NAMESPACE,
        "generated_from": {
            "definitions": f"PyPI {DEFINITIONS['package']} {DEFINITIONS['pin']} ({DEFINITIONS['folder']}, "
                           f"TypeSpec-generated, api-version {API_VERSION})",
            "constraints": f"PyPI {CONSTRAINTS['package']} {CONSTRAINTS['pin']} ({CONSTRAINTS['file']}, "
                           f"msrest _validation, api-version {CONSTRAINTS['api_version']})",
        },
        "api_versions": {
            API_VERSION: {
                "types": {t: (all_types[t] if t in TYPES else None) for t in all_types},
                "models": {k: _compact(v) for k, v in sorted(models.models.items())},
                "enums": dict(sorted(models.enums.items())),
            }
        },
        "constraints_from": applied,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel-dir", type=Path, default=DEFAULT_WHEEL_DIR,
                        help=f"where the azure-ai-ml wheels are (or are downloaded to); default {DEFAULT_WHEEL_DIR}")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file; default {OUT.relative_to(REPO_ROOT)}")
    args = parser.parse_args(argv)
    definitions = ensure_wheel(DEFINITIONS["package"], args.wheel_dir, DEFINITIONS["pin"])
    constraints = ensure_wheel(CONSTRAINTS["package"], args.wheel_dir, CONSTRAINTS["pin"])
    log(f"definitions: {definitions.name}; constraints: {constraints.name}")
    data = encode(build(definitions, constraints))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)
    log(f"  wrote {args.out}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
