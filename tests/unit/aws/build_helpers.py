"""Shared helpers of the build-side AWS tests: policies by Sid, actions of a role's policies."""

from __future__ import annotations

import json
from typing import Any


def statements(body: dict[str, Any], key: str = "policy") -> dict[str, dict[str, Any]]:
    """Statements of the policy in ``body[key]`` by Sid."""
    return {s["Sid"]: s for s in json.loads(body[key])["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_actions(doc: dict[str, Any], role_ref_fragment: str) -> set[str]:
    """Every action allowed by inline policies whose ``role`` mentions ``role_ref_fragment``."""
    out: set[str] = set()
    for body in doc["resource"].get("aws_iam_role_policy", {}).values():
        if role_ref_fragment in str(body["role"]):
            for st in json.loads(body["policy"])["Statement"]:
                if st["Effect"] == "Allow":
                    out.update(as_list(st["Action"]))
    return out
