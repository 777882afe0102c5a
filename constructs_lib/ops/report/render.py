"""A :class:`~.section.Report` as one self-contained HTML page and as Markdown.

The page carries its styles inline and loads nothing (no scripts, fonts, images or links to other
hosts): the diagram is inline SVG. Both renderings start with a table of contents.
"""

from __future__ import annotations

import html

from .section import Report

__all__ = ["CSS", "to_html", "to_markdown"]

CSS = """
:root { --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --head:#f8fafc; --accent:#1d4ed8; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.5 "DejaVu Sans", system-ui, sans-serif; color:var(--fg); background:#fff; }
header { padding: 20px 32px; border-bottom: 1px solid var(--line); background: var(--head); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
main { display: grid; grid-template-columns: 230px minmax(0, 1fr); gap: 28px; padding: 20px 32px; }
nav { position: sticky; top: 12px; align-self: start; font-size: 13px; }
nav ol { padding-left: 18px; margin: 0; } nav li { margin: 4px 0; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
section { margin-bottom: 36px; }
h2 { font-size: 19px; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 0; }
h3 { font-size: 15px; margin: 22px 0 8px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
tbody tr:nth-child(even) { background: #fcfcfd; }
code { font: 12px/1.4 "DejaVu Sans Mono", monospace; background: #f3f4f6; padding: 1px 4px; border-radius: 3px; word-break: break-word; }
pre { background: #0f172a; color: #e2e8f0; padding: 12px 14px; border-radius: 6px; overflow-x: auto; }
pre code { background: none; color: inherit; padding: 0; word-break: normal; }
.diagram { border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto; }
.diagram svg { max-width: 100%; height: auto; }
.note { border-left: 4px solid #f59e0b; background: #fffbeb; padding: 8px 12px; }
ul.checklist { list-style: none; padding-left: 4px; }
@media print { nav { display: none; } main { display: block; } }
""".strip()


def to_html(report: Report) -> str:
    """The report as one HTML page with inline CSS and SVG (nothing loaded from elsewhere)."""
    toc = "".join(f'<li><a href="#{s.id}">{html.escape(s.title)}</a></li>' for s in report.sections)
    body = "\n".join(
        f'<section id="{s.id}">\n<h2>{html.escape(s.title)}</h2>\n{s.html}\n</section>' for s in report.sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html.escape(report.title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(report.title)}</h1><p>{html.escape(report.subtitle)}</p></header>\n"
        f'<main>\n<nav aria-label="Contents"><strong>Contents</strong><ol>{toc}</ol></nav>\n<div>\n{body}\n</div>\n</main>\n'
        "</body>\n</html>\n"
    )


def to_markdown(report: Report) -> str:
    """The report as Markdown with a table of contents."""
    lines = [f"# {report.title}", "", report.subtitle, "", "## Contents", ""]
    lines += [f"{n}. [{s.title}](#{s.id})" for n, s in enumerate(report.sections, 1)]
    lines.append("")
    for s in report.sections:
        lines += [f'<a id="{s.id}"></a>', "", f"## {s.title}", "", s.markdown.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"
