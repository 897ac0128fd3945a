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
