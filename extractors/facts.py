"""Pages in, ClinicalFacts out: the one entry point of the extractors package."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from common.models import ClinicalFacts, LineOfTherapy, Notice, Page, Therapy
from extractors import clinical
from extractors.demographics import find_age, find_date_of_service
from extractors.exposure import class_level_therapies
from extractors.history import history_fact
from extractors.lexicon import Lexicon, load_lexicon
from extractors.lines import build_lines
from extractors.mentions import AssertionResolver, Mention, collect_mentions, last_section
from extractors.nlp import parse
from extractors.pagetext import PageText, build_page_text
from extractors.therapies import TherapyBuilder, merge_mentions, to_therapy

# Drugs that ride along with a regimen and never define one: a steroid or a premedication
# named alone says nothing of the history.
_RIDE_ALONG = {"corticosteroid", "other"}


@lru_cache(maxsize=1)
def _tools() -> tuple[AssertionResolver, TherapyBuilder]:
    lexicon = load_lexicon()
    return AssertionResolver(lexicon), TherapyBuilder(lexicon)


def extract_facts(pages: Sequence[Page], *, low_confidence: float = 0.6) -> ClinicalFacts:
    lexicon = load_lexicon()
    resolver, builder = _tools()
    text = build_page_text(pages)
    if not text.text.strip():
        return ClinicalFacts(warnings=(Notice(code="no_text", message="No readable text on any page."),))
    mentions = _mentions_by_page(text, resolver)

    items = merge_mentions(builder.build(mentions, text))
    built = build_lines(items, text)
    membership = built.membership
    lines, renumber = _other_disease_last(built.lines, lexicon)
    therapies: list[Therapy] = [
        to_therapy(item, renumber.get(n, n) if (n := membership.get(id(item))) is not None else None)
        for item in items
    ]
    therapies.extend(class_level_therapies(mentions, text, lexicon))

    date_of_service, _ = find_date_of_service(text)
    prior_lines, prior_evidence = clinical.stated_prior_lines(text)
    myeloma_lines = [line for line in lines if not line.other_disease]
    history = history_fact(
        text,
        myeloma_lines,
        [i for i in built.exposure_only if i.therapy_class not in _RIDE_ALONG],
        numbered=built.numbered,
        titled=[i for i in items if i.assertion == "received" and i.section == "treatment_history"],
        stated_prior_lines=prior_lines,
    )
    warnings = _low_confidence_warnings(therapies, low_confidence)
    return ClinicalFacts(
        therapies=tuple(therapies),
        lines=tuple(lines),
        age=find_age(text, date_of_service),
        date_of_service=date_of_service,
        diagnoses=tuple(clinical.diagnoses(mentions, text, lexicon)),
        disease_status=tuple(clinical.statuses(mentions, text, lexicon)),
        stated_prior_lines=prior_lines,
        stated_prior_lines_evidence=prior_evidence,
        findings=tuple(clinical.findings(text)),
        history=history,
        warnings=warnings,
    )


def _other_disease_last(
    lines: list[LineOfTherapy], lexicon: Lexicon
) -> tuple[list[LineOfTherapy], dict[int, int]]:
    """Flag the lines that treat another disease and number them after the myeloma lines.

    A myeloma letter may tell a remote lymphoma's R-CHOP and R-ICE: two lines that are
    not prior lines of myeloma therapy, and that would otherwise turn one myeloma line
    into three.  Returns the lines and the old-to-new line numbers.
    """
    marker = {d.ingredient for d in lexicon.drugs if d.marks_other_disease}
    other = [line for line in lines if marker & set(line.ingredients)]
    if not other:
        return lines, {}
    ordered = [line for line in lines if line not in other] + other
    renumber = {line.number: n for n, line in enumerate(ordered, start=1)}
    return [
        line.model_copy(update={"number": renumber[line.number], "other_disease": line in other})
        for line in ordered
    ], renumber


def _mentions_by_page(text: PageText, resolver: AssertionResolver) -> list[Mention]:
    """Parse page by page: ConText compares every modifier with every target of a doc, so
    one doc per page keeps a 40-page fax linear.  No sentence crosses a page anyway; the
    section a page ends in carries over to the next."""
    unwrapped = text.unwrapped()
    mentions: list[Mention] = []
    section: str | None = None
    for start, end in text.page_spans():
        doc = parse(unwrapped[start:end])
        mentions.extend(collect_mentions(doc, resolver, offset=start, section=section))
        section = last_section(doc, section)
    return mentions


def _low_confidence_warnings(therapies: list[Therapy], threshold: float) -> tuple[Notice, ...]:
    notices = []
    for therapy in therapies:
        low = [e for e in therapy.evidence if e.confidence is not None and e.confidence < threshold]
        if low:
            notices.append(
                Notice(
                    code="low_confidence_mention",
                    message=f"'{low[0].text}' read as {therapy.ingredient} with low confidence "
                    f"({low[0].confidence:.2f}); check the page.",
                    page=low[0].page,
                )
            )
    return tuple(notices)
