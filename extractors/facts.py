"""Pages in, ClinicalFacts out: the one entry point of the extractors package."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from common.models import AgeFact, ClinicalFacts, Notice, Page, RequestFact, Therapy
from common.structure import DocumentStructure
from extractors import clinical
from extractors.demographics import age_from_identity, find_age, find_date_of_service, find_request_date
from extractors.exposure import class_level_therapies
from extractors.history import history_fact, unread_history_rows
from extractors.labs import read_labs
from extractors.lexicon import Lexicon, load_lexicon
from extractors.lines import build_lines
from extractors.mentions import AssertionResolver, Mention, collect_mentions, last_section
from extractors.nlp import parse
from extractors.pagetext import PageText, build_page_text
from extractors.prescriber import find_prescribers
from extractors.progression import last_dose_events, progression_events
from extractors.request import find_request, infer_request
from extractors.sites import site_findings
from extractors.structure.index import StructureIndex
from extractors.targets import modality_denials, target_statements
from extractors.therapies import TherapyBuilder, TherapyMention, merge_mentions, to_therapy

# Drugs that ride along with a regimen and never define one: a steroid or a premedication
# named alone says nothing of the history.
_RIDE_ALONG = {"corticosteroid", "other"}


@lru_cache(maxsize=1)
def _tools() -> tuple[AssertionResolver, TherapyBuilder]:
    lexicon = load_lexicon()
    return AssertionResolver(lexicon), TherapyBuilder(lexicon)


def extract_facts(
    pages: Sequence[Page],
    *,
    low_confidence: float = 0.6,
    structure: DocumentStructure | None = None,
    structure_pages: Sequence[Page] = (),
) -> ClinicalFacts:
    """``structure``: the page structure read from ``structure_pages`` (the pages as read,
    before tables were put in row order), so a mention in a table cell or a checkbox option
    is read with its row's dates or its box's state."""
    lexicon = load_lexicon()
    resolver, builder = _tools()
    text = build_page_text(pages)
    if not text.text.strip():
        return ClinicalFacts(warnings=(Notice(code="no_text", message="No readable text on any page."),))
    mentions = _mentions_by_page(text, resolver)

    index = StructureIndex.build(structure, structure_pages or pages)
    items = _episode_negations(merge_mentions(builder.build(mentions, text, index)), text)
    items = _episodes_never_infused(items, text, builder)
    date_of_service, service_evidence = find_date_of_service(text)
    request_date, request_date_evidence = find_request_date(text, date_of_service, service_evidence)
    request = find_request(text) or infer_request(items)
    # before the lines: the requested product dated at or after the request ("LMN
    # idecabtagene vicleucel - 07/15/2026" in a page header) is the request, not a line
    items = _requested_items_not_yet_given(items, request, request_date)
    built = build_lines(items, text)
    membership = built.membership
    lines = built.lines
    # Lines for another disease (a lymphoma's R-CHOP) are the policy's to say: the evaluator
    # flags them from the policy file's disease (criteria.evaluator.lines_under_policy).
    therapies: list[Therapy] = [to_therapy(item, membership.get(id(item))) for item in items]
    therapies = _supporting_phases(therapies, lexicon)
    therapies.extend(class_level_therapies(mentions, text, lexicon, index))

    therapies = _requested_class_not_yet_given(therapies, request, request_date)
    prior_lines, prior_evidence = clinical.stated_prior_lines(text)
    # Which lines treat another disease is the policy's to say; every listed line is part
    # of the history the documentation presents.
    myeloma_lines = list(lines)
    history = history_fact(
        text,
        myeloma_lines,
        [i for i in built.exposure_only if i.therapy_class not in _RIDE_ALONG],
        numbered=built.numbered,
        titled=[i for i in items if i.assertion == "received" and i.section == "treatment_history"],
        stated_prior_lines=prior_lines,
        missing_pages=_missing_pages(structure),
        unread_rows=unread_history_rows(structure, index, mentions, text),
    )
    warnings = _low_confidence_warnings(therapies, low_confidence)
    diagnoses = tuple(clinical.diagnoses(mentions, text, lexicon))
    return ClinicalFacts(
        therapies=tuple(therapies),
        lines=tuple(lines),
        # the age on the request's own date, as the reviewer judges it (the date of service
        # may be weeks later)
        age=find_age(text, request_date or date_of_service)
        or _member_age(structure, request_date or date_of_service),
        date_of_service=date_of_service,
        request_date=request_date,
        request_date_evidence=(request_date_evidence,) if request_date_evidence else (),
        diagnoses=diagnoses,
        disease_status=tuple(clinical.statuses(mentions, text, lexicon)),
        stated_prior_lines=prior_lines,
        stated_prior_lines_evidence=prior_evidence,
        findings=tuple(clinical.findings(text, request.product if request else None)),
        history=history,
        request=request,
        labs=tuple(read_labs(text, diagnoses=diagnoses, low_confidence=low_confidence, index=index)),
        events=(*progression_events(mentions, text, lexicon), *last_dose_events(text)),
        sites=tuple(site_findings(mentions, text, lexicon, index)),
        target_statements=(
            *target_statements(mentions, text, index),
            *modality_denials(mentions, text, lexicon),
        ),
        prescribers=tuple(find_prescribers(text, index)),
        warnings=warnings,
    )


def _episode_negations(items: list[TherapyMention], text: PageText) -> list[TherapyMention]:
    """'Cells were collected 06/2025 for CAR-T but manufacturing failed; no CAR-T was
    infused': the negation tells how that episode ended, not that the member never had a
    CAR-T. A negated CAR-T in a sentence that tells cells collected and not given is that
    episode's, collected and not given, so the history of CAR-T stays for the documents
    to state."""
    episodes = [i for i in items if i.therapy_class == "car_t" and i.assertion == "collected_not_given"]
    for i in items:
        if i.therapy_class != "car_t" or i.assertion != "negated":
            continue
        # one sentence, though the splitter may cut it at the ";" ("...failed; no CAR-T was
        # infused"): no full stop between the collection and the negation
        before = [e for e in episodes if e.sent_start <= i.sent_start]
        if any(_one_sentence(text, e.sent_start, i.sent_end) for e in before):
            i.assertion = "collected_not_given"
    return items


def _episodes_never_infused(
    items: list[TherapyMention], text: PageText, builder: TherapyBuilder
) -> list[TherapyMention]:
    """'In 8/2024 he enrolled in a trial of a CAR-T and underwent leukapheresis ... The cells
    were never infused': a CAR-T mention that could not be read as given or not, in the
    story of a collection or an enrolment that its own sentence or the next says ended
    without an infusion, is that episode's, collected and not given; beside "no prior
    CAR-T" it is no contradiction for a reviewer to resolve."""
    for i in items:
        if i.therapy_class != "car_t" or i.assertion != "uncertain":
            continue
        story = text.text[i.sent_start : _next_sentence_end(text, i.sent_end)]
        if builder.ends_without_infusion(story):
            i.assertion = "collected_not_given"
    return items


def _next_sentence_end(text: PageText, end: int) -> int:
    """The end of the sentence after the one ending at ``end``, within a short reach."""
    found = _SENTENCE_END.search(text.text, end + 1, min(len(text.text), end + _NEXT_SENTENCE_REACH))
    return found.end() if found else min(len(text.text), end + _NEXT_SENTENCE_REACH)


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_NEXT_SENTENCE_REACH = 300


def _one_sentence(text: PageText, start: int, end: int) -> bool:
    return re.search(r"[.!?](?:\s|$)", text.text[start:end].rstrip(" .!?\n")) is None


def _requested_class_not_yet_given(
    therapies: list[Therapy], request: RequestFact | None, requested_on: str | None
) -> list[Therapy]:
    """A therapy of the requested product's class dated on or after the date of the request
    is the request or its plan, never a prior receipt: 'Submit PA for Abecma today
    (11/18/2025)', a form's 'Abecma ... 10/29/2026' under its date-of-request column."""
    if request is None or requested_on is None or len(requested_on) < 10:
        return therapies
    day = date.fromisoformat(requested_on[:10])
    classes = {t.therapy_class for t in therapies if t.ingredient == request.product}
    out = []
    for t in therapies:
        later = t.start is not None and _not_before(t.start, day)
        if t.assertion == "received" and t.therapy_class in classes and later:
            t = t.model_copy(update={"assertion": "planned"})
        out.append(t)
    return out


def _requested_items_not_yet_given(
    items: list[TherapyMention], request: RequestFact | None, requested_on: str | None
) -> list[TherapyMention]:
    """The mentions' side of ``_requested_class_not_yet_given``: a received mention of the
    requested product's class, or of any CAR-T, dated on or after the request (its own date,
    else the date of service) is planned, so it opens no line."""
    if requested_on is None or len(requested_on) < 10:
        return items
    day = date.fromisoformat(requested_on[:10])
    # a CAR-T dated after the request has not been given, whatever the request is for:
    # "Timeline: apheresis 10/06, then ide-cel infusion 11/10/2025" in a letter of 09/2025
    classes = {"car_t"} | {
        i.therapy_class for i in items if request is not None and i.ingredient == request.product
    }
    for i in items:
        if i.assertion == "received" and i.therapy_class in classes and i.start and _not_before(i.start, day):
            i.assertion = "planned"
    return items


def _not_before(start: str, day: date) -> bool:
    """A start ("2025", "2025-11", "2025-11-18") on or after ``day`` at its own precision; a
    month or year that merely contains the day is not (the drug may have come first)."""
    if len(start) >= 10:
        return date.fromisoformat(start[:10]) >= day
    if len(start) == 7:
        return start > f"{day:%Y-%m}"
    return int(start[:4]) > day.year


def _supporting_phases(therapies: list[Therapy], lexicon: Lexicon) -> list[Therapy]:
    """A drug given in support of a transplant or a CAR-T (melphalan conditioning,
    cyclophosphamide mobilization, fludarabine lymphodepletion), named in no line beside
    one, is read as that support (lexicons/drugs.json "supports"), not as a line missing."""
    received = [t for t in therapies if t.assertion == "received"]
    transplant = any(t.therapy_class == "stem_cell_transplant" for t in received)
    car_t = any(t.therapy_class == "car_t" for t in therapies)
    out = []
    for t in therapies:
        drug = lexicon.drug(t.ingredient)
        if t.line is None and t.phase is None and drug is not None and drug.supports:
            for phase in drug.supports:
                if (phase in ("conditioning", "mobilization") and transplant) or (
                    phase == "lymphodepletion" and car_t
                ):
                    t = t.model_copy(update={"phase": phase})
                    break
        out.append(t)
    return out


def _member_age(structure: DocumentStructure | None, reference: str | None) -> AgeFact | None:
    dob = structure.member.date_of_birth if structure else None
    if dob is None or len(dob.value) != 10:
        return None
    return age_from_identity(dob.value, dob.span.evidence(), reference)


def _missing_pages(structure: DocumentStructure | None) -> tuple[Notice, ...]:
    """The cover sheet says more pages than arrived: the history told may be partial."""
    if structure is None or not structure.pages_missing or structure.page_count is None:
        return ()
    count = structure.page_count
    return (
        Notice(
            code="pages_missing",
            message=f"The cover sheet states {count.stated} pages and {count.received} were received.",
            page=count.evidence.page,
        ),
    )


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
        section = last_section(doc, section, resolver.inline_only)
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
