"""The DR plan's record of the resource names it cites (each is checked against the stack by the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Block, StackModel
from .section import Citation

__all__ = ["DrPlan"]


@dataclass
class DrPlan:
    """Names the plan cites (each checked against the stack) and the rows it builds."""

    model: StackModel
    citations: list[Citation] = field(default_factory=list)

    def cite(self, block: Block | None, attr: str | None = None) -> str | None:
        """The literal name of ``block`` (or its ``attr``), recorded as a citation; None if unknown."""
        if block is None:
            return None
        if attr is None:
            text = self.model.name_of(block)
            attr = next((a for a in ("bucket", "name", "model_package_group_name") if block.body.get(a) is not None), "name")
        else:
            value = block.body.get(attr)
            text = self.model.render(value) if isinstance(value, str) else None
        if text:
            self.citations.append(Citation(text, block.address, attr))
        return text
