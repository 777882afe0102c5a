"""``provenance.json`` beside every synthesized stack: spec hash, versions, construct path and spec field per resource."""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import pytest

from constructs_lib.core import engine
from constructs_lib.core.scan import Finding, StackScan, scan_record

ROOT = Path(__file__).resolve().parents[1]


def _prov(result, name: str) -> dict:
    return json.loads((result.outdir / "stacks" / name / "provenance.json").read_text())


def test_spec_hash_matches_the_spec_file(reference_out) -> None:
    for s in reference_out.stacks:
        p = _prov(reference_out, s.name)
        cloud = p["spec"]["cloud"]
        spec_file = ROOT / "examples" / "reference" / f"{cloud}.yaml"
        assert p["spec"]["sha256"] == hashlib.sha256(spec_file.read_bytes()).hexdigest()
        assert p["spec"]["path"] in (f"examples/reference/{cloud}.yaml", f"{cloud}.yaml")
        assert not Path(p["spec"]["path"]).is_absolute()
        assert p["spec"]["name"] == s.name


def test_versions_are_those_installed_and_bundled(reference_out) -> None:
    for s in reference_out.stacks:
        p = _prov(reference_out, s.name)
        assert p["library"] == {"name": "cdktf-mlops", "version": version("cdktf-mlops")}
        assert p["engine"] == {"name": engine.ENGINE, "version": version(engine.ENGINE)}
        doc = json.loads((s.directory / "cdk.tf.json").read_text())
        assert [x["provider"] for x in p["provider_schemas"]] == sorted(doc["terraform"]["required_providers"])
        for entry in p["provider_schemas"]:
            for v in entry["validated_against"]:
                raw = resources.files("constructs_lib.core").joinpath("schemas", v["file"]).read_bytes()
                assert json.loads(gzip.decompress(raw))["version"] == v["version"]


def test_every_block_has_its_construct_path_and_spec_field(reference_out) -> None:
    for s in reference_out.stacks:
        p = _prov(reference_out, s.name)
        doc = json.loads((s.directory / "cdk.tf.json").read_text())
        addresses = {f"{pre}{t}.{n}": b["//"]["metadata"]["path"]
                     for section, pre in (("resource", ""), ("data", "data.")) for t, inst in doc.get(section, {}).items()
                     for n, b in inst.items()}
        assert set(p["resources"]) == set(addresses)
        for address, path in addresses.items():
            assert p["resources"][address]["construct"] == path
        data_bucket = next(a for a, r in p["resources"].items() if r["construct"].startswith(f"{s.name}/data/"))
        assert p["resources"][data_bucket]["spec_field"] == "storage.stores[0]"
        endpoint = next(a for a, r in p["resources"].items() if "churn" in r["construct"].split("/")[1])
        assert p["resources"][endpoint]["spec_field"] in ("serving.endpoints[0]", "routing")
        missing = [a for a, r in p["resources"].items() if r["spec_field"] is None]
        assert not missing, missing[:5]


def test_provenance_is_deterministic_and_portable(reference_out, tmp_path: Path) -> None:
    from constructs_lib.platform import synthesize

    again = synthesize([ROOT / "examples" / "reference"], outdir=tmp_path / "out")
    for s in again.stacks:
        text = (s.directory / "provenance.json").read_text()
        assert text == (reference_out.outdir / "stacks" / s.name / "provenance.json").read_text()
        assert str(tmp_path) not in text and str(ROOT) not in text


def test_user_app_stack_has_provenance_without_spec(tmp_path: Path) -> None:
    from constructs_lib import Resource, synth_app

    app = engine.App(outdir=str(tmp_path))
    stack = engine.TerraformStack(app, "mine")
    Resource(stack, "Bucket", "aws_s3_bucket", bucket="mine-bucket")
    synth_app(app)
    p = json.loads((tmp_path / "stacks" / "mine" / "provenance.json").read_text())
    assert p["spec"] is None
    assert p["resources"]["aws_s3_bucket.Bucket"]["construct"] == "mine/Bucket"
    assert p["resources"]["aws_s3_bucket.Bucket"]["spec_field"] is None


def test_scan_record_lists_checks_with_results_sorted() -> None:
    r = StackScan("s", passed=2, passed_checks=[("CKV_2", "two", "b.x"), ("CKV_1", "one", "a.y")],
                  acknowledged=[Finding("CKV_2", "c.z", "two", "because")], failed=[Finding("CKV_3", "d.w", "three")])
    rec = scan_record(r)
    assert list(rec["checks"]) == ["CKV_1", "CKV_2", "CKV_3"]
    assert rec["checks"]["CKV_2"] == {"name": "two", "passed": ["b.x"], "failed": [], "acknowledged": [{"resource": "c.z", "reason": "because"}]}
    assert rec["summary"] == {"passed": 2, "failed": 1, "acknowledged": 1, "ok": False}
    assert json.dumps(rec, sort_keys=True) == json.dumps(scan_record(r), sort_keys=True)
    pytest.importorskip("checkov")
    assert rec["tool"]["version"] == version("checkov")
