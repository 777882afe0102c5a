#!/usr/bin/env python3
"""Extract the Google REST definitions that ``constructs_lib/core/google_rest.py`` checks bodies against.

Dev-only tool (not part of the installed package). Source: the discovery document that Google
publishes for the Vertex AI API, as shipped inside the PyPI wheel ``google-api-python-client``
(``googleapiclient/discovery_cache/documents/aiplatform.v1.json``). The discovery document is the
REST (JSON) description of the API that Google's own client libraries and the Workflows
connectors are generated from: property names, JSON types, ``readOnly`` (output-only) flags,
enum values, and "Required." at the start of a field's description.

Only the schemas reachable from the request bodies the library sends are kept (``BODIES`` below),
so the bundle stays small. Output: ``constructs_lib/core/schemas/google-rest.json.gz``::

    {"format": 1, "api": "aiplatform", "version": "v1", "revision": "20261106",
     "generated_from": "google-api-python-client 2.202.0",
     "methods": {"aiplatform.projects.locations.pipelineJobs.create":
                 {"path": "v1/projects/{projectsId}/locations/{locationsId}/pipelineJobs", "http": "POST",
                  "body": "GoogleCloudAiplatformV1PipelineJob", "query": ["pipelineJobId", ...]}, ...},
     "schemas": {NAME: {PROP: FIELD}}}
    FIELD = {"t": "string"|"boolean"|"integer"|"number"|"object"|"array"|"any",
             "ref": NAME, "items": FIELD, "values": FIELD, "enum": [...],
             "ro": 1 (output only), "req": 1 (required), "fmt": "int64"|...}

Output is ``json.dumps(sort_keys=True, separators=(",", ":"))`` gzip level 9 with ``mtime=0``: the
same wheel gives a byte-identical file.

Usage::

    pip download --no-deps google-api-python-client==2.202.0 -d /tmp/google-rest
    python tools/extract_google_rest.py --wheel /tmp/google-rest/google_api_python_client-2.202.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "constructs_lib" / "core" / "schemas" / "google-rest.json.gz"
DOCUMENT = "googleapiclient/discovery_cache/documents/aiplatform.v1.json"

#: Methods whose request bodies the library sends: the GCP pipeline launcher's pipelineJobs call and
#: the tracking metadata-store workflow's metadataStores call.
BODIES = (
    "aiplatform.projects.locations.pipelineJobs.create",
    "aiplatform.projects.locations.metadataStores.create",
)


def _methods(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for res in resources.values():
        for method in res.get("methods", {}).values():
            out[method["id"]] = method
        out.update(_methods(res.get("resources", {})))
    return out


def _field(raw: dict[str, Any]) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if "$ref" in raw:
        f["ref"] = raw["$ref"]
    else:
        f["t"] = raw.get("type", "any")
    if "format" in raw:
        f["fmt"] = raw["format"]
    if "enum" in raw:
        f["enum"] = list(raw["enum"])
    if raw.get("readOnly"):
        f["ro"] = 1
    if raw.get("description", "").lstrip().startswith("Required."):
        f["req"] = 1
    if "items" in raw:
        f["items"] = _field(raw["items"])
    if isinstance(raw.get("additionalProperties"), dict):
        f["values"] = _field(raw["additionalProperties"])
    return f


def _refs(f: dict[str, Any]) -> list[str]:
    found = [f["ref"]] if "ref" in f else []
    for key in ("items", "values"):
        if key in f:
            found.extend(_refs(f[key]))
    return found


def extract(doc: dict[str, Any], generated_from: str) -> dict[str, Any]:
    """The compact bundle for ``BODIES`` from one discovery document."""
    methods = _methods(doc["resources"])
    out_methods: dict[str, Any] = {}
    todo: list[str] = []
    for mid in BODIES:
        m = methods[mid]
        body = m["request"]["$ref"]
        query = sorted(k for k, p in m.get("parameters", {}).items() if p.get("location") == "query")
        out_methods[mid] = {
            "path": m["flatPath"] if "flatPath" in m else m["path"],
            "http": m["httpMethod"],
            "body": body,
            "query": query,
        }
        todo.append(body)
    schemas: dict[str, Any] = {}
    while todo:
        name = todo.pop()
        if name in schemas:
            continue
        props = {k: _field(v) for k, v in doc["schemas"][name].get("properties", {}).items()}
        schemas[name] = props
        for f in props.values():
            todo.extend(_refs(f))
    return {
        "format": 1,
        "api": doc["name"],
        "version": doc["version"],
        "revision": doc["revision"],
        "generated_from": generated_from,
        "methods": out_methods,
        "schemas": schemas,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, required=True, help="google-api-python-client wheel")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    match = re.match(r"google_api_python_client-([^-]+)-", args.wheel.name)
    version = match.group(1) if match else "?"
    with zipfile.ZipFile(args.wheel) as zf:
        doc = json.loads(zf.read(DOCUMENT))
    bundle = extract(doc, f"google-api-python-client {version} ({DOCUMENT})")
    raw = json.dumps(bundle, sort_keys=True, separators=(",", ":")).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    args.out.write_bytes(buf.getvalue())
    print(f"wrote {args.out} ({len(bundle['schemas'])} schemas, revision {bundle['revision']}, {len(buf.getvalue())} bytes)")


if __name__ == "__main__":
    main()
