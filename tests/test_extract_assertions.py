"""Assertion traps: what was given versus planned, refused, negated or a relative's."""

from __future__ import annotations

import pytest
from extract_support import assertions, facts_of, received, therapies

CAR_T = "car-t cell therapy"
CLASS_PI = "proteasome inhibitor (no drug named)"
IDE_CEL = "idecabtagene vicleucel"


@pytest.mark.parametrize(
    ("text", "ingredient", "expected"),
    [
        # negation after a header colon
        ("Prior CAR-T: none", CAR_T, "negated"),
        ("CAR-T therapy: No", CAR_T, "negated"),
        ("Prior CAR-T therapy: none documented", CAR_T, "negated"),
        ("No prior CAR-T.", CAR_T, "negated"),
        ("- No prior CAR-T therapy of any kind, including on clinical trials.", CAR_T, "negated"),
        ("Patient has not received CAR-T cell therapy.", CAR_T, "negated"),
        ("He never received ide-cel.", IDE_CEL, "negated"),
        # a class label's colon does not take the negation from the statement after it
        ("PI-naive: never received bortezomib, carfilzomib or ixazomib.", "ixazomib", "negated"),
        ("PI-naive: never received bortezomib, carfilzomib or ixazomib.", "bortezomib", "negated"),
        ("Transplant history: denies any prior melphalan.", "melphalan", "negated"),
        # a clinic note's bare participle negates the drug right before it, no further
        ("Pom avoided given his renal function; Kd 2023 instead.", "pomalidomide", "negated"),
        ("Pom avoided given his renal function; Kd 2023 instead.", "carfilzomib", "received"),
        ("KRd 2019, avoided transplant, then DPd 2021.", "carfilzomib", "received"),
        ("Offered enrollment in KarMMa-3 but the patient declined.", IDE_CEL, "negated"),
        ("Patient declined CAR-T.", CAR_T, "negated"),
        ("Selinexor: not tolerated and never started", "selinexor", "negated"),
        # planned, requested, recommended, eligibility: what each statement is (issue 13)
        ("Will start teclistamab next week.", "teclistamab", "planned"),
        ("Plan to proceed with ide-cel after bridging.", IDE_CEL, "planned"),
        ("We would consider CAR-T at next relapse.", CAR_T, "recommended"),
        ("She is a candidate for BCMA CAR-T.", CAR_T, "eligibility"),
        ("Referred for CAR-T evaluation.", CAR_T, "eligibility"),
        (
            "73 y/o M, dx 06/2016, here to finalize plans for cilta-cel.",
            "ciltacabtagene autoleucel",
            "planned",
        ),
        # a question a form wraps over two lines asks of the first line's drugs too
        (
            "Prior anti-BCMA therapy (belantamab, teclistamab,\nelranatamab, BCMA CAR-T)?\n☐ Yes ☐ No",
            "belantamab mafodotin",
            "uncertain",
        ),
        # a service named after a therapy is not the therapy given
        ("71M, dx 01/2020, who returns after BMT clinic visit.", "stem cell transplant", "discussed"),
        ("Seen in the BMT clinic 08/12/2025 (Dr. Feld).", "stem cell transplant", "discussed"),
        ("She was seen by the CAR-T team on 09/02/2025.", CAR_T, "discussed"),
        # a label's population is not the member
        (
            "Cilta-cel is FDA approved (label update April 2024) for adults with relapsed or refractory"
            " myeloma who have received at least one prior line, including a PI and an IMiD, and are"
            " refractory to lenalidomide.",
            "lenalidomide",
            "discussed",
        ),
        ("Abecma requested; pending authorization.", IDE_CEL, "requested"),
        ("Requesting authorization for idecabtagene vicleucel.", IDE_CEL, "requested"),
        ("Patient is eligible for Abecma.", IDE_CEL, "eligibility"),
        ("Plan:\nProceed with Abecma infusion.", IDE_CEL, "planned"),
        ("Drug requested: Abecma (idecabtagene vicleucel) HCPCS: Q2055 Units: 1", IDE_CEL, "requested"),
        ("I am writing to request coverage of\nAbecma for this patient.", IDE_CEL, "requested"),
        ("Has the member received prior CAR-T therapy? No", CAR_T, "negated"),
        # form boxes, ticked before or after their labels
        ("Has the patient received prior CAR-T therapy?  ☐ Yes  ☒ No", CAR_T, "negated"),
        ("Prior CAR-T therapy: [ ] Yes [X] No", CAR_T, "negated"),
        ("Prior CAR-T: Yes ☐ No ☒", CAR_T, "negated"),
        ("Prior CAR-T: [X] Yes [ ] No", CAR_T, "received"),
        ("Prior CAR-T: Yes ☒ No ☐", CAR_T, "received"),
        ("Prior CAR-T: ☐ Yes ☐ No", CAR_T, "uncertain"),
        # a form question whose boxes OCR could not read asks; it does not say
        ("Has the member received prior CAR-T therapy? [|] Yes & No", CAR_T, "uncertain"),
        ("Has the member received prior CAR-T therapy? Yes v No", CAR_T, "uncertain"),
        ("Has the member received prior CAR-T therapy? Yes", CAR_T, "received"),
        # ... and a form's statement with no question mark, its boxes read as marks
        (
            "4. Member has received prior CAR-T therapy (any, including clinical trial) L! \u201cYes i Na",
            CAR_T,
            "uncertain",
        ),
        ("Member has received prior CAR-T therapy  [] Yes  [] No", CAR_T, "uncertain"),
        ("Prior CAR-T therapy: Yes - cilta-cel 06/2023", "ciltacabtagene autoleucel", "received"),
        # a message note about the request
        ("Kd 03/2025 - 04/2026, Abecma PA faxed to the plan. Pt aware.", IDE_CEL, "requested"),
        ("PA for Abecma submitted, pt aware. -JR", IDE_CEL, "requested"),
        ("Note by Jane Roe, PA: ide-cel infused 03/2024.", IDE_CEL, "received"),
        # the negation ends where the sentence turns
        (
            "Unable to receive carfilzomib due to cardiac disease, so was treated with DPd 2022.",
            "daratumumab",
            "received",
        ),
        (
            "He was offered enrollment on a bispecific antibody trial (teclistamab) and declined.",
            "teclistamab",
            "negated",
        ),
        # the "but" that ends a denial's reach stands before the denial here
        ("Teclistamab (Tecvayli) was ordered but never given.", "teclistamab", "negated"),
        ("Selinexor was prescribed, but it was not started.", "selinexor", "negated"),
        (
            "Belantamab mafodotin was prescribed in 07/2026 but never started.",
            "belantamab mafodotin",
            "negated",
        ),
        ("RE: Letter of Medical Necessity - idecabtagene vicleucel", IDE_CEL, "requested"),
        ("70F w/ RRMM, here for CAR-T eval.", CAR_T, "eligibility"),
        ("Continue Pd, and re-refer for CAR-T after IMiD exposure.", CAR_T, "eligibility"),
        # a patient's wish is not a therapy given
        ("Pt strongly prefers CAR-T.", CAR_T, "discussed"),
        # options reviewed are not therapies given
        ("We reviewed with him teclistamab, elranatamab and clinical trials.", "teclistamab", "discussed"),
        ("Teclistamab/elranatamab are also options.", "elranatamab", "discussed"),
        # general knowledge about patients treated with a drug is not this member's treatment
        (
            "In published series, patients receiving teclistamab had a median progression-free survival"
            " of about a year.",
            "teclistamab",
            "discussed",
        ),
        (
            "Response rates with elranatamab approach 60% in heavily pretreated disease.",
            "elranatamab",
            "discussed",
        ),
        # a lettered list of options runs past a plain cue's reach: its last item is an option too
        (
            "Options weighed at the visit: (1) cilta-cel, (2) teclistamab with a step-up plan,"
            " (3) a trial at the university if one opens, (4) carfilzomib and pomalidomide, or"
            " (5) a selinexor-based regimen.",
            "selinexor",
            "discussed",
        ),
        # a CAR-T naming what follows it is not a CAR-T given
        ("Please find attached the completed CAR-T prior authorization request form.", CAR_T, "uncertain"),
        ('Wants to "go straight to CAR-T".', CAR_T, "discussed"),
        ("cilta-cel? no - not eligible on CARTITUDE", "ciltacabtagene autoleucel", "negated"),
        ("Plan: refer for ide-cel; bridging with Kd if needed.", IDE_CEL, "planned"),
        # family history, by phrase and by section
        ("His brother received CAR-T for lymphoma.", CAR_T, "family"),
        ("Mother had CAR-T cell therapy in 2020.", CAR_T, "family"),
        # a relative or companion who tells the member's history, or comes along, is not its subject
        ("Wife reports he received cilta-cel at Mercy in 2023.", "ciltacabtagene autoleucel", "received"),
        ("Daughter confirms she was infused with CAR-T cells there in 2023.", CAR_T, "received"),
        ("Accompanied by her husband, she received DKd from 2021 to 2022.", "daratumumab", "received"),
        ("Family history:\nSister treated with Kymriah.", "tisagenlecleucel", "family"),
        # not given: refused by the payer, contraindicated, not yet
        ("Carvykti was denied by insurance in 09/2023.", "ciltacabtagene autoleucel", "negated"),
        (
            "Darzalex Faspro was denied by insurance 2021; she received Rd 2021-2022.",
            "daratumumab",
            "negated",
        ),
        # a denial written after the drug: medspaCy's forward-only 'deny' pattern once took it
        ("Isatuximab PA denied by the plan in 2022; KPd 2022 - 2024.", "isatuximab", "negated"),
        ("Isatuximab PA denied by the plan in 2022; KPd 2022 - 2024.", "carfilzomib", "received"),
        ("Kyprolis contraindicated due to cardiomyopathy (EF 30%).", "carfilzomib", "negated"),
        ("Avoid carfilzomib.", "carfilzomib", "negated"),
        ("Unable to receive carfilzomib due to cardiac disease.", "carfilzomib", "negated"),
        ("She has not yet received CAR-T.", CAR_T, "negated"),
        ("Line 2: isatuximab-Kd - not started (insurance denial)", "isatuximab", "negated"),
        # a question of eligibility, a schedule or a condition is not a history
        (
            "In 2023 he was not a candidate for CAR-T because of infection; he is now fit.",
            CAR_T,
            "eligibility",
        ),
        ("Target infusion date for Abecma: 4/1/2024.", IDE_CEL, "planned"),
        ("Line 2: Dara-Kd, scheduled to start 11/15/2025 if CAR-T is not approved", "daratumumab", "planned"),
        # other patients, blinded arms, allergy lists: not this member's treatment
        ("Patients who previously received CAR-T were excluded from KarMMa.", IDE_CEL, "uncertain"),
        ("Randomized on a blinded phase 3 study of daratumumab versus placebo.", "daratumumab", "uncertain"),
        ("Allergies: daratumumab, sulfa", "daratumumab", "uncertain"),
        ("Allergies: daratumumab, sulfa\nLine 1: VRd 2019-2020", "bortezomib", "received"),
        # a family-history section names the member explicitly to speak of him or her ...
        (
            "Family history: mother had breast cancer.\nThe member received cilta-cel 04/2023.",
            "ciltacabtagene autoleucel",
            "received",
        ),
        # ... and a pronoun inside a relative's story is the relative's
        ("Family history:\nSister had multiple myeloma. She received KRd in 2015.", "carfilzomib", "family"),
        # medication lists and orders: cancelled, never filled, entered in error
        ("daratumumab (DARZALEX) 16 mg/kg IV — order cancelled (not started)", "daratumumab", "negated"),
        ("daratumumab — ordered, not yet started", "daratumumab", "negated"),
        ("pomalidomide 4 mg capsule — Never filled", "pomalidomide", "negated"),
        (
            "teclistamab-cqyv (TECVAYLI) 0.06 mg/kg SC — Discontinued: Entered in error",
            "teclistamab",
            "negated",
        ),
        ("He has never been on daratumumab.", "daratumumab", "negated"),
        (
            "DARZALEX FASPRO 1,800 mg SC weekly   11/03/2025   Ordered - not yet administered",
            "daratumumab",
            "negated",
        ),
        ("Since diagnosis in 01/2019 she has never been treated with daratumumab.", "daratumumab", "negated"),
        ("At relapse she was never exposed to Darzalex; KPd was chosen.", "daratumumab", "negated"),
        (
            "Velcade was prescribed but insurance denied coverage, so she was treated with Rd.",
            "bortezomib",
            "negated",
        ),
        (
            "Thalomid was prescribed in 2021, but she never started it because of neuropathy.",
            "thalidomide",
            "negated",
        ),
        ("She is CAR-T naïve.", CAR_T, "negated"),
        # considered, discussed, offered, deferred, screened: not given
        (
            "Daratumumab was considered in 2021 but was deferred because of insurance issues.",
            "daratumumab",
            "negated",
        ),
        ("Daratumumab was offered in 2021 but she chose KPd.", "daratumumab", "recommended"),
        (
            "She was screened for the CARTITUDE-4 trial in 2022 but was a screen failure.",
            "ciltacabtagene autoleucel",
            "eligibility",
        ),
        # a CAR-T told without the word
        (
            "Flu/Cy lymphodepletion followed by an infusion of her own genetically modified T cells in 2023.",
            CAR_T,
            "received",
        ),
        # a request header's line is the request; the history below it is history
        (
            "Request: Abecma (idecabtagene vicleucel)\nIn January 2021 she began isatuximab and Pd.",
            "isatuximab",
            "received",
        ),
        # boxes belong to their own field, not to a drug elsewhere on the line
        (
            "Lenalidomide 10 mg daily 2019-2021    Transplant eligible? [ ] Yes [X] No",
            "lenalidomide",
            "received",
        ),
        ("[X] Relapsed [ ] Refractory   Treatment: VRd 01/2019 - 06/2019", "bortezomib", "received"),
        ("Allergies: NKDA    Current meds: lenalidomide 10 mg since 03/2021", "lenalidomide", "received"),
        ("Allergies: penicillin. Daratumumab 3/2022 - 1/2023.", "daratumumab", "received"),
        # a form's printed statement nobody ticked asserts nothing
        (
            "[ ] Member has not received prior CAR-T therapy, including in a clinical trial",
            CAR_T,
            "uncertain",
        ),
        ("[x] Member has not received prior CAR-T therapy", CAR_T, "negated"),
        # a trial's arms: the comparator's drug is not known to be given
        (
            "Randomized phase 3 trial comparing daratumumab-Pd versus Pd; randomized to the control arm.",
            "daratumumab",
            "uncertain",
        ),
        ("A double-blind study of ixazomib or placebo.", "ixazomib", "uncertain"),
        # hedged, self-reported or a lab test named for the drug
        ("? dara at OSH 2021.", "daratumumab", "uncertain"),
        ("Reportedly received daratumumab at an outside hospital.", "daratumumab", "uncertain"),
        ("Daratumumab interference assay sent.", "daratumumab", "uncertain"),
        ("DIRA (daratumumab IFE reflex assay) ordered.", "daratumumab", "uncertain"),
        # a relative as the subject of the whole sentence
        ("Brother with DLBCL s/p Yescarta 2021.", "axicabtagene ciloleucel", "family"),
        # received, though a table cell or a later clause says "none" or "no"
        ("Abecma 2022 | CRS: none", IDE_CEL, "received"),
        ("Carvykti 12/2022 PR None", "ciltacabtagene autoleucel", "received"),
        ("Kd 04/2022-10/2022, complications: none.", "carfilzomib", "received"),
        ("Did not achieve response to Abecma given 2021.", IDE_CEL, "received"),
        ("No progression on DRd; continues in VGPR.", "daratumumab", "received"),
        # a period after a bracket or a percentage ends the negation's sentence
        ("No prior CAR-T (confirmed). Teclistamab 2023.", "teclistamab", "received"),
        ("Denies neuropathy, EF 55%. Daratumumab 2021-2022.", "daratumumab", "received"),
        # received, though "no" or "not" is in the sentence
        ("No response to DPd (2021-2022); refractory.", "daratumumab", "received"),
        (
            "She did not tolerate bortezomib and it was stopped after 2 cycles in 2019.",
            "bortezomib",
            "received",
        ),
        ("No CRS or ICANS after ide-cel in 2023.", IDE_CEL, "received"),
        ("No prior BCMA-directed therapy other than ide-cel in 2022.", IDE_CEL, "received"),
        # a condition's consequent is a plan, also after an arrow, which there means "then"
        ("- If delay > 4 wks or rapid progression -> bridge w/ Kd. Avoid BCMA.", "carfilzomib", "planned"),
        ("Kd (would start after apheresis ideally)", "carfilzomib", "planned"),
        # a denial ends where a recommendation begins: the PA may be denied, the drug is advised
        ("The request was denied; my recommendation would be teclistamab.", "teclistamab", "recommended"),
        # a subject list long enough to outrun a 16-token reach is still what was discussed
        (
            "Cilta-cel (longer slot wait), teclistamab/elranatamab (which would be expected to reduce the"
            " benefit of a later BCMA CAR-T) and pomalidomide-based salvage were discussed.",
            "elranatamab",
            "discussed",
        ),
        # a contraindication: the drug was not given
        ("Neuropathy made bortezomib unacceptable; LVEF made carfilzomib unsafe.", "carfilzomib", "negated"),
        ("Neuropathy made bortezomib unacceptable; LVEF made carfilzomib unsafe.", "bortezomib", "negated"),
        # what a drug is, a trial's comparator, a product's indication: not what was given
        (
            "Daratumumab is an anti-CD38 monoclonal antibody, given subcutaneously.",
            "daratumumab",
            "discussed",
        ),
        (
            "The phase 3 trial showed a survival benefit over standard pomalidomide- or"
            " daratumumab-based regimens.",
            "daratumumab",
            "discussed",
        ),
        ("Last year the FDA expanded the Abecma indication to earlier lines.", IDE_CEL, "discussed"),
        # kept for later, possible, proposed, authorized: not given
        ("We have deliberately held carfilzomib in reserve.", "carfilzomib", "planned"),
        ("A short course of daratumumab could be given under close monitoring.", "daratumumab", "planned"),
        ("In early 2024 I again raised isatuximab with pomalidomide.", "isatuximab", "recommended"),
        (
            "Cilta-cel offers her the best chance of a durable remission.",
            "ciltacabtagene autoleucel",
            "recommended",
        ),
        ("Her plan approved isatuximab in March 2024; she never started it.", "isatuximab", "uncertain"),
        # a denial of part of a class leaves the rest open
        ("He has not received a commercial CAR-T product.", CAR_T, "discussed"),
        # dispensed, prescribed, held before the first dose: not taken
        ("Per the pharmacy he has not started pomalidomide; office says hold.", "pomalidomide", "negated"),
        ("06/09/2025 Pomalidomide 3 mg 21 28 Rx received / PA approved", "pomalidomide", "uncertain"),
        ("Pomalidomide/dex was prescribed June 2025 as next therapy.", "pomalidomide", "planned"),
        ("* dara held C1D1 (hypoxia), never restarted; pom/dex continued alone", "daratumumab", "negated"),
        ("Daratumumab held after cycle 6 for neutropenia.", "daratumumab", "received"),
        (
            "- Anti-CD38 therapy not given (severe COPD).",
            "anti-CD38 monoclonal antibody (no drug named)",
            "negated",
        ),
        # a denied refractoriness is no denial of receipt
        (
            "Dara exposure was limited to induction and she is not strictly dara-refractory.",
            "daratumumab",
            "discussed",
        ),
        ("He is not refractory to bortezomib.", "bortezomib", "discussed"),
        ("He is not refractory to a proteasome inhibitor.", CLASS_PI, "discussed"),
        # "neither ... nor" denies both
        (
            "She has never received an anti-CD38 antibody (neither daratumumab nor isatuximab).",
            "daratumumab",
            "negated",
        ),
        # received
        ("He received daratumumab, which is an anti-CD38 antibody, in 2021.", "daratumumab", "received"),
        ("S/p ide-cel 03/2023 with CRS grade 1.", IDE_CEL, "received"),
        ("Received cilta-cel on CARTITUDE-4 in 2022.", "ciltacabtagene autoleucel", "received"),
        ("Treated with daratumumab 2021-2022.", "daratumumab", "received"),
    ],
)
def test_assertion(text: str, ingredient: str, expected: str) -> None:
    assert expected in assertions(text, ingredient), therapies(text)


@pytest.mark.parametrize(
    "text",
    [
        "Teclistamab 11/2024 - 03/2025 (BCMA bispecific), progressed.",
        "Talquetamab since 04/2025.",
        "Elranatamab x4 cycles.",
        "Belantamab mafodotin 2023.",
        "Leukapheresis performed 10/2026; ide-cel manufacturing pending.",
        # a participle denied: "never been infused with"
        "She is triple-class exposed, and has never been infused with any CAR-T product.",
        # "has had" counts lines here, not the product named after it
        "I recognize he has had only one prior line and that ide-cel is labeled after two or more.",
        # an enrolment whose sentence denies the infusion
        "Enrolled in a CAR-T trial in 2021 but the cells were never infused.",
        "Enrolled in KarMMa-3 in 2021, randomized to standard therapy, never infused.",
        # a review for it is no infusion
        "She was reviewed for CAR-T at the tumor board in 2023.",
        "Tumour board 05/2024: CAR-T discussed, cilta-cel favoured.",
        # a plan's approval dated beside the product is no infusion
        "Abecma was approved by her plan in 02/2025.",
        # a panel's consensus is its recommendation, whatever date stands beside it
        "After discussion, the consensus remains ide-cel given BCMA expression on the 10/2026 marrow.",
    ],
)
def test_not_prior_car_t(text: str) -> None:
    """Bispecifics, ADCs and apheresis alone are not a CAR-T infusion."""
    got = [t for t in therapies(text) if t.therapy_class == "car_t" and t.assertion == "received"]
    assert got == []


@pytest.mark.parametrize(
    "text",
    [
        # label, indication, monitoring and REMS language in letters is not an infusion
        "Abecma is a BCMA-directed genetically modified autologous CAR T-cell therapy indicated for adult "
        "patients after two or more prior lines of therapy.",
        "Patients will be monitored for CRS and neurotoxicity after CAR-T infusion.",
        "The REMS requirement for CAR-T products was removed in 2025.",
        "Tocilizumab must be available prior to CAR-T infusion.",
        "The patient meets criteria for CAR-T therapy.",
        "She understands the risks of CAR-T including CRS and ICANS.",
        "Apheresis was completed 10/2026 for ide-cel manufacturing.",
        "Lymphodepletion with fludarabine and cyclophosphamide will precede the ide-cel infusion.",
        # a date beside CAR-T: an appointment, a collection, a claim line, a denial
        "Q2055 Idecabtagene vicleucel 1 unit DOS 05/01/2024",
        "Cells collected 01/2024 for ide-cel; infusion anticipated 03/2024.",
        # a dated infusion later in the sentence, told as a plan or after a collection
        "Cells collected for CAR-T 01/2024; infusion 03/2024 cancelled after progression.",
        "Referred for BCMA CAR-T; infusion scheduled for 01/2026.",
        "Slot for cilta-cel confirmed; infusion 02/2026 pending authorization.",
        "Seen by the cellular therapy team 2/2024 regarding ide-cel.",
        "He has not yet received CAR-T. Abecma infusion scheduled for 11/2025 pending authorization.",
        "Assessment and Plan:\n1. RRMM - proceed with Abecma.\n   - ide-cel 06/2024",
        # a trial's population, post-infusion instructions, an unconfirmed report
        "In CARTITUDE-4, patients relapsed after a median of 2 prior lines.",
        "Post-CAR-T monitoring instructions: remain within 2 hours of the center for 4 weeks.",
        "Patient states she had CAR-T in 2022 at another center; unable to confirm.",
        "Cancelled: ciltacabtagene autoleucel (CARVYKTI) infusion — order cancelled 05/2024.",
        # toxicity talk: a population, a monitoring plan, a risk
        "Patients with CRS after CAR-T infusion should receive tocilizumab.",
        "Monitor for CRS for 4 weeks after ide-cel infusion.",
        "Grade 3 CRS is possible after ide-cel.",
        # a fax-damaged "no" must not turn a denial into a prior CAR-T
        "Plan: Abecma (ide-cel); prior authorization requested.\nThere is nq prior CAR-T therapy.",
        "There is n0 prior CAR-T therapy.",
        # enrolment is not infusion: a CAR-T trial enrols before collection and manufacture
        "In 3/2022 she enrolled on a phase 1 study of an investigational CAR-T product and had"
        " apheresis 3/28/22, then was taken off study for a line infection.",
        # a receipt word a negation denies, the negation of the mention itself lost to fax OCR
        "Her cells were not infused - she has nevar recieved any CAR-T product.",
        # a receipt word whose object is a step before infusion
        "In 2/2023 she enrolled on a CAR-T study at the cancer center and underwent apheresis;"
        " manufacturing failed twice.",
    ],
)
def test_car_t_talk_is_not_a_prior_car_t(text: str) -> None:
    got = [t for t in therapies(text) if t.assertion == "received"]
    assert got == []


@pytest.mark.parametrize(
    "text",
    [
        "Ide-cel infused 11/01/2026. Day +14 CRS grade 1.",
        "Third line: anti-BCMA CAR T 9/2021 on the outside phase 1 clinical trial.",
        "s/p cilta-cel",
        "Relapsed after BCMA CAR-T.",
        "Relapsed 9 months after cilta-cel.",
        "Notable for prior CAR-T with CRS grade 2 and ICANS.",
        "Ide-cel 2023 complicated by grade 2 CRS.",
        # a trial entry in a numbered history, and an enrolment that says the cells were given
        "Line 4: enrolled on an anti-BCMA CAR-T trial 05/2021.",
        "She enrolled on a CAR-T study in 2021 and received the cells 07/2021.",
        # the infusion and its date right after the product, whatever steps the clause told first
        "3. 07/2021 - 12/2022: phase 1 trial of an anti-BCMA CAR-T: apheresis 07/2021, Flu/Cy"
        " lymphodepletion, CAR-T infusion 09/14/2021; PR.",
        # time since the product, "had", an infusion later in the enrolment's sentence
        "She is now 18 months out from cilta-cel with rising M-spike.",
        "The patient had cilta-cel 2 years ago.",
        "Enrolled in a clinical trial of a BCMA-directed CAR T-cell product in 2021; infused 06/2021.",
        # a trial's cohort letter is the member's assignment, not a population
        "Enrolled on CARTITUDE-2 (cohort C): apheresis 09/2022, cilta-cel infused 11/16/2022.",
        # the sentence goes on, past the clause, to the dated infusion (and a "phase 1 unit" is
        # no claim line's units)
        "He went to the phase 1 unit and was treated on a study (investigational BCMA CAR-T,"
        ' "BCM-114" protocol); flu/cy lymphodepletion and infusion 01/2023, CRS gr 1.',
        # the infusion's ISO date wrapped onto the next line (which read as an entry of its own)
        "fludarabine/cyclophosphamide lymphodepletion 2021-03-31 to 2021-04-02; CAR T-cell infusion\n"
        "2021-04-05. Grade 2 CRS, no ICANS; nail dystrophy and dysgeusia.",
    ],
)
def test_car_t_reported_as_given_is_received(text: str) -> None:
    assert any(t.therapy_class == "car_t" and t.assertion == "received" for t in therapies(text))


def test_negation_does_not_reach_next_line() -> None:
    text = "Prior CAR-T: none\nDaratumumab 2021 - 2022"
    assert "daratumumab" in received(text)


def test_trial_flag_for_car_t_in_trial() -> None:
    [therapy] = [
        t for t in therapies("Received ide-cel on KarMMa-3 clinical trial 2022.") if t.assertion == "received"
    ][:1]
    assert therapy.clinical_trial


def test_section_runs_across_a_page_break() -> None:
    """Pages are parsed one by one (ConText cost); the section a page ends in carries over."""
    text = "Treatment history: VRd 2019\nFamily history:\n\fCarvykti 2023 at an outside center.\nPlan: none."
    [cilta] = therapies(text, "ciltacabtagene autoleucel")
    assert cilta.assertion == "family"
    assert cilta.evidence[0].page == 2


def test_a_car_t_dated_after_the_request_is_not_a_prior_one() -> None:
    """ "Timeline: apheresis 10/06, then CAR-T infusion 11/10/2025" in a letter of 10/01/2025
    tells a plan, whatever product the fax asks for; an infusion dated before it is told."""
    later = facts_of(
        "October 1, 2025\nTimeline: apheresis 10/06/2025, bridging, then CAR-T infusion 11/10/2025."
    )
    assert {t.assertion for t in later.therapies if t.therapy_class == "car_t"} == {"planned"}
    before = facts_of("October 1, 2025\nShe received cilta-cel on a trial; infusion 03/2023.")
    assert {t.assertion for t in before.therapies if t.therapy_class == "car_t"} == {"received"}


def test_a_forms_health_plan_field_opens_no_plan_of_care() -> None:
    """ "Plan: [x] MA HMO" names the member's health plan: read as a plan-of-care title, it
    made every drug after it planned, and a whole treatment table gave no line."""
    text = (
        "Member name: Jane Roe  DOB: 3/11/52\nPlan: [x] MA HMO   [ ] MA PPO  Phone: (860) 555-0171\n"
        "Prescriber: Ewa Roe, MD  Specialty: Hematology/Oncology\n"
        "# Regimen Start Stop\n2 DPd (daratumumab SC, pomalidomide, dex) 04/2019 06/2022"
    )
    assert assertions(text, "daratumumab") == {"received"}
    # whatever the plan's name, as OCR runs its words together: a field answered by a box
    fax = text.replace("MA HMO   [ ] MA PPO", "MAHMO [] MAPPO")
    assert assertions(fax, "daratumumab") == {"received"}
    # a plan of care keeps its title
    assert assertions("Plan:\nStart DPd (daratumumab, pomalidomide, dex) next week.", "daratumumab") == {
        "planned"
    }


def test_a_context_rule_may_be_a_token_pattern() -> None:
    """lexicons/context_rules.json rows may carry medspaCy's own 'pattern' field: 'never
    filled', 'not infused' after the drug."""
    assert assertions("Pomalidomide was never infused.", "pomalidomide") == {"negated"}
    assert assertions("Selinexor prescribed 2024, never filled.", "selinexor") == {"negated"}


def test_statement_categories_modify_therapies_only() -> None:
    """'allowed_types': a candidacy modifies the CAR-T, never the diagnosis beside it."""
    facts = facts_of("She is a candidate for CAR-T for relapsed myeloma.")
    assert {d.assertion for d in facts.diagnoses} == {"received"}
    assert assertions("She is a candidate for CAR-T for relapsed myeloma.", CAR_T) == {"eligibility"}


@pytest.mark.parametrize(
    "text",
    [
        "Date of service: 11/18/2025\nPlan: 1. Submit PA for Abecma today (11/18/2025).\n",
        "Date of service: 08/24/2026\nRE: Medical Necessity - Abecma (idecabtagene vicleucel) 08/24/2026\n",
        "Date of service: 08/24/2026\nRequested: Abecma, infusion 09/2026 at the cellular therapy center.\n",
    ],
)
def test_the_requested_product_dated_at_or_after_the_request_is_not_a_prior_receipt(text: str) -> None:
    assert "received" not in assertions(text, IDE_CEL)


def test_the_requested_products_class_given_before_the_request_stays_received() -> None:
    text = (
        "Date of service: 08/24/2026\nRequest: Abecma.\nHistory: cilta-cel infused 03/2024, relapsed 2025.\n"
    )
    assert "received" in assertions(text, "ciltacabtagene autoleucel")


@pytest.mark.parametrize(
    "text",
    [
        "We also talked about teclistamab at her December visit. She decided against it.",
        "I spoke with her and her husband about teclistamab today.",
        "We have talked at length about teclistamab.",
    ],
)
def test_a_conversation_about_a_drug_in_any_tense_is_discussed(text: str) -> None:
    """Before, "talked about teclistamab" read as received: a BCMA bispecific in no listed
    line made the history partial and sent a whole case to a reviewer."""
    assert assertions(text, "teclistamab") == {"discussed"}


def test_high_dose_melphalan_with_autologous_stem_cell_rescue_is_the_transplant() -> None:
    facts = facts_of(
        "After four cycles of VRd she went on to high-dose melphalan with autologous stem cell"
        " rescue in 8/2021."
    )
    assert "autologous stem cell transplant" in {t.ingredient for t in facts.therapies}


@pytest.mark.parametrize(
    ("text", "drug", "said"),
    [
        (
            "Addendum 11/13/2025: CAR-T tumor board recommends cilta-cel.",
            "ciltacabtagene autoleucel",
            "recommended",
        ),
        ("Dr. Lee suggested teclistamab at the visit.", "teclistamab", "recommended"),
        ("Kd, begun as bridging therapy for a planned CAR-T, continued.", "car-t cell therapy", "planned"),
        # done as it was planned is done
        ("She received VRd as planned.", "bortezomib", "received"),
    ],
)
def test_a_verbs_other_forms_and_a_participle_before_the_therapy_say_what_the_literal_says(
    text: str, drug: str, said: str
) -> None:
    """medspaCy matches a literal rule word by word: "recommend" missed "recommends", the
    backward "planned" missed "a planned CAR-T", and "as planned" read as a plan."""
    assert assertions(text, drug) == {said}


def test_a_decision_is_a_plan_and_label_language_is_discussed() -> None:
    assert "received" not in assertions(
        "On 2025-12-30 we reviewed options and agreed on idecabtagene vicleucel.", IDE_CEL
    )
    assert "received" not in assertions(
        "Carvykti is FDA-approved (April 2024) for adults with relapsed myeloma.", "ciltacabtagene autoleucel"
    )


def test_a_family_history_label_inline_does_not_make_the_members_own_statements_a_relatives() -> None:
    """Regression: 'Family history: his sister ... received CAR T-cell therapy.' opened a
    section that ran on, so 'He has never received CAR-T' and the board's recommendation of
    Carvykti were read as the sister's."""
    text = (
        "Discussion\n"
        "Family history: his sister, treated for lymphoma, received CAR T-cell therapy.\n"
        "He has never received chimeric antigen receptor (CAR) T-cell therapy.\n"
        "Board recommendation\n"
        "Carvykti planned, prior authorization pending.\n"
    )
    assert "negated" in assertions(text, CAR_T)
    assert "family" in assertions(text, CAR_T)
    assert assertions(text, "ciltacabtagene autoleucel") & {"planned", "requested", "recommended"}


def test_a_numbered_list_under_a_lead_in_of_options_is_options() -> None:
    """Regression: under "We went over her options today:" the items "2. Bispecific antibodies
    (teclistamab, talquetamab) ..." were read as received, and each opened a line."""
    text = (
        "Prior therapy:\n1. DRd 2020-2022\n2. KPd 2022-2025\n"
        "We went over her options today:\n"
        "1. Cilta-cel, if a slot opens.\n"
        "2. Bispecific antibodies (teclistamab, talquetamab) - continuous dosing.\n"
    )
    assert assertions(text, "teclistamab") == {"discussed"}
    assert assertions(text, "talquetamab") == {"discussed"}
    assert len(facts_of(text).lines) == 2


def test_a_lead_in_with_a_subject_and_a_topic_opens_a_list_of_options() -> None:
    """Regression: "The board discussed options for relapse after BCMA CAR-T with retained BCMA
    expression:" was no lead-in (a subject other than a pronoun, a topic with a hyphen), so its
    items "3. Teclistamab or elranatamab" were read as received and opened two undated lines."""
    text = (
        "Treatment history:\n1. VRd 2016-2019\n2. DKd 2019-2020\n"
        "The board discussed options for relapse after BCMA CAR-T with retained BCMA expression:\n"
        "1. Re-treatment with a second product (ide-cel). Limited experience.\n"
        "Payer coverage for a second product is uncertain.\n"
        "2. Teclistamab or elranatamab - BCMA-directed bispecific; lower activity.\n"
    )
    assert assertions(text, "elranatamab") == {"discussed"}
    assert len(facts_of(text).lines) == 2


def test_the_list_under_a_lead_in_ends_where_prose_resumes() -> None:
    """The items of a list of options are options; the prose after the list is history again
    ("She then received Kd in 2024" is not an option), while a sentence that wraps an item and
    has another item after it stays in the list."""
    text = (
        "We discussed at length the options at this point:\n"
        "1. Cilta-cel (CARTITUDE-4).\n"
        "Highest depth of response; teclistamab was also named.\n"
        "2. Ide-cel, slot in February.\n"
        "She then received Kd in 03/2024 with a partial response.\n"
    )
    assert assertions(text, "teclistamab") == {"discussed"}
    assert "received" in assertions(text, "carfilzomib")


def test_a_collection_that_was_never_infused_is_not_a_statement_of_no_prior_car_t() -> None:
    """'no CAR-T was infused' tells how that episode ended; whether the member ever had a
    CAR-T stays for the documents to say."""
    text = "Cells were collected 06/2025 for CAR-T therapy but manufacturing failed; no CAR-T was infused."
    assert assertions(text, CAR_T) == {"collected_not_given"}
    assert "negated" in assertions("She has never received CAR-T therapy.", CAR_T)
    # another sentence on the line is the member's history again
    told = "She has never been treated with CAR-T cells. Plan: ide-cel with apheresis planned 12/2026."
    assert "negated" in assertions(told, CAR_T)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("No prior cellular therapy.", {"negated"}),
        ("Never received BCMA-directed therapy or any cellular therapy.", {"negated"}),
        # said in any other way, the wider kind says nothing of a CAR-T
        ("Referred to the cellular therapy program at Yale.", set()),
        ("Cellular therapy was discussed as an option.", set()),
        ("s/p cellular therapy 2023", set()),
    ],
)
def test_a_denied_cellular_therapy_denies_car_t_and_nothing_else_of_it_counts(
    text: str, said: set[str]
) -> None:
    """ "No prior cellular therapy" denies every CAR-T; before, no phrase read it, and the
    criterion stayed undocumented on a letter that answered it."""
    assert assertions(text, CAR_T) == said


def test_options_named_after_a_few_words_or_lettered_on_the_lead_ins_line_are_options() -> None:
    """Regression: "Other options remaining include ... linvoseltamab" and a bulleted
    "- Discussed options at length: (a) ide-cel, ... (e) selinexor-based." wrapping onto the
    next line left their later drugs received, each a drug in no listed line."""
    named = "Other options remaining include BCMA bispecific antibodies (teclistamab,\nlinvoseltamab)."
    assert assertions(named, "linvoseltamab") == {"discussed"}
    lettered = (
        "- Discussed options at length: (a) ide-cel (Abecma), (b) cilta-cel, (c) talquetamab\n"
        "(GPRC5D), (d) clinical trial, (e) selinexor-based.\n"
    )
    assert assertions(lettered, "selinexor") == {"discussed"}


NEVER_INFUSED = [
    # the same sentence tells the collection and that nothing was infused
    "He underwent leukapheresis in 05/2025 for cilta-cel; the product was never infused because of"
    " rapid progression.",
    # the next sentence tells how an enrolment ended
    "In April 2023 she enrolled in an investigational CAR-T study and underwent leukapheresis on"
    " 04/11/2023. The manufactured product failed release testing, and she was never infused.",
]


@pytest.mark.parametrize("text", NEVER_INFUSED)
def test_a_collection_or_enrolment_told_as_never_infused_is_collected_not_given(text: str) -> None:
    """Read as 'could not tell', beside "no prior CAR-T" the episode was a contradiction for a
    reviewer; its own story says no cells were given."""
    got = {t.assertion for t in facts_of(text).therapies if t.therapy_class == "car_t"}
    assert got == {"collected_not_given"}


@pytest.mark.parametrize(
    ("text", "dated"),
    [
        # the date is the collection's, the board's, the referral's: nothing says a CAR-T then
        ("Mr. O underwent leukapheresis on 06/04/2024 for commercial ciltacabtagene autoleucel.", False),
        ("Of note, T cells were collected 12/10/2024 for Carvykti; manufacturing failed.", False),
        ("Addendum 11/13/2025: CAR-T tumor board recommends cilta-cel.", False),
        # an enrolment may have ended in an infusion; a date nothing explains stays
        ("In 2023 she enrolled in a CAR-T trial at another center; details are not available.", True),
        ("She reportedly had CAR-T in 2022 at an outside center.", True),
    ],
)
def test_a_car_t_named_in_a_clause_that_tells_another_event_keeps_no_date(text: str, dated: bool) -> None:
    """Beside "she has never received CAR-T therapy", a dated CAR-T that could not be read as
    given or not was a contradiction for a reviewer; a date its clause gives to a collection
    or a referral is no CAR-T date."""
    car_t = [t for t in facts_of(text).therapies if t.therapy_class == "car_t"]
    assert car_t and all(t.assertion != "received" for t in car_t)
    assert any(t.assertion == "uncertain" and (t.start or t.end) for t in car_t) == dated


def test_a_denial_of_another_drug_next_to_a_dated_car_t_says_nothing_of_the_car_t() -> None:
    """Only a denied receipt of the cells or the infusion ends the episode: 'never received
    daratumumab' beside a collection leaves the CAR-T as unsure as before."""
    text = (
        "In 2023 she enrolled in a CAR-T trial at another center (records requested). She never"
        " received daratumumab."
    )
    got = {t.assertion for t in facts_of(text).therapies if t.therapy_class == "car_t"}
    assert "collected_not_given" not in got


def test_a_receipt_word_whose_object_runs_past_the_window_names_the_step() -> None:
    """'underwent leukapheresis' cut at the window's edge ('underwent leukapher') read as the
    cells given: a false prior CAR-T is a wrong 'not met'."""
    text = (
        "In April 2023 she enrolled in an investigational CAR-T study and underwent leukapheresis"
        " on 04/11/2023."
    )
    assert "received" not in {t.assertion for t in facts_of(text).therapies if t.therapy_class == "car_t"}


def test_a_form_line_that_opens_with_a_label_is_a_field_of_its_own() -> None:
    """'( ) None received' ends in a word that runs on in prose ('she received / VRd'); the
    next line 'Proteasome inhibitor: (x) Velcade' was joined to it, and so on to 'Prior
    CAR-T: ( ) Yes (x) No', whose ticked No then negated every drug ticked above."""
    form = (
        "Prior therapy classes (mark all received)\n"
        "Immunomodulatory agent: (x) Revlimid/lenalidomide ( ) Thalomid/thalidomide ( ) None\n"
        "received\n"
        "Proteasome inhibitor: (x) Velcade/bortezomib ( ) Kyprolis/carfilzomib ( ) None received\n"
        "Prior CAR-T: ( ) Yes (x) No\n"
    )
    assert assertions(form, "lenalidomide") == {"received"}
    assert assertions(form, "bortezomib") == {"received"}
    assert "negated" in assertions(form, CAR_T)


@pytest.mark.parametrize(
    ("text", "ingredient", "expected"),
    [
        # a hyphenated naive says it of the word it is joined to
        ("RRMM after 5 lines, triple-class refractory, BCMA-naive, progressing.", CLASS_PI, "received"),
        ("She is PI-naive.", CLASS_PI, "negated"),
        # a free-standing one of the phrase before it
        ("He is lenalidomide and bortezomib naive.", "lenalidomide", "negated"),
    ],
)
def test_naive_negates_what_it_is_said_of(text: str, ingredient: str, expected: str) -> None:
    assert assertions(text, ingredient) == {expected}


def test_a_planned_label_makes_its_line_a_plan_and_no_more() -> None:
    """'Planned: CAR-T (ide-cel) evaluation 08/2026' beside "never received CAR-T" was a dated
    CAR-T nobody could read as given or not, so a contradiction for a reviewer; the label
    written inline covers its own line, not the history after it."""
    text = (
        "She has never received CAR-T cell therapy.\n"
        "Planned: CAR-T (ide-cel) evaluation 08/2026 - candidate. Apheresis 09/09/2026 pending insurance.\n"
        "History: VRd 2019-2020.\n"
    )
    assert assertions(text, "idecabtagene vicleucel") == {"planned"}
    assert assertions(text, "bortezomib") == {"received"}


def test_a_drug_defined_as_a_kind_is_not_received() -> None:
    """The drug must stand right before "is": its definition, not its receipt."""
    assert "received" not in assertions("Daratumumab is an anti-CD38 monoclonal antibody.", "daratumumab")


def test_an_inline_family_history_label_does_not_carry_to_the_next_page() -> None:
    """ "Family history. Mother with breast cancer" labels its own line; the assessment on the
    next page is the member's."""
    text = (
        "Family history. Mother with breast cancer.\n"
        "\fAssessment\nRelapsed myeloma after three lines, having received lenalidomide and"
        " bortezomib.\n"
    )
    assert {t.assertion for t in therapies(text, "lenalidomide")} == {"received"}
