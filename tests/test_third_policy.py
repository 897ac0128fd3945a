"""A third policy is a file, not code: dropped in a folder of its own (a different product,
line count and class set), it is loaded, chosen by the request and evaluated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import PolicyError
from common.models import Document
from common.settings import Settings
from criteria.policy import list_policies, load_policies
from extractors.layout import pages_from_text
from pipeline.composer import process_document

THIRD = {
    "schema_version": 2,
    "id": "example-tecvayli-2026-01",
    "title": "Example Health Plan: Tecvayli (teclistamab), a made-up policy for the test",
    "payer": "Example Health Plan (fictional)",
    "plans": ["Example commercial plans"],
    "drug": {"generic": "teclistamab", "brand": "Tecvayli"},
    "disease": {"concept": "multiple_myeloma", "label": "multiple myeloma"},
    "effective": "2026-01-01",
    "codes": [{"system": "HCPCS", "code": "J9380", "match_terms": ["teclistamab"]}],
    "provenance": {"kind": "payer_guideline", "note": "Invented for a test: three lines, PI and IMiD only."},
    "criteria": [
        {
            "id": "adult",
            "label": "Age 18 or older",
            "policy_text": "Member is 18 or older.",
            "rule": {"rule": "min_age", "years": 18},
            "missing_request": "Age",
        },
        {
            "id": "three_lines",
            "label": "Three or more prior lines",
            "policy_text": "Member has received at least three prior lines of therapy.",
            "rule": {"rule": "min_prior_lines", "count": 3},
            "missing_request": "Prior lines (at least {count})",
        },
        {
            "id": "pi_and_imid",
            "label": "Prior PI and IMiD",
            "policy_text": "Including a proteasome inhibitor and an immunomodulatory agent.",
            "rule": {
                "rule": "all_of",
                "label": "a proteasome inhibitor and an immunomodulatory agent",
                "rules": [
                    {"rule": "class_exposure", "therapy_class": "proteasome_inhibitor", "label": "a PI"},
                    {"rule": "class_exposure", "therapy_class": "immunomodulatory_agent", "label": "an IMiD"},
                ],
            },
            "missing_request": "Documentation of {label}",
        },
        {
            "id": "no_bispecific",
            "label": "No prior BCMA bispecific",
            "policy_text": "Member has not received a BCMA-directed bispecific antibody.",
            "rule": {
                "rule": "no_prior_therapy",
                "therapy_classes": ["bcma_bispecific"],
                "label": "BCMA bispecific therapy",
            },
            "missing_request": "Whether the member has had {label}",
        },
    ],
}

LETTER = """Date of service: 03/02/2026
RE: Prior authorization request - Tecvayli (teclistamab)
Patient: Testpatient, Tau   Age: 70
Diagnosis: relapsed multiple myeloma.
Treatment history:
Line 1: VRd (bortezomib, lenalidomide, dexamethasone) 03/2019 - 09/2019.
Line 2: Dara-Kd (daratumumab, carfilzomib, dexamethasone) 06/2022 - 08/2024.
Line 3: Pd (pomalidomide, dexamethasone) 09/2024 - 01/2026.
"""


def _folder(tmp_path: Path, policy: dict[str, object]) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / f"{policy['id']}.json").write_text(json.dumps(policy), encoding="utf-8")
    return folder


def _run(text: str, folder: Path) -> object:
    document = Document(sha256="1" * 64, source_type="text", pages=pages_from_text(text))
    return process_document(document, settings=Settings(policy_dirs=(folder,)))


def test_a_third_policy_in_a_folder_is_chosen_and_evaluated(tmp_path: Path) -> None:
    folder = _folder(tmp_path, THIRD)
    assert "example-tecvayli-2026-01" in [p.id for p in list_policies((folder,))]
    done = _run(LETTER, folder)
    report = done.report  # type: ignore[attr-defined]
    assert report.policy is not None and report.policy.id == "example-tecvayli-2026-01"
    assert [c.id for c in report.criteria] == ["adult", "three_lines", "pi_and_imid", "no_bispecific"]
    statuses = {c.id: c.status for c in report.criteria}
    assert statuses == {
        "adult": "met",
        "three_lines": "met",
        "pi_and_imid": "met",
        "no_bispecific": "not_documented",
    }
    assert report.determination == "needs_information"
    assert "Whether the member has had BCMA bispecific therapy" in report.missing


def test_the_same_letter_without_the_folder_has_no_policy(tmp_path: Path) -> None:
    document = Document(sha256="1" * 64, source_type="text", pages=pages_from_text(LETTER))
    done = process_document(document, settings=Settings())
    assert done.report.policy is None and done.report.determination == "needs_information"


def test_two_lines_fail_its_count_of_three_on_a_complete_history(tmp_path: Path) -> None:
    folder = _folder(tmp_path, THIRD)
    two = LETTER.replace("Line 3: Pd (pomalidomide, dexamethasone) 09/2024 - 01/2026.\n", "")
    two += "No prior teclistamab, elranatamab or other bispecific antibody.\n"
    report = _run(two, folder).report  # type: ignore[attr-defined]
    assert {c.id: c.status for c in report.criteria}["three_lines"] == "not_met"


def test_a_folder_policy_with_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    clash = dict(THIRD, id="carepartners-ct-abecma-2025-09")
    folder = _folder(tmp_path, clash)
    with pytest.raises(PolicyError, match="duplicate policy id"):
        load_policies((folder,))


def test_a_file_not_named_for_its_id_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "other-name.json").write_text(json.dumps(THIRD), encoding="utf-8")
    with pytest.raises(PolicyError, match="named for its id"):
        load_policies((folder,))


def test_the_cli_lists_a_folder_policy_from_the_environment(tmp_path: Path) -> None:
    folder = _folder(tmp_path, THIRD)
    env = {**os.environ, "INTAKE_POLICY_DIRS": json.dumps([str(folder)])}
    run = subprocess.run(
        [sys.executable, "-c", "from intake.cli import main; main()", "policies"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "example-tecvayli-2026-01" in run.stdout and "qualchoice-carvykti-bi699-2023-08" in run.stdout
