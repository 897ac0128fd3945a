"""Typed records that cross the seams between stages.

Every stage takes and returns these immutable models; no stage hands the next a
bare dict, and no spaCy object leaves ``extractors``.  Evidence always carries
its way back to a page and a box so a reviewer can be shown the exact spot.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- pages


class WordSource(StrEnum):
    TEXT_LAYER = "text_layer"  # born-digital PDF text, read by pdfplumber
    OCR = "ocr"  # tesseract
    PLAIN_TEXT = "plain_text"  # EHR text export: no geometry beyond line/column


class BBox(Frozen):
    """A box relative to the page as the reviewer sees it: 0..1, origin top-left."""

    x0: float = Field(ge=0.0, le=1.0)
    y0: float = Field(ge=0.0, le=1.0)
    x1: float = Field(ge=0.0, le=1.0)
    y1: float = Field(ge=0.0, le=1.0)

    @staticmethod
    def union(boxes: list[BBox]) -> BBox | None:
        if not boxes:
            return None
        return BBox(
            x0=min(b.x0 for b in boxes),
            y0=min(b.y0 for b in boxes),
            x1=max(b.x1 for b in boxes),
            y1=max(b.y1 for b in boxes),
        )


class Word(Frozen):
    text: str
    bbox: BBox
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)  # None for a text layer
    source: WordSource
    line: int = 0  # reading-order line index within the page; words of one line share it
    # the second reader's text when it differs from the text kept (reading/second.py)
    second: str | None = None


class Rule(Frozen):
    """A ruling line on the page (a table border, a form line), as two end points.

    Relative to the page as stored (0..1, origin top-left), like word boxes: a rule that
    is straight on the deskewed page is slightly sloped here.  ``horizontal`` is its
    direction on the upright page.
    """

    x0: float = Field(ge=0.0, le=1.0)
    y0: float = Field(ge=0.0, le=1.0)
    x1: float = Field(ge=0.0, le=1.0)
    y1: float = Field(ge=0.0, le=1.0)
    horizontal: bool


class Mark(Frozen):
    """A small closed box drawn on the page (a checkbox), and how much of its inside is inked.

    ``fill`` is the share of the box's inner area that is ink: about 0 for an empty box,
    a quarter to a half for a box with an X or a tick in it, about 1 for a solid square.
    None when the box comes from a text layer's drawing, where a tick is a character (a
    word inside the box) rather than ink.
    """

    bbox: BBox
    fill: float | None = Field(default=None, ge=0.0, le=1.0)


class Notice(Frozen):
    """A soft problem that travels with the data (blank page, low confidence, turned page)."""

    code: str
    message: str
    page: int | None = None
    # Where on the page, when the problem has a place (ink the OCR could not read).
    bbox: BBox | None = None


class Page(Frozen):
    number: int = Field(ge=1)
    width: float  # in the units of the original page (points for PDF, pixels for images)
    height: float
    dpi: tuple[float, float] | None = None  # (x, y) of the original image, if any
    words: tuple[Word, ...] = ()
    source: WordSource
    rotation: int = 0  # degrees the page was turned clockwise to read it upright
    # Degrees the upright page was then turned counter-clockwise to straighten its lines
    # (the deskew); with ``rotation`` it takes a stored box to the page as it was read.
    skew: float = 0.0
    rules: tuple[Rule, ...] = ()  # ruling lines: table borders, form lines
    marks: tuple[Mark, ...] = ()  # checkbox squares
    blank: bool = False
    warnings: tuple[Notice, ...] = ()

    @property
    def mean_confidence(self) -> float | None:
        confs = [w.confidence for w in self.words if w.confidence is not None]
        return sum(confs) / len(confs) if confs else None


SourceType = Literal["pdf", "tiff", "png", "jpeg", "text"]


class Document(Frozen):
    sha256: str
    source_type: SourceType
    pages: tuple[Page, ...]
    warnings: tuple[Notice, ...] = ()


# --------------------------------------------------------------------------- facts


class Evidence(Frozen):
    page: int
    bbox: BBox | None
    text: str
    confidence: float | None = None  # lowest OCR confidence among the words quoted; None for text layers


# A therapy class id of lexicons/therapy_classes.json ("proteasome_inhibitor", "car_t" ...).
# A string, not a Literal: the classes are data, checked when the lexicon and the policies
# are loaded, so a new class is a new row, not new code.
TherapyClass = str

# What a statement about a therapy (or a diagnosis) is.  Only "received" counts toward a
# criterion; every other value says why a mention does not:
#   planned        the treating team will give it ("will start", "plan: ...")
#   requested      the product this request is for
#   recommended    recommended or considered, not decided ("would consider", "recommend")
#   discussed      general knowledge, alternatives discussed, a trial's or label's population
#   eligibility    eligibility or candidacy ("candidate for CAR-T", "eligible for")
#   negated        not given ("no prior CAR-T", "never received", "declined", ticked "None")
#   family         a relative's
#   other_patient  another patient's (a misfiled page, a case series)
#   collected_not_given  cells collected (apheresis) for a CAR-T never infused
#   uncertain      cannot be told (an unticked printed option, "possible", an unreadable box)
Assertion = Literal[
    "received",
    "planned",
    "requested",
    "recommended",
    "discussed",
    "eligibility",
    "negated",
    "family",
    "other_patient",
    "collected_not_given",
    "uncertain",
]

# Partial ISO date: "2019", "2019-03" or "2019-03-15".
PartialDate = str


class Therapy(Frozen):
    ingredient: str  # lowercase generic name
    therapy_class: TherapyClass
    regimen: str | None = None  # the regimen name as written, e.g. "VRd"
    start: PartialDate | None = None
    end: PartialDate | None = None
    line: int | None = None
    assertion: Assertion = "received"
    phase: str | None = None  # induction, consolidation, maintenance, conditioning, salvage
    clinical_trial: bool = False
    evidence: tuple[Evidence, ...] = ()
    start_unreadable: str | None = None  # the start date as written, when it could not be read
    # Antigens the agent is directed against (lexicon): "BCMA" for teclistamab and ide-cel.
    targets: tuple[str, ...] = ()
    # Evidence of the class with no drug named ("triple-class refractory", "PI-exposed"):
    # counts as the class received; the reviewer is shown that no drug was named.
    class_level: bool = False
    # Named in a form's printed question or option ("Immunomodulatory agent (lenalidomide,
    # pomalidomide, thalidomide): [X] Received"): the words are printed whatever the answer,
    # so they weigh less than a statement someone wrote.
    printed: bool = False


class LineOfTherapy(Frozen):
    number: int
    start: PartialDate | None = None
    end: PartialDate | None = None
    regimens: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    # Where its dates are written: a numbered entry whose regimen OCR doubts ("DVd" at low
    # confidence) is still a line when its dates read well.
    date_evidence: tuple[Evidence, ...] = ()
    # The start date is written ("10/2081") but could not be read as a date; its box is
    # among the evidence.  The line is dated; the reviewer reads the date on the page.
    start_unreadable: str | None = None
    # Its start date is told only from memory ("2018 (per pt)", "she thinks in 2020"): the
    # words that say so.  The date is shown, but it is no documented date of the line.
    start_recalled: str | None = None
    # A line for another disease than the policy's (a lymphoma's R-CHOP under a myeloma
    # policy): shown, but not a prior line.  Set by the evaluator from the policy file's
    # ``disease.other_disease_lines``; such lines are numbered after the others.
    other_disease: bool = False
    # Why this is a line of its own: the IMWG 2015 rule that split it from the line before
    # ("first_line", "new_regimen", "unplanned_addition", "further_transplant",
    # "retreatment", "numbered_in_document") and a plain sentence naming the statements.
    split_rule: str | None = None
    # How many more of the document's own line numbers this line holds: "1 VRd / 2 ASCT /
    # 3 len maintenance" numbered by the author is one line by IMWG rules, and a count
    # written beside it ("5 prior lines") counts those numbers, not lines.
    phases_numbered: int = 0
    why: str = ""


def numbered_entries(lines: Sequence[LineOfTherapy]) -> int:
    """The lines as the document numbered them: the listed lines, and the phases of a line
    (its transplant, its maintenance) its author numbered as lines of their own."""
    return len(lines) + sum(line.phases_numbered for line in lines)


class AgeFact(Frozen):
    years: int
    # "at_least": a form's age-threshold question answered yes ("18 years of age or older?
    # [X] Yes"): the member is at least ``years`` old, the age itself is not told
    how: Literal["stated", "from_date_of_birth", "at_least"]
    evidence: tuple[Evidence, ...] = ()


class DiagnosisFact(Frozen):
    concept: str  # e.g. "multiple_myeloma", or another cancer's key from the lexicon
    is_target: bool  # the diagnosis the policy is about (multiple myeloma)
    text: str
    icd10: str | None = None
    assertion: Assertion = "received"
    evidence: tuple[Evidence, ...] = ()


class StatusFact(Frozen):
    status: str  # relapsed, refractory, progressive, remission, response ...
    text: str
    assertion: Assertion = "received"
    evidence: tuple[Evidence, ...] = ()


class Finding(Frozen):
    """A yes/no fact a policy may ask about: outpatient attestation, tocilizumab available..."""

    key: str
    text: str
    assertion: Assertion = "received"
    evidence: tuple[Evidence, ...] = ()


HistoryStatus = Literal["complete", "partial", "unknown"]


class HistoryFact(Frozen):
    """Whether the documentation presents its treatment history as the whole history.

    complete: a titled treatment history, a numbered or tabled sequence of lines, "prior
    therapies:", a form's history section.  partial: the documentation says so (records
    to follow, most recent therapy only, a dispensing record without infused drugs, pages
    missing against the cover sheet) or mentions therapy only in passing.  A missing class
    or too few lines is "not met" only on a complete history or an explicit statement.
    """

    status: HistoryStatus
    reason: str
    evidence: tuple[Evidence, ...] = ()
    # partial because the documentation itself says so (records to follow, pages missing
    # against the cover sheet), not because this service's reading found lines or drugs
    # that do not add up: only then is a count beyond the listed lines explained
    said_partial: bool = False


RequestHow = Literal["form_field", "request_wording", "billing_code", "mentioned"]


class RequestFact(Frozen):
    """What the fax asks for: the product and its billing code, as written.

    ``product`` is the lexicon's generic name ("ciltacabtagene autoleucel"), None when only
    a billing code names the request.  ``how`` says which statement carried it: a request
    form's drug field, request wording ("request authorization for Carvykti"), or a code;
    "mentioned": no statement says what is requested, and the one product the documentation
    names as planned or considered, never as given, is taken for it.
    """

    product: str | None = None
    brand: str | None = None
    hcpcs: str | None = None
    how: RequestHow
    text: str
    evidence: tuple[Evidence, ...] = ()
    # Other products the fax also names as requested with the same weight: a reviewer
    # must say which one the request is for.
    also_named: tuple[str, ...] = ()


class LabFact(Frozen):
    """One laboratory value as the page gives it, with its unit, date and place.

    ``value`` and ``unit`` are as written (the unit's spelling normalised: "g/dl" ->
    "g/dL"); ``value_std`` is the value in the analyte's own unit (lexicons/labs.json:
    g/dL for serum M-protein, mg/24h for urine M-protein, mg/L for free light chains),
    converted only from a written unit.  A value with no readable unit has ``unit`` and
    ``value_std`` None and says so in ``note``: it is never given a unit.
    """

    analyte: str  # an analyte id of lexicons/labs.json
    value: float
    comparator: Literal["<", ">", "<=", ">="] | None = None  # "<0.1 g/dL", ">1000 mg/L"
    unit: str | None = None
    value_std: float | None = None
    std_unit: str | None = None
    collected: PartialDate | None = None
    date_text: str | None = None  # the date as written
    # Where the date stands (its own line, or the listing's "Collected:" heading); apart
    # from ``evidence`` so a legible date never vouches for illegible digits.
    date_evidence: tuple[Evidence, ...] = ()
    flag: Literal["high", "low"] | None = None  # the lab's own H/L flag
    reference_low: float | None = None  # the range printed beside the value, in its unit
    reference_high: float | None = None
    # Not written as such: how it was derived ("kappa: the FLC ratio 21.6 is above its range").
    derived: str | None = None
    needs_review: bool = False  # digits read with low OCR confidence: a reviewer must look
    note: str = ""
    evidence: tuple[Evidence, ...] = ()


DatedEventKind = Literal["progression", "last_dose"]


class DatedEvent(Frozen):
    """A dated statement about the course of the disease or its treatment."""

    kind: DatedEventKind
    date: PartialDate | None
    text: str
    imwg: bool = False  # the statement says the IMWG criteria were applied
    # Drugs the statement says the disease progressed on ("progressed on talquetamab").
    on_ingredients: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


class SiteFinding(Frozen):
    """A statement about a place of disease (lexicons/sites.json): "no CNS involvement"."""

    site: str
    kind: str
    text: str
    assertion: Assertion = "received"
    evidence: tuple[Evidence, ...] = ()
    # a denial of the present only ("no active CNS disease at this time"): it does not
    # contradict the disease documented in the history
    current_only: bool = False


class TargetStatement(Frozen):
    """A statement about therapy against an antigen with no drug named: "BCMA-naive",
    "no prior anti-BCMA therapy", "refractory to BCMA-directed therapy"."""

    target: str
    text: str
    assertion: Assertion = "received"
    evidence: tuple[Evidence, ...] = ()


# "no_consultation": the documentation says no physician of the specialty was consulted
PrescriberRole = Literal["prescriber", "letterhead", "consultant", "referring", "no_consultation"]


class PrescriberFact(Frozen):
    """A specialty the documentation gives a physician or a practice
    (lexicons/specialties.json): a signature block or a form's prescriber field
    (prescriber), the practice's letterhead, "in consultation with" (consultant)."""

    specialty: str
    role: PrescriberRole
    text: str
    evidence: tuple[Evidence, ...] = ()


class ClinicalFacts(Frozen):
    therapies: tuple[Therapy, ...] = ()
    lines: tuple[LineOfTherapy, ...] = ()
    age: AgeFact | None = None
    date_of_service: PartialDate | None = None
    # when the request was made (a signature or request date; else the date of service):
    # laboratory recency is counted from it
    request_date: PartialDate | None = None
    request_date_evidence: tuple[Evidence, ...] = ()
    # the day the intake queue received the fax (not read from the documents): in
    # utilization management a request is dated by its receipt, so recency falls back
    # to it when the documents state neither a request date nor a date of service
    received: PartialDate | None = None
    diagnoses: tuple[DiagnosisFact, ...] = ()
    disease_status: tuple[StatusFact, ...] = ()
    stated_prior_lines: int | None = None  # "4 prior LOT" written in the note
    stated_prior_lines_evidence: tuple[Evidence, ...] = ()
    findings: tuple[Finding, ...] = ()
    history: HistoryFact | None = None
    request: RequestFact | None = None
    labs: tuple[LabFact, ...] = ()
    events: tuple[DatedEvent, ...] = ()
    sites: tuple[SiteFinding, ...] = ()
    target_statements: tuple[TargetStatement, ...] = ()
    prescribers: tuple[PrescriberFact, ...] = ()
    warnings: tuple[Notice, ...] = ()


# --------------------------------------------------------------------------- report

CriterionStatus = Literal["met", "not_met", "not_documented"]
Determination = Literal["criteria_met", "criteria_not_met", "needs_information"]


class CriterionResult(Frozen):
    id: str
    status: CriterionStatus
    reason: str
    evidence: tuple[Evidence, ...] = ()
    needs_review: bool = False  # rests on low-confidence OCR: a human must look


class InformationalFinding(Frozen):
    id: str
    present: bool
    reason: str
    evidence: tuple[Evidence, ...] = ()


LimitationStatus = Literal["enforced_by_criterion", "conflict", "no_conflict_found", "not_checked"]


class LimitationCheck(Frozen):
    """A policy limitation and what the documentation says against it."""

    id: str
    policy_text: str
    status: LimitationStatus
    reason: str
    evidence: tuple[Evidence, ...] = ()


class CriteriaReport(Frozen):
    policy_id: str
    policy_title: str
    determination: Determination
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...] = ()
    findings: tuple[InformationalFinding, ...] = ()
    limitations: tuple[LimitationCheck, ...] = ()
    determination_reason: str = ""  # why the determination is what it is, in one sentence
    # The lines and therapies as the policy reads them: lines for another disease flagged
    # and numbered last (the therapies' line numbers follow).
    lines: tuple[LineOfTherapy, ...] = ()
    therapies: tuple[Therapy, ...] = ()


class DocumentInfo(Frozen):
    sha256: str
    pages: int
    source_type: SourceType


class PolicyInfo(Frozen):
    id: str
    title: str


class Report(Frozen):
    document: DocumentInfo
    # None when no policy on file covers the requested product: nothing was evaluated.
    policy: PolicyInfo | None
    determination: Determination
    criteria: tuple[CriterionResult, ...]
    therapies: tuple[Therapy, ...]
    lines: tuple[LineOfTherapy, ...]
    missing: tuple[str, ...]
    findings: tuple[InformationalFinding, ...] = ()
    warnings: tuple[Notice, ...] = ()
    determination_reason: str = ""  # copied from CriteriaReport.determination_reason
    limitations: tuple[LimitationCheck, ...] = ()
    request: RequestFact | None = None  # what the fax asks for; it chose the policy
    # Pages about another patient (another date of birth, MRN or name): no fact was read
    # from them; each is named in the warnings too.
    pages_set_aside: tuple[int, ...] = ()
