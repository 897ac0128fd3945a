"""Hand-built facts for the Carvykti policy's tests (no OCR, no spaCy)."""

from __future__ import annotations

from _criteria_facts import AGE_67, MYELOMA, RELAPSED, ev, history, therapy

from common.models import ClinicalFacts, DatedEvent, LabFact, PrescriberFact, SiteFinding, TargetStatement

CARVYKTI = "qualchoice-carvykti-bi699-2023-08"
ABECMA = "carepartners-ct-abecma-2025-09"

VRD = ("bortezomib", "lenalidomide", "dexamethasone")
DKD = ("daratumumab", "carfilzomib", "dexamethasone")
PD = ("pomalidomide", "dexamethasone")
TEC = ("teclistamab",)
ISAKD = ("isatuximab", "carfilzomib", "dexamethasone")
FOUR_LINES = (
    (VRD, "2019-03", "2020-01"),
    (DKD, "2020-06", "2022-02"),
    (PD, "2022-04", "2024-05"),
    (ISAKD, "2024-06", "2026-08"),
)


def lab(
    analyte: str,
    value: float,
    unit: str | None,
    collected: str | None = "2026-10-02",
    *,
    std: float | None = None,
    conf: float | None = None,
    flag: str | None = None,
    comparator: str | None = None,
) -> LabFact:
    from common.vocabulary import lab_vocabulary, to_analyte_unit

    row = lab_vocabulary().analyte(analyte)
    assert row is not None
    if std is None:
        std = value if row.unit is None else (to_analyte_unit(analyte, value, unit) if unit else None)
    return LabFact.model_validate(
        {
            "analyte": analyte,
            "value": value,
            "unit": unit,
            "value_std": std,
            "std_unit": row.unit,
            "collected": collected,
            "flag": flag,
            "comparator": comparator,
            "needs_review": conf is not None and conf < 0.6,
            "evidence": (ev(3, f"{analyte} {value} {unit or ''}", conf),),
        }
    )


SERUM_OK = lab("serum_m_protein", 2.1, "g/dL")
NO_CNS = SiteFinding(
    site="cns",
    kind="involvement",
    text="CNS involvement",
    assertion="negated",
    evidence=(ev(1, "No CNS involvement"),),
)
NO_BCMA = TargetStatement(
    target="BCMA",
    text="anti-BCMA therapy",
    assertion="negated",
    evidence=(ev(1, "no prior anti-BCMA therapy"),),
)
HEME_ONC = PrescriberFact(
    specialty="oncology",
    role="prescriber",
    text="Hematology/Oncology",
    evidence=(ev(4, "Hematology/Oncology"),),
)
NO_CAR_T = therapy("car-t cell therapy", assertion="negated", page=3)


def progression(date: str, *, on: tuple[str, ...] = (), imwg: bool = True) -> DatedEvent:
    return DatedEvent(
        kind="progression",
        date=date,
        text=f"PD {date}",
        imwg=imwg,
        on_ingredients=on,
        evidence=(ev(2, f"PD {date}"),),
    )


def last_dose(date: str) -> DatedEvent:
    return DatedEvent(
        kind="last_dose", date=date, text=f"last dose {date}", evidence=(ev(2, f"last dose {date}"),)
    )


def carvykti_facts(
    *lines: tuple[tuple[str, ...], str | None, str | None], **overrides: object
) -> ClinicalFacts:
    """A request that meets every criterion of the Carvykti policy (four dated lines, labs
    within 30 days, no CNS, no BCMA, a hematologist/oncologist prescribing)."""
    built = history(*(lines or FOUR_LINES))
    base: dict[str, object] = {
        **built,
        "age": AGE_67,
        "diagnoses": (MYELOMA,),
        "disease_status": (RELAPSED,),
        "date_of_service": "2026-10-14",
        "labs": (SERUM_OK,),
        "sites": (NO_CNS,),
        "target_statements": (NO_BCMA,),
        "prescribers": (HEME_ONC,),
    }
    base["therapies"] = (*built["therapies"], NO_CAR_T)
    base.update(overrides)
    return ClinicalFacts.model_validate(base)
