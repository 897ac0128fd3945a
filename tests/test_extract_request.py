"""What the fax asks for: the request chooses the policy, so a product merely mentioned
(a prior infusion, a plan considered, a denial, a claim line) must never read as requested."""

from __future__ import annotations

import pytest

from common.models import RequestFact
from extractors.layout import pages_from_text
from extractors.pagetext import build_page_text
from extractors.request import find_request

CILTA, IDE = "ciltacabtagene autoleucel", "idecabtagene vicleucel"


def request_of(text: str, confidence: float | None = None) -> RequestFact | None:
    return find_request(build_page_text(pages_from_text(text, confidence=confidence)))


REQUESTS = [
    # (trap, text, product, hcpcs, how)
    (
        "a form's drug field",
        "Drug requested: Carvykti (ciltacabtagene autoleucel)",
        CILTA,
        None,
        "form_field",
    ),
    ("a form's field after a box", "[X] Medication name: cilta-cel", CILTA, None, "form_field"),
    (
        "a form's product field of options, one ticked",
        "Product: \u25a1 Abecma \u25a0 Carvykti \u25a1 Breyanzi \u25a1 Kymriah",
        CILTA,
        None,
        "form_field",
    ),
    ("the options as brackets", "Product: [ ] Abecma [X] Carvykti [ ] Other", CILTA, None, "form_field"),
    (
        "request wording before the product",
        "We are requesting authorization for cilta-cel.",
        CILTA,
        None,
        "request_wording",
    ),
    (
        "request wording after the product, past a semicolon",
        "Plan: Abecma (ide-cel); prior authorization requested.",
        IDE,
        None,
        "request_wording",
    ),
    ("a subject line", "RE: Prior authorization request, Abecma - Testpatient", IDE, None, "form_field"),
    (
        "wording wrapped over a line",
        "I am writing to request coverage of\nCarvykti for this patient.",
        CILTA,
        None,
        "request_wording",
    ),
    ("the product's own code, labelled", "HCPCS: Q2056", CILTA, "Q2056", "billing_code"),
    ("a code no lexicon product has, labelled", "HCPCS code: C9098", None, "C9098", "billing_code"),
    (
        "name and code together",
        "Request for Carvykti (ciltacabtagene autoleucel), HCPCS Q2056.",
        CILTA,
        "Q2056",
        "request_wording",
    ),
    (
        "an OCR-damaged brand after a request cue",
        "writing to request coverage of Abeema for this patient",
        IDE,
        None,
        "request_wording",
    ),
    (
        "a bispecific requested",
        "We request prior authorization for Tecvayli (teclistamab).",
        "teclistamab",
        None,
        "request_wording",
    ),
]


@pytest.mark.parametrize(
    ("text", "product", "hcpcs", "how"), [r[1:] for r in REQUESTS], ids=[r[0] for r in REQUESTS]
)
def test_the_request_is_read(text: str, product: str | None, hcpcs: str | None, how: str) -> None:
    found = request_of(text)
    assert found is not None
    assert (found.product, found.hcpcs, found.how) == (product, hcpcs, how)
    assert found.evidence and all(e.bbox is not None for e in found.evidence)


NOT_REQUESTS = [
    ("a prior infusion", "She is s/p cilta-cel 03/2023 with progression in 2024."),
    ("a denial by insurance", "Carvykti was denied by insurance in 09/2023."),
    ("a plan considered", "We would consider cilta-cel in the future."),
    ("a claim line of a prior infusion", "Q2055 Idecabtagene vicleucel, claim paid 05/2024"),
    (
        "a history after a request cue, past a colon",
        "Request coverage of the following: Line 1: Dara-VRd 2019",
    ),
    ("a trial named", "She was screened for CARTITUDE-4."),
    (
        "a drug two lines below a cue, in another row of a medication list",
        "teclistamab 0.06 mg/kg SC 07/22/2025 Discontinued not administered;\nreferred for CAR-\n"
        "T evaluation\npomalidomide 3 mg PO daily 02/14/2023 08/30/2024 Discontinued",
    ),
]


@pytest.mark.parametrize("text", [r[1] for r in NOT_REQUESTS], ids=[r[0] for r in NOT_REQUESTS])
def test_a_product_mentioned_is_not_requested(text: str) -> None:
    assert request_of(text) is None


def test_a_form_field_outweighs_wording() -> None:
    text = "We previously discussed Abecma.\nDrug requested: Carvykti\nAbecma is requested by the family."
    found = request_of(text)
    assert found is not None and found.product == CILTA and found.how == "form_field"


def test_two_products_requested_alike_are_both_reported() -> None:
    found = request_of("We request authorization for Abecma. We also request authorization for Carvykti.")
    assert found is not None
    assert {found.product, *found.also_named} == {IDE, CILTA}


def test_a_code_for_another_product_than_the_name_is_a_conflict() -> None:
    found = request_of("Request for Carvykti. HCPCS: Q2055")
    assert found is not None and found.product == CILTA and found.also_named == (IDE,)


def test_an_ocr_damaged_name_lowers_the_evidence_confidence() -> None:
    found = request_of("writing to request coverage of Abeema for this patient", confidence=0.95)
    assert found is not None and found.evidence[0].confidence is not None
    assert found.evidence[0].confidence < 0.95


def test_a_drug_field_whose_label_heads_a_column_names_the_request() -> None:
    """Regression: a payer form printed "Drug name / strength   Date of request" over
    "ELREXFIO (elranatamab-bcmm) 44 mg   07/20/2026" under a "DRUG REQUESTED" heading; no
    colon, so the field went unread and the request was taken from a prior cilta-cel."""
    text = (
        "DRUG REQUESTED\n"
        "Drug name / strength          Date of request\n"
        "ELREXFIO (elranatamab-bcmm)   07/20/2026\n"
        "PRIOR THERAPIES\n"
        "Carvykti (ciltacabtagene autoleucel), infused 03/2024\n"
    )
    found = request_of(text)
    assert found is not None and (found.product, found.how) == ("elranatamab", "form_field")


@pytest.mark.parametrize(
    "text",
    [
        # a medication list's column, no request heading above it
        "Current medications\nDrug name        Dose\nRevlimid         10 mg daily\n",
        # options under the label are the checkbox readers' to read, ticked or not
        "Product requested   Dose\n[ ] Abecma (idecabtagene vicleucel) Q2055\n",
        # a sentence that ends on 'request' is prose, not a label
        "I support that request. Should the plan require it\nwe would give dexamethasone\n",
    ],
)
def test_a_column_label_names_no_request_outside_a_requested_drugs_field(text: str) -> None:
    found = request_of(text)
    assert found is None or found.how != "form_field"


def test_the_code_of_an_option_nobody_ticked_is_no_request() -> None:
    """Regression: "[ ] Abecma (idecabtagene vicleucel) Q2055  [X] Carvykti ... Q2056": both
    codes counted alike and the first written, Abecma's, chose the policy."""
    text = (
        "Product requested   Dose / units\n"
        "[ ] Abecma (idecabtagene vicleucel) Q2055 [X] Carvykti (ciltacabtagene autoleucel) Q2056\n"
    )
    found = request_of(text)
    assert found is not None and (found.product, found.hcpcs) == (CILTA, "Q2056")
