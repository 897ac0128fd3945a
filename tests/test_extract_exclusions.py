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
]


@pytest.mark.parametrize(("text", "kind", "assertion"), [s[1:] for s in SITES], ids=[s[0] for s in SITES])
def test_cns_findings(text: str, kind: str, assertion: str) -> None:
    found = [(s.kind, s.assertion) for s in facts_of(text).sites if s.site == "cns"]
    assert (kind, assertion) in found, found


TARGETS = [
    ("no prior anti-BCMA therapy", "No prior anti-BCMA therapy.", "negated"),
    ("BCMA-naive", "She is BCMA-naive.", "negated"),
    ("has not received BCMA-targeted therapy", "She has not received BCMA-targeted therapy.", "negated"),
    ("refractory to BCMA-directed therapy", "Refractory to prior BCMA-directed therapy.", "received"),
    ("a BCMA bispecific on a trial", "Received a BCMA bispecific on a trial in 2024.", "received"),
    # the denial after a naive phrase agrees with it (it was read as a form's answer, uncertain)
    ("naive, then the drugs denied", "He is BCMA-naive (no belantamab, no bispecific antibody).", "negated"),
    # the agents called drugs or medicines
    ("never a BCMA-targeted drug", "Has never had a BCMA-targeted drug (no belantamab).", "negated"),
    ("no BCMA-targeted medicines", "She has not had any BCMA-targeted medicines such as Blenrep.", "negated"),
]


@pytest.mark.parametrize(("text", "assertion"), [t[1:] for t in TARGETS], ids=[t[0] for t in TARGETS])
def test_target_statements(text: str, assertion: str) -> None:
    assert [(t.target, t.assertion) for t in facts_of(text).target_statements] == [("BCMA", assertion)]


def test_a_bcma_car_t_phrase_stays_car_t() -> None:
    facts = facts_of("s/p anti-BCMA CAR T 2023.")
    assert facts.target_statements == ()
    assert any(t.therapy_class == "car_t" for t in facts.therapies)
