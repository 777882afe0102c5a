"""Every example synthesizes, is schema-valid, deterministic, matches its snapshot and scans clean."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from constructs_lib.core.errors import SchemaValidationError, SpecError
from constructs_lib.core.scan import scan
from constructs_lib.platform import synthesize

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir() and list(p.glob("*.yaml")))


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def stack_json(result, name: str) -> dict:
    return json.loads((result.outdir / "stacks" / name / "cdk.tf.json").read_text())


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_reference_has_one_stack_per_cloud(reference_out) -> None:
    names = [s.name for s in reference_out.stacks]
    assert names == ["reference-aws", "reference-azure", "reference-gcp"]
    for s in reference_out.stacks:
        assert s.resources > 10, f"{s.name} emitted only {s.resources} resources"
        assert (s.directory / "cdk.tf.json").is_file() and (s.directory / "acknowledgements.json").is_file()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_matches_snapshot(example: Path, tmp_path: Path, snapshot_json) -> None:
    result = synthesize([example], outdir=tmp_path / "out")
    for s in result.stacks:
        assert stack_json(result, s.name) == snapshot_json(name=s.name)


def test_synth_is_byte_identical(tmp_path: Path, reference_out) -> None:
    again = synthesize([ROOT / "examples" / "reference"], outdir=tmp_path / "again")
    assert tree_digest(again.outdir) == tree_digest(reference_out.outdir)


def test_no_absolute_paths_or_timestamps(reference_out) -> None:
    for f in reference_out.outdir.rglob("*.json"):
        text = f.read_text()
        assert str(reference_out.outdir) not in text and "/tmp/" not in text, f
        assert str(ROOT) not in text, f


def test_failed_synth_leaves_previous_output(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    synthesize([ROOT / "examples" / "reference" / "gcp.yaml"], outdir=out)
    before = tree_digest(out)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x-bad\ncloud: aws\nenvironment: dev\nregions: [us-east-1]\nstorage: {stores: [Data]}\n")
    with pytest.raises(SpecError, match="storage.stores"):
        synthesize([bad], outdir=out)
    assert tree_digest(out) == before

    # A schema error raised after stacks were built also leaves the output alone.
    import constructs_lib.platform as platform
    from constructs_lib.core.resource import Resource

    real = platform.build_stack

    def broken(app, spec):
        stack = real(app, spec)
        Resource(stack, "oops", "google_storage_bucket", name="x", location="US", versionin={"enabled": True})
        return stack

    monkeypatch.setattr(platform, "build_stack", broken)
    with pytest.raises(SchemaValidationError, match="versionin: unknown argument.*did you mean 'versioning'"):
        synthesize([ROOT / "examples" / "reference" / "gcp.yaml"], outdir=out)
    assert tree_digest(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "temporary folders left behind"


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, **env}, check=False, timeout=300,
    )


def test_import_of_one_cloud_loads_no_other() -> None:
    for cloud, others in (("aws", ("azure", "gcp")), ("azure", ("aws", "gcp")), ("gcp", ("aws", "azure"))):
        code = (
            f"import sys, constructs_lib.{cloud}\n"
            f"bad = [m for m in sys.modules if m.split('.')[:2] in {[['constructs_lib', o] for o in others]}]\n"
            "assert not bad, bad\nprint('ok')"
        )
        proc = _run(code)
        assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_no_prebuilt_provider_package_is_loaded(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom constructs_lib.platform import synthesize\n"
        f"synthesize(['examples/reference'], outdir={str(tmp_path / 'o')!r})\n"
        "bad = [m for m in sys.modules if m.startswith(('cdktf_cdktf_provider_', 'cdktn_provider_'))]\n"
        "assert not bad, bad\nprint('ok')"
    )
    proc = _run(code)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def _strip_version(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc.get("//", {}).get("metadata", {}).pop("version", None)
    return doc


def test_cdktn_engine_gives_identical_json(tmp_path: Path, reference_out) -> None:
    pytest.importorskip("cdktn", reason="the cdktn extra is not installed (pip install '.[cdktn]')")
    code = (
        "from constructs_lib.core import engine\nassert engine.ENGINE == 'cdktn', engine.ENGINE\n"
        "from constructs_lib.platform import synthesize\n"
        f"synthesize(['examples/reference'], outdir={str(tmp_path / 'tn')!r})\nprint('ok')"
    )
    proc = _run(code, CDKTF_MLOPS_ENGINE="cdktn")
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr
    for s in reference_out.stacks:
        ours = json.loads((s.directory / "cdk.tf.json").read_text())
        theirs = json.loads((tmp_path / "tn" / "stacks" / s.name / "cdk.tf.json").read_text())
        assert ours["//"]["metadata"]["version"] != theirs["//"]["metadata"]["version"]
        assert _strip_version(ours) == _strip_version(theirs)
        assert (s.directory / "acknowledgements.json").read_text() == (
            tmp_path / "tn" / "stacks" / s.name / "acknowledgements.json"
        ).read_text()


@pytest.mark.slow
def test_reference_scans_clean_with_checkov(reference_out) -> None:
    results = scan(reference_out.outdir)
    assert [r.stack for r in results] == [s.name for s in reference_out.stacks]
    for r in results:
        assert r.problems == [], r.problems
        assert r.failed == [], "\n".join(f"{f.check_id} {f.resource}: {f.check_name}" for f in r.failed)
        assert r.passed > 20, f"{r.stack}: checkov passed only {r.passed} checks"
        assert all(f.reason for f in r.acknowledged)
