"""Hand-built clinical facts for the criteria, summary and FHIR tests (no OCR, no spaCy)."""

from __future__ import annotations

from typing import Any

from common.models import (
    AgeFact,
    Assertion,
    BBox,
    ClinicalFacts,
    DiagnosisFact,
    Document,
    Evidence,
    Finding,
    LineOfTherapy,
    Notice,
    Page,
    StatusFact,
    Therapy,
    TherapyClass,
    WordSource,
)

_CLASSES: dict[str, TherapyClass] = {
    "lenalidomide": "immunomodulatory_agent",
    "pomalidomide": "immunomodulatory_agent",
    "bortezomib": "proteasome_inhibitor",
    "carfilzomib": "proteasome_inhibitor",
    "daratumumab": "anti_cd38_antibody",
    "dexamethasone": "corticosteroid",
    "cyclophosphamide": "alkylating_agent",
    "teclistamab": "bcma_bispecific",
    "talquetamab": "gprc5d_bispecific",
    "belantamab mafodotin": "bcma_adc",
    "isatuximab": "anti_cd38_antibody",
    "idecabtagene vicleucel": "car_t",
    "ciltacabtagene autoleucel": "car_t",
    "car-t": "car_t",
    "car-t cell therapy": "car_t",
}


def _targets(ingredient: str) -> tuple[str, ...]:
    """The antigens the lexicon says the drug or CAR-T product is directed against."""
    from extractors.lexicon import load_lexicon

    lexicon = load_lexicon()
    drug = lexicon.drug(ingredient)
    if drug is not None:
        return tuple(drug.targets)
    product = next((p for p in lexicon.car_t_products if p.ingredient == ingredient), None)
    return tuple(t for t in product.target.split("/") if t) if product else ()


def ev(page: int = 1, text: str = "quoted text", conf: float | None = None, y: float = 0.1) -> Evidence:
    return Evidence(page=page, bbox=BBox(x0=0.1, y0=y, x1=0.6, y1=y + 0.02), text=text, confidence=conf)


def therapy(
    ingredient: str,
    line: int | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    assertion: Assertion = "received",
    trial: bool = False,
    page: int = 2,
    conf: float | None = None,
    regimen: str | None = None,
) -> Therapy:
    return Therapy(
        ingredient=ingredient,
        therapy_class=_CLASSES.get(ingredient, "other"),
        targets=_targets(ingredient),
        regimen=regimen,
        start=start,
        end=end,
        line=line,
        assertion=assertion,
        clinical_trial=trial,
        evidence=(ev(page, f"{ingredient} {start or ''}".strip(), conf),),
    )


def history(*lines: tuple[tuple[str, ...], str | None, str | None]) -> dict[str, tuple]:
    """Therapies and lines from (ingredients, start, end) per line, numbered from 1."""
    therapies: list[Therapy] = []
    out_lines: list[LineOfTherapy] = []
    for number, (drugs, start, end) in enumerate(lines, start=1):
        for d in drugs:
            therapies.append(therapy(d, number, start=start, end=end))
        out_lines.append(
            LineOfTherapy(
                number=number,
                start=start,
                end=end,
                ingredients=drugs,
                evidence=(ev(2, f"Line {number}: {', '.join(drugs)} {start or ''}", y=0.1 * number),),
            )
        )
    return {"therapies": tuple(therapies), "lines": tuple(out_lines)}


DRD = ("daratumumab", "lenalidomide", "dexamethasone")
VRD = ("bortezomib", "lenalidomide", "dexamethasone")
KPD = ("carfilzomib", "pomalidomide", "dexamethasone")
KD = ("carfilzomib", "dexamethasone")

MYELOMA = DiagnosisFact(
    concept="multiple_myeloma", is_target=True, text="multiple myeloma", evidence=(ev(1, "multiple myeloma"),)
)
RELAPSED = StatusFact(status="relapsed", text="relapsed", evidence=(ev(1, "relapsed after 3 lines"),))
AGE_67 = AgeFact(years=67, how="stated", evidence=(ev(1, "67 y/o"),))
NO_CAR_T = therapy("car-t cell therapy", assertion="negated", page=3)


def complete_facts(**overrides: object) -> ClinicalFacts:
    """A request that meets every criterion of the 2025-09 policy (three dated lines)."""
    base: dict[str, object] = {
        **history((VRD, "2019-03", "2020-01"), (DRD, "2020-06", "2022-02"), (KPD, "2022-04", "2024-05")),
        "age": AGE_67,
        "diagnoses": (MYELOMA,),
        "disease_status": (RELAPSED,),
        "date_of_service": "2025-10-01",
        "findings": (
            Finding(
                key="outpatient_attestation", text="outpatient appropriate", evidence=(ev(4, "outpatient"),)
            ),
        ),
    }
    base["therapies"] = (*base["therapies"], NO_CAR_T)  # type: ignore[misc]
    base.update(overrides)
    return ClinicalFacts.model_validate(base)


# --------------------------------------------------------------------------- whole runs, built by hand

SHA = "ab" * 32


def page(number: int) -> Page:
    return Page(number=number, width=612, height=792, source=WordSource.TEXT_LAYER)


def processed(facts: ClinicalFacts, policy_id: str = "carepartners-ct-abecma-2025-09", pages: int = 4) -> Any:
    """A Processed run (the pipeline's record) from facts, without reading a document."""
    from criteria.evaluator import evaluate
    from criteria.policy import select_policy
    from pipeline.composer import Processed, assemble_report

    policy = select_policy(policy_id=policy_id, date_of_service=None)
    checked = evaluate(facts, policy)
    low = Notice(code="W_LOW_CONFIDENCE", message="page 3 read with low confidence", page=3)
    document = Document(
        sha256=SHA, source_type="pdf", pages=tuple(page(n) for n in range(1, pages + 1)), warnings=(low,)
    )
    report = assemble_report(document, facts, checked)
    return Processed(document=document, facts=facts, policy=policy, report=report)


ALL_LINES_FACTS = complete_facts().therapies[:-1]  # the three lines, without the "no prior CAR-T" statement
