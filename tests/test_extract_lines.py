"""Line-of-therapy traps (IMWG 2015: Rajkumar, Richardson & San Miguel)."""

from __future__ import annotations

import pytest
from extract_support import facts_of

from extractors.numbering import explicit_number

CLASSES_ONE_LINE = {
    "anti_cd38_antibody",
    "proteasome_inhibitor",
    "immunomodulatory_agent",
    "stem_cell_transplant",
}


@pytest.mark.parametrize(
    ("text", "count"),
    [
        # induction + transplant + maintenance as one plan = ONE line
        ("D-VRd x4 induction 01/2020 - 05/2020 -> ASCT 07/2020 -> R maintenance 09/2020 - 03/2023", 1),
        ("s/p RVd x6 -> auto-SCT 6/2020 -> R maint until PD 5/2022", 1),
        ("VRd induction 2019\nASCT 08/2019\nLenalidomide maintenance 10/2019 - 05/2022", 1),
        # a drug added unplanned = a new line
        ("Rd 01/2019 - 06/2019, then bortezomib added 07/2019 for rising M-spike", 2),
        # regimen stopped, another started = a new line
        ("VRd 2019 - 2020\nDara-Pd 2021 - 2022\nKd 2023", 3),
        # a second transplant is a new line; a planned tandem is not
        ("VRd 2015 -> ASCT 2015\nRelapse 2019: salvage ASCT 2019", 2),
        ("VRd 2015 -> tandem ASCT 03/2015 and 06/2015", 1),
        # explicit numbering is honoured
        ("Line 1: VRd 2018\nLine 2: KRd 2020\nLine 3: DPd 2022\nLine 4: teclistamab 2024", 4),
        ("1L VRd/ASCT/R 2018\n2L DKd 2021\n3L Pd 2023", 3),
        ("1st line: VRd 2018\n2nd line: DKd 2021\n3rd line: Pd 2023\nLOT 4: teclistamab 2024", 4),
        ("Prior lines of therapy:\n1. CyBorD 2017\n2. Rd 2019\n3. Isa-Pd 2021", 3),
        (
            "L1: s/p RVD x6 12/2019-5/2020 -> auto-SCT 6/2020 -> R maint 8/2020 until PD 5/2022\n"
            "L2: DKd 6/2022 until PD 3/2024\nL3: Isa-Pd 4/2024 to present",
            3,
        ),
        # a table whose first column is the line number; continuation rows belong to the line above
        (
            "Line Regimen Dates Phase / response\n"
            "1 D-VRd 01/2021 - 04/2021 induction\n"
            "auto-SCT 6/2021 transplant\n"
            "D-VRd 08/2021 - 09/2021 consolidation\n"
            "R 11/2021 - 10/2024 maintenance PD\n"
            "2 Kd 11/2024 - 03/2026 PD",
            2,
        ),
        # after the transplant, one of the induction's drugs given on is maintenance
        ("Regimen   Start   Stop\nVRd -> auto-SCT -> Revlimid      Jan 2019     Feb 2022     CR", 1),
        # ... but the same drug years after a dated end, at relapse, is a new line
        ("VRd 2017-2018, ASCT 2018. Relapse 2021: lenalidomide-dex 2021-2022.", 2),
        # a salvage second transplant at relapse is a new line; a planned tandem is not
        (
            "VRd 01/2018 - 05/2018, autologous transplant 07/2018, lenalidomide maintenance until relapse"
            " in 12/2022. He underwent a salvage second autologous transplant in 03/2023.",
            2,
        ),
        ("VRd x4 2018, tandem autologous transplants 07/2018 and 10/2018, then lenalidomide maintenance.", 1),
        # lymphodepleting chemotherapy never forms a line of its own
        (
            "DPd 2021-2022. Fludarabine and cyclophosphamide lymphodepletion, then cilta-cel infused.",
            2,
        ),
        # an ordinal numbers its own sentence, not the next one on a wrapped paragraph
        ("Her first line was VRd 2019-2020. At progression she received KPd 2021-2022.", 2),
        # a change of form or brand of a drug still running is not a new line
        (
            "D-VRd induction 01/2021 - 05/2021, autologous transplant 07/2021, then daratumumab-"
            "lenalidomide maintenance from 09/2021. In 03/2022 IV daratumumab was changed to"
            " subcutaneous Darzalex Faspro, and in 01/2023 brand Revlimid was replaced by generic"
            " lenalidomide.",
            1,
        ),
        # the generic phrase and the product are one CAR-T, not two lines
        ("VRd 2019-2020\nDPd 2021-2022\nCAR-T (cilta-cel) 2023", 3),
        ("BCMA CAR-T (ide-cel) 03/2021.", 1),
        # the induction told after its transplant
        ("Auto-SCT 2016 after VCd induction. Relapse 2019, KRd 2019-2020.", 2),
        # a regimen cell wrapped onto a second table row
        (
            "| Line | Regimen | Start | End | Response |\n"
            "| 1 | VRd | 01/2018 | 06/2019 | PD |\n"
            "| 2 | daratumumab + | 04/2020 | 09/2021 | PD |\n"
            "|   | pomalidomide + dex |  |  |  |",
            2,
        ),
        # a numbered list under an abbreviated title, an item's dates wrapped onto its own
        # next line (before, the maintenance's dates opened a line of their own)
        (
            "TX HX (per chart):\n 1) VRd x4 -> auto-SCT (Mel200) 3/2018 -> len maint 10mg\n"
            " 10/2017 - 4/2020 (PD on maint)\n 2) Dara-Pd 5/2020 - 8/2021 PD\n 3) KCd 9/2021 - 3/2022 PD",
            3,
        ),
        # a form's printed definition names no transplant given: read as one, the history's
        # own transplant became a second, a line of its own
        (
            "2. Number of prior lines of therapy (induction \u00b1 SCT \u00b1 maintenance = 1 line): 2\n"
            "Treatment history:\nVRd x4 (01/19) > ASCT 06/19 > len maint 08/19-02/21, PD\nDKd 03/21-05/22",
            2,
        ),
        # the table's row (as a fax read it, its "1" lost) dates its plan's span; the letter
        # dates its transplant inside it: one transplant, told twice (before, a "further
        # transplant" opened a line)
        (
            "He received bortezomib, lenalidomide and dexamethasone for six cycles beginning in May"
            " 2017, followed by high-dose melphalan and autologous stem cell transplantation in"
            " November 2017 and then lenalidomide maintenance.\n"
            "TREATMENT HISTORY\nLine Therapy Dates Best response\n"
            "] VRdx6 + Mel200 ASCT = lenalidomide maintenance May 2017 - Nov 2019 VGPR\n"
            "2 Daratumumab, carfilzomib, dexamethasone (DKd) Dec 2019 Mar 2021 PR",
            2,
        ),
        # a recap after the table, one span (the diagnosis to the last stop) dating its whole
        # list: each regimen had opened a line of its own, dated 2019-2025
        (
            "TREATMENT HISTORY\nRegimen Start End\nVRd -> auto SCT -> Revlimid maint 2/2019 4/2021\n"
            "DKd (Darzalex/Kyprolis/dex) 5/2021 8/2022\nIsa-Pd (Sarclisa/Pomalyst/dex) 9/2022 1/2024\n"
            "Selinexor + carfilzomib + dex (XKd) 6/2024 6/2025\n\n"
            "History: 64-year-old man with multiple myeloma diagnosed 01/2019, treated with four lines of"
            " therapy: VRd/ASCT/lenalidomide maintenance, DKd, isatuximab-pomalidomide-dexamethasone, and"
            " most recently selinexor-carfilzomib-dexamethasone, stopped 06/2025 for progression.",
            4,
        ),
        # a label for what was weighed and not given heads its line's therapies
        (
            "Ln Regimen Start Stop\n1 VRd-lite x 9 cyc, then len maint Nov-18 Apr-22\n"
            "2 DKd 2022-05-09 2024-02-13\n3 Talquetamab 5/14/24 8/26/25\n\n"
            "Considered, not given: Elo-Pd at 2nd relapse (02/2024) - deferred for trial; selinexor-based"
            " tx discussed 9/2025.",
            3,
        ),
        # the author numbers the phases of one plan as lines: IMWG counts one
        (
            "Line 1: Dara-VRd induction 01/2021 - 05/2021\n"
            "Line 2: ASCT 07/2021\n"
            "Line 3: Dara-R maintenance 09/2021 - 08/2025, progression\n"
            "Line 4: Kd 09/2025 - present",
            2,
        ),
        # fax OCR reads a continuation row's ditto mark or arrow as "7": not a seventh line
        (
            "Line Regimen Dates Phase / response\n"
            "1 VRd 01/2020 - 05/2020 induction\n"
            "auto-SCT 7/2020 transplant\n"
            "7 R maintenance 09/2020 - 08/2022 PD\n"
            "2 DPd 09/2022 - 01/2024",
            2,
        ),
        # ... and a table whose first row's "1" was lost starts at no stray "7" either
        (
            "Line Regimen Start Stop\n"
            "l . D-VRd 01/2021 04/2021 induction\n"
            "7 auto SCT 06/2021 transplant\n"
            "7 R maintenance 11/2021 10/2024\n"
            "2 Kd 11/2024 03/2026",
            2,
        ),
        (
            "| Line | Regimen | Start | End |\n"
            "| 1 | VRd | 03/2019 | 07/2019 |\n"
            "| 2 | DPd | 08/2020 | 01/2022 |",
            2,
        ),
        # bullets with a leading date; a maintenance phrase in prose
        (
            "Prior therapies:\n"
            "- VTD induction 2015 -> ASCT 10/2015 (Mel200) -> thal maint x1yr\n"
            "- 2017: Rd, PD 2018\n"
            "- 2018-2019: Kd -> PD\n- Dara-Pd 02/2019 - 11/2020",
            4,
        ),
        (
            "He received VRd followed by autologous stem cell transplant in September 2017. "
            "He was maintained on\n"
            "lenalidomide until biochemical progression in January 2020. He then received daratumumab,\n"
            "pomalidomide and dexamethasone from February 2020 to August 2022.",
            2,
        ),
        # fax OCR: "L1:" read as "Li:"
        ("Li: s/p Revlimid/Velcade/dex x4 4/2019-9/2019 -» auto-SCT 11/2019\nL2: Kd 2020-2021", 2),
        # an exported table with tabs and no line column
        (
            "Regimen\tStart\tStop\tBest response\n"
            "VRd\t01/2018\t06/2018\tVGPR\n"
            "ASCT (Mel200)\t07/2018\t\tCR\n"
            "Lenalidomide maintenance\t09/2018\t03/2021\tPD\n"
            "DPd\t04/2021\t12/2022\tPR\n"
            "Teclistamab (MajesTEC-1 trial)\t01/2023\t08/2024\tVGPR",
            3,
        ),
        # addition restated with its regimen name; a swap; a transplant deferred is no transplant
        (
            "Started Rd in 05/2019. Due to suboptimal response, bortezomib was added in 09/2019 (VRd).\n"
            "Progressed 2021; switched to carfilzomib-dexamethasone 03/2021 - 11/2022.\n"
            "Not a candidate for transplant; ASCT deferred.",
            3,
        ),
        # the same regimen named twice is not two lines
        ("Summary: prior VRd and Dara-Pd.\nVRd 2019-2020\nDara-Pd 2021-2022", 2),
        # planned, negated and family therapies never form lines
        ("VRd 2019 - 2020\nPlan: will start teclistamab.\nBrother received CAR-T.\nNo prior daratumumab.", 1),
        # CAR-T received forms a line and counts as therapy
        ("VRd 2019\nDPd 2021\nide-cel 03/2023", 3),
        # a drug name written onto a regimen abbreviation is one regimen, not two lines
        ("Relapse 2022; treated with Sarclisa-Pd 03/2022 - 11/2022.", 1),
        ("Relapse 2022; treated with Daratumumab-Pd 03/2022 - 11/2022.", 1),
        ("Relapse 2022; treated with Ixa-Rd 03/2022 - 11/2022.", 1),
        ("Relapse 2022; treated with Kyprolis-Pom-dex 03/2022 - 11/2022.", 1),
        ("Relapse 2022; treated with Xpovio-Pom-dex 03/2022 - 11/2022.", 1),
        # drugs started together, told in pieces: prose, a form with one field per line,
        # medication-administration rows (a later dose of the same drug is no new line)
        (
            "In 03/2021 she started daratumumab. Pomalidomide and dexamethasone were given with it "
            "until 04/2022.",
            1,
        ),
        (
            "Regimen: Daratumumab SC\nStart date: 03/2021\n"
            "Regimen: Pomalidomide 4 mg + dexamethasone 40 mg\nStart date: 03/2021",
            1,
        ),
        (
            "06/14/2022 daratumumab-hyaluronidase 1800 mg SC given\n"
            "07/12/2022 daratumumab-hyaluronidase 1800 mg SC given\n"
            "06/14/2022 pomalidomide 4 mg PO dispensed",
            1,
        ),
        # ... but two whole regimens in the same month stay two (one stopped after a cycle)
        ("Kd 03/2021 - 04/2021\nPd 03/2021 - 09/2022", 2),
        # a substitution is a new line, and the new regimen's drugs stay together
        (
            "VRd started 01/2020; bortezomib switched to carfilzomib (KRd) 03/2020 for neuropathy; "
            "continued to 12/2020.",
            2,
        ),
        # stem-cell mobilization chemotherapy is part of the transplant plan
        (
            "VRd x4 (1/2021-4/2021); cyclophosphamide mobilization 5/2021; ASCT 6/2021; "
            "lenalidomide maintenance 8/2021-present.",
            1,
        ),
        # the same regimen given again after it stopped is a new line; kept on is not
        ("VRd 2017-2018 with CR. Relapse 2021, re-treated with VRd 03/2021-10/2021.", 2),
        # "restarted" told with a relapse is a re-treatment, after a dose hold it is not
        ("VRd in 2023 with remission. He later relapsed in the spine, and VRd was restarted.", 2),
        ("VRd 01/2023 - 09/2023, held for pneumonia and restarted two weeks later.", 1),
        ("Rd 01/2019 - 06/2019\nRd 11/2019 - 05/2020", 2),
        ("VRd 2018-2019; lenalidomide continued alone 2021-2022", 1),
        # one transplant told undated in prose, then dated in a table: one line
        (
            "She received VRd x4 followed by ASCT and lenalidomide maintenance.\n"
            "Regimen Start Stop\n"
            "VRd 01/2019 04/2019\n"
            "Auto-SCT (melphalan 200) 06/2019 06/2019\n"
            "Lenalidomide maintenance 08/2019 05/2022\n",
            1,
        ),
        # "4L+" labels the line being entered, it numbers no line given
        ("RRMM, 4L+ (prior: VRd, DKd, Pd).", 3),
        # one transplant told twice, once by its class name only ("HCT"), is one transplant
        (
            "Dara-VRd 1/8/2024 - 5/20/2024, then autologous stem cell transplant in July 2024,"
            " then daratumumab and lenalidomide maintenance.\n"
            "Regimen Start Stop\n"
            "Dara-VRd 1/8/2024 5/20/2024\n"
            "High-dose melphalan + HCT 7/16/2024 7/16/2024\n"
            "Consolidation Dara-VRd 9/3/2024 10/28/2024\n",
            1,
        ),
    ],
)
def test_line_count(text: str, count: int) -> None:
    lines = facts_of(text).lines
    assert len(lines) == count, [(line.number, line.ingredients) for line in lines]


def test_dvrd_asct_r_maintenance_is_one_line_with_all_classes() -> None:
    facts = facts_of(
        "D-VRd x4 induction 01/2020 - 05/2020 -> ASCT 07/2020 -> R maintenance 09/2020 - 03/2023"
    )
    [line] = facts.lines
    classes = {t.therapy_class for t in facts.therapies if t.line == line.number}
    assert classes >= CLASSES_ONE_LINE
    assert (line.start, line.end) == ("2020-01", "2023-03")


def test_drug_joined_to_a_regimen_name_is_one_line_with_all_its_drugs() -> None:
    [line] = facts_of("Relapse 2022; treated with Sarclisa-Pd 03/2022 - 11/2022.").lines
    assert set(line.ingredients) == {"isatuximab", "pomalidomide", "dexamethasone"}
    assert (line.start, line.end) == ("2022-03", "2022-11")


def test_form_start_date_field_dates_the_regimen_above_it() -> None:
    [line] = facts_of(
        "Regimen: Daratumumab SC\nStart date: 03/2021\n"
        "Regimen: Pomalidomide 4 mg + dexamethasone 40 mg\nStart date: 03/2021"
    ).lines
    assert line.start == "2021-03"


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("RRMM, 4L+ (prior: VRd, DKd, Pd).", None),
        ("2L DKd 2021", 2),
        ("Line 3: DPd 2022", 3),
        ("3rd line: Pd 2023", 3),
    ],
)
def test_explicit_line_number(line: str, number: int | None) -> None:
    assert explicit_number(line) == number


def test_swap_does_not_carry_the_old_drugs() -> None:
    lines = facts_of("VRd 2019 - 2020\nSwitched to carfilzomib-dexamethasone 03/2021 for neuropathy").lines
    assert set(lines[1].ingredients) == {"carfilzomib", "dexamethasone"}


def test_rd_then_bortezomib_added_carries_rd_into_line_two() -> None:
    lines = facts_of("Rd 01/2019 - 06/2019, then bortezomib added 07/2019 for rising M-spike").lines
    assert "bortezomib" in lines[1].ingredients and "lenalidomide" in lines[1].ingredients


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        ("68M with RRMM, 4 prior LOT", 4),
        ("She has received 3 prior lines of therapy.", 3),
        ("heavily pretreated with 5 prior lines", 5),
        ("s/p four prior lines including an IMiD, PI and anti-CD38", 4),
        ("Abecma is indicated after two or more prior lines of therapy.", None),
    ],
)
def test_stated_prior_lines(text: str, stated: int | None) -> None:
    facts = facts_of(text)
    assert facts.stated_prior_lines == stated
    if stated:
        assert facts.stated_prior_lines_evidence


def test_wrapped_range_is_read_across_the_line_break() -> None:
    text = (
        "Second line of therapy was DKd (daratumumab, carfilzomib and dexamethasone) 07/2019\n"
        "- 06/2020. Third line of therapy was pomalidomide and dexamethasone 2021."
    )
    got = {(t.ingredient, t.start, t.end) for t in facts_of(text).therapies}
    assert ("carfilzomib", "2019-07", "2020-06") in got


@pytest.mark.parametrize(
    ("text", "ingredient", "start", "end"),
    [
        ("- 2017: Rd, PD 2018", "lenalidomide", "2017", None),
        (
            "He was maintained on lenalidomide until biochemical progression in January 2020.",
            "lenalidomide",
            None,
            "2020-01",
        ),
        (
            "1. Velcade/Revlimid/dex induction x4 cycles 02/2013 - 07/2013; then autologous stem\n"
            "cell transplant 9/2013; then R maintenance 11/2013 - 12/2015, PD",
            "autologous stem cell transplant",
            "2013-09",
            None,
        ),
        ("2. Kd 2016-2017", "carfilzomib", "2016", "2017"),
    ],
)
def test_dates_in_shorthand(text: str, ingredient: str, start: str | None, end: str | None) -> None:
    got = [(t.start, t.end) for t in facts_of(text).therapies if t.ingredient == ingredient]
    assert (start, end) in got, got


def test_non_myeloma_regimen_is_read_as_written() -> None:
    facts = facts_of("1. R-CHOP x6 cycles 02/2023 - 07/2023 for DLBCL")
    assert {t.ingredient for t in facts.therapies} == {
        "rituximab", "cyclophosphamide", "doxorubicin", "vincristine", "prednisone",
    }  # fmt: skip


def test_stated_lines_kept_apart_from_counted_lines() -> None:
    facts = facts_of("4 prior LOT.\nVRd 2019\nKd 2021")
    assert facts.stated_prior_lines == 4 and len(facts.lines) == 2


def test_a_history_numbering_the_phases_of_a_line_is_complete_beside_the_authors_count() -> None:
    """The letter says "five prior lines"; the table numbers induction, transplant and
    maintenance 1, 2 and 3.  IMWG makes three lines, and the count names no line the table
    lacks: the history is whole (before, "5 stated but 3 listed" made it partial)."""
    facts = facts_of(
        "He has received five prior lines of therapy.\n"
        "Line Regimen Start End\n"
        "1 VRd x4 Jan-21 Apr-21\n"
        "2 Mel200 / autologous SCT Jun-21 Jun-21\n"
        "3 Lenalidomide maintenance Aug-21 Nov-23\n"
        "4 DPd Dec-23 Oct-24\n"
        "5 Kd Nov-24 Jun-25"
    )
    assert facts.stated_prior_lines == 5
    assert [line.phases_numbered for line in facts.lines] == [2, 0, 0]
    assert facts.history is not None and facts.history.status == "complete"


def test_a_numbered_list_whose_full_stops_ocr_read_as_commas_keeps_its_numbers() -> None:
    """ "1, Bortezomib ..." is "1." as a fax reads it: the items keep the author's numbers,
    so the transplant and maintenance numbered on their own fold into line 1 (before, the
    unnumbered items joined the numbered ones after them and the count went up)."""
    facts = facts_of(
        "He has now received five prior lines of therapy:\n"
        "1, Bortezomib, lenalidomide, dexamethasone (VRd) induction, 4 cycles, January-April 2021.\n"
        "2. High-dose melphalan with autologous stem cell transplant, June 2021.\n"
        "3, Lenalidomide maintenance, August 2021 through November 2023, as planned.\n"
        "4, Daratumumab, pomalidomide, dexamethasone (DPd), December 2023 through October 2024.\n"
        "5. Carfilzomib and dexamethasone (Kd), November 2024 through June 2025."
    )
    assert [(line.start, line.phases_numbered) for line in facts.lines] == [
        ("2021-01", 2),
        ("2023-12", 0),
        ("2024-11", 0),
    ]


def test_a_numbered_entrys_car_t_given_by_the_infusion_told_after_its_collection_is_a_line() -> None:
    """ "(investigational anti-BCMA CAR-T; leukapheresis 05/2022, infusion 06/21/2022)": the
    collection is the infusion's story, not a slot or a schedule; the CAR-T is given and
    dated by its infusion, so the entry is a line (before, the history lost line 3)."""
    facts = facts_of(
        "Prior therapies:\n"
        "1. 09/2018 - 11/2020: VRd x 4 -> ASCT 02/2019 -> lenalidomide maintenance.\n"
        "2. 12/2020 - 04/2022: DPd (daratumumab, pomalidomide, dexamethasone).\n"
        "3. Phase 1 study at a university center (investigational anti-BCMA\n"
        "   CAR-T; leukapheresis 05/2022, infusion 06/21/2022) - PR.\n"
        "4. 09/2023 - 09/2025: Kd (carfilzomib, dexamethasone)."
    )
    assert [line.start[:7] if line.start else None for line in facts.lines] == [
        "2018-09",
        "2020-12",
        "2022-06",
        "2023-09",
    ]


def test_therapy_carries_its_line_number() -> None:
    facts = facts_of("VRd 2019 - 2020\nDara-Pd 2021 - 2022")
    assert {t.ingredient: t.line for t in facts.therapies if t.ingredient != "dexamethasone"} == {
        "bortezomib": 1, "lenalidomide": 1, "daratumumab": 2, "pomalidomide": 2,
    }  # fmt: skip


def test_history_told_again_in_a_table_with_lost_line_numbers_keeps_each_line_dated() -> None:
    # Regression: the table's transplant row (its line cell lost to OCR) joined the last
    # numbered line of the letter, and line 3 "started" in 2019.
    facts = facts_of(
        "Line 1: VRd 03/2019 - 07/2019, auto-SCT 09/2019, R maintenance 11/2019 - 05/2022\n"
        "Line 2: DPd 06/2022 - 01/2024\n"
        "Line 3: Kd 02/2024 - 08/2026\n"
        "\n"
        "TREATMENT HISTORY\n"
        "Regimen    Start    Stop\n"
        "auto-SCT   09/2019\n"
        "R          11/2019  05/2022  maintenance\n"
    )
    assert [(line.number, line.start) for line in facts.lines] == [
        (1, "2019-03"),
        (2, "2022-06"),
        (3, "2024-02"),
    ]
    [asct_line] = {t.line for t in facts.therapies if t.therapy_class == "stem_cell_transplant"}
    assert asct_line == 1


def test_a_phase_word_does_not_reach_back_across_a_sentence() -> None:
    """'DPd 2021-2022. Flu/Cy lymphodepletion 03/2023': DPd is not lymphodepletion."""
    facts = facts_of("DPd 2021-2022. Flu/Cy lymphodepletion 03/2023 then Carvykti 03/2023.")
    assert {t.phase for t in facts.therapies if t.ingredient == "daratumumab"} == {None}


@pytest.mark.parametrize(
    "history",
    [
        # numbered lines
        "Line 1: VRd 04/2019 - 09/2019\nLine 2: DPd 01/2023 - 07/2024\nLine 3: Kd 08/2024 - 10/2025\n",
        "Line 1: bortezomib, lenalidomide and dexamethasone induction 4/19-9/19, followed by autologous\n"
        "stem cell transplant 11/19, followed by lenalidomide maintenance 1/20-12/22, PD.\n"
        "Second line of therapy was DPd (daratumumab, pomalidomide and dexamethasone) 1/23-7/24, PD.\n"
        "Third line of therapy was Kd (carfilzomib and dexamethasone) 8/24-10/25, PD.\n",
        # dated entries, no numbers
        "VRd 04/2019 - 09/2019\nDPd 01/2023 - 07/2024\nKd 08/2024 - 10/2025\n",
    ],
)
def test_a_recap_naming_drugs_of_several_lines_puts_each_drug_in_its_own_line(history: str) -> None:
    """Regression: each clause of 'having had lenalidomide and pomalidomide, bortezomib and
    carfilzomib, and daratumumab' was given whole to one line (bortezomib to line 2,
    daratumumab to line 3), and a drug its line did not hold could stand in no line."""
    facts = facts_of(
        history + "In summary, she is triple-class exposed, having had lenalidomide and pomalidomide, "
        "bortezomib and carfilzomib, and\ndaratumumab.\n"
    )
    assert len(facts.lines) == 3
    lines = {
        (t.ingredient, t.line) for t in facts.therapies if t.assertion == "received" and not t.class_level
    }
    home = {"bortezomib": 1, "lenalidomide": 1, "daratumumab": 2, "pomalidomide": 2, "carfilzomib": 3}
    assert {(i, line) for i, line in lines if i in home} == set(home.items())


def test_a_recap_before_the_history_told_again_stays_with_its_line() -> None:
    """Regression: 'after DKd' joined the DKd of the list told again on page 2; that list
    was then folded into the numbered lines without the recap it carried, which stood in
    no line, and the line dates were called undocumented."""
    facts = facts_of(
        "Line 1: VD 04/2012 - 09/2012, followed by lenalidomide maintenance 01/2013 - 08/2017, PD.\n"
        "Line 2: DRd Mar-Oct 2018, PD.\n"
        "Line 3: KPd 11/2018 - 05/2021.\n"
        "Line 4: DKd 06/2021 - 12/2025, PD.\n"
        "She now has relapsed disease with a rising M-protein after DKd.\n"
        "\n"
        "Treatment summary\n"
        "1. VD 04/2012 - 09/2012; then lenalidomide maintenance 01/2013 - 08/2017\n"
        "2. DRd Mar-Oct 2018, PD\n"
        "3. KPd 11/2018 - 05/2021\n"
        "4. DKd 06/2021 - 12/2025, PD\n"
    )
    assert len(facts.lines) == 4
    unplaced = {
        t.ingredient
        for t in facts.therapies
        if t.assertion == "received" and not t.class_level and t.line is None
    }
    assert unplaced == set()


@pytest.mark.parametrize(
    ("history", "class_name", "line"),
    [
        # a transplant named by its class in a signature, a service or a summary
        (
            "Line 1: Dara-VRd 02/2021 - 06/2021, then high-dose melphalan and autologous SCT 08/2021.\n"
            "Line 2: Isa-Pd 05/2023 - 09/2025.\n"
            "Signed: attending physician, BMT and cellular therapy service\n",
            "stem cell transplant",
            1,
        ),
        (
            "Prior therapies:\n1. KRd 03/2018 - 08/2018; auto-SCT 11/2018\n2. DPd 2020 - 2022\n"
            "He tolerated his stem cell transplant well.\n",
            "stem cell transplant",
            1,
        ),
        # a CAR-T named by its class after the product's dated entry
        (
            "Treatment history:\n1. VRd 01/2017 - 06/2017\n2. DKd 2019 - 2021\n3. cilta-cel 04/2022\n"
            "Relapse 14 months after CAR-T.\n",
            "car-t cell therapy",
            3,
        ),
    ],
)
def test_a_class_name_after_a_named_entry_joins_that_entry(history: str, class_name: str, line: int) -> None:
    """Regression: "stem cell transplant" or "CAR-T" with no date, in a history whose entry
    names the autologous transplant or the product, stood in no line: the history looked
    as if it left a therapy out, and the line dates were called undocumented."""
    facts = facts_of(history)
    named = [t for t in facts.therapies if t.ingredient == class_name and t.assertion == "received"]
    assert named and {t.line for t in named} == {line}
    assert facts.history is not None and facts.history.status == "complete"


def test_a_class_name_with_no_named_entry_of_its_class_stays_outside_the_lines() -> None:
    """A transplant the entries do not hold is not put in a line by its class name."""
    facts = facts_of(
        "Prior therapies:\n1. VRd 01/2019 - 06/2019\n2. DPd 2020 - 2022\nHe had a stem cell transplant.\n"
    )
    sct = [t for t in facts.therapies if t.ingredient == "stem cell transplant"]
    assert sct and all(t.line is None for t in sct)


def test_the_requested_product_in_a_running_header_dated_at_the_request_is_no_line() -> None:
    """Regression: a continuation page's header ("Roe, Jane - LMN ciltacabtagene autoleucel -
    03/02/2027") dated the requested product at the letter's date; the product was set to
    planned for the criteria, but only after it had opened a line of its own."""
    facts = facts_of(
        "March 2, 2027\n"
        "RE: Letter of medical necessity - ciltacabtagene autoleucel (Carvykti)\n"
        "Treatment history:\n1. KRd 2020 - 2021\n2. Isa-Pd 2022 - 2026\n"
        "Roe, Jane - LMN ciltacabtagene autoleucel - 03/02/2027\n"
        "She progressed on Isa-Pd in late 2026.\n"
    )
    assert len(facts.lines) == 2
    assert not [t for t in facts.therapies if t.therapy_class == "car_t" and t.assertion == "received"]


def test_the_requested_product_dated_after_the_requests_own_date_is_no_line() -> None:
    """A request form gives no date of service, only its own date (signed 11/04/2026): the
    requested product dated on it is the request, not a CAR-T given."""
    facts = facts_of(
        "Product requested: Abecma (idecabtagene vicleucel) Q2055\n"
        "Treatment history:\n1. VRd 2020 - 2021\n2. DPd 2022 - 2026\n"
        "Abecma infusion 11/04/2026.\n"
        "Signature: T. Prescriber MD   Date: 11/04/2026\n"
    )
    assert len(facts.lines) == 2
    assert not [t for t in facts.therapies if t.therapy_class == "car_t" and t.assertion == "received"]


def test_a_transplant_units_name_beside_the_transplant_is_not_a_second_transplant() -> None:
    """Regression: "autologous stem cell transplant on 2023-02-08 (Lakeside BMT)" read the
    unit's "BMT" as a second, further transplant: a line of its own."""
    facts = facts_of(
        "He received D-VRd x4 from 2022-08-29 to 2022-11-21, then melphalan 200 mg/m2 autologous"
        " stem cell transplant on 2023-02-08 (Lakeside BMT) followed by lenalidomide maintenance.\n"
        "He started Kd on 2025-07-14.\n"
    )
    assert len(facts.lines) == 2
    assert not [t for t in facts.therapies if t.ingredient == "stem cell transplant"]


def test_a_label_colon_ending_a_wrapped_sentence_is_no_dated_heading() -> None:
    """Regression: the recap "(IMiD:\\nlenalidomide, pomalidomide; PI: ...)" on the line after
    "(2) KPd (07/2024-12/2025). She is triple-class exposed (IMiD:" took the dates of the
    other sentence as a heading's, and its drugs became two dated lines."""
    facts = facts_of(
        "Assessment:\n"
        "62M with RRMM after two prior lines: (1) KRd induction, ASCT, lenalidomide\n"
        "maintenance (03/2019-05/2023), and (2) DPd (06/2023-02/2026). He is triple-class exposed (IMiD:\n"
        "lenalidomide, pomalidomide; PI: carfilzomib; anti-CD38: daratumumab) and refractory to\n"
        "pomalidomide and daratumumab.\n"
    )
    assert len(facts.lines) == 2


def test_the_later_sentences_of_a_numbered_problem_open_no_line() -> None:
    """Regression: an assessment's "1. Relapsed/refractory MM, progression on XVd. Refractory
    to lenalidomide, pomalidomide, carfilzomib." is a numbered item, but only its first sentence
    is what the item is about; the refractoriness recap after it opened an undated line."""
    text = (
        "Oncology history:\n"
        "10/2018 VRd x4, then lenalidomide maintenance until 02/2021.\n"
        "03/2021 - 06/2023 KPd (carfilzomib, pomalidomide, dexamethasone).\n"
        "Assessment:\n"
        "1. Relapsed/refractory MM, progression on 2nd line. Refractory to lenalidomide, pomalidomide,\n"
        "carfilzomib, bortezomib. Anti-CD38 naive.\n"
    )
    facts = facts_of(text)
    assert [line.start for line in facts.lines] == ["2018-10", "2021-03"]


def test_a_refractoriness_recap_with_sequence_words_opens_no_line_and_an_episode_still_does() -> None:
    """A summary cue before the drugs ("refractory to", "having had") makes the clause a recap,
    even with an episode word in its sentence; after them it does not ("then DPd, to which
    she was refractory" tells an episode)."""
    history = "Treatment history:\n2019-03 VRd x4\n2021-05 KPd\n"
    recap = facts_of(history + "At progression on 2nd line, refractory to lenalidomide and bortezomib.\n")
    assert len(recap.lines) == 2
    episode = facts_of(history + "She then received DPd, to which she was refractory.\n")
    assert len(episode.lines) == 3


def test_a_refractoriness_recap_dated_by_its_sentences_diagnosis_opens_no_line() -> None:
    """ "(diagnosed 01/2019) ... is now refractory to isatuximab, pomalidomide and
    dexamethasone": the diagnosis date reached the recap, which opened a line dated 2019
    before the history told below it (a complete history of four lines read as five)."""
    facts = facts_of(
        "Ms. A is a 64-year-old woman with IgG lambda multiple myeloma (diagnosed 01/2019) who has"
        " relapsed after four prior lines of therapy and is now refractory to isatuximab,"
        " pomalidomide and dexamethasone.\n"
        "Her therapy to date:\n"
        "Mar-19 - Apr-21: KRd x8 -> autologous SCT (Nov-19) -> lenalidomide maintenance.\n"
        "May-21 - Jun-22: daratumumab, bortezomib, dexamethasone (DVd).\n"
        "Jul-22 - Sep-23: carfilzomib, pomalidomide and dexamethasone (KPd).\n"
        "Oct-23 - Aug-26: Isa-Pd. PR, now PD.\n"
    )
    assert [line.start for line in facts.lines] == ["2019-03", "2021-05", "2022-07", "2023-10"]


def test_courses_listed_in_one_sentence_each_closed_by_its_span_are_lines_of_their_own() -> None:
    """ "He then received daratumumab, bortezomib and dexamethasone from July 2019 to November
    2020, pomalidomide, cyclophosphamide and dexamethasone from December 2020 to January
    2022, and ...": before, the plain drugs of one clause made one course of all of them."""
    facts = facts_of(
        "His treatment began with KRd induction and an autologous transplant in June 2016, followed by"
        " lenalidomide maintenance until June 2019.\n"
        "He then received daratumumab, bortezomib and dexamethasone from July 2019 to November 2020,"
        " pomalidomide, cyclophosphamide and dexamethasone from December 2020 to January 2022, and"
        " selinexor with carfilzomib and dexamethasone from February 2022 until April 2023.\n"
    )
    assert [line.start for line in facts.lines] == ["2016-06", "2019-07", "2020-12", "2022-02"]


def test_a_recap_in_a_sentence_that_names_a_line_opens_no_line() -> None:
    """Regression: "... VCd/ASCT/len as his first line, the carfilzomib, and DPd - and he has
    been exposed to lenalidomide, bortezomib ..." took the sentence's "first line" for the
    recap's own number: the recap became line 1 and swallowed the history told before it."""
    text = (
        "He received bortezomib-based induction (Velcade, Cytoxan) and then an autologous stem cell"
        " transplant in 2018, followed by lenalidomide maintenance.\n"
        "He then had carfilzomib in Florida in 2021.\nHe started DPd with me in 10/2022.\n"
        "So he has had three lines - VCd/ASCT/len as his first line,\nthe carfilzomib in Florida, and DPd"
        " with me - and he has been exposed to lenalidomide, bortezomib,\ncarfilzomib, daratumumab and"
        " pomalidomide.\n"
    )
    assert [line.start for line in facts_of(text).lines] == ["2018", "2021", "2022-10"]


def test_a_full_stop_read_as_a_comma_keeps_each_clauses_dates_to_itself() -> None:
    """Fax OCR read the stops of a wrapped paragraph as commas: the diagnosis year and the last
    stop date belong to the first and the last regimen, not to every drug of the paragraph."""
    text = (
        "He was diagnosed in 2019 after a rib fracture and received VRd induction followed\n"
        "by a stem cell transplant and lenalidomide maintenance, which he took for years, At\n"
        "progression he received daratumumab with pomalidomide and dexamethasone, with a good initial\n"
        "response, He later moved on to carfilzomib with dexamethasone, which was stopped in August 2025\n"
        "for progression.\n"
    )
    lines = facts_of(text).lines
    assert [(line.start, line.end) for line in lines] == [("2019", None), (None, None), (None, "2025-08")]
