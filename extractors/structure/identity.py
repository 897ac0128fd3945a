"""Whose page it is, what kind of page it is, and how many pages the cover sheet promised.

Identifiers (name, date of birth, MRN, member id) are read after their labels
(``lexicons/structure/identity.json``).  The packet's member comes from the request's pieces: cover
sheet, request form, card and demographics pages count three times a clinical page.  A
page that names someone else (identifiers that differ and none that agree) is set aside:
no fact may come from it, and a warning names it.  A page that names nobody and follows a
set-aside page goes with it (the second page of a misfiled note rarely repeats the header).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from common.models import Evidence, Notice
from common.structure import FormField, IdentityItem, IdentityKind, PacketMember, PageRole, PatientMatch
from extractors.dates import find_birth_dates
from extractors.ocr_fuzzy import bounded_distance, confusion_key
from extractors.structure.geometry import PageGeometry, Placed
from extractors.structure.rows import Row, phrase_gap, span
from extractors.structure.vocabulary import StructureLexicon, normalise, tokens

_VALUE_GAP_EM = 6.0  # a value may stand this far right of its label (a form's column)
_MAX_NAME_WORDS = 4
_ID_MIN_CHARS = 4
_REQUEST_WEIGHT = 3.0  # a request piece's identifiers, against a clinical page's
_ID_FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "S": "5", "B": "8", "Z": "2"})
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_COUNT_SKIP = 2  # words between a page-count label and its number
_DEMOGRAPHIC_OR_REQUEST = frozenset({"cover_sheet", "insurance_card", "demographics", "request_form"})


# --------------------------------------------------------------------------- reading identifiers


def _row_tokens(row: Row) -> list[tuple[str, int]]:
    return [(t, k) for k, w in enumerate(row.words) for t in normalise(w.text).split()]


def _same_phrase(a: Placed, b: Placed, row: Row) -> bool:
    return b.x0 - a.x1 <= phrase_gap(row.words)


def _after(row: Row, last: int) -> list[Placed]:
    """The words after a label: the first may stand a form's column away, the rest close."""
    out: list[Placed] = []
    prev = row.words[last]
    for w in row.words[last + 1 :]:
        limit = _VALUE_GAP_EM * row.height if not out else phrase_gap(row.words)
        if w.x0 - prev.x1 > limit:
            break
        out.append(w)
        prev = w
    return out


def _date_value(words: Sequence[Placed]) -> tuple[str, list[Placed]] | None:
    head = [w for w in words if w.text not in {":", "#"}][:3]
    text = " ".join(w.text for w in head)
    found = find_birth_dates(text)
    if not found or found[0][0] > 2 or len(found[0][2]) != 10:
        return None
    end = found[0][1]
    used, offset = [], 0
    for w in head:
        if offset < end:
            used.append(w)
        offset += len(w.text) + 1
    return found[0][2], used


def _id_value(words: Sequence[Placed], fillers: frozenset[str]) -> tuple[str, list[Placed]] | None:
    for w in words[:3]:
        value = _NOT_ALNUM.sub("", w.text.upper())
        if len(value) >= _ID_MIN_CHARS and any(ch.isdigit() for ch in value):
            return value, [w]
        if normalise(w.text) and normalise(w.text) not in fillers:
            return None
    return None


def name_key(text: str) -> str:
    """A name's words, lower case, initials dropped, sorted: "QUILL, Ada M." -> "ada quill"."""
    return " ".join(sorted(t for t in tokens(text) if len(t) > 1 and t.isalpha()))


def _name_value(words: Sequence[Placed], lexicon: StructureLexicon) -> tuple[str, list[Placed]] | None:
    used: list[Placed] = []
    for w in words:
        word = normalise(w.text)
        if not word or w.text.startswith("(") or any(ch.isdigit() for ch in w.text):
            break
        if word in lexicon.name_stops or lexicon.identity.at(word.split(), 0):
            break
        if not w.text.lstrip("'\"")[:1].isupper():
            break  # names are capitalised: "Patient tolerated therapy" names no one
        used.append(w)
        if len(used) == _MAX_NAME_WORDS or (w.text.endswith((";", ".")) and len(word) > 1):
            break
    key = name_key(" ".join(w.text for w in used))
    if len(key.split()) < 2:
        return None
    return key, used


def identity_items(
    geometry: PageGeometry, rows: Sequence[Row], lexicon: StructureLexicon
) -> list[IdentityItem]:
    page = geometry.page.number
    found: list[IdentityItem] = []
    for row in rows:
        toks = _row_tokens(row)
        names = [t for t, _ in toks]
        i = 0
        while i < len(names):
            hit = lexicon.identity.at(names, i)
            if hit is None:
                i += 1
                continue
            n, kind = hit
            first, last = toks[i][1], toks[i + n - 1][1]
            i += n
            # "Provider name:", "Emergency contact name" are someone else's
            if first > 0 and _same_phrase(row.words[first - 1], row.words[first], row):
                before = normalise(row.words[first - 1].text).split()
                if before and before[-1] in lexicon.not_after:
                    continue
            # the label must end its word ("Patient" in "Patients" is not a label)
            if i < len(toks) and toks[i][1] == last:
                continue
            label_words = row.words[first : last + 1]
            labelled = label_words[-1].text.endswith((":", "#")) or (
                last + 1 < len(row.words) and row.words[last + 1].text in {":", "#"}
            )
            value = _value(_kind(kind), _after(row, last), lexicon, labelled=labelled, words_in_label=n)
            if value is None:
                continue
            key, words = value
            label = span(page, label_words)
            found.append(
                IdentityItem(
                    kind=kind,
                    value=key,
                    span=span(page, words),
                    label=label.model_copy(update={"text": label.text.rstrip(":# ")}),
                )
            )
    return found


def _kind(value: str) -> IdentityKind:
    for kind in ("name", "date_of_birth", "mrn", "member_id"):
        if value == kind:
            return kind
    raise ValueError(f"not an identity kind: {value!r}")  # the lexicon schema allows no other


def _value(
    kind: IdentityKind, words: list[Placed], lexicon: StructureLexicon, *, labelled: bool, words_in_label: int
) -> tuple[str, list[Placed]] | None:
    if kind == "date_of_birth":
        return _date_value(words)
    if kind in ("mrn", "member_id"):
        return _id_value(words, lexicon.id_fillers)
    # A bare "Patient" or "Name" names someone only as a label ("Patient: Ada Quill").
    if words_in_label == 1 and not labelled:
        return None
    return _name_value([w for w in words if w.text not in {":", "#"}], lexicon)


# --------------------------------------------------------------------------- page roles


_TITLE_SHARE = 0.6  # a title is most of its row: "RE: prior authorization request, ..." is not one


def _title_role(rows: Sequence[Row], height: float, lexicon: StructureLexicon) -> tuple[PageRole, str] | None:
    """The role of the topmost row in the page's top third that is a role's title."""
    titles = [(list(tokens(t)), role.role) for role in lexicon.roles for t in role.titles]
    for row in rows:
        if row.top > height / 3:
            break
        toks = lexicon.words.read(row.text)
        for title, role in titles:
            n = len(title)
            if n < _TITLE_SHARE * len(toks):
                continue
            if any(toks[k : k + n] == title for k in range(len(toks) - n + 1)):
                return role, f"titled '{row.text}'"
    return None


def page_role(
    geometry: PageGeometry, rows: Sequence[Row], fields: Sequence[FormField], lexicon: StructureLexicon
) -> tuple[PageRole, str]:
    if geometry.page.blank or not rows:
        return "blank", "nothing to read on the page"
    titled = _title_role(rows, geometry.height, lexicon)
    if titled:
        return titled
    words = sum(len(r.words) for r in rows)

    def read(text: str) -> str:
        return " ".join(lexicon.words.read(text))

    labels = {read(f.label.text) for f in fields}
    heads = {read(r.text) for r in rows} | {read(r.text.split(":")[0]) for r in rows if ":" in r.text}
    for role in lexicon.roles:
        if not role.cues or (role.max_words is not None and words > role.max_words):
            continue
        cues = [c for c in role.cues if read(c) in labels or read(c) in heads]
        required = not role.required_cues or any(
            read(c) in labels or read(c) in heads for c in role.required_cues
        )
        if len(cues) >= role.min_cues and required:
            return role.role, f"{len(cues)} {role.role.replace('_', ' ')} labels ({', '.join(cues)})"
    return "clinical", "a clinical page (no cover-sheet, card, demographics or request-form title)"


# --------------------------------------------------------------------------- the page count


def stated_page_count(
    geometry: PageGeometry, rows: Sequence[Row], lexicon: StructureLexicon
) -> tuple[int, Evidence] | None:
    """A cover sheet's number of pages: "Pages (including cover): 5", "5 pages"."""
    words = lexicon.page_count
    before = sorted((list(tokens(t)) for t in words.labels_before_number), key=len, reverse=True)
    after = sorted((list(tokens(t)) for t in words.labels_after_number), key=len, reverse=True)
    excluding = [list(tokens(t)) for t in words.excluding_cover]
    page = geometry.page.number
    for row in rows:
        toks = _row_tokens(row)
        names = [lexicon.words.canonical(t) for t, _ in toks]
        for k, name in enumerate(names):
            count = None
            for label in before:
                n = len(label)
                if names[k : k + n] != label:
                    continue
                # the number may follow a word or two OCR misread ("Pages (including caver): 3")
                for skip in range(_COUNT_SKIP + 1):
                    j = k + n + skip
                    if j < len(names) and names[j].isdigit():
                        count, end = int(names[j]), j
                        break
                    if j >= len(names) or not names[j].isalpha():
                        break
                if count is not None:
                    break
            if count is None and name.isdigit() and k > 0:
                for label in after:
                    n = len(label)
                    if names[k + 1 : k + 1 + n] == label:
                        count, end = int(name), k + n
                        break
            if count is None or not 0 < count < 1000:
                continue
            cover = any(names[j : j + len(x)] == x for x in excluding for j in range(len(names) - len(x) + 1))
            used = row.words[toks[min(k, end)][1] : toks[end][1] + 1]
            evidence = span(page, used).evidence()
            return count + (1 if cover else 0), evidence
    return None


# --------------------------------------------------------------------------- the member


def _fold_id(value: str) -> str:
    return value.upper().translate(_ID_FOLD)


# An identifier read with less OCR confidence than this may differ by a misread glyph
# (measured on the corpus: "ZZ-000112" read "2Z2Z-000112" at 0.40, "HX-2O417" at 0.55):
# it confirms the member when it agrees, and cannot set a page aside when it differs.
_TRUSTED = 0.8


def _trusted(item: IdentityItem) -> bool:
    return item.span.confidence is None or item.span.confidence >= _TRUSTED


def same_person(a: IdentityItem, b: IdentityItem) -> bool | None:
    """Do two readings of one kind of identifier name the same person?  None: cannot tell."""
    same = compare(a.kind, a.value, b.value)
    if same is False and not (_trusted(a) and _trusted(b)):
        return None
    return same


def compare(kind: IdentityKind, a: str, b: str) -> bool | None:
    """True: the same; False: different; None: cannot tell (one OCR slip apart)."""
    if kind == "date_of_birth":
        if a == b:
            return True
        # one digit apart is one OCR slip ("05/13/1962" read "08/13/1962" on a fax), as
        # an id two edits apart is: it cannot set a page aside, the name still can
        slips = sum(x != y for x, y in zip(a, b, strict=False)) if len(a) == len(b) else 2
        return None if slips == 1 else False
    if kind == "name":
        ta = {confusion_key(t) for t in a.split()}
        tb = {confusion_key(t) for t in b.split()}
        shared = ta & tb
        if len(shared) >= min(2, len(ta), len(tb)):
            return True
        # The words not shared must be one OCR slip apart for the names to be one person's:
        # "Harriet Merced" is not "Harold Mercer", and "Fakename, Wanda" is not "Fakename,
        # Yankee" (a relative shares a surname). Initials alone cannot tell.
        rest_a = [x for x in ta - shared if len(x) >= 3]
        rest_b = [y for y in tb - shared if len(y) >= 3]
        if not rest_a or not rest_b:
            return None
        short, other = (rest_a, rest_b) if len(rest_a) <= len(rest_b) else (rest_b, rest_a)
        twins = all(any(bounded_distance(x, y, 1) <= 1 for y in other) for x in short)
        return None if twins else False
    fa, fb = _fold_id(a), _fold_id(b)
    if fa == fb:
        return True
    if len(fa) >= 6 and bounded_distance(fa, fb, 2) <= 2:
        return None
    return False


@dataclass(frozen=True)
class PageIdentity:
    page: int
    role: PageRole
    items: tuple[IdentityItem, ...]


_KINDS: tuple[IdentityKind, ...] = ("date_of_birth", "mrn", "member_id", "name")


def packet_member(pages: Sequence[PageIdentity]) -> PacketMember:
    # Numbers first: OCR splits a name into variants that do not group, while a date of
    # birth or an id folds its misreadings together.  Each kind hears only the pages that
    # agree with the kinds chosen before it (a misfiled page's MRN is not the member's
    # because the member's own pages print none); then each kind is chosen again hearing
    # only the pages that agree with all the others (the misfiled page's date of birth,
    # the only one in the packet, is not the member's either).
    chosen: dict[str, IdentityItem] = {}
    for kind in _KINDS:
        if (winner := _vote(pages, kind, chosen)) is not None:
            chosen[kind] = winner
    for kind in _KINDS:
        others = {k: v for k, v in chosen.items() if k != kind}
        winner = _vote(pages, kind, others)
        if winner is None:
            chosen.pop(kind, None)
        else:
            chosen[kind] = winner
    sources = {item.span.page for item in chosen.values()}
    return PacketMember(
        name=chosen.get("name"),
        date_of_birth=chosen.get("date_of_birth"),
        mrn=chosen.get("mrn"),
        member_id=chosen.get("member_id"),
        pages=tuple(sorted(sources)),
    )


def _vote(pages: Sequence[PageIdentity], kind: str, chosen: dict[str, IdentityItem]) -> IdentityItem | None:
    """The reading of ``kind`` most pages give (request pieces weigh more), among the pages
    that do not contradict ``chosen``."""
    votes: list[tuple[float, int, IdentityItem]] = []
    for p in pages:
        if _contradicts(p, chosen):
            continue
        weight = _REQUEST_WEIGHT if p.role in _DEMOGRAPHIC_OR_REQUEST else 1.0
        for item in p.items:
            if item.kind != kind:
                continue
            weight *= item.span.confidence if item.span.confidence is not None else 1.0
            for index, (w, first, held) in enumerate(votes):
                if compare(item.kind, held.value, item.value):
                    # the reading OCR was surest of stands for the group
                    surest = item if _confidence(item) > _confidence(held) else held
                    votes[index] = (w + weight, first, surest)
                    break
            else:
                votes.append((weight, p.page, item))
            break  # a page votes once per kind
    if not votes:
        return None
    return max(votes, key=lambda v: (v[0], -v[1]))[2]


def _contradicts(page: PageIdentity, chosen: dict[str, IdentityItem]) -> bool:
    """The page names someone the identifiers chosen so far say is not the member."""
    # the readings compared as read, trusted or not: a page kept out of a vote loses nothing
    # but its say in which identifier is the member's
    return any(
        item.kind in chosen and compare(item.kind, chosen[item.kind].value, item.value) is False
        for item in page.items
    )


def _confidence(item: IdentityItem) -> float:
    return 1.0 if item.span.confidence is None else item.span.confidence


_KIND_WORDS = {"name": "name", "date_of_birth": "date of birth", "mrn": "MRN", "member_id": "member id"}


def _listed(kinds: Sequence[str]) -> str:
    words = [_KIND_WORDS[k] for k in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def match_page(page: PageIdentity, member: PacketMember) -> tuple[PatientMatch, str, list[str], list[str]]:
    agree: list[str] = []
    differ: list[str] = []
    doubtful: list[str] = []  # read differently, but at an OCR confidence that cannot tell
    for item in page.items:
        held = member.item(item.kind)
        if held is None or item.kind in agree or item.kind in differ:
            continue
        same = same_person(held, item)
        if same is True:
            agree.append(item.kind)
        elif same is False:
            differ.append(item.kind)
        elif compare(item.kind, held.value, item.value) is False and item.kind not in doubtful:
            doubtful.append(item.kind)
    if not agree and not differ and len(doubtful) >= 2:
        # every identifier the page gives reads as someone else's: one poor reading may be
        # a slip, two kinds at once are another patient
        return "other_patient", f"its {_listed(doubtful)} read differently from the member's", agree, doubtful
    if differ and not agree:
        return "other_patient", f"its {_listed(differ)} differ from the member's", agree, differ
    if differ:
        return (
            "conflict",
            f"its {_listed(agree)} match the member's but its {_listed(differ)} do not",
            agree,
            differ,
        )
    if agree:
        return "member", f"its {_listed(agree)} match the member's", agree, differ
    return "unknown", "the page names no patient", agree, differ


def patients(
    pages: Sequence[PageIdentity], member: PacketMember
) -> tuple[dict[int, tuple[PatientMatch, str]], list[Notice]]:
    out: dict[int, tuple[PatientMatch, str]] = {}
    notices: list[Notice] = []
    previous_other: int | None = None
    for p in pages:
        status, reason, _, _ = match_page(p, member)
        if status == "unknown" and previous_other is not None and p.role not in ("blank", "cover_sheet"):
            status, reason = (
                "other_patient",
                f"it names no patient and follows page {previous_other}, another patient's",
            )
        out[p.page] = (status, reason)
        if status == "other_patient":
            notices.append(
                Notice(
                    code="other_patient_page",
                    message=f"page {p.page} is about another patient ({reason}); "
                    "it was set aside and no fact was read from it.",
                    page=p.page,
                )
            )
            if p.items:
                previous_other = p.page
        else:
            if status == "conflict":
                notices.append(
                    Notice(
                        code="identity_conflict",
                        message=f"page {p.page}: {reason}; check that it belongs to this member.",
                        page=p.page,
                    )
                )
            if p.items:
                previous_other = None
    return out, notices
