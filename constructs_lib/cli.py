"""The ``cdktf-mlops`` command line: synthesize specs, scan them with checkov, print the spec schema.

It runs in-process without the cdktf CLI. Errors from bad specs or invalid blocks are printed as
one readable message (no traceback) with a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .core.errors import MlopsError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="Typed ML platform specs -> CDK for Terraform stacks on AWS, Azure and GCP.",
)
out = Console()
err = Console(stderr=True)

_OUT_HELP = "Output folder (replaced atomically on success)."


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=1)


@app.command()
def synth(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Spec files or folders of them. Default: examples/reference.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help=_OUT_HELP)] = Path("cdktf.out"),
    hcl: Annotated[bool, typer.Option("--hcl", help="Write HCL (cdk.tf) instead of JSON.")] = False,
) -> None:
    """Synthesize one stack per spec, validated against the bundled provider schemas."""
    from .core.synth import synthesize

    try:
        with err.status("synthesizing") as status:
            result = synthesize(paths or [Path("examples/reference")], outdir=out_dir, hcl=hcl,
                                progress=lambda m: status.update(m))
    except MlopsError as exc:
        _fail(exc)
        return
    table = Table(title=f"{out_dir} ({result.seconds:.1f} s)")
    for col in ("stack", "resources", "data sources", "acknowledged check ids", "schema"):
        table.add_column(col, justify="left" if col == "stack" else "right")
    for s in result.stacks:
        table.add_row(s.name, str(s.resources), str(s.data_sources), str(s.acknowledgements), "valid")
    out.print(table)


@app.command()
def scan(
    out_dir: Annotated[Path, typer.Option("--out", help="Synthesized output folder to scan.")] = Path("cdktf.out"),
) -> None:
    """Run checkov (offline) over every synthesized stack, applying construct acknowledgements."""
    from .core.scan import scan as run_scan

    try:
        with err.status("running checkov"):
            results = run_scan(out_dir)
    except MlopsError as exc:
        _fail(exc)
        return
    table = Table(title="checkov")
    for col in ("stack", "passed", "failed", "acknowledged", "result"):
        table.add_column(col, justify="left" if col in ("stack", "result") else "right")
    for r in results:
        table.add_row(r.stack, str(r.passed), str(len(r.failed)), str(len(r.acknowledged)),
                      "[green]ok[/]" if r.ok else "[red]FAIL[/]")
    out.print(table)
    for r in results:
        for f in r.acknowledged:
            out.print(f"[dim]acknowledged[/] {r.stack} {f.check_id} {f.resource}: {f.reason}", highlight=False)
    bad = False
    for r in results:
        for f in r.failed:
            bad = True
            err.print(f"[red]FAILED[/] {r.stack} {f.check_id} {f.resource}: {f.check_name}", highlight=False)
        for p in r.problems:
            bad = True
            err.print(f"[red]ERROR[/] {r.stack}: {p}", highlight=False)
    if bad:
        raise typer.Exit(code=1)


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of the platform spec (for editors and validation)."""
    from .core.spec import PlatformSpec

    text = json.dumps(PlatformSpec.model_json_schema(), indent=2, sort_keys=True) + "\n"
    if output:
        output.write_text(text)
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


def main() -> None:
    """Entry point of the ``cdktf-mlops`` console script."""
    app()


if __name__ == "__main__":
    main()
