"""Places of disease and therapy named by its target: usually stated as negatives, so
ConText decides them; seizure prophylaxis and monitoring are not the member's condition."""

from __future__ import annotations

import pytest
from extract_support import facts_of

SITES = [
    # (trap, text, kind, assertion)
    ("a plain negative", "No CNS involvement.", "involvement", "negated"),
    ("a form's answer", "CNS involvement: none", "involvement", "negated"),
    (
        "a negative after an imaging lead-in",
        "MRI brain: no leptomeningeal disease.",
        "involvement",
        "negated",
    ),
    ("no history of", "No history of CNS disease.", "involvement", "negated"),
    ("never told of", "ROS: no headaches. Never told of CNS disease.", "involvement", "negated"),
    (
        "never diagnosed with",
        "She was never diagnosed with leptomeningeal disease.",
        "involvement",
        "negated",
    ),
    # existence denied with "never" alone: before, the site stood unnegated and the
    # criterion read not met on a document that denied it
    (
        "there has never been",
        "Headaches since May; there has never been CNS involvement of her myeloma.",
        "involvement",
        "negated",
    ),
    # the disease placed by a verb: "myeloma involving the brain"
    (
        "no myeloma involving the brain",
        "She has no history of myeloma involving the brain or meninges.",
        "involvement",
        "negated",
    ),
    (
        "myeloma involving the brain",
        "Biopsy confirmed myeloma involving the brain.",
        "involvement",
        "received",
    ),
    # a study's indication names what it looks for
    (
        "an indication to evaluate for",
        "Indication: Multiple myeloma. Dizziness. Evaluate for intracranial/leptomeningeal disease.",
        "involvement",
        "uncertain",
    ),
    ("a study to exclude", "MRI brain to exclude leptomeningeal disease.", "involvement", "uncertain"),
    (
        "CNS myeloma in the history",
        "History of CNS myeloma treated with IT methotrexate in 2024.",
        "involvement",
        "received",
    ),
    (
        "'no improvement of' reports the disease",
        "No improvement of CNS disease on therapy.",
        "involvement",
        "received",
    ),
    # a plasmacytoma placed in the brain is CNS myeloma, treated or not; "no new lesion"
    # beside it does not take it back
    (
        "a treated plasmacytoma of the brain",
        "Stable post-treatment changes at the site of the previously treated parenchymal "
        "plasmacytoma (status post radiosurgery 05/2024). No new enhancing lesion.",
        "involvement",
        "received",
    ),
    ("a cerebral plasmacytoma", "Cerebral plasmacytoma resected in 2023.", "involvement", "received"),
    ("a seizure had", "He had a seizure in 2025.", "event", "received"),
    (
        "seizure prophylaxis is not a seizure",
        "Seizure prophylaxis with levetiracetam per protocol.",
        "event",
        "discussed",
    ),
    ("a relative's stroke", "Her mother had a stroke.", "event", "family"),
    ("meningeal signs denied", "No meningeal signs on exam.", "meningeal", "negated"),
    ("a bare label answered", "CNS: negative", "involvement", "negated"),
    ("an imaging label answered", "MRI brain: negative for disease", "involvement", "negated"),
    ("a label answered positive", "CNS: positive (leptomeningeal)", "involvement", "received"),
    # the study's date between the label and its answer
    (
        "a dated imaging label answered",
        "MRI brain 10/06/2026: no leptomeningeal or parenchymal disease.",
        "involvement",
        "negated",
    ),
    ("a dated cytology answered", "CSF cytology (3/2/26): negative.", "involvement", "negated"),
    # medspaCy's backward "was negative" takes these tokens, and its forward "negative for"
    # was dropped as overlapping: what followed went unnegated
    (
        "'was negative for' a pair of places",
        "MRI brain on 09/24/2025 was negative for intracranial or leptomeningeal disease.",
        "involvement",
        "negated",
    ),
]


@pytest.mark.parametrize(("text", "kind", "assertion"), [s[1:] for s in SITES], ids=[s[0] for s in SITES])
def test_cns_findings(text: str, kind: str, assertion: str) -> None:
    found = [(s.kind, s.assertion) for s in facts_of(text).sites if s.site == "cns"]
    assert (kind, assertion) in found, found


@pytest.mark.parametrize(
    ("text", "now_only"),
    [
        ("There is no active CNS disease at present.", True),
        ("No CNS disease at this time.", True),
        ("No active or prior CNS involvement.", False),
        ("No history of CNS disease.", False),
        ("No CNS involvement.", False),
    ],
)
def test_a_denial_of_the_present_is_marked_as_such(text: str, now_only: bool) -> None:
    (site,) = [s for s in facts_of(text).sites if s.site == "cns"]
    assert (site.assertion, site.current_only) == ("negated", now_only)


TARGETS = [
    ("no prior anti-BCMA therapy", "No prior anti-BCMA therapy.", "negated"),
    # a denial limited to one place or time of care says nothing of the care before it
    (
        "none during his care with us",
        "No BCMA-directed agents have been given during his care with us.",
        "uncertain",
    ),
    ("none at our center", "She has received no BCMA-directed therapy at our center.", "uncertain"),
    ("received at our center", "She received BCMA-directed therapy at our center in 2024.", "received"),
    ("BCMA-naive", "She is BCMA-naive.", "negated"),
    # the target's therapy called a treatment or a drug
    (
        "any other BCMA treatment",
        "She has never had belantamab, teclistamab or any other BCMA treatment.",
        "negated",
    ),
    ("has not received BCMA-targeted therapy", "She has not received BCMA-targeted therapy.", "negated"),
    ("refractory to BCMA-directed therapy", "Refractory to prior BCMA-directed therapy.", "received"),
    ("a BCMA bispecific on a trial", "Received a BCMA bispecific on a trial in 2024.", "received"),
    # the denial after a naive phrase agrees with it (it was read as a form's answer, uncertain)
    ("naive, then the drugs denied", "He is BCMA-naive (no belantamab, no bispecific antibody).", "negated"),
    # the agents called drugs or medicines
    ("never a BCMA-targeted drug", "Has never had a BCMA-targeted drug (no belantamab).", "negated"),
    ("no BCMA-targeted medicines", "She has not had any BCMA-targeted medicines such as Blenrep.", "negated"),
    # a target named in talk of options is not an exposure
    (
        "a BCMA bispecific discussed, not given",
        "We also discussed elranatamab, a BCMA bispecific, but chose not to use it.",
        "discussed",
    ),
]


@pytest.mark.parametrize(("text", "assertion"), [t[1:] for t in TARGETS], ids=[t[0] for t in TARGETS])
def test_target_statements(text: str, assertion: str) -> None:
    assert [(t.target, t.assertion) for t in facts_of(text).target_statements] == [("BCMA", assertion)]


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        # every kind of BCMA therapy denied in one sentence, the target never named
        ("No prior belantamab, bispecific antibody or CAR-T therapy.", True),
        ("She has not received belantamab, teclistamab, elranatamab, linvoseltamab or any CAR-T.", True),
        ("No CAR-T, no bispecific antibody, no ADC.", True),
        # one kind left open: no statement about the target
        ("She has not received teclistamab or any CAR-T.", False),
        ("Never received CAR-T or a bispecific; belantamab 2022.", False),
        # the kinds named in another sentence, not denied
        ("No prior CAR-T. Bispecific antibody and ADC were discussed.", False),
    ],
)
def test_a_denial_of_every_kind_of_therapy_against_a_target_denies_the_target(
    text: str, denied: bool
) -> None:
    got = [t.assertion for t in facts_of(text).target_statements if t.target == "BCMA"]
    assert got == (["negated"] if denied else []), got


def test_the_examples_of_a_denied_class_wrapped_onto_the_next_line_are_denied() -> None:
    """A line opening on "(" and a word continues the sentence above: the parenthesis
    lists the denial's examples, and read as a sentence of their own they were given."""
    facts = facts_of(
        "History: hypertension, no prior allogeneic transplant, no prior BCMA-targeted therapy\n"
        "(belantamab, teclistamab, elranatamab or any BCMA bispecific) and no prior CAR-T."
    )
    drugs = {"belantamab mafodotin", "teclistamab", "elranatamab"}
    assert {t.ingredient: t.assertion for t in facts.therapies if t.ingredient in drugs} == {
        "belantamab mafodotin": "negated",
        "teclistamab": "negated",
        "elranatamab": "negated",
    }
    assert {t.assertion for t in facts.target_statements} == {"negated"}


def test_a_denial_of_a_targeted_car_t_and_of_every_car_t_stay_two_statements() -> None:
    """ "no BCMA CAR-T) and has never received CAR-T cell therapy of any kind": merged into
    one mention, the wider denial took the narrower one's antigen and no longer denied
    every CAR-T."""
    facts = facts_of(
        "He has not received any BCMA-directed therapy (no belantamab or BCMA CAR-T) and has"
        " never received CAR-T cell therapy of any kind."
    )
    denied = [t.targets for t in facts.therapies if t.therapy_class == "car_t" and t.assertion == "negated"]
    assert () in denied and ("BCMA",) in denied


def test_a_class_judged_in_general_is_not_an_exposure() -> None:
    facts = facts_of("Daratumumab is an option; BCMA bispecifics are reasonable after CAR-T.")
    assert {t.ingredient: t.assertion for t in facts.therapies}.get("daratumumab") == "discussed"
    assert "received" not in {t.assertion for t in facts.target_statements}


def test_a_bcma_car_t_phrase_stays_car_t() -> None:
    facts = facts_of("s/p anti-BCMA CAR T 2023.")
    assert facts.target_statements == ()
    assert any(t.therapy_class == "car_t" for t in facts.therapies)
