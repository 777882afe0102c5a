"""Render a synthesized stack (Terraform JSON) as HCL (``cdk.tf``), for ``synth --hcl``.

Terraform JSON does not say whether an object is a nested block or an object-valued argument;
the bundled provider schemas do, so blocks are rendered as blocks and maps as ``{ k = v }``.
``${...}`` strings that are a single reference become bare expressions. Comments (``//``) become
HCL comments naming the construct path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .schema import construct_path, schemas_for

__all__ = ["to_hcl"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_RAW_META = ("depends_on", "provider")


def _segments(value: str) -> list[tuple[bool, str]]:
    """Split a Terraform template into (is_expression, text) parts; ``${...}`` may nest braces and quotes."""
    parts: list[tuple[bool, str]] = []
    i = 0
    literal = ""
    while i < len(value):
        if value.startswith("$${", i):  # an escaped, literal ``${``: no expression starts here
            literal += "$${"
            i += 3
        elif value.startswith("${", i):
            depth, j, quote = 0, i + 2, False
            while j < len(value):
                c = value[j]
                if quote:
                    if c == "\\":
                        j += 1
                    elif c == '"':
                        quote = False
                elif c == '"':
                    quote = True
                elif c == "{":
                    depth += 1
                elif c == "}":
                    if depth == 0:
                        break
                    depth -= 1
                j += 1
            if j >= len(value):  # unbalanced: keep the rest literally
                literal += value[i:]
                break
            if literal:
                parts.append((False, literal))
                literal = ""
            parts.append((True, value[i + 2 : j]))
            i = j + 1
        else:
            literal += value[i]
            i += 1
    if literal:
        parts.append((False, literal))
    return parts


def _string(value: str) -> str:
    parts = _segments(value)
    if len(parts) == 1 and parts[0][0]:
        return parts[0][1]  # a single expression: write it bare
    out = []
    for is_expr, text in parts:
        if is_expr:
            out.append("${" + text + "}")  # expressions keep their own quotes
        else:
            out.append(json.dumps(text)[1:-1].replace("%{", "%%{"))
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _IDENT.match(key) else json.dumps(key)


def _value(value: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = ",\n".join(f"{pad}  {_value(v, indent + 1)}" for v in value)
        return f"[\n{inner},\n{pad}]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = "\n".join(f"{pad}  {_key(k)} = {_value(v, indent + 1)}" for k, v in value.items())
        return f"{{\n{inner}\n{pad}}}"
    raise TypeError(f"cannot render {type(value).__name__} as HCL")


def _body(body: Mapping[str, Any], block: Mapping[str, Any] | None, indent: int) -> list[str]:
    pad = "  " * indent
    nested = (block or {}).get("b", {})
    lines: list[str] = []
    for key, value in body.items():
        if key == "//":
            continue
        if key in _RAW_META:
            raw = value if isinstance(value, list) else None
            text = f"[{', '.join(raw)}]" if raw is not None else str(value)
            lines.append(f"{pad}{key} = {text}")
        elif key == "lifecycle" and isinstance(value, Mapping):
            lines.extend(_block("lifecycle", [], value, None, indent))
        elif key in nested and isinstance(value, (Mapping, list)):
            items = value if isinstance(value, list) else [value]
            for item in items:
                lines.extend(_block(key, [], item, nested[key][2], indent))
        else:
            lines.append(f"{pad}{_key(key)} = {_value(value, indent)}")
    return lines


def _block(kind: str, labels: list[str], body: Mapping[str, Any], block: Mapping[str, Any] | None, indent: int) -> list[str]:
    pad = "  " * indent
    head = " ".join([kind, *(json.dumps(label) for label in labels)])
    return [f"{pad}{head} {{", *_body(body, block, indent + 1), f"{pad}}}"]


def _schema_block(section: str, tf_type: str) -> Mapping[str, Any] | None:
    for schema in schemas_for(tf_type.split("_", 1)[0]):
        table = schema.resources if section == "resource" else schema.data_sources
        return table.get(tf_type)
    return None


def to_hcl(doc: Mapping[str, Any]) -> str:
    """The HCL text of a synthesized stack document."""
    out: list[str] = []
    tf = doc.get("terraform", {})
    if tf:
        lines = ["terraform {"]
        for key, value in tf.items():
            if key == "backend":
                for name, cfg in value.items():
                    lines.extend(_block("backend", [name], cfg, None, 1))
            elif key == "required_providers":
                lines.append(f"  required_providers {_value(value, 1)}")
            else:
                lines.append(f"  {_key(key)} = {_value(value, 1)}")
        out.append("\n".join([*lines, "}"]))
    for name, configs in doc.get("provider", {}).items():
        schemas = schemas_for(name)
        block = schemas[0].provider_block if schemas else None
        for cfg in configs if isinstance(configs, list) else [configs]:
            out.append("\n".join(_block("provider", [name], cfg, block, 0)))
    for section in ("data", "resource"):
        for tf_type, instances in doc.get(section, {}).items():
            block = _schema_block(section, tf_type)
            for name, body in instances.items():
                path = construct_path(body)
                text = "\n".join(_block(section, [tf_type, name], body, block, 0))
                out.append((f"# {path}\n" if path else "") + text)
    for kind in ("variable", "locals", "output"):
        for name, body in doc.get(kind, {}).items():
            if kind == "locals":
                out.append(f"locals {{\n  {_key(name)} = {_value(body, 1)}\n}}")
            else:
                out.append("\n".join(_block(kind, [name], body, None, 0)))
    return "\n\n".join(out) + "\n"
