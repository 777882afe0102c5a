"""Google REST request bodies checked at synth against Google's published discovery document.

A Workflows workflow that calls a Vertex AI method (the pipeline launcher's ``pipelineJobs.create``,
the tracking metadata-store workflow's ``metadataStores.create``) is plain JSON inside
``google_workflows_workflow.source_contents``: neither the provider schema nor ``terraform plan``
looks at it, so a misspelled field would only fail when the workflow first runs. At synth,
:func:`validate_stack` parses the ``source_contents`` of every ``google_workflows_workflow`` of a
stack (ours and a user's; JSON or YAML syntax), finds each ``http.post`` step whose URL is a
``.../v1/projects/*/locations/*/pipelineJobs`` or ``.../metadataStores`` endpoint of
``aiplatform.googleapis.com`` (:data:`CHECKED_CALLS`), and checks its query parameters against the
method's and its ``body`` against the request schema of the bundled extract of the Vertex AI
discovery document (``schemas/google-rest.json.gz``, made by ``tools/extract_google_rest.py``):
unknown field or query parameter (with "did you mean"), output-only field set, wrong JSON type,
enum value, missing field that the definition marks "Required.".

Values that are Workflows expressions (``${...}``, written ``$${...}`` for Terraform) or Terraform
references are only known at run time: their types are not checked, the field names around them
are. Workflows whose ``source_contents`` is itself a Terraform reference are not checked.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "CHECKED_CALLS",
    "METADATA_STORES_CREATE",
    "PIPELINE_JOBS_CREATE",
    "check_body",
    "check_query",
    "load",
    "validate_stack",
]

#: The discovery method id of the call the pipeline launcher makes.
PIPELINE_JOBS_CREATE = "aiplatform.projects.locations.pipelineJobs.create"
#: The discovery method id of the call the tracking metadata-store workflow makes.
METADATA_STORES_CREATE = "aiplatform.projects.locations.metadataStores.create"

_PARENT = r"^https://[^/]*aiplatform\.googleapis\.com/v1/projects/[^/]+/locations/[^/]+/"
#: ``http.post`` URL pattern -> the discovery method whose body and query parameters are checked.
CHECKED_CALLS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_PARENT + r"pipelineJobs(\?(?P<query>.*))?$"), PIPELINE_JOBS_CREATE),
    (re.compile(_PARENT + r"metadataStores(\?(?P<query>.*))?$"), METADATA_STORES_CREATE),
)
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
}


@lru_cache(maxsize=1)
def load() -> Mapping[str, Any]:
    """The bundled discovery extract (cached for the process)."""
    raw = resources.files(__package__).joinpath("schemas", "google-rest.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    if data.get("format") != 1:
        raise RuntimeError(f"bundled google-rest.json.gz has unsupported format {data.get('format')!r}")
    return data


def _dynamic(value: Any) -> bool:
    return isinstance(value, str) and ("${" in value)


def _suggest(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", dict: "object", list: "array"}.get(
        type(value), type(value).__name__
    )


def _check_value(value: Any, field: Mapping[str, Any], trail: str, label: str) -> Iterator[str]:
    if _dynamic(value):
        return
    if "ref" in field:
        if not isinstance(value, dict):
            yield f"{trail}: is an object ({field['ref']}) in {label}, got {_type_name(value)}"
            return
        yield from _check_object(value, field["ref"], trail, label)
        return
    kind = field.get("t", "any")
    if kind == "string" and field.get("fmt") in ("int64", "uint64") and isinstance(value, int):
        return  # proto3 JSON accepts 64-bit integers as numbers or strings
    expected = _JSON_TYPES.get(kind)
    if expected and (not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool))):
        yield f"{trail}: must be {kind} in {label}, got {_type_name(value)}"
        return
    if "enum" in field and value not in field["enum"]:
        yield f"{trail}: {value!r} is not one of {', '.join(field['enum'])} ({label}){_suggest(str(value), field['enum'])}"
    if kind == "array" and "items" in field:
        for n, item in enumerate(value):
            yield from _check_value(item, field["items"], f"{trail}[{n}]", label)
    if kind == "object" and "values" in field:
        for key, item in sorted(value.items()):
            yield from _check_value(item, field["values"], f"{trail}.{key}", label)


def _check_object(body: Mapping[str, Any], schema: str, trail: str, label: str) -> Iterator[str]:
    props: Mapping[str, Any] = load()["schemas"][schema]
    for key, value in body.items():
        field = props.get(key)
        where = f"{trail}.{key}" if trail else key
        if field is None:
            yield f"{where}: unknown field of {schema} in {label}{_suggest(key, props)}"
            continue
        if field.get("ro"):
            yield f"{where}: output-only field of {schema} in {label}; remove it (the service sets it)"
            continue
        yield from _check_value(value, field, where, label)
    for key, field in sorted(props.items()):
        if field.get("req") and key not in body:
            yield f"{f'{trail}.{key}' if trail else key}: required field of {schema} is missing ({label})"


def check_body(method: str, body: Any, *, trail: str = "body") -> list[str]:
    """Problems of ``body`` as the request body of discovery method ``method`` (empty = valid)."""
    data = load()
    label = f"{method} ({data['api']} {data['version']} discovery revision {data['revision']})"
    schema = data["methods"][method]["body"]
    if not isinstance(body, dict):
        return [f"{trail}: must be an object ({schema}) in {label}, got {_type_name(body)}"]
    return list(_check_object(body, schema, trail, label))


def check_query(method: str, query: str, *, trail: str = "url") -> list[str]:
    """Problems of the query string ``query`` (``a=1&b=2``) of a call to discovery method ``method``."""
    data = load()
    known = data["methods"][method].get("query", [])
    problems = []
    for part in filter(None, query.split("&")):
        name = part.split("=", 1)[0]
        if name not in known:
            problems.append(
                f"{trail}: unknown query parameter {name!r} of {method} ({data['api']} {data['version']} "
                f"discovery revision {data['revision']}){_suggest(name, known)}"
            )
    return problems


def _steps(node: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every ``call`` step anywhere in a Workflows definition, with its step name."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, Mapping) and isinstance(value.get("call"), str):
                yield str(key), value
            yield from _steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _steps(item)


def validate_stack(doc: Mapping[str, Any], *, stack: str = "") -> list[str]:
    """Problems of the Vertex AI calls (:data:`CHECKED_CALLS`) in every Workflows workflow of ``doc``."""
    problems: list[str] = []
    prefix = f"{stack}: " if stack else ""
    for name, body in sorted(doc.get("resource", {}).get("google_workflows_workflow", {}).items()):
        source = body.get("source_contents")
        if not isinstance(source, str) or source.startswith("${"):
            continue
        try:
            # Terraform escapes Workflows expressions as `$${`; the service sees `${`.
            definition = yaml.safe_load(source.replace("$${", "${"))
        except yaml.YAMLError:
            continue  # not ours to parse: the Workflows service reports its own syntax errors
        meta = body.get("//", {})
        where = meta.get("metadata", {}).get("path") if isinstance(meta, Mapping) else None
        where = where or f"resource.google_workflows_workflow.{name}"
        for step, call in _steps(definition):
            args = call.get("args")
            if call["call"] != "http.post" or not isinstance(args, Mapping):
                continue
            url = args.get("url")
            if not isinstance(url, str):
                continue
            for pattern, method in CHECKED_CALLS:
                match = pattern.match(url)
                if match is None:
                    continue
                found = check_query(method, match.group("query") or "", trail=f"step {step}: url")
                found += check_body(method, args.get("body"), trail=f"step {step}: body")
                problems.extend(f"{prefix}{where}: source_contents {p}" for p in found)
    return problems
