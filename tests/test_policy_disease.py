"""The policy file says what its disease is and what marks a line as another disease's."""

from __future__ import annotations

from extract_support import facts_of

from criteria.evaluator import evaluate, lines_under_policy
from criteria.policy import get_policy

ABECMA = get_policy("carepartners-ct-abecma-2025-09")

LYMPHOMA_THEN_MYELOMA = (
    "Other history: diffuse large B-cell lymphoma, R-CHOP 03/2014 - 08/2014, in remission.\n"
    "Myeloma treatment: Dara-VRd 01/2021 - 05/2021, ASCT 07/2021, lenalidomide maintenance"
    " 09/2021 - 08/2025, progression."
)


def test_a_remote_lymphomas_lines_are_flagged_and_numbered_after_the_myeloma_lines() -> None:
    """R-CHOP for a lymphoma in 2014 is a line of therapy, not a prior line of myeloma therapy:
    the policy's other_disease_lines (rituximab, anti-CD20) say so, not the drug lexicon."""
    shown = lines_under_policy(facts_of(LYMPHOMA_THEN_MYELOMA), ABECMA)
    assert [(line.number, line.other_disease) for line in shown.lines] == [(1, False), (2, True)]
    assert "rituximab" in shown.lines[1].ingredients and "daratumumab" in shown.lines[0].ingredients
    # the therapies follow their lines' new numbers
    assert {t.line for t in shown.therapies if t.ingredient == "rituximab"} == {2}
    assert {t.line for t in shown.therapies if t.ingredient == "daratumumab"} == {1}


def test_the_report_shows_the_lines_as_the_policy_counts_them() -> None:
    report = evaluate(facts_of(LYMPHOMA_THEN_MYELOMA), ABECMA)
    assert [line.other_disease for line in report.lines] == [False, True]
    prior = next(c for c in report.criteria if c.id == "prior_lines")
    assert "another disease than multiple myeloma" in prior.reason


def test_a_policy_without_other_disease_markers_counts_every_line() -> None:
    """The same history under a policy that names no marker: both lines count."""
    bare = ABECMA.model_copy(
        update={
            "disease": ABECMA.disease.model_copy(
                update={"other_disease_lines": type(ABECMA.disease.other_disease_lines)()}
            )
        }
    )
    shown = lines_under_policy(facts_of(LYMPHOMA_THEN_MYELOMA), bare)
    assert [line.other_disease for line in shown.lines] == [False, False]


LYMPHOMA_CAR_T_THEN_MYELOMA = (
    "Lymphoma: DLBCL 2017, axicabtagene ciloleucel (Yescarta) infused 03/2018, in remission.\n"
    "Myeloma treatment: VRd 05/2021 - 06/2023; DPd 07/2023 - 02/2025; Kd 03/2025 - 10/2026.\n"
    "He has not previously received any BCMA-targeted therapy, including BCMA CAR-T."
)


def test_a_cd19_car_t_is_a_lymphomas_line_and_still_a_prior_car_t() -> None:
    """Regression: a lymphoma's axi-cel (CD19) was a fourth myeloma line.  Every target of
    the agent lies outside the disease (the policy's targets_any), so the line is another
    disease's; the policy bars any prior CAR-T, so it is still one."""
    report = evaluate(facts_of(LYMPHOMA_CAR_T_THEN_MYELOMA), ABECMA)
    assert [line.other_disease for line in report.lines] == [False, False, False, True]
    car_t = next(c for c in report.criteria if c.id == "no_prior_car_t")
    assert car_t.status == "not_met"
    # "no BCMA CAR-T" does not contradict a CD19 CAR-T: no conflict for a reviewer to resolve
    assert "resolve" not in car_t.reason
    assert report.determination == "criteria_not_met"


def test_a_car_t_denied_for_one_antigen_is_no_denial_of_every_car_t() -> None:
    """A CAR-T named with an antigen ("no prior BCMA CAR-T") leaves a CD19 CAR-T open."""
    report = evaluate(facts_of("Prior therapy: VRd 2021; DPd 2023. No prior BCMA CAR-T."), ABECMA)
    assert next(c for c in report.criteria if c.id == "no_prior_car_t").status == "not_documented"
    report = evaluate(facts_of("Prior therapy: VRd 2021; DPd 2023. No prior CAR-T."), ABECMA)
    assert next(c for c in report.criteria if c.id == "no_prior_car_t").status == "met"


def test_a_dual_target_car_t_given_for_the_disease_is_not_another_diseases_line() -> None:
    """A BCMA/CD19 dual CAR-T (GC012F) has a target of the disease: its line counts."""
    text = "Treatment history: VRd 2019-2021; DPd 2021-2023; GC012F infused 05/2024 on trial."
    shown = lines_under_policy(facts_of(text), ABECMA)
    assert not any(line.other_disease for line in shown.lines)
