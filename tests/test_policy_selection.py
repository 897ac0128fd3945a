"""The request chooses the policy: by product and date of service, never another drug's."""

from __future__ import annotations

from common.models import Document
from extractors.layout import pages_from_text
from pipeline.composer import Processed, process_document

ABECMA_LETTER = """Hematology & Oncology Associates of Testville (fictional)
Date of service: 10/14/2025
RE: Prior authorization request - {product}
Patient: Testpatient, Alpha   Age: 64
Diagnosis: Relapsed and refractory multiple myeloma (ICD-10 C90.02).
Treatment history:
Line 1: VRd (bortezomib, lenalidomide, dexamethasone) 03/2019 - 09/2019.
Line 2: Dara-Kd (daratumumab, carfilzomib, dexamethasone) 06/2022 - 08/2025.
The patient has not received any prior CAR-T cell therapy.
"""


def run(text: str, policy_id: str | None = None) -> Processed:
    pages = pages_from_text(text)
    return process_document(Document(sha256="0" * 64, source_type="text", pages=pages), policy_id=policy_id)


def test_an_abecma_request_is_evaluated_under_the_abecma_policy() -> None:
    done = run(ABECMA_LETTER.format(product="Abecma (idecabtagene vicleucel)"))
    assert done.report.request is not None and done.report.request.product == "idecabtagene vicleucel"
    assert done.report.policy is not None and done.report.policy.id == "carepartners-ct-abecma-2025-09"


def test_a_product_with_no_policy_is_said_plainly_and_nothing_is_evaluated() -> None:
    done = run(ABECMA_LETTER.format(product="Kymriah (tisagenlecleucel)"))
    report = done.report
    assert done.policy is None and report.policy is None
    assert report.criteria == () and report.determination == "needs_information"
    assert "Kymriah (tisagenlecleucel)" in report.determination_reason
    assert "No policy is on file" in report.determination_reason
    assert any(w.code == "no_policy_for_product" for w in report.warnings)
    # the report keeps its keys: the therapies read are still shown
    assert report.therapies and report.request is not None


def test_a_fax_that_names_no_product_asks_which() -> None:
    done = run(ABECMA_LETTER.replace("RE: Prior authorization request - {product}\n", ""))
    assert done.report.policy is None and done.report.determination == "needs_information"
    assert "does not say which product is requested" in done.report.determination_reason
    assert done.report.missing == ("The name (or HCPCS code) of the product requested",)


def test_an_explicit_policy_still_overrides_the_request() -> None:
    done = run(ABECMA_LETTER.format(product="Kymriah"), policy_id="carepartners-ct-abecma-2025-09")
    assert done.report.policy is not None and done.report.criteria


def test_two_products_requested_alike_hold_back_criteria_met() -> None:
    letter = ABECMA_LETTER.replace("RE: Prior authorization request - {product}\n", "") + (
        "We request authorization for Abecma. We also request authorization for Carvykti.\n"
    )
    report = run(letter).report
    assert report.request is not None and report.request.also_named
    assert report.determination != "criteria_met"
    assert "which product the request is for" in report.determination_reason
