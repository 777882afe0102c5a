"""The report's building blocks: a :class:`Report` is a list of :class:`Section` (title, Markdown, HTML).

A section module builds its content once with :class:`Doc` (headings, paragraphs, tables, lists,
code blocks) and gets both renderings from it, so the Markdown and the HTML page say the same.
Another module (e.g. a cost section) adds its own ``Section`` to ``Report.sections``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Citation", "Doc", "Report", "Section", "slug"]

_CODE = re.compile(r"`([^`]+)`")


def slug(text: str) -> str:
    """An HTML id / Markdown anchor for ``text``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Citation:
    """A resource name a section cites: the literal text, the block it names and the attribute."""

    text: str
    address: str
    attribute: str


@dataclass(frozen=True)
class Section:
    """One section of a report: an anchor id, its title, and the same content as Markdown and HTML.

    ``citations`` lists the resource names the section cites (checked against the stack by tests).
    """

    id: str
    title: str
    markdown: str
    html: str
    citations: tuple[Citation, ...] = ()


@dataclass
class Report:
    """The report of one stack: a title, a subtitle and its sections in order."""

    stack: str
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)
    #: Files written beside the page (file name -> text), e.g. the diagram the Markdown links to.
    assets: dict[str, str] = field(default_factory=dict)

    def section(self, id: str) -> Section:
        """The section with anchor ``id`` (KeyError when absent)."""
        for s in self.sections:
            if s.id == id:
                return s
        raise KeyError(id)


def _inline_html(text: str) -> str:
    """Escape ``text`` for HTML; `backticks` become <code>."""
    parts = _CODE.split(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class Doc:
    """Content written once, rendered as Markdown and HTML."""

    def __init__(self) -> None:
        self._md: list[str] = []
        self._html: list[str] = []

    def heading(self, text: str, level: int = 3) -> Doc:
        """A sub-heading (level 3 by default; the section title is level 2)."""
        self._md.append(f"{'#' * level} {text}\n")
        self._html.append(f'<h{level} id="{slug(text)}">{_inline_html(text)}</h{level}>')
        return self

    def para(self, text: str, cls: str = "") -> Doc:
        """A paragraph (`backticks` are code)."""
        self._md.append(text + "\n")
        attr = f' class="{cls}"' if cls else ""
        self._html.append(f"<p{attr}>{_inline_html(text)}</p>")
        return self

    def items(self, items: Sequence[str], ordered: bool = False, checkbox: bool = False) -> Doc:
        """A bulleted (or numbered, or checkbox) list."""
        if not items:
            return self
        marks = [f"{n}." if ordered else "- [ ]" if checkbox else "-" for n in range(1, len(items) + 1)]
        self._md.append("\n".join(f"{m} {i}" for m, i in zip(marks, items)) + "\n")
        tag = "ol" if ordered else "ul"
        box = '<input type="checkbox" disabled> ' if checkbox else ""
        cls = ' class="checklist"' if checkbox else ""
        self._html.append(f"<{tag}{cls}>" + "".join(f"<li>{box}{_inline_html(i)}</li>" for i in items) + f"</{tag}>")
        return self

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Doc:
        """A table; cells are text with `code` spans."""
        md = ["| " + " | ".join(_md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
        md += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        self._md.append("\n".join(md) + "\n")
        head = "".join(f"<th>{_inline_html(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in row) + "</tr>" for row in rows)
        self._html.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')
        return self

    def code(self, text: str, lang: str = "sh") -> Doc:
        """A code block (commands to copy)."""
        self._md.append(f"```{lang}\n{text}\n```\n")
        self._html.append(f"<pre><code>{html.escape(text)}</code></pre>")
        return self

    def raw(self, html_text: str, markdown: str) -> Doc:
        """Content with its own HTML and Markdown (e.g. the inline SVG and an image link)."""
        self._md.append(markdown + "\n")
        self._html.append(html_text)
        return self

    def section(self, id: str, title: str, citations: Sequence[Citation] = ()) -> Section:
        """This content as a :class:`Section`."""
        return Section(
            id=id,
            title=title,
            markdown="\n".join(self._md),
            html="\n".join(self._html),
            citations=tuple(citations),
        )
