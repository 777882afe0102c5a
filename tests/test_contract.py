"""One output contract on every cloud: same names, same value shapes, documented in the README."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from constructs_lib.core.contract import OUTPUTS

ROOT = Path(__file__).resolve().parents[1]
CLOUDS = ("aws", "azure", "gcp")
PREFIXES = tuple(f"{c}_" for c in CLOUDS)


def _pattern(name: str) -> re.Pattern[str]:
    """``serving_<endpoint>`` -> ``^serving_[a-z0-9_]+$``."""
    return re.compile("^" + re.sub(r"<[a-z_]+>", "[a-z0-9_]+", name) + "$")


CONTRACT = [(_pattern(o.name), o) for o in OUTPUTS]


def _contract_entry(name: str):
    return next((o for p, o in CONTRACT if p.match(name)), None)


def _shape(value):
    """The shape of an output value: strings and references are alike; maps by their key sets."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return "list"
    return "scalar"


def _option_maps(value: dict) -> dict:
    """The shape of a ``store_<store>_dvc`` / ``_delta`` value with its option map (``settings``,
    ``storage_options``: the cloud's own option names) as "options" when every value is a scalar."""
    shape = _shape(value)
    for key in ("settings", "storage_options"):
        if key in value:
            shape[key] = "options" if all(_shape(v) == "scalar" for v in value[key].values()) else shape[key]
    return shape


@pytest.fixture(scope="module")
def reference_outputs(reference_out) -> dict[str, dict]:
    out = {}
    for stack in reference_out.stacks:
        cloud = stack.name.rsplit("-", 1)[-1]
        out[cloud] = json.loads((stack.directory / "cdk.tf.json").read_text()).get("output", {})
    assert set(out) == set(CLOUDS)
    return out


def test_every_unprefixed_output_is_in_the_contract(reference_outputs) -> None:
    for cloud, outputs in reference_outputs.items():
        for name in outputs:
            if name.startswith(PREFIXES):
                assert name.startswith(f"{cloud}_"), f"{cloud}: {name} carries another cloud's prefix"
                continue
            assert _contract_entry(name) is not None, f"{cloud}: output {name} is neither in the contract nor prefixed"


def test_unprefixed_outputs_exist_on_every_cloud_with_one_shape(reference_outputs) -> None:
    names = {n for outs in reference_outputs.values() for n in outs if not n.startswith(PREFIXES)}
    for name in sorted(names):
        entry = _contract_entry(name)
        clouds = CLOUDS if entry.clouds == "all" else tuple(c.strip() for c in entry.clouds.split(","))
        have = [c for c in CLOUDS if name in reference_outputs[c]]
        assert have == list(clouds), f"{name}: on {have}, the contract says {clouds}"
        shapes = {c: _shape(reference_outputs[c][name]["value"]) for c in have}
        if re.match(r"^store_[a-z0-9_]+_(dvc|delta)$", name):  # a tool's options differ per cloud: map of scalars
            shapes = {c: _option_maps(reference_outputs[c][name]["value"]) for c in have}
        if name.startswith("serving_"):  # region keys differ per cloud; each region's value must match
            shapes = {c: sorted({json.dumps(v, sort_keys=True) for v in s.values()}) for c, s in shapes.items()}
        assert len({json.dumps(s, sort_keys=True) for s in shapes.values()}) == 1, f"{name}: {shapes}"


def test_recovery_outputs_have_identical_keys(reference_outputs) -> None:
    for cloud, outputs in reference_outputs.items():
        for name, out in outputs.items():
            if "recovery" in name:
                assert sorted(out["value"]) == ["replica_region", "rpo_minutes", "rto_minutes"], (cloud, name)


def test_readme_documents_the_contract() -> None:
    table = ["| output | meaning | value shape | clouds |", "|---|---|---|---|"]
    table += [f"| `{o.name}` | {o.meaning} | {o.shape} | {o.clouds} |" for o in OUTPUTS]
    assert "\n".join(table) in (ROOT / "README.md").read_text(), (
        "README's output table differs from core.contract.OUTPUTS; paste:\n" + "\n".join(table)
    )
