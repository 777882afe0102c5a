"""``cdktf-mlops report``: per synthesized stack, one self-contained HTML page and the same as Markdown.

A report is a list of sections (:class:`Section`: id, title, Markdown, HTML), built from the
stack's folder only (``cdk.tf.json``, ``acknowledgements.json``, ``provenance.json``, ``scan.json``):

1. Architecture: the diagram (Graphviz SVG, inline) of :mod:`.diagram`.
2. Disaster recovery (:mod:`.dr`, :mod:`.runbook`).
3. Governance and compliance (:mod:`.governance`).
4. Cost: the monthly estimate of :mod:`constructs_lib.ops.cost` (typical profile), with its sources.
5. Provenance: the spec, its hash, versions, and construct path / spec field of every resource.

Another module adds a section with ``report.sections.append(Section(...))`` before rendering.
:func:`write_reports` writes ``<dest>/<stack>.html``, ``<stack>.md`` and ``<stack>.svg`` (the
diagram the Markdown shows). Same stack folder, same bytes.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from .._stacks import stack_dirs as find_stacks
from ..cost import cost_markdown
from .diagram import diagram, dot_source, render_svg
from .dr import dr_section
from .governance import governance_section
from .model import ReportError, StackModel, load_stack
from .render import to_html, to_markdown
from .section import Citation, Doc, Report, Section

__all__ = [
    "Citation", "Report", "ReportError", "Section", "build_report", "stack_dirs", "write_reports",
]


def _architecture(m: StackModel) -> tuple[Section, str]:
    d = diagram(m)
    svg = render_svg(dot_source(m, d))
    doc = Doc()
    doc.para(f"{len(d.nodes)} constructs in {len({c for _, c, _ in d.nodes.values()})} groups (regions, and `global` for "
             "DNS routing, budget and identities). Edges: grants (an identity may use the target), replicates, triggers, routes.")
    doc.raw(f'<figure class="diagram" id="architecture-diagram">{svg}</figure>', f"![Architecture of {m.name}]({m.name}.svg)")
    def where(node: str) -> str:
        label, group, _ = d.nodes[node]
        return f"{label.replace(chr(10), ' ')} ({group})"

    doc.table(["from", "edge", "to"], [[where(a), k, where(b)] for (a, b), k in d.edges.items()])
    return doc.section("architecture", "Architecture"), svg


def _provenance(m: StackModel) -> Section:
    doc = Doc()
    p = m.provenance
    if not p:
        doc.para("No `provenance.json` beside this stack: synthesize it again with this version of cdktf-mlops.")
        return doc.section("provenance", "Provenance")
    spec = p.get("spec") or {}
    rows = [["spec file", f"`{spec.get('path')}`" if spec else "(none: built in Python)"],
            ["spec sha256", f"`{spec.get('sha256')}`" if spec else ""],
            ["library", f"{p['library']['name']} {p['library']['version']}"],
            ["engine", f"{p['engine']['name']} {p['engine']['version']}"]]
    for s in p.get("provider_schemas", []):
        against = ", ".join(f"{v['version']} (`{v['file']}`)" for v in s.get("validated_against", []))
        rows.append([f"provider {s['provider']}", f"{s.get('source')} {s.get('constraint')}; validated against {against}"])
    if m.scan:
        rows.append(["scan", f"{m.scan['tool']['name']} {m.scan['tool']['version']}: {len(m.scan.get('checks', {}))} checks "
                              f"({m.scan['summary']['passed']} passed, {m.scan['summary']['failed']} failed, "
                              f"{m.scan['summary']['acknowledged']} acknowledged)"])
    doc.table(["item", "value"], rows)
    by_field: dict[str, list[str]] = {}
    for address, r in p.get("resources", {}).items():
        by_field.setdefault(r.get("spec_field") or "(none)", []).append(address)
    doc.heading("Spec sections and what they produced")
    doc.table(["spec field", "resources", "examples"],
              [[f"`{f}`", str(len(a)), ", ".join(f"`{x}`" for x in a[:3])] for f, a in sorted(by_field.items())])
    doc.heading("Every resource: construct path and spec field")
    doc.table(["address", "construct", "spec field"],
              [[f"`{a}`", f"`{r.get('construct')}`", f"`{r.get('spec_field')}`" if r.get("spec_field") else ""]
               for a, r in p.get("resources", {}).items()])
    return doc.section("provenance", "Provenance")


def _cost(stack_dir: Path) -> Section:
    """The ``cdktf-mlops cost`` Markdown of the stack (typical profile) as a section; raw HTML in it is escaped."""
    _heading, _, body = cost_markdown(stack_dir).partition("\n")
    note = ("Monthly cost under the typical usage profile; run `cdktf-mlops cost --profile idle|typical|peak` or `--usage FILE` for others. "
            "Unpriced lines are listed, never counted as 0.\n\n")
    markdown = note + body.lstrip("\n")
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    html = html.replace("<table>", '<div class="scroll"><table>').replace("</table>", "</table></div>")
    return Section(id="cost", title="Cost", markdown=markdown, html=html)


def build_report(stack_dir: Path) -> Report:
    """The report of the synthesized stack in ``stack_dir`` (``<outdir>/stacks/<name>``)."""
    m = load_stack(Path(stack_dir))
    spec = (m.provenance or {}).get("spec") or {}
    subtitle = (f"{m.cloud.upper()} · regions {', '.join(m.regions)} · from `{spec['path']}`" if spec.get("path")
                else f"{m.cloud.upper()} · regions {', '.join(m.regions)}")
    report = Report(stack=m.name, title=f"{m.name}: DR plan, governance, architecture, cost, provenance", subtitle=subtitle.replace("`", ""))
    architecture, svg = _architecture(m)
    report.sections += [architecture, dr_section(m), governance_section(m), _cost(Path(stack_dir)), _provenance(m)]
    report.assets[f"{m.name}.svg"] = svg
    return report


def stack_dirs(out_dir: Path) -> list[Path]:
    """Every synthesized stack folder under ``out_dir/stacks`` (sorted); none is a :class:`ReportError`."""
    return find_stacks(out_dir, ReportError)


def write_reports(out_dir: Path, dest: Path) -> list[Path]:
    """Write ``<stack>.html``, ``<stack>.md`` and ``<stack>.svg`` into ``dest`` for every stack in ``out_dir``.

    Returns the paths written (HTML and Markdown of each stack, then its SVG), in stack order.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for directory in stack_dirs(Path(out_dir)):
        report = build_report(directory)
        files = {f"{report.stack}.html": to_html(report), f"{report.stack}.md": to_markdown(report), **report.assets}
        for path, text in ((dest / name, text) for name, text in files.items()):
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
