"""`intake process`: the report contract on stdout, errors on stderr, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from common.models import Assertion
from fixtures.truth import CRITERIA_IDS as REPORT_CRITERIA_IDS

DATA = Path(__file__).parent / "data"
REPORT_KEYS = {"document", "determination", "criteria", "therapies", "lines", "missing", "warnings"}
CRITERIA_IDS = set(REPORT_CRITERIA_IDS)


def _intake(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("intake")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def met_report() -> dict:
    run = _intake("process", str(DATA / "letter-met.txt"), "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # stdout holds exactly the JSON report


def test_json_report_has_the_contract_keys(met_report: dict) -> None:
    assert set(met_report) >= REPORT_KEYS
    assert set(met_report["document"]) == {"sha256", "pages", "source_type"}
    assert {c["id"] for c in met_report["criteria"]} == CRITERIA_IDS
    for c in met_report["criteria"]:
        assert c["status"] in {"met", "not_met", "not_documented"}
    for t in met_report["therapies"]:
        assert {
            "ingredient",
            "therapy_class",
            "regimen",
            "start",
            "end",
            "line",
            "assertion",
            "evidence",
        } <= set(t)
        assert t["assertion"] in set(get_args(Assertion))
    for line in met_report["lines"]:
        assert {"number", "start", "end", "regimens", "ingredients"} <= set(line)


def test_complete_letter_is_criteria_met(met_report: dict) -> None:
    statuses = {c["id"]: c["status"] for c in met_report["criteria"]}
    assert met_report["determination"] == "criteria_met", statuses
    assert met_report["missing"] == []


def test_summary_names_determination_and_each_criterion() -> None:
    run = _intake("process", str(DATA / "letter-met.txt"))
    assert run.returncode == 0, run.stderr
    assert "DETERMINATION: CRITERIA MET" in run.stdout
    marks = re.findall(r"^\s+\[(MET|NOT MET|NOT DOCUMENTED)\] ", run.stdout, flags=re.MULTILINE)
    assert len(marks) == len(CRITERIA_IDS)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "E102_EMPTY_FILE"),
        (b"\x00\x01\x02garbage\xff\xfe" * 50, "E103_UNKNOWN_TYPE"),
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "E104_HTML_PAGE"),
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "E105_CORRUPT"),
    ],
    ids=["empty", "unknown", "html-as-pdf", "truncated-pdf"],
)
def test_unreadable_file_exits_nonzero_with_code_and_no_traceback(
    tmp_path: Path, content: bytes, code: str
) -> None:
    bad = tmp_path / "fax.pdf"
    bad.write_bytes(content)
    run = _intake("process", str(bad), "--json")
    assert run.returncode != 0
    assert code in run.stderr
    assert "what to do" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    assert bad.read_bytes() == content  # the original is untouched


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    run = _intake("process", str(tmp_path / "nope.tif"))
    assert run.returncode != 0
    assert "E101_FILE_MISSING" in run.stderr
    assert "Traceback" not in run.stderr
