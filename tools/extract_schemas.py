#!/usr/bin/env python3
"""Extract compact Terraform provider schemas for ``constructs_lib/core/schemas/``.

Dev-only tool (not part of the installed package). It produces one gzip-compressed JSON file
per provider, used at synth time to validate every resource / data block of a stack.

Sources
-------
* ``aws``, ``azurerm``, ``google``, ``azapi``: the jsii assembly inside the prebuilt
  ``cdktn-provider-<name>`` Python wheel (``<module>/_jsii/*.jsii.tgz`` -> ``package/.jsii``).
  Every Terraform resource / data source is a class documented as
  "Represents a {@link https://registry.terraform.io/providers/<ns>/<name>/<ver>/docs/resources/<x> <type>}"
  whose constructor takes a ``...Config`` struct. Struct properties carry a
  "Docs at Terraform Registry: {@link ...#<snake_name> ...}" link; the anchor is the real
  Terraform argument name.
* ``aws-5.100``: the real provider binary (hashicorp/aws 5.100.0) from the local filesystem
  mirror ``/opt/tf-plugins``, via ``terraform init`` + ``terraform providers schema -json``.

Compact format (logical ``format`` 1; stored as ``format`` 2, where every resource and data-source
BLOCK is itself a compact JSON string so the validator parses only the types a stack uses)::

    {"format": 1, "provider": "aws", "source": "hashicorp/aws", "version": "6.69.1",
     "generated_from": "cdktn-provider-aws 25.8.1",
     "provider_block": BLOCK, "resources": {type: BLOCK}, "data_sources": {type: BLOCK}}
    BLOCK = {"a": {attr: 1 (required) | 0 (optional)},
             "b": {block: [min_items, max_items (0 = unbounded), BLOCK]}}

"a" / "b" are omitted when empty. Output is ``json.dumps(sort_keys=True, separators=(",", ":"))``
gzip-compressed at level 9 with ``mtime=0``: the same input gives byte-identical files.

Usage::

    python tools/extract_schemas.py --all
    python tools/extract_schemas.py --provider aws --provider azapi
    python tools/extract_schemas.py --provider google --latest   # ignore the pinned package version
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "constructs_lib" / "core" / "schemas"
DEFAULT_WHEEL_DIR = Path("/tmp/schema-src")
DEFAULT_MIRROR = Path("/opt/tf-plugins")
FORMAT = 1
WIRE_FORMAT = 2  # stored form: blocks as JSON strings (see to_wire)

# Package versions used to generate the committed files. ``--latest`` ignores the pin and uses
# the newest release on PyPI (then update the pin and the README).
JSII_PROVIDERS: dict[str, dict[str, str]] = {
    "aws": {"package": "cdktn-provider-aws", "pin": "25.8.1", "source": "hashicorp/aws"},
    "azurerm": {"package": "cdktn-provider-azurerm", "pin": "18.9.0", "source": "hashicorp/azurerm"},
    "google": {"package": "cdktn-provider-google", "pin": "21.1.0", "source": "hashicorp/google"},
    "azapi": {"package": "cdktn-provider-azapi", "pin": "1.0.0", "source": "azure/azapi"},
}
TF_PROVIDERS: dict[str, dict[str, str]] = {
    "aws-5.100": {"provider": "aws", "source": "hashicorp/aws", "version": "5.100.0"},
}
ALL_PROVIDERS = [*JSII_PROVIDERS, *TF_PROVIDERS]

# cdktf meta-arguments (TerraformMetaArguments). Config structs inherit them from the cdktn
# assembly, so they never appear among a struct's own properties; the set is a safety net for
# properties that have no registry link. ``alias`` is the provider-block meta-argument cdktf adds
# to every ProviderConfig; it is not part of the provider schema.
META_ARGUMENTS = {"connection", "count", "dependsOn", "forEach", "lifecycle", "provider", "provisioners"}
PROVIDER_META = {"alias"}
# How often a self-referencing struct may appear on one path before it is cut (see _block).
MAX_RECURSION = 3

REPRESENTS_RE = re.compile(
    r"Represents a \{@link https://registry\.terraform\.io/providers/"
    r"(?P<ns>[^/\s]+)/(?P<name>[^/\s]+)/(?P<version>[^/\s]+)/docs"
    r"(?:/(?P<kind>resources|data-sources|ephemeral-resources)/(?P<slug>[^\s}#]+))?"
    r"\s+(?P<tftype>[^}\s]+)\}"
)
OPAQUE_BLOCK_RE = re.compile(r"^\w+ block\.$")
DOC_LINK_RE = re.compile(
    r"Docs at Terraform Registry: \{@link https://registry\.terraform\.io/providers/"
    r"[^\s}#]+#(?P<anchor>[^\s}]+)\s+[^}]*\}"
)

Block = dict[str, Any]


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def to_wire(doc: dict[str, Any]) -> dict[str, Any]:
    """The stored form (format 2): each resource / data-source BLOCK is a compact JSON *string*.

    The validator then parses the outer document quickly and only the blocks a stack uses.
    """
    return {
        **doc,
        "format": WIRE_FORMAT,
        "resources": {k: _compact(v) for k, v in doc["resources"].items()},
        "data_sources": {k: _compact(v) for k, v in doc["data_sources"].items()},
    }


def from_wire(doc: dict[str, Any]) -> dict[str, Any]:
    """The logical form (format 1, nested blocks) of a stored document."""
    if doc.get("format") != WIRE_FORMAT:
        return doc
    return {
        **doc,
        "format": FORMAT,
        "resources": {k: json.loads(v) for k, v in doc["resources"].items()},
        "data_sources": {k: json.loads(v) for k, v in doc["data_sources"].items()},
    }


def encode(doc: dict[str, Any]) -> bytes:
    """Deterministic bytes of the stored form: sorted keys, compact separators, gzip level 9, mtime=0."""
    raw = _compact(to_wire(doc)).encode("utf-8")
    buf = io.BytesIO()
    # Explicit GzipFile: no file name, mtime 0 and a fixed OS byte in the header on every
    # platform / Python version (gzip.compress delegates the header to zlib on some versions).
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(raw)
    return buf.getvalue()


def write_output(name: str, doc: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json.gz"
    data = encode(doc)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    raw_len = len(json.dumps(doc, sort_keys=True, separators=(",", ":")))
    log(f"  wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}: "
        f"{len(data):,} bytes gzip ({raw_len:,} bytes JSON)")
    return path


def make_block(attrs: dict[str, int], blocks: dict[str, list[Any]]) -> Block:
    block: Block = {}
    if attrs:
        block["a"] = attrs
    if blocks:
        block["b"] = blocks
    return block


def count_types(doc: dict[str, Any]) -> str:
    return f"{len(doc['resources'])} resources, {len(doc['data_sources'])} data sources"


# --------------------------------------------------------------------------------------------
# jsii source
# --------------------------------------------------------------------------------------------


def camel_to_snake(name: str) -> str:
    """Careful camelCase -> snake_case (only used when a property has no registry link).

    ``ipv6CidrBlock`` -> ``ipv6_cidr_block``, ``kmsKeyId`` -> ``kms_key_id``,
    ``enableHTTPEndpoint`` -> ``enable_http_endpoint``.
    """
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else -1 for x in re.split(r"[.\-+]", v))


def find_wheel(package: str, wheel_dir: Path, version: str | None) -> Path | None:
    stem = package.replace("-", "_")
    candidates = []
    for p in wheel_dir.glob(f"{stem}-*.whl"):
        wv = p.name[len(stem) + 1 :].split("-", 1)[0]
        if version is None or wv == version:
            candidates.append((_version_key(wv), p))
    if not candidates:
        return None
    return max(candidates)[1]


def ensure_wheel(package: str, wheel_dir: Path, version: str | None) -> Path:
    """The wheel of ``package`` (``version``, or the newest on the index when None).

    A pinned version already in ``wheel_dir`` is used as is; otherwise ``pip download`` fetches
    it (for the newest release pip always asks the index, and reuses a file already present).
    """
    if version is not None:
        wheel = find_wheel(package, wheel_dir, version)
        if wheel is not None:
            return wheel
    spec = f"{package}=={version}" if version else package
    wheel_dir.mkdir(parents=True, exist_ok=True)
    log(f"  pip download {spec} into {wheel_dir} ...")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "-d", str(wheel_dir), spec]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"error: pip download {spec} failed:\n{res.stdout}\n{res.stderr}")
    if version is None:
        stem = package.replace("-", "_")
        found = re.findall(rf"{stem}-([^-/\s]+)-[^/\s]*\.whl", res.stdout)
        version = found[-1] if found else None
    wheel = find_wheel(package, wheel_dir, version)
    if wheel is None:
        raise SystemExit(f"error: pip download {spec} did not leave a wheel in {wheel_dir}:\n{res.stdout}")
    return wheel


def load_assembly(wheel: Path) -> dict[str, Any]:
    """Read ``package/.jsii`` from the npm tarball embedded in a jsii Python wheel."""
    with zipfile.ZipFile(wheel) as zf:
        tgz_names = [n for n in zf.namelist() if re.search(r"/_jsii/[^/]+\.jsii\.tgz$", n)]
        if len(tgz_names) != 1:
            raise SystemExit(f"error: expected one _jsii/*.jsii.tgz in {wheel.name}, found {tgz_names}")
        tgz_bytes = zf.read(tgz_names[0])
    with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tf:

        def member(name: str) -> bytes:
            f = tf.extractfile(f"package/{name}")
            if f is None:
                raise SystemExit(f"error: package/{name} missing from {tgz_names[0]}")
            return f.read()

        data = member(".jsii")
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        assembly = json.loads(data)
        if assembly.get("schema") == "jsii/file-redirect":
            target = member(assembly["filename"])
            if assembly.get("compression") == "gzip" or target[:2] == b"\x1f\x8b":
                target = gzip.decompress(target)
            assembly = json.loads(target)
    return assembly


@dataclass
class JsiiStats:
    """Distinct struct properties (``Struct.prop``) seen in each category."""

    properties: set[str] = field(default_factory=set)
    fallbacks: set[str] = field(default_factory=set)
    map_structs: set[str] = field(default_factory=set)
    ambiguous: set[str] = field(default_factory=set)
    skipped_meta: set[str] = field(default_factory=set)
    link_mismatch: set[str] = field(default_factory=set)
    recursive: set[str] = field(default_factory=set)
    truncated: set[str] = field(default_factory=set)
    opaque_blocks: set[str] = field(default_factory=set)


def _doc_text(docs: Any) -> str:
    """All text of a jsii docs object. Descriptions containing ``@word`` are split by jsii into
    doc tags (``custom``, ``returns``, ...), and the registry link may end up in any of them."""
    if isinstance(docs, str):
        return docs
    if isinstance(docs, dict):
        return "\n".join(_doc_text(docs[k]) for k in sorted(docs))
    if isinstance(docs, list):
        return "\n".join(_doc_text(v) for v in docs)
    return ""


def _is_any(typeref: dict[str, Any]) -> bool:
    options = typeref["union"]["types"] if "union" in typeref else [typeref]
    for opt in options:
        if opt.get("primitive") == "any":
            return True
        if opt.get("collection", {}).get("elementtype", {}).get("primitive") == "any":
            return True
    return False


class JsiiExtractor:
    def __init__(self, assembly: dict[str, Any]) -> None:
        self.types: dict[str, Any] = assembly["types"]
        self.stats = JsiiStats()
        self._cache: dict[str, Block] = {}

    def is_struct(self, fqn: str) -> bool:
        t = self.types.get(fqn)
        return bool(t and t.get("kind") == "interface" and t.get("datatype"))

    def struct_properties(self, fqn: str) -> list[dict[str, Any]]:
        """Own properties plus those of local (same-assembly) parent structs."""
        t = self.types[fqn]
        props = []
        for parent in t.get("interfaces", []) or []:
            if parent in self.types and self.is_struct(parent):
                props.extend(self.struct_properties(parent))
        props.extend(t.get("properties", []) or [])
        return props

    def nested(self, typeref: dict[str, Any], where: str) -> tuple[str, int] | None:
        """If ``typeref`` denotes a nested block, return (struct fqn, max_items); else None."""
        options = typeref["union"]["types"] if "union" in typeref else [typeref]
        found: list[tuple[str, int]] = []
        for opt in options:
            if "fqn" in opt and self.is_struct(opt["fqn"]):
                found.append((opt["fqn"], 1))
            elif "collection" in opt:
                coll = opt["collection"]
                el = coll.get("elementtype", {})
                if "fqn" in el and self.is_struct(el["fqn"]):
                    if coll.get("kind") == "array":
                        found.append((el["fqn"], 0))
                    else:
                        # map of objects: a map-typed attribute, not a block
                        self.stats.map_structs.add(where)
        if len(found) > 1:
            self.stats.ambiguous.add(where)
        return found[0] if found else None

    def block(self, fqn: str, provider_block: bool = False) -> Block:
        return self._block(fqn, provider_block, ())[0]

    def _block(self, fqn: str, provider_block: bool, stack: tuple[str, ...]) -> tuple[Block, bool]:
        """Return (BLOCK, truncated). ``stack`` is the chain of struct fqns above ``fqn``.

        Some bindings reference a struct from inside itself (e.g. aws_wafv2_web_acl_rule's
        statement -> and_statement -> statement). The compact format is a tree, so a recursive
        struct is unrolled until it appears ``MAX_RECURSION`` times on the path; one level deeper
        it becomes an empty block. Blocks below a truncation depend on their path and are not cached.
        """
        if fqn in self._cache:
            return self._cache[fqn], False
        stack = (*stack, fqn)
        attrs: dict[str, int] = {}
        blocks: dict[str, list[Any]] = {}
        truncated = False
        for prop in self.struct_properties(fqn):
            pname = prop["name"]
            where = f"{fqn.split('.', 1)[-1]}.{pname}"
            if provider_block and pname in PROVIDER_META:
                continue
            docs = prop.get("docs", {}) or {}
            text = _doc_text(docs)
            m = DOC_LINK_RE.search(text)
            if m:
                tf_name = m.group("anchor")
                if camel_to_snake(pname) != tf_name:
                    self.stats.link_mismatch.add(f"{where} -> {tf_name}")
            else:
                if pname in META_ARGUMENTS:
                    self.stats.skipped_meta.add(where)
                    continue
                tf_name = camel_to_snake(pname)
                self.stats.fallbacks.add(f"{where} -> {tf_name}")
            self.stats.properties.add(where)
            required = 0 if prop.get("optional") else 1
            nested = self.nested(prop["type"], where)
            if nested is None:
                if _is_any(prop["type"]) and OPAQUE_BLOCK_RE.match(str(docs.get("summary", ""))):
                    # The binding generator typed a (too deeply nested) block as `any`: its content
                    # cannot be checked, so it is kept as an attribute.
                    self.stats.opaque_blocks.add(where)
                attrs[tf_name] = required
                continue
            child_fqn, max_items = nested
            if child_fqn in stack:
                self.stats.recursive.add(f"{where} -> {child_fqn.split('.', 1)[-1]}")
            if stack.count(child_fqn) >= MAX_RECURSION:
                child, child_truncated = {}, True
                self.stats.truncated.add(where)
            else:
                child, child_truncated = self._block(child_fqn, False, stack)
            truncated = truncated or child_truncated
            blocks[tf_name] = [required, max_items, child]
        result = make_block(attrs, blocks)
        if not truncated:
            self._cache[fqn] = result
        return result, truncated

    def config_fqn(self, cls: dict[str, Any]) -> str | None:
        for param in (cls.get("initializer") or {}).get("parameters", []) or []:
            fqn = param.get("type", {}).get("fqn")
            if fqn and self.is_struct(fqn):
                return fqn
        return None


def extract_jsii(name: str, wheel_dir: Path, latest: bool) -> dict[str, Any]:
    cfg = JSII_PROVIDERS[name]
    log(f"[{name}] {cfg['package']} {'(newest release)' if latest else cfg['pin']}")
    wheel = ensure_wheel(cfg["package"], wheel_dir, None if latest else cfg["pin"])
    pkg_version = wheel.name.split("-")[1]
    log(f"  {wheel} ({wheel.stat().st_size / 1e6:.1f} MB)")
    t0 = time.monotonic()
    assembly = load_assembly(wheel)
    log(f"  assembly {assembly['name']} {assembly['version']}: {len(assembly['types'])} types "
        f"(loaded in {time.monotonic() - t0:.1f}s)")
    ex = JsiiExtractor(assembly)

    resources: dict[str, Block] = {}
    data_sources: dict[str, Block] = {}
    provider_block: Block | None = None
    versions: set[str] = set()
    sources: set[str] = set()
    ephemeral = 0
    for fqn in sorted(ex.types):
        t = ex.types[fqn]
        if t.get("kind") != "class":
            continue
        m = REPRESENTS_RE.search((t.get("docs") or {}).get("summary", ""))
        if not m:
            continue
        versions.add(m.group("version"))
        sources.add(f"{m.group('ns')}/{m.group('name')}".lower())
        kind = m.group("kind")
        if kind == "ephemeral-resources":
            ephemeral += 1
            continue
        config = ex.config_fqn(t)
        if config is None:
            raise SystemExit(f"error: {fqn} has no Config struct in its constructor")
        if kind is None:
            if provider_block is not None:
                raise SystemExit(f"error: two provider classes in {cfg['package']}")
            provider_block = ex.block(config, provider_block=True)
            continue
        target = resources if kind == "resources" else data_sources
        tftype = m.group("tftype")
        if tftype in target:
            raise SystemExit(f"error: duplicate {kind} {tftype} ({fqn})")
        target[tftype] = ex.block(config)

    if provider_block is None:
        raise SystemExit(f"error: no provider class found in {cfg['package']}")
    if len(versions) != 1:
        raise SystemExit(f"error: expected one provider version in registry links, found {sorted(versions)}")
    if sources != {cfg["source"]}:
        raise SystemExit(f"error: registry links name {sorted(sources)}, expected {cfg['source']}")
    version = versions.pop()
    doc = {
        "format": FORMAT,
        "provider": name,
        "source": cfg["source"],
        "version": version,
        "generated_from": f"{cfg['package']} {pkg_version}",
        "provider_block": provider_block,
        "resources": resources,
        "data_sources": data_sources,
    }
    s = ex.stats

    def show(label: str, items: set[str], limit: int = 8) -> None:
        log(f"  {label}: {len(items)}")
        for item in sorted(items)[:limit]:
            log(f"    {item}")
        if len(items) > limit:
            log(f"    ... {len(items) - limit} more")

    log(f"  {cfg['source']} {version}: {count_types(doc)} ({ephemeral} ephemeral resources skipped), "
        f"{len(s.properties)} distinct struct properties")
    show("fallbacks (no registry link, camel->snake used)", s.fallbacks, 20)
    if s.skipped_meta:
        show("meta-argument properties without registry link, skipped", s.skipped_meta)
    if s.link_mismatch:
        show("registry name differs from camel->snake of the property", s.link_mismatch, 5)
    if s.map_structs:
        show("map-of-object properties kept as attributes", s.map_structs)
    if s.ambiguous:
        show("ambiguous nested types (several structs in one union)", s.ambiguous)
    if s.opaque_blocks:
        show("blocks typed `any` by the bindings, kept as attributes (content unchecked)", s.opaque_blocks)
    if s.recursive:
        show(f"self-referencing nested blocks (unrolled to depth {MAX_RECURSION})", s.recursive)
        show("  cut points (empty block)", s.truncated, 3)
    log(f"  extracted in {time.monotonic() - t0:.1f}s")
    return doc


# --------------------------------------------------------------------------------------------
# terraform providers schema -json source
# --------------------------------------------------------------------------------------------


def tf_block(block: dict[str, Any]) -> Block:
    attrs: dict[str, int] = {}
    blocks: dict[str, list[Any]] = {}
    for aname, a in (block.get("attributes") or {}).items():
        if a.get("required"):
            req = 1
        elif a.get("optional"):
            req = 0
        else:
            continue  # computed-only: not settable
        nt = a.get("nested_type")
        if nt is not None and nt.get("nesting_mode") != "map":
            mode = nt.get("nesting_mode")
            max_items = 1 if mode == "single" else int(nt.get("max_items") or 0)
            min_items = max(req, int(nt.get("min_items") or 0))
            blocks[aname] = [min_items, max_items, tf_block(nt)]
        else:
            attrs[aname] = req
    for bname, bt in (block.get("block_types") or {}).items():
        mode = bt.get("nesting_mode")
        if mode in ("single", "group"):
            min_items, max_items = int(bt.get("min_items") or 0), 1
        else:
            min_items, max_items = int(bt.get("min_items") or 0), int(bt.get("max_items") or 0)
        blocks[bname] = [min_items, max_items, tf_block(bt.get("block") or {})]
    return make_block(attrs, blocks)


def extract_terraform(name: str, mirror: Path) -> dict[str, Any]:
    cfg = TF_PROVIDERS[name]
    source, version = cfg["source"], cfg["version"]
    log(f"[{name}] terraform providers schema for {source} {version} (mirror {mirror})")
    terraform = shutil.which("terraform")
    if terraform is None:
        raise SystemExit("error: terraform is not on PATH (needed for aws-5.100; install terraform 1.11.x)")
    plugin_dir = mirror / "registry.terraform.io" / source / version
    if not plugin_dir.is_dir():
        raise SystemExit(f"error: provider mirror missing: {plugin_dir} does not exist "
                         f"(pass --mirror DIR with registry.terraform.io/{source}/{version}/<os_arch>/...)")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tfschema-") as tmp:
        work = Path(tmp)
        cli_config = work / "cli.tfrc"
        cli_config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n'
            f'    include = ["registry.terraform.io/{source}"]\n  }}\n'
            '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
        )
        local = cfg["provider"]
        (work / "main.tf.json").write_text(json.dumps(
            {"terraform": {"required_providers": {local: {"source": source, "version": version}}}}, indent=2))
        env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1",
               "CHECKPOINT_DISABLE": "1", "TF_DATA_DIR": str(work / ".terraform")}
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        tv = subprocess.run([terraform, "version", "-json"], capture_output=True, text=True, env=env)
        tf_version = json.loads(tv.stdout).get("terraform_version", "?") if tv.returncode == 0 else "?"
        log(f"  terraform {tf_version}")
        init = subprocess.run([terraform, "init", "-input=false", "-no-color", "-backend=false"],
                              cwd=work, capture_output=True, text=True, env=env)
        if init.returncode != 0:
            raise SystemExit(f"error: terraform init failed:\n{init.stdout}\n{init.stderr}")
        lock = (work / ".terraform.lock.hcl").read_text()
        m = re.search(r'provider "registry\.terraform\.io/' + re.escape(source) + r'"\s*\{\s*version\s*=\s*"([^"]+)"',
                      lock)
        if not m or m.group(1) != version:
            raise SystemExit(f"error: terraform installed {m.group(1) if m else '?'}, expected {version}")
        res = subprocess.run([terraform, "providers", "schema", "-json"], cwd=work, capture_output=True,
                             env=env)
        if res.returncode != 0:
            raise SystemExit(f"error: terraform providers schema failed:\n{res.stderr.decode(errors='replace')}")
        schema = json.loads(res.stdout)
    ps = schema["provider_schemas"][f"registry.terraform.io/{source}"]
    doc = {
        "format": FORMAT,
        "provider": cfg["provider"],
        "source": source,
        "version": version,
        "generated_from": f"terraform providers schema ({cfg['provider']} {version})",
        "provider_block": tf_block(ps["provider"]["block"]),
        "resources": {k: tf_block(v["block"]) for k, v in ps.get("resource_schemas", {}).items()},
        "data_sources": {k: tf_block(v["block"]) for k, v in ps.get("data_source_schemas", {}).items()},
    }
    log(f"  {source} {version}: {count_types(doc)}; extracted in {time.monotonic() - t0:.1f}s")
    return doc


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", action="append", choices=ALL_PROVIDERS, default=[],
                    help="provider schema to (re)generate; repeatable")
    ap.add_argument("--all", action="store_true", help="regenerate every bundled schema")
    ap.add_argument("--wheel-dir", type=Path, default=DEFAULT_WHEEL_DIR,
                    help=f"where cdktn-provider-* wheels are looked up / downloaded (default {DEFAULT_WHEEL_DIR})")
    ap.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR,
                    help=f"terraform filesystem mirror for aws-5.100 (default {DEFAULT_MIRROR})")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR, help="output directory (default: the package)")
    ap.add_argument("--latest", action="store_true",
                    help="use the newest cdktn-provider-* release instead of the pinned version")
    args = ap.parse_args(argv)

    names = ALL_PROVIDERS if args.all else list(dict.fromkeys(args.provider))
    if not names:
        ap.error("give --all or at least one --provider")
    t_all = time.monotonic()
    for name in names:
        if name in JSII_PROVIDERS:
            doc = extract_jsii(name, args.wheel_dir, args.latest)
        else:
            doc = extract_terraform(name, args.mirror)
        write_output(name, doc, args.out_dir)
    log(f"done in {time.monotonic() - t_all:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
