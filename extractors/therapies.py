"""Therapy mentions -> Therapy facts with dates, phase, trial flag and evidence.

A regimen abbreviation yields one Therapy per component (regimen = the name as
written).  Dates come from the same clause of the same line: the first date after
the mention, else the last one before it (table rows often put dates first), else a
dated header line just above ("Line 1 (2019-2020):").  The same ingredient mentioned
several times on one line is one Therapy with all the evidence.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from functools import cache

from common.models import Evidence, Therapy
from common.structure import TableCell
from extractors import cues
from extractors.answers import asks_unanswered, bracketed, form_answer, form_place, option_gloss
from extractors.dates import DateMention, find_dates
from extractors.exposure import narrowed, refractoriness
from extractors.lexicon import Lexicon, load_lexicon
from extractors.mentions import FULL_STOP, Mention, cue_regex
from extractors.nlp import CAR_T, CLASS, NAMED_THERAPY_LABELS, REGIMEN
from extractors.pagetext import PageText
from extractors.structure.index import WHAT_ROLES, CellPlace, StructureIndex


@cache
def _clause() -> re.Pattern[str]:
    """Clause boundaries inside a line: arrows, semicolons, "then", sentence ends, and a full
    stop fax OCR read as a comma before a capitalised sentence opener ("...for several years,
    At progression he received ...", cues.json "sentence_opener", matched as written)."""
    openers = "|".join(re.escape(t) for t in load_lexicon().cue("sentence_opener").terms)
    return re.compile(
        r"->|~>|-»|»|→|=>|>>|;|\bthen\b|\bfollowed by\b|(?<=[a-z0-9)\]])\.\s+(?=[A-Z])"
        rf"|(?<=[a-z]),\s+(?-i:(?=(?:{openers})\b))",
        re.I,
    )


# Item boundaries for phase words: clauses plus commas, slashes and "and".
_ITEM = re.compile(
    r"->|~>|-»|»|→|=>|;|,|\bthen\b|\band\b|\bfollowed by\b|\+|(?<=[a-z0-9)\]])\.\s+(?=[A-Z])", re.I
)


@cache
def _trial() -> re.Pattern[str]:
    """A therapy given on a clinical trial (cues.json "trial_word": on study, on protocol)."""
    return re.compile(
        rf"(?i)clinical trial|\bNCT\d{{8}}\b|\bon (?:a |the )?(?:clinical )?{cues.fragment('trial_word')}\b|"
        r"\benrolled (?:in|on)\b|\bstudy drug\b|\binvestigational\b|\btrial\b"
    )


@cache
def _trial_negated() -> re.Pattern[str]:
    """A sentence that says the member is not on a trial (cues.json "trial_declined")."""
    return re.compile(rf"(?i)\b{cues.fragment('trial_declined')}\b[^.;]{{0,40}}\btrial\b")


_PHASE_HEAD = re.compile(r"\s*(?::|with\b|using\b|consisting of\b)")
_CYCLES = re.compile(r"(?i)\bx\s?\d+\b|\b\d+\s*cycles?\b|\bcycles?\b|\bC\d+D\d+\b")


# Sections and line labels that list diseases: an ambiguous regimen name there (PAD, CTD)
# is a disease unless a drug, cycles or a treatment phase stand beside it.
_DISEASE_LIST_SECTIONS = {
    "past_medical_history",
    "diagnosis",
    "allergies",
    "family_history",
    "social_history",
}


@cache
def _disease_list() -> re.Pattern[str]:
    return re.compile(rf"(?i)\b{cues.fragment('disease_list_label')}\s*:")


# In these sections a CAR-T mention is the request, not history, unless a receipt cue says so.
_PLAN_SECTIONS = {"plan", "assessment_plan"}


@dataclass
class TherapyMention:
    ingredient: str
    therapy_class: str
    role: str
    regimen: str | None
    start: str | None
    end: str | None
    phase: str | None
    clinical_trial: bool
    assertion: str
    line_no: int
    clause: int  # clause index within the line
    offset: int
    evidence: list[Evidence] = field(default_factory=list)
    text: str = ""
    label: str = ""
    regimen_group: int = -1  # mention index for components of one regimen
    start_unreadable: Evidence | None = None  # a start date written but not legible
    # the start date is told from memory ("2018 (per pt)", "she thinks in 2020"): where
    # the words that say so are written
    start_recalled: Evidence | None = None
    dates_evidence: tuple[Evidence, ...] = ()  # where the dates it took are written
    targets: tuple[str, ...] = ()
    sent_start: int = 0  # the sentence the mention stands in (document offsets)
    sent_end: int = 0
    section: str | None = None  # the section category it stands in
    # how the history presents it: "table_row" (a row of a history table, with its dates
    # from the row's Start, Stop and Dates cells); None in running text
    entry: str | None = None
    # the name of a whole class ("stem cell transplant", "CAR-T"), not of one therapy in it
    generic: bool = False


class TherapyBuilder:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.drugs = {d.ingredient: d for d in lexicon.drugs}
        self.targets: dict[str, tuple[str, ...]] = {d.ingredient: tuple(d.targets) for d in lexicon.drugs}
        for product in lexicon.car_t_products:
            self.targets[product.ingredient] = tuple(t for t in product.target.split("/") if t)
        self.procedures = {(p.ingredient, p.phase or ""): p for p in lexicon.procedures}
        self.generic = lexicon.generic_ingredients
        # "BCMA CAR-T", "CD19-directed CAR-T": a class's name qualified by the antigen before
        # it names only the class's agents against that antigen
        names: dict[str, str] = {}
        for row in lexicon.targets:
            for name in (row.target, *row.names):
                names[name.lower()] = row.target
        for agents in self.targets.values():
            for target in agents:
                names.setdefault(target.lower(), target)
        self.target_names = names
        self.target_before = re.compile(
            r"(?i)(?<![\w-])("
            + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            + rf")(?:[- ]?{cues.fragment('target_qualifier')})?[- ]?$"
        )
        self.target_within = re.compile(
            r"(?i)(?<![A-Za-z0-9])("
            + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            + r")(?![A-Za-z0-9])"
        )
        self.car_t_receipt = cue_regex(tuple(lexicon.car_t_receipt_cues))
        self.car_t_population = cue_regex(tuple(lexicon.car_t_population_cues))
        self.car_t_non_receipt = cue_regex(tuple(lexicon.car_t_non_receipt_cues))
        self.car_t_enrolment = cue_regex(tuple(lexicon.car_t_enrolment_cues))
        self.car_t_other_event = cue_regex(tuple(lexicon.car_t_other_event_cues))
        self.car_t_collection_step = cue_regex(tuple(lexicon.car_t_collection_steps))
        self.car_t_infusion_object = cue_regex(tuple(lexicon.car_t_infusion_objects))
        self.lexicon_dated_infusion = tuple(lexicon.car_t_dated_infusion)
        infusion_words = "|".join(
            re.escape(c) for c in sorted(lexicon.car_t_dated_infusion, key=len, reverse=True)
        )
        self.car_t_dated_infusion = re.compile(
            rf"(?i)^[\s:,(-]{{0,3}}(?:{infusion_words})\b[\s:,-]{{0,3}}(?:on\s+)?"
        )
        # the same words anywhere in the rest of a sentence
        self.car_t_infusion_told = re.compile(
            rf"(?i)(?<![\w-])(?:{infusion_words})\b[\s:,-]{{0,3}}(?:on\s+)?"
        )
        self.phase_patterns = [
            (
                row.phase,
                re.compile(
                    r"(?i)(?<![\w-])(?:"
                    + "|".join(re.escape(p) for p in sorted(row.phrases, key=len, reverse=True))
                    + r")(?![\w-])"
                ),
            )
            for row in lexicon.phases
        ]

    # ------------------------------------------------------------------ per mention

    def build(
        self, mentions: list[Mention], text: PageText, index: StructureIndex | None = None
    ) -> list[TherapyMention]:
        index = index or StructureIndex.build(None, ())
        out: list[TherapyMention] = []
        line_dates: dict[int, list[DateMention]] = {}
        layouts: dict[int, LineLayout] = {}
        sentence_trial: dict[int, bool] = {}  # per sentence: a trial named
        class_questions = _class_questions(mentions, text, index)
        for position, mention in enumerate(mentions):
            if mention.label not in NAMED_THERAPY_LABELS:
                continue
            placed = text.words_in(mention.start, mention.end)
            page = placed[0].page if placed else 0
            words = [w.word for w in placed]
            cell = index.cell_of(page, words)
            line_no = text.logical_index(mention.start)
            line = text.logical_text(line_no)
            line_start = text.logical_spans()[line_no][0]
            rel = mention.start - line_start
            if line_no not in line_dates:
                line_dates[line_no] = therapy_dates(line, find_dates(line))
                layouts[line_no] = LineLayout.of(line, self.phase_patterns)
            layout, dates = layouts[line_no], line_dates[line_no]
            span = range(line_start, line_start + len(line))
            if mention.label == REGIMEN and not self._regimen_in_context(
                mention, mentions, line, span, layout, dates
            ):
                continue
            option, question = form_place(index, text, mention.start, mention.end)
            in_form = option is not None or question is not None
            in_history_row = (
                not in_form and cell is not None and cell.history and cell.cell.role in WHAT_ROLES
            )
            if (
                is_short_form(mention)
                and not in_history_row  # a regimen column is a therapy context
                and not self._short_form_in_context(mention, mentions, line, rel, layout, dates)
            ):
                continue
            when = self._dates_for(
                layout,
                line,
                rel,
                mention.end - line_start,
                dates,
                text,
                line_no,
                by_span=mention.label != CAR_T,
            )
            dated_at: tuple[Evidence, ...] = ()
            if when and when.start >= 0 and when.end > when.start:
                at = text.evidence(line_start + when.start, line_start + when.end)
                dated_at = (at,) if at else ()
            if in_history_row and cell is not None:
                from_row = _row_dates(cell, when, text, line_start, index, page)
                if from_row is not None and from_row is not when:
                    dated_at = _row_date_cells(cell)
                when = from_row or when
            start, end = (when.begin, when.finish) if when else (None, None)
            recalled = _recalled(text, line, line_start, layout, when, dated_at) if start else None
            unread: Evidence | None = None
            if when and when.garbled_span and when.begin is None and when.start >= 0:
                # the start is written but unreadable: point the reviewer at it
                unread = text.evidence(line_start + when.garbled_span[0], line_start + when.garbled_span[1])
            clause = layout.clause_index(rel)
            phase = self._phase_for(line, layout, rel, mention.end - line_start)
            sentence = text.text[mention.sent_start : mention.sent_end]
            trial = sentence_trial.get(mention.sent_start)
            if trial is None:
                trial = sentence_trial[mention.sent_start] = bool(_trial().search(sentence)) and not bool(
                    _trial_negated().search(sentence)
                )
            evidence = text.evidence(mention.start, mention.end, confidence_factor=mention.fuzzy_factor)
            assertion = form_answer(option, question, mention.assertion)
            if assertion == "received" and question is not None and id(question) in class_questions:
                # "Immunomodulatory agent (lenalidomide, pomalidomide, thalidomide): [X] Received":
                # the answer is the class's; the drugs are the form's examples of it
                assertion = "uncertain"
            examples = (question is not None and bracketed(text, mention.start, mention.end)) or (
                mention.label != CLASS and option_gloss(text, mention.start, mention.end)
            )
            if assertion == "received" and examples:
                # the kinds a question lists as examples, "Prior BCMA-directed therapy (ADC,
                # bispecific antibody, or CAR-T)? [x] Yes - agent(s): teclistamab": a Yes says
                # one of them was given, not which
                assertion = "uncertain"
            if assertion == "negated" and refractoriness(mention, text):
                # "she is not strictly dara-refractory": refractoriness denied, not receipt
                assertion = "discussed"
            if mention.label == CAR_T and assertion == "negated" and narrowed(mention, text):
                # "has not received a commercial CAR-T product": a part of the class denied
                # (a trial's CAR-T stays open), not every CAR-T
                assertion = "discussed"
            if mention.label == CAR_T and assertion == "received":
                listed = in_history_row or _numbered_entry(line)
                assertion = self._car_t_assertion(
                    mention, line, rel, layout, sentence, bool(start or end), listed
                )
            if mention.label == CAR_T and assertion == "uncertain" and (start or end):
                lo, hi = layout.clause_bounds(rel)
                clause_text = line[lo:hi]
                if self.car_t_other_event.search(clause_text) and not self.car_t_enrolment.search(
                    clause_text
                ):
                    # "underwent leukapheresis on 06/04/2024 for cilta-cel", "CAR-T tumor
                    # board presented 11/13/2025": the clause tells what the date is of (a
                    # collection, a referral, a board), not a CAR-T given; a CAR-T dated and
                    # not read as given or not is one whose date nothing explains (an
                    # enrolment may have ended in an infusion: its date stays)
                    start = end = None
                    dated_at = ()
            if mention.label == CAR_T and assertion == "received" and not (start or end):
                # "(investigational anti-BCMA CAR-T; leukapheresis 05/2022, infusion
                # 06/21/2022)": a CAR-T given by the dated infusion its sentence goes on to
                # tell is dated by it, so a numbered entry's CAR-T is a line with its start
                infused = self._dated_infusion_later(_rest_of_sentence(line, mention.end - line_start))
                if infused is not None:
                    start = infused.begin
            if assertion == "received" and not in_form and asks_unanswered(text, mention.end):
                # "Has the member received prior CAR-T therapy? [|] Yes & No": a form
                # whose boxes were not read asks; it does not say
                assertion = "uncertain"
            if mention.concept.startswith("car_t_wider:") and assertion != "negated":
                # "no prior cellular therapy" denies CAR-T; "the cellular therapy program",
                # "cellular therapy was discussed" say nothing of one
                continue
            for ingredient, klass, role, regimen, fixed_phase, in_trial in self._expand(mention):
                out.append(
                    TherapyMention(
                        ingredient=ingredient,
                        therapy_class=klass,
                        role=role,
                        regimen=regimen,
                        start=start,
                        end=end,
                        phase=fixed_phase or phase,
                        clinical_trial=trial or in_trial,
                        assertion=assertion,
                        line_no=line_no,
                        clause=clause,
                        offset=mention.start,
                        evidence=[evidence] if evidence else [],
                        text=mention.text,
                        label=mention.label,
                        regimen_group=position,
                        start_unreadable=unread,
                        start_recalled=recalled,
                        dates_evidence=dated_at,
                        targets=self.targets.get(ingredient, ())
                        or self._qualified_by(line, rel, mention.text),
                        sent_start=mention.sent_start,
                        sent_end=mention.sent_end,
                        section=mention.section,
                        entry="table_row" if in_history_row else "form" if in_form else None,
                        generic=ingredient in self.generic,
                    )
                )
        return out

    def _qualified_by(self, line: str, rel: int, text: str) -> tuple[str, ...]:
        """The antigen a class's name is qualified by, in the name ("BCMA CAR-T", a synonym
        of the lexicon) or right before it ("CD19-directed CAR-T"), if any."""
        inside = self.target_within.search(text)
        if inside:
            return (self.target_names[inside.group(1).lower()],)
        hit = self.target_before.search(line[max(0, rel - 30) : rel])
        return (self.target_names[hit.group(1).lower()],) if hit else ()

    def _expand(self, mention: Mention) -> list[tuple[str, str, str, str | None, str | None, bool]]:
        kind, _, rest = mention.concept.partition(":")
        if kind == "drug":
            drug = self.drugs[rest]
            # a regimen letter ("R maint") is written as a one-drug regimen: keep it as written
            letter = mention.text.split()[0].rstrip("-")
            regimen = letter if letter in drug.maintenance_letters else None
            return [(drug.ingredient, drug.therapy_class, drug.role, regimen, None, False)]
        if kind in {"car_t", "car_t_trial", "car_t_wider"}:
            return [(rest, "car_t", "systemic", None, None, kind == "car_t_trial")]
        if kind == "regimen":
            row = self.lexicon.regimens[int(rest)]
            out: list[tuple[str, str, str, str | None, str | None, bool]] = []
            for component in row.components:
                drug = self.drugs[component]
                out.append((component, drug.therapy_class, drug.role, mention.text, row.phase, False))
            return out
        if kind == "proc":
            ingredient, _, phase = rest.partition(":")
            proc = self.procedures[(ingredient, phase)]
            # "auto-SCT", "Mel200": the procedure as written stands in the line's regimens
            return [(ingredient, proc.therapy_class, "systemic", mention.text, phase or None, False)]
        return []

    def _car_t_assertion(
        self,
        mention: Mention,
        line: str,
        rel: int,
        layout: LineLayout,
        sentence: str,
        dated: bool,
        listed: bool = False,
    ) -> str:
        """A CAR-T is received only when the statement says it was given: a receipt cue that
        governs the mention (the nearest cue before it in its clause: "s/p cilta-cel",
        "received ide-cel", "relapsed after CAR-T"; or one right after it: "cilta-cel
        infused 3/2023"), or a dated mention in plain history with no cue against receipt.
        Talked about (label, monitoring, an appointment, a claim line, a denial, a request,
        a consultant's plan), it is not: a false prior CAR-T is a wrong "not met"."""
        if self.car_t_population.search(sentence):
            return "uncertain"  # other patients: a trial's population, label text
        lo, hi = layout.clause_bounds(rel)
        end = rel + len(mention.text)
        before = line[max(lo, rel - _GOVERN_BEFORE) : rel]
        after = line[end : min(hi, end + _GOVERN_AFTER)]
        head = after[:_MODIFIES_REACH]
        against_next = self.car_t_non_receipt.search(head)
        if against_next is not None and not self.car_t_receipt.search(head[: against_next.start()]):
            # the mention names what follows it: "the completed CAR-T prior authorization
            # request form", "CAR-T evaluation", "CAR-T slot" - not a CAR-T given
            return "uncertain"
        last_receipt = max((m.end() for m in self._receipts(before)), default=-1)
        last_against = max((m.end() for m in self.car_t_non_receipt.finditer(before)), default=-1)
        if last_receipt > last_against:
            return "received"
        # the receipt word's object may run past the window: "... CAR-T study and underwent
        # leukapheresis" names the step, not the cells, however the window cuts it
        beyond = line[end : min(hi, end + _GOVERN_AFTER + _OBJECT_REACH)]
        first_receipt = next((m.start() for m in self._receipts(beyond) if m.start() < len(after)), None)
        first_against = next((m.start() for m in self.car_t_non_receipt.finditer(after)), None)
        if first_receipt is not None and (first_against is None or first_receipt < first_against):
            return "received"
        if self._infused_on(mention.text, after):
            return "received"
        clause = line[lo:hi]
        sentence_rest = _rest_of_sentence(line, end)
        if not self.car_t_non_receipt.search(line[lo:rel]) and self._dated_infusion_later(sentence_rest):
            # "treated on a study (investigational BCMA CAR-T, "BCM-114" protocol); flu/cy
            # lymphodepletion and infusion 01/2023": the sentence goes on to the cells given,
            # with their date, past the clause ConText reads
            return "received"
        # "Line 3: enrolled on KarMMa 9/2020" lists a line given; told in narrative, "in
        # 8/2024 he enrolled in a trial of a CAR-T" is enrolment, and many enrolled are
        # never infused
        enrolment = not listed and self.car_t_enrolment.search(clause) is not None
        if enrolment and self._infused_later(sentence_rest):
            # "Enrolled in a trial of a BCMA CAR T-cell product in 2021; infused 06/2021": the
            # enrolment, then the cells given, before the full stop (a semicolon ends the
            # ConText sentence, not the telling)
            return "received"
        if (
            dated
            and not enrolment
            and not self.car_t_non_receipt.search(clause)
            and mention.section not in _PLAN_SECTIONS
        ):
            return "received"
        return "uncertain"

    def _infused_later(self, rest: str) -> bool:
        """The rest of the sentence tells an infusion, not denied ("; infused 06/2021")."""
        return any(
            m.group(0).lower().startswith("infus") and not self._is_denied(rest, m)
            for m in self.car_t_receipt.finditer(rest)
        )

    def _dated_infusion_later(self, rest: str) -> DateMention | None:
        """The rest of the sentence tells the infusion itself with its date ("...; infusion
        01/2023", "infused on 3/2/2023"), nothing against receipt told before it ("slot",
        "scheduled", "collected") and the infusion not denied."""
        for m in self.car_t_infusion_told.finditer(rest):
            # the steps before an infusion ("leukapheresis 05/2022, infusion 06/21/2022") are
            # its story; a slot or a schedule before it is not
            against = [
                a
                for a in self.car_t_non_receipt.finditer(rest[: m.start()])
                if not self.car_t_collection_step.fullmatch(a.group(0))
            ]
            if against or self._is_denied(rest, m):
                return None
            tail = rest[m.end() :].lstrip("(")
            if (opening := _opening_start(tail)) is not None:
                told = not self.car_t_non_receipt.search(tail[opening.end :][:_GOVERN_AFTER])
                return opening if told else None
        return None

    def _infused_on(self, named: str, after: str) -> bool:
        """The words right after the mention (or the mention's own last words: the lexicon
        phrase "CAR-T infusion") tell its infusion with a date: "CAR-T infusion 09/14/2021"
        after "apheresis 07/2021, Flu/Cy lymphodepletion," is the cells given."""
        told = self.car_t_dated_infusion.match(after)
        if told is not None:
            after = after[told.end() :]
        elif not any(named.lower().endswith(c.lower()) for c in self.lexicon_dated_infusion):
            return False
        return _opening_start(after.lstrip().lstrip(":,-(").lstrip().removeprefix("on ")) is not None

    @staticmethod
    def _is_denied(text: str, m: re.Match[str]) -> bool:
        """A negation word right before the receipt word: "never infused", "not received"."""
        window = text[max(0, m.start() - _DENIAL_REACH) : m.start()]
        words = list(cues.pattern("receipt_denied").finditer(window))
        return bool(words) and not window[words[-1].end() :].strip()

    def ends_without_infusion(self, text: str) -> bool:
        """``text`` tells cells collected or a trial entered (a collection or enrolment word)
        and that no CAR-T was given: a receipt word denied whose object is the infusion or
        the cells ("the cells were never infused", "she has never received a CAR-T
        infusion", "product not infused")."""
        if not (self.car_t_non_receipt.search(text) or self.car_t_enrolment.search(text)):
            return False
        for m in self.car_t_receipt.finditer(text):
            if not self._is_denied(text, m):
                continue
            told = text[m.start() : m.end() + _INFUSION_OBJECT_REACH]
            if self.car_t_infusion_object.search(told):
                return True
        return False

    def _receipts(self, text: str) -> list[re.Match[str]]:
        """The receipt words of ``text`` that no negation word right before denies: "never
        infused", "not received" say the cells were not given."""

        def is_denied(m: re.Match[str]) -> bool:
            return self._is_denied(text, m)

        def names_other(m: re.Match[str]) -> bool:
            # "underwent leukapheresis", "completed the evaluation": the receipt word's
            # object is a step before infusion, not the CAR-T
            window = text[m.end() : m.end() + _OBJECT_REACH]
            other = self.car_t_non_receipt.search(window)
            return other is not None and len(window[: other.start()].split()) <= 1

        return [m for m in self.car_t_receipt.finditer(text) if not is_denied(m) and not names_other(m)]

    def _short_form_in_context(
        self,
        mention: Mention,
        mentions: list[Mention],
        line: str,
        rel: int,
        layout: LineLayout,
        dates: list[DateMention],
    ) -> bool:
        """A short form ("Rd", "len", "BMT", three letters or fewer) is a therapy only in a
        therapy context: in a treatment-history section, or in a clause with a date, a
        cycle count, a phase, a treatment word or another therapy - and never as a piece of
        a code ("CPC-PA-CART-MM") or before a measured value ("HCT 35.2")."""
        end = rel + len(mention.text)
        if _in_identifier(line, rel, end) or _measured_after().match(line, end):
            return False
        if mention.section == "treatment_history":
            return True
        lo, hi = layout.clause_bounds(rel)
        clause = line[lo:hi]
        line_start = mention.start - rel
        beside = any(
            m is not mention and m.label in NAMED_THERAPY_LABELS and lo <= m.start - line_start < hi
            for m in mentions
        )
        dated = any(lo <= d.start < hi for d in dates)
        return bool(
            beside
            or dated
            or cues.search("therapy_context", clause)
            or any(lo <= p_start and p_end <= hi for p_start, p_end, _ in layout.phases)
        )

    def _regimen_in_context(
        self,
        mention: Mention,
        mentions: list[Mention],
        line: str,
        span: range,
        layout: LineLayout,
        dates: list[DateMention],
    ) -> bool:
        """Ambiguous names (PAD, RD, VD ...) count only beside other treatment context:
        a treatment-history section, another therapy on the line, a date, cycles or a phase."""
        row = self.lexicon.regimens[int(mention.concept.split(":")[1])]
        if mention.text not in row.ambiguous or mention.section == "treatment_history":
            return True
        beside = any(
            m is not mention and m.label in NAMED_THERAPY_LABELS and m.start in span for m in mentions
        )
        if mention.section in _DISEASE_LIST_SECTIONS or _disease_list().search(line):
            # "PMH: HTN, PAD s/p stent 2019, DM2": a problem list dates diseases, not regimens
            return bool(beside or _CYCLES.search(line) or layout.phases)
        return bool(beside or dates or _CYCLES.search(line) or layout.phases)

    def _dates_for(
        self,
        layout: LineLayout,
        line: str,
        start: int,
        end: int,
        dates: list[DateMention],
        text: PageText,
        line_no: int,
        *,
        by_span: bool = True,
    ) -> DateMention | None:
        """``by_span``: a span heading the line may date the mention; not a CAR-T's, whose
        receipt rests on what its own sentence says (a date beside a CAR-T makes it "given"
        in plain history, and an entry's span is not the day of an infusion)."""
        clause = layout.clause_bounds(start)
        # a range that starts in the clause may run past its end ("Kd 1/2019 -> 8/2019":
        # the arrow also separates clauses)
        inside = [d for d in dates if clause[0] <= d.start < clause[1]]
        after = [d for d in inside if d.start >= end]
        before = [d for d in inside if d.end <= start]
        # "2017: Rd, PD 2018" - a date heading its clause with a colon dates what follows it
        headed = [d for d in before if line[d.end : d.end + 2].strip().startswith(":")]
        chosen = headed[-1] if headed else after[0] if after else (before[-1] if before else None)
        if chosen is not None and chosen.begin is None and before and chosen is not before[-1]:
            # "in 04/2020 she started Darzalex ..., continued until 02/2023": the end comes
            # after the drug, the start before it
            opening = before[-1]
            if opening.begin and opening.finish is None and not opening.open_ended:
                chosen = replace(chosen, begin=opening.begin)
        if (
            by_span
            and chosen is None
            and (lead := _leading_date(line, dates)) is not None
            and lead.end <= start
        ):
            # "2019-10 -> 2021-01. DPd (daratumumab SC, ...)": a history entry headed by its
            # span, the full stop after it a label's colon; the clauses after it that carry no
            # date of their own are dated by it
            chosen = lead
        if chosen is None and not dates:
            header = self._header_date(text, line_no)
            # offsets of a header's dates point into another line: drop the garbled span
            chosen = replace(header, start=-1, garbled_span=None) if header else None
        # a list item whose dates close it, after the whole plan: "1. VRd x4 -> auto SCT ->
        # Revlimid maint 04/2018 - 06/2021" - the item's first drug starts the line
        if chosen is None and dates and _ITEM_START.match(line) and start < dates[0].start:
            first_of_item = not any(lo < start for lo in layout.clause_starts if lo < dates[0].start)
            if first_of_item:
                chosen = DateMention(-1, -1, dates[0].begin or dates[0].finish, None)
        return chosen

    @staticmethod
    def _header_date(text: PageText, line_no: int) -> DateMention | None:
        """A dated header just above: "Line 2 (06/2022 - 01/2024):" then the drugs below it."""
        for back in (1, 2):
            if line_no - back < 0:
                return None
            previous = text.logical_text(line_no - back).rstrip()
            # the heading is the line's last sentence: "... (2) KPd (07/2024-12/2025). She is
            # triple-class exposed (IMiD:" ends in a label's colon, and its dates are another
            # sentence's
            heading = _SENTENCE_BREAK.split(previous)[-1]
            if previous.endswith(":") and (found := find_dates(heading)):
                return found[0]
            if not previous.endswith(":") and back == 1:
                return None
        return None

    def _phase_for(self, line: str, layout: LineLayout, start: int, end: int) -> str | None:
        lo, hi = layout.item_bounds(start, end)
        inside = [
            (abs(p_start - start), phase)
            for p_start, p_end, phase in layout.phases
            if lo <= p_start and p_end <= hi
        ]
        if inside:
            return min(inside)[1]
        # a phase heading its clause covers every drug listed after it:
        # "Lymphodepletion with fludarabine and cyclophosphamide", "Induction: VRd"
        clause_lo, _ = layout.clause_bounds(start)
        for p_start, p_end, phase in layout.phases:
            if clause_lo <= p_start and p_end <= start and _PHASE_HEAD.match(line, p_end):
                return phase
        return None


@dataclass(frozen=True)
class LineLayout:
    """Where one (logical) line breaks into clauses and items, and its phase words:
    computed once per line, then looked up by bisection for each mention on it."""

    length: int
    clause_starts: list[int]
    clause_ends: list[int]
    item_starts: list[int]
    item_ends: list[int]
    phases: list[tuple[int, int, str]]  # start, end, phase

    @staticmethod
    def of(line: str, phase_patterns: list[tuple[str, re.Pattern[str]]]) -> LineLayout:
        clauses = list(_clause().finditer(line))
        items = list(_ITEM.finditer(line))
        phases = sorted(
            (m.start(), m.end(), phase) for phase, pattern in phase_patterns for m in pattern.finditer(line)
        )
        return LineLayout(
            len(line),
            [m.start() for m in clauses],
            [m.end() for m in clauses],
            [m.start() for m in items],
            [m.end() for m in items],
            phases,
        )

    def clause_index(self, position: int) -> int:
        return bisect_right(self.clause_ends, position)

    def clause_bounds(self, position: int) -> tuple[int, int]:
        return _bounds(self.clause_starts, self.clause_ends, position, position, self.length)

    def item_bounds(self, start: int, end: int) -> tuple[int, int]:
        return _bounds(self.item_starts, self.item_ends, start, end, self.length)


def _bounds(starts: list[int], ends: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    """The gap between separators around [start, end): after the last separator ending at or
    before ``start``, up to the first starting at or after ``end``."""
    before = bisect_right(ends, start)
    lo = ends[before - 1] if before else 0
    after = bisect_left(starts, end)
    hi = starts[after] if after < len(starts) else length
    return lo, max(hi, lo)


_SENTENCE_BREAK = re.compile(r"(?<=[a-z0-9)\]%])\.\s+(?=[A-Z])")
_OBJECT_REACH = 24  # "underwent apheresis", "completed the evaluation": the object right after
_DENIAL_REACH = 16  # "were not yet infused": a denial stands right before its receipt word
# "never received a CAR-T infusion", "without receiving any investigational product": what a
# denied receipt word is about, within a few words of it
_INFUSION_OBJECT_REACH = 40
_MODIFIES_REACH = 22  # "CAR-T prior authorization": the noun a mention qualifies stands this close


def _class_questions(mentions: list[Mention], text: PageText, index: StructureIndex) -> set[int]:
    """The checkbox questions (by id) that name a drug class, their subject, not only drugs:
    found once per document, not again for every drug printed in a form."""
    found: set[int] = set()
    for m in mentions:
        if m.label == CLASS:
            _, group = form_place(index, text, m.start, m.end)
            if group is not None:
                found.add(id(group))
    return found


def _row_dates(
    cell: CellPlace,
    when: DateMention | None,
    text: PageText,
    line_start: int,
    index: StructureIndex,
    page: int,
) -> DateMention | None:
    """The dates a history table's row gives the drug in its regimen cell: its own date in
    the cell ("auto SCT 7/22") if it has one, else the row's Start and Stop cells, or its
    Dates (or Date given, Date dispensed) cell."""
    if when is not None and when.start >= 0:
        at = text.words_in(line_start + when.start, line_start + when.end)
        own = index.cell_of(page, [w.word for w in at])
        if own is not None and own.cell.column == cell.cell.column and own.row.index == cell.row.index:
            return when  # a date written in the drug's own cell
    begin = _first_date(cell.row.cell("start"))
    finish = _first_date(cell.row.cell("stop"))
    if begin or finish:
        b = begin.begin or begin.finish if begin else None
        f = (finish.begin or finish.finish) if finish else None
        return DateMention(-1, -1, b, f)
    for role in ("dates", "date_given", "date_dispensed", "date"):
        found = _first_date(cell.row.cell(role))
        if found is not None:
            return replace(found, start=-1, end=-1, garbled_span=None)
    return None


def _recalled(
    text: PageText,
    line: str,
    line_start: int,
    layout: LineLayout,
    when: DateMention | None,
    dated_at: tuple[Evidence, ...],
) -> Evidence | None:
    """Where the words stand that make a start date the member's memory (cues.json
    "recalled_date"): in the date's own clause, or in the row cell it was read from."""
    recall = cues.pattern("recalled_date")
    if when is not None and when.start >= 0 and when.end > when.start:
        lo, hi = layout.clause_bounds(when.start)
        found = recall.search(line, lo, max(hi, when.end))
        if found:
            return text.evidence(line_start + found.start(), line_start + found.end())
    start_cell = dated_at[0] if dated_at else None  # a stop cell's "(per pt)" dates only the end
    if start_cell is not None and start_cell.text and recall.search(start_cell.text):
        return start_cell
    return None


def _row_date_cells(cell: CellPlace) -> tuple[Evidence, ...]:
    """Where a history row's dates are written: the cells ``_row_dates`` reads them from."""
    cells = [cell.row.cell("start"), cell.row.cell("stop")]
    if not any(c is not None and _first_date(c) for c in cells):
        cells = [cell.row.cell(role) for role in ("dates", "date_given", "date_dispensed", "date")]
    return tuple(c.span.evidence() for c in cells if c is not None and _first_date(c) is not None)


def _first_date(cell: TableCell | None) -> DateMention | None:
    if cell is None:
        return None
    found = therapy_dates(cell.text, find_dates(cell.text))
    return found[0] if found else None


# A line that is a list item: a number or a bullet opening it.
_ITEM_START = re.compile(r"^\s*(?:[-•*·▪◦‣>]|\(?\d{1,2}[.):])\s+")


# How far a receipt cue reaches a CAR-T mention: before it ("s/p", "received ... ide-cel")
# and after it ("cilta-cel was infused").
_GOVERN_BEFORE = 60
_GOVERN_AFTER = 30

# Short forms: three letters or fewer ("Rd", "len", "BMT"), or an all-capital CAR-T
# short form of four ("CART").
_SHORT_FORM_LENGTH = 3


def is_short_form(mention: Mention) -> bool:
    letters = re.sub(r"[^A-Za-z0-9]", "", mention.text)
    if mention.label == CAR_T:
        # "CART" as a bare word, not "CAR-T" or "CAR T"
        return mention.text.isalpha() and mention.text.isupper() and len(letters) <= _SHORT_FORM_LENGTH + 1
    return len(letters) <= _SHORT_FORM_LENGTH


# A code: capital letters or digits joined by hyphens into three parts or more, the
# mention one of them ("CPC-PA-CART-MM", "AB-12-KD").
_CODE_PART = r"[A-Z0-9]{1,8}"
_IDENTIFIER = re.compile(rf"{_CODE_PART}(?:-{_CODE_PART}){{2,}}")


@cache
def _measured_after() -> re.Pattern[str]:
    """A value measured right after the term: "HCT 35.2", "BMT: 1.2", "SCT 3 %", "VD 18 ng/mL"."""
    unit = cues.fragment("measure_unit")
    return re.compile(rf"(?i)\s*[:=]?\s*(?:\d+\.\d+|\d+\s*{unit})(?![\w/.-])")


def _in_identifier(line: str, start: int, end: int) -> bool:
    return any(m.start() <= start and end <= m.end() for m in _IDENTIFIER.finditer(line))


_MIN_THERAPY_YEAR = 1985  # no myeloma regimen of the lexicon was given earlier


def _rest_of_sentence(line: str, end: int) -> str:
    """What ``line`` tells after ``end`` up to its full stop (past the clause ConText reads)."""
    return FULL_STOP.split(line[end:], maxsplit=1)[0]


def _opening_start(text: str) -> DateMention | None:
    """The date ``text`` opens with, when it gives a start ("01/2023, CRS gr 1")."""
    dates = find_dates(text)
    return dates[0] if dates and dates[0].start == 0 and dates[0].begin is not None else None


# What may stand before a date heading its line: a bullet or a list number.
_LEAD_BEFORE = re.compile(r"[\s\-\u2022*\u00b7]*(?:\d{1,2}[.)]\s*)?")
# What ends it: a colon, a full stop, a dash or a bracket.
_LEAD_AFTER = re.compile(r"\s*[:.\-\u2013\u2014)]")


def _leading_date(line: str, dates: list[DateMention]) -> DateMention | None:
    """The span that heads a history entry: the line's first date, standing first and ended
    by a label's mark, told to the month or as a range ("2019-10 -> 2021-01.", "Mar 2021:");
    a full day alone heading a line is a note's date, not a therapy's."""
    if not dates:
        return None
    first = dates[0]
    if not _LEAD_BEFORE.fullmatch(line[: first.start]) or not _LEAD_AFTER.match(line, first.end):
        return None
    ranged = first.begin is not None and first.finish is not None
    monthly = first.begin is not None and len(first.begin) <= 7
    return first if ranged or monthly else None


def therapy_dates(line: str, dates: list[DateMention]) -> list[DateMention]:
    """The dates of a line that may date a therapy: not a date of birth, of service, of
    the request or of printing (a labelled field), and not before 1985."""
    label = re.compile(rf"(?i){cues.fragment('not_therapy_date')}\W{{0,3}}$")
    kept = []
    for d in dates:
        years = [int(v[:4]) for v in (d.begin, d.finish) if v]
        if years and min(years) < _MIN_THERAPY_YEAR:
            continue
        if label.search(line[max(0, d.start - 30) : d.start]):
            continue
        kept.append(d)
    return kept


def merge_mentions(items: list[TherapyMention]) -> list[TherapyMention]:
    """One entry per ingredient, line, clause and assertion; the evidence of every mention is kept.

    "VRd x4 -> ASCT -> R maint" keeps induction and maintenance lenalidomide apart (two
    clauses); "Velcade (bortezomib) 2019" is one bortezomib with two pieces of evidence.
    """
    merged: dict[tuple[str, int, int, str, str | None, tuple[str, ...]], TherapyMention] = {}
    seen: dict[tuple[str, int, int, str, str | None, tuple[str, ...]], set[tuple[object, ...]]] = {}
    for item in items:
        # the phase too: "Dara-VRd 01/2021 - 05/2021, lenalidomide maintenance 09/2021 -
        # 08/2025" names lenalidomide twice in one clause, as induction and as maintenance
        # and the antigen: "no BCMA CAR-T ... and never CAR-T of any kind" denies two
        # things, the second wider than the first
        key = (item.ingredient, item.line_no, item.clause, item.assertion, item.phase, item.targets)
        if key not in merged:
            merged[key] = replace(item, evidence=list(item.evidence))
            seen[key] = {evidence_key(e) for e in item.evidence}
            continue
        kept = merged[key]
        for evidence in item.evidence:
            if (ev_key := evidence_key(evidence)) not in seen[key]:
                seen[key].add(ev_key)
                kept.evidence.append(evidence)
        kept.regimen = kept.regimen or item.regimen
        if item.start and (not kept.start or not item.start_recalled):
            # a date from the record outweighs one from memory
            kept.start_recalled = item.start_recalled if not kept.start else None
        kept.start = _earliest(kept.start, item.start)
        kept.start_unreadable = kept.start_unreadable or item.start_unreadable
        kept.end = _latest(kept.end, item.end)
        kept.phase = kept.phase or item.phase
        kept.clinical_trial = kept.clinical_trial or item.clinical_trial
    out = list(merged.values())
    # "CAR-T (cilta-cel) 2022", "BCMA CAR-T (ide-cel)", "autologous stem cell transplant
    # on 2023-02-08 (University BMT)": the class name names the same therapy as the one
    # of its class beside it, not a second line
    named = {(i.line_no, i.assertion, i.therapy_class) for i in out if not i.generic}
    return [i for i in out if not (i.generic and (i.line_no, i.assertion, i.therapy_class) in named)]


def _numbered_entry(line: str) -> bool:
    """The line is an entry of a numbered history ("Line 3: ...", "3rd line: ...")."""
    from extractors.numbering import explicit_number  # numbering reads TherapyMention

    return explicit_number(line) is not None


def evidence_key(evidence: Evidence) -> tuple[object, ...]:
    """Hashable identity of a piece of evidence (pydantic equality is slow in bulk)."""
    box = evidence.bbox
    return (evidence.page, evidence.text, (box.x0, box.y0, box.x1, box.y1) if box else None)


def _earliest(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def _latest(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def to_therapy(item: TherapyMention, line: int | None) -> Therapy:
    return Therapy(
        ingredient=item.ingredient,
        therapy_class=item.therapy_class,
        regimen=item.regimen,
        start=item.start,
        end=item.end,
        line=line,
        assertion=item.assertion,
        phase=item.phase,
        clinical_trial=item.clinical_trial,
        evidence=tuple(item.evidence),
        start_unreadable=None if item.start or not item.start_unreadable else item.start_unreadable.text,
        targets=item.targets,
        printed=item.entry == "form",
    )
