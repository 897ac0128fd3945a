"""Therapy named by its target alone (lexicons/targets.json): "no prior anti-BCMA therapy",
"BCMA-naive", "refractory to BCMA-directed therapy", "prior BCMA bispecific".

A policy that bars prior therapy of a target reads these beside the drugs.  ConText
decides the statement; a "naive" phrase states that none was received.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.models import Assertion, TargetStatement
from extractors.answers import answered
from extractors.mentions import Mention
from extractors.nlp import TARGET
from extractors.pagetext import PageText
from extractors.structure.index import StructureIndex

_FLIP: dict[str, Assertion] = {"received": "negated", "negated": "received"}


def target_statements(
    mentions: Sequence[Mention], text: PageText, index: StructureIndex | None = None
) -> list[TargetStatement]:
    out: list[TargetStatement] = []
    for m in mentions:
        if m.label != TARGET:
            continue
        _, target, mode = m.concept.split(":", 2)
        # "Prior BCMA-directed therapy? [ ] Yes [ ] No" says nothing until a box is ticked
        assertion: Assertion = answered(index, text, m.start, m.end, m.assertion)  # type: ignore[assignment]
        if mode == "naive":
            assertion = _FLIP.get(assertion, assertion)  # "BCMA-naive": none received
        ev = text.evidence(m.start, m.end)
        out.append(
            TargetStatement(target=target, text=m.text, assertion=assertion, evidence=(ev,) if ev else ())
        )
    return out
