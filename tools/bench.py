"""Benchmark: synthesize the reference example against a bare-engine baseline.

Each measurement runs in a fresh interpreter so peak RSS is per run:

* ``ours``  — ``synthesize()`` of the spec folder: spec parsing, constructs, tag pass, schema
  validation of every block, engine synth, acknowledgement files;
* ``bare``  — the same resources, data sources, providers, outputs and backend (read back from
  our output) emitted with raw engine calls (``TerraformResource`` + ``add_override`` per
  argument, what the engine's generic classes offer) and an engine synth;
* ``bare-attrs`` — the same, but each block a subclass of the engine class that hands its
  arguments over once in ``synthesizeAttributes`` (the route the library takes, and what the
  prebuilt provider classes do): the fastest way the bare engine emits these blocks.

Prints resources/s, wall time and peak RSS of each, and the ratio ours/bare (target <= 1.3x,
peak RSS < 250 MB) and ours/bare-attrs. Usage: ``python tools/bench.py [SPEC_PATHS...] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(paths: list[str], outdir: str) -> dict[str, float]:
    t0 = time.perf_counter()
    import importlib

    from constructs_lib.platform import synthesize

    # Library imports count as import time, as the engine's import does for the baseline.
    for module in ("constructs_lib.platform", "constructs_lib.aws.kit",
                   "constructs_lib.azure.kit", "constructs_lib.gcp.kit"):
        importlib.import_module(module)
    t1 = time.perf_counter()
    result = synthesize(paths, outdir=outdir)
    t2 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "synth_s": t2 - t1,
        "resources": sum(s.resources + s.data_sources for s in result.stacks),
        "peak_mb": _peak_mb(),
    }


def run_bare(reference_out: str, outdir: str, *, attrs: bool = False) -> dict[str, float]:
    t0 = time.perf_counter()
    import jsii

    from constructs_lib.core import engine  # the same engine, nothing of ours on top

    class _Attrs:
        """Hands the block's arguments to the engine once, at synthesis."""

        def __init__(self, scope, id, *, terraform_resource_type, body):  # type: ignore[no-untyped-def]
            super().__init__(scope, id, terraform_resource_type=terraform_resource_type)
            self._body = body

        @jsii.member(jsii_name="synthesizeAttributes")
        def _synthesize_attributes(self):  # type: ignore[no-untyped-def]
            return self._body

    class _AttrsResource(_Attrs, engine.TerraformResource):
        pass

    class _AttrsData(_Attrs, engine.TerraformDataSource):
        pass

    meta = {"provider", "lifecycle", "depends_on", "count", "for_each"}
    t1 = time.perf_counter()
    docs = {
        p.parent.name: json.loads(p.read_text())
        for p in sorted(Path(reference_out, "stacks").glob("*/cdk.tf.json"))
    }
    app = engine.App(outdir=outdir)
    count = 0
    for name, doc in docs.items():
        stack = engine.TerraformStack(app, name)
        for pname, configs in doc.get("provider", {}).items():
            source = doc["terraform"]["required_providers"][pname]
            for n, cfg in enumerate(configs):
                prov = engine.TerraformProvider(
                    stack, f"{pname}{n}", terraform_resource_type=pname,
                    terraform_provider_source=source["source"],
                )
                for k, v in cfg.items():
                    prov.add_override(k, v)
        sections = (("resource", engine.TerraformResource, _AttrsResource),
                    ("data", engine.TerraformDataSource, _AttrsData))
        for section, cls, attrs_cls in sections:
            for tf_type, instances in doc.get(section, {}).items():
                for lid, body in instances.items():
                    body = {k: v for k, v in body.items() if k != "//"}
                    if attrs:
                        el = attrs_cls(stack, lid, terraform_resource_type=tf_type,
                                       body={k: v for k, v in body.items() if k not in meta})
                        body = {k: v for k, v in body.items() if k in meta}
                    else:
                        el = cls(stack, lid, terraform_resource_type=tf_type)
                    for k, v in body.items():
                        el.add_override(k, v)
                    count += 1
        for oname, body in doc.get("output", {}).items():
            engine.TerraformOutput(stack, oname, value=body["value"], description=body.get("description"))
        backend = doc.get("terraform", {}).get("backend", {}).get("local")
        if backend:
            engine.LocalBackend(stack, path=backend["path"])
    app.synth()
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "synth_s": t2 - t1, "resources": count, "peak_mb": _peak_mb()}


def _child(mode: str, args: list[str]) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20"},
    )
    if proc.returncode != 0:
        sys.exit(f"{mode} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=["examples/reference"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["ours", "bare", "bare-attrs"], help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child == "ours":
        print(json.dumps(run_ours(a.paths, a.out)))
        return
    if a.child in ("bare", "bare-attrs"):
        print(json.dumps(run_bare(a.ref, a.out, attrs=a.child == "bare-attrs")))
        return
    with tempfile.TemporaryDirectory() as tmp:
        ours, bare, attrs = [], [], []
        for i in range(a.repeat):
            print(f"run {i + 1}/{a.repeat} ...", file=sys.stderr, flush=True)
            ref = str(Path(tmp) / f"ref{i}")  # a fresh folder, like the baseline's
            ours.append(_child("ours", [*a.paths, "--out", ref]))
            bare.append(_child("bare", ["--ref", ref, "--out", str(Path(tmp) / f"bare{i}")]))
            attrs.append(_child("bare-attrs", ["--ref", ref, "--out", str(Path(tmp) / f"attrs{i}")]))

    def summary(label: str, runs: list[dict[str, float]]) -> dict[str, float]:
        s = statistics.median(r["synth_s"] for r in runs)
        row = {
            "synth_s": s,
            "import_s": statistics.median(r["import_s"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs),
            "resources": runs[0]["resources"],
        }
        print(f"{label:<10} {row['resources']:>6.0f} blocks  {s:7.3f} s  {row['resources'] / s:8.0f} blocks/s  "
              f"import {row['import_s']:.2f} s  peak RSS {row['peak_mb']:.0f} MB")
        return row

    print(f"reference: {' '.join(a.paths)}  (median of {a.repeat}, fresh interpreter each)")
    o = summary("ours", ours)
    b = summary("bare", bare)
    c = summary("bare-attrs", attrs)
    ratio = o["synth_s"] / b["synth_s"]
    print(f"ratio ours/bare: {ratio:.2f}x (target <= 1.30x); peak RSS {o['peak_mb']:.0f} MB (target < 250 MB)")
    print(f"ratio ours/bare-attrs: {o['synth_s'] / c['synth_s']:.2f}x (both hand arguments over at synthesis)")


if __name__ == "__main__":
    main()
