"""The ``cdktf-mlops`` command line: synthesize specs, scan them with checkov, print the spec schema.

It runs in-process without the cdktf CLI. Errors from bad specs or invalid blocks are printed as
one readable message (no traceback) with a non-zero exit code. Every text that comes from a spec,
an error or a tool is printed literally: only the labels this module adds are styled (no console
markup is read from message text, so ``[ops]`` or a pattern like ``^[a-z]{1,30}$`` stays intact).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

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


Part = str | tuple[str, str]


def _say(console: Console, *parts: Part) -> None:
    """Print ``parts`` on one line, literally: a ``str`` as is, a ``(text, style)`` pair styled."""
    console.print(Text.assemble(*parts), highlight=False, soft_wrap=True)


#: What a user can cause: the library's errors, and files or folders that cannot be read or written.
_USER_ERRORS = (MlopsError, OSError)


def _fail(exc: Exception) -> None:
    """Print ``exc`` as one literal ``error:`` message (no traceback) and exit with code 1."""
    text = str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, MlopsError):
        text = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else text
    _say(err, ("error:", "bold red"), " ", text)
    raise typer.Exit(code=1)


def _emit(text: str, output: Optional[Path]) -> None:
    """Write ``text`` to ``output`` (and say so on stderr), or to stdout when no file is given."""
    if output:
        _write(output, text)
        _say(err, f"wrote {output}")
    else:
        sys.stdout.write(text)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (its folder created); a path that cannot be written is an error message."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        _fail(exc)


@app.command()
def synth(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Spec files or folders of them. Default: examples/reference.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help=_OUT_HELP)] = Path("cdktf.out"),
    hcl: Annotated[bool, typer.Option("--hcl", help="Write HCL (cdk.tf) instead of JSON.")] = False,
) -> None:
    """Synthesize one stack per spec, validated against the bundled provider schemas."""
    from .platform import synthesize

    try:
        with err.status(Text("synthesizing")) as status:
            result = synthesize(paths or [Path("examples/reference")], outdir=out_dir, hcl=hcl,
                                progress=lambda m: status.update(Text(m)))
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    table = Table(title=Text(f"{out_dir} ({result.seconds:.1f} s)"))
    for col in ("stack", "resources", "data sources", "acknowledged check ids", "schema"):
        table.add_column(col, justify="left" if col == "stack" else "right")
    for s in result.stacks:
        table.add_row(Text(s.name), str(s.resources), str(s.data_sources), str(s.acknowledgements), "valid")
    out.print(table)


@app.command()
def scan(
    out_dir: Annotated[Path, typer.Option("--out", help="Synthesized output folder to scan.")] = Path("cdktf.out"),
    sarif: Annotated[Optional[Path], typer.Option("--sarif", help="Also write unacknowledged findings as SARIF 2.1.0.")] = None,
) -> None:
    """Run checkov (offline) and the least-privilege audit over every synthesized stack."""
    from .core.scan import scan as run_scan
    from .core.scan import to_sarif

    try:
        with err.status(Text("running checkov")):
            results = run_scan(out_dir)
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    if sarif:
        _write(sarif, json.dumps(to_sarif(results, out_dir), indent=2, sort_keys=True) + "\n")
    table = Table(title="checkov")
    for col in ("stack", "passed", "failed", "acknowledged", "result"):
        table.add_column(col, justify="left" if col in ("stack", "result") else "right")
    for r in results:
        table.add_row(Text(r.stack), str(r.passed), str(len(r.failed)), str(len(r.acknowledged)),
                      Text("ok", style="green") if r.ok else Text("FAIL", style="red"))
    out.print(table)
    for r in results:
        grouped: dict[tuple[str, str], list[str]] = {}
        for f in r.acknowledged:
            grouped.setdefault((f.check_id, f.reason), []).append(f.resource)
        for (check_id, reason), resources in sorted(grouped.items()):
            where = resources[0] if len(resources) == 1 else f"{len(resources)} resources"
            _say(out, ("acknowledged", "dim"), f" {r.stack} {check_id} ({where}): {reason}")
    bad = False
    for r in results:
        for f in r.failed:
            bad = True
            _say(err, ("FAILED", "red"), f" {r.stack} {f.check_id} {f.resource}: {f.check_name}")
        for p in r.problems:
            bad = True
            _say(err, ("ERROR", "red"), f" {r.stack}: {p}")
    if bad:
        raise typer.Exit(code=1)


def _specs(paths: Optional[list[Path]]) -> list:
    from .core.spec import load_specs

    return load_specs(paths or [Path("examples/reference")])


@app.command()
def bootstrap(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Spec files or folders. Default: examples/reference.")] = None,
    cloud: Annotated[Optional[str], typer.Option("--cloud", help="Only specs of this cloud: aws, azure or gcp.")] = None,
    endpoint: Annotated[Optional[str], typer.Option("--endpoint", help="Storage API endpoint (an emulator on loopback).")] = None,
) -> None:
    """Create the remote-state bucket / container of each spec, idempotently (run before the first deploy)."""
    from .ops.bootstrap import bootstrap as run_bootstrap

    if cloud not in (None, "aws", "azure", "gcp"):
        _fail(MlopsError(f"--cloud {cloud!r}: use aws, azure or gcp"))
    try:
        specs = [s for s in _specs(paths) if cloud in (None, s.cloud)]
        if not specs:
            raise MlopsError(f"no spec for cloud {cloud} in {', '.join(map(str, paths or ['examples/reference']))}")
        for spec in specs:
            with err.status(Text(f"bootstrapping state of {spec.name} ({spec.cloud})")):
                report = run_bootstrap(spec, endpoint=endpoint)
            _say(out, (spec.name, "bold"), f" {report.location}")
            for step in report.steps:
                colour = {"ok": "green", "created": "cyan", "updated": "yellow"}[step.status]
                _say(out, "  ", (f"{step.status:<8}", colour), f" {step.setting}")
    except _USER_ERRORS as exc:
        _fail(exc)


@app.command()
def doctor(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Spec files or folders whose clouds to check. Default: examples/reference.")] = None,
    metadata: Annotated[bool, typer.Option("--metadata", help="Also try cloud-instance identities (EC2/Azure/GCE metadata endpoints).")] = False,
) -> None:
    """Check Node.js, the engine, terraform and credentials for the clouds the specs use."""
    from .ops.doctor import run_checks

    try:
        clouds = sorted({s.cloud for s in _specs(paths)})
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    checks = run_checks(clouds, metadata=metadata)
    colour = {"ok": "green", "missing": "red", "optional": "yellow"}
    for c in checks:
        hint: Part = (f"  -> {c.hint}", "dim") if c.status != "ok" and c.hint else ""
        _say(out, (f"{c.status:<8}", colour[c.status]), f" {c.name:<10} {c.detail}", hint)
    if any(c.status == "missing" for c in checks):
        raise typer.Exit(code=1)


ci_app = typer.Typer(help="Generate CI/CD workflows.", no_args_is_help=True)
app.add_typer(ci_app, name="ci")


@ci_app.command("github")
def ci_github(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Spec files or folders. Default: examples/reference.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Workflow file to write.")] = Path(".github/workflows/cdktf-mlops.yml"),
) -> None:
    """Write a GitHub Actions workflow: synth + scan + plan on PRs, deploy on main behind approval, OIDC only."""
    from .ops.ci import github_workflow

    try:
        specs = _specs(paths)
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    _write(output, github_workflow(specs, [str(p) for p in (paths or [Path("examples/reference")])]))
    _say(err, f"wrote {output} ({len(specs)} stack(s): {', '.join(s.name for s in specs)})")


@app.command()
def inventory(
    out_dir: Annotated[Path, typer.Option("--out", help="Synthesized output folder to read.")] = Path("cdktf.out"),
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Markdown: the resource types each construct creates, and each stack's recovery objectives."""
    from .ops.inventory import inventory as render

    try:
        text = render(out_dir)
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    _emit(text, output)


@app.command()
def dvc(
    out_dir: Annotated[Path, typer.Option("--out", help="Synthesized output folder to read.")] = Path("cdktf.out"),
    store: Annotated[Optional[str], typer.Option("--store", help="Only this store's remote.")] = None,
    stack: Annotated[Optional[str], typer.Option("--stack", help="The stack (needed when several have stores).")] = None,
    account_id: Annotated[Optional[str], typer.Option("--account-id", help="AWS account id, when the spec has no aws.account_id.")] = None,
    tf_outputs: Annotated[Optional[Path], typer.Option("--tf-outputs", help="`terraform output -json` of the deployed stack (all values known).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the DVC remotes of a stack's stores as a .dvc/config snippet (from its outputs)."""
    from .ops.dvc import dvc_config

    try:
        text = dvc_config(out_dir, stack=stack, store=store, account_id=account_id, tf_outputs=tf_outputs)
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    _emit(text, output)


@app.command()
def report(
    out_dir: Annotated[Path, typer.Option("--out", help="Synthesized output folder to read.")] = Path("cdktf.out"),
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write <stack>.html, <stack>.md and <stack>.svg into.")] = Path("report"),
) -> None:
    """Per stack: one self-contained HTML page and Markdown: architecture, DR plan, governance, provenance."""
    from .ops.report import write_reports

    try:
        paths = write_reports(out_dir, output)
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    for path in paths:
        _say(err, f"wrote {path}")


@app.command()
def cost(
    out_dir: Annotated[Path, typer.Option("--out", help="Synthesized output folder to read.")] = Path("cdktf.out"),
    usage: Annotated[Optional[Path], typer.Option("--usage", help="Usage file (YAML/JSON): profile, defaults, per-resource overrides.")] = None,
    prices: Annotated[Optional[Path], typer.Option("--prices", help="Price rows (CSV/JSON) that override or add to the catalogue.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or markdown.")] = "table",
    profile: Annotated[str, typer.Option("--profile", help="Usage profile: idle, typical or peak.")] = "typical",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write json/markdown to a file instead of stdout.")] = None,
) -> None:
    """Monthly cost per stack (fixed, estimate, ceiling) from the synthesized stacks, offline, with advice."""
    from .ops.cost import analyse, assumptions, summary_markdown, to_json

    if fmt not in ("table", "json", "markdown"):
        _fail(MlopsError(f"--format {fmt!r}: use table, json or markdown"))
    try:
        stacks, used = analyse(out_dir, profile=profile, usage_file=usage, prices_file=prices)
    except _USER_ERRORS as exc:
        _fail(exc)
        return
    if fmt != "table":
        text = to_json(stacks, used) if fmt == "json" else summary_markdown(stacks, used)
        _emit(text, output)
        return
    table = Table(title=Text(f"monthly cost, profile {used.profile} (priced lines; USD)"))
    for col in ("stack", "fixed", "estimate", "ceiling", "budget", "unpriced"):
        table.add_column(col, justify="left" if col in ("stack", "budget") else "right")
    for s in stacks:
        budget = Text("none")
        if s.budget:
            over = s.total("fixed") > s.budget.amount or s.total("monthly") > s.budget.amount
            budget = Text(f"{s.budget.amount:,.0f}" + (" EXCEEDED" if over else ""), style="red" if over else "green")
        table.add_row(Text(s.name), f"{s.total('fixed'):,.2f}", f"{s.total('monthly'):,.2f}", f"{s.total('ceiling'):,.2f}",
                      budget, str(len(s.unpriced_components) + len(s.unpriced_resources)))
    out.print(table)
    for s in stacks:
        for a in s.advice[:5]:
            saving = "unpriced" if a.saving is None else ("up to " if a.kind == "up to" else "") + f"{a.saving:,.2f}"
            _say(out, ("advice", "cyan"), f" {s.name}: {a.title}: {saving}/month -> {a.change}")
    for line in assumptions(used):
        _say(out, ("assumption", "dim"), f" {line}")
    _say(out, ("note", "dim"), " unpriced lines are left out of the totals; --format markdown or json lists them")


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of the platform spec (for editors and validation)."""
    from .core.spec import PlatformSpec

    text = json.dumps(PlatformSpec.model_json_schema(), indent=2, sort_keys=True) + "\n"
    _emit(text, output)


def main() -> None:
    """Entry point of the ``cdktf-mlops`` console script."""
    app()


if __name__ == "__main__":
    main()
