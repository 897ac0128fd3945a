"""What building the NLP pipeline must not pay for (extractors/deferred.py): NLTK (imported
by QuickUMLS, which medspaCy imports and our pipeline never uses) pulls in scipy.stats and
scikit-learn, 1.5-2 s of CPU on every start-up; requests (imported by spaCy's model
download command) pulls in urllib3 and charset_normalizer.  They stay unloaded until
something uses them, and then they are the real modules.  Each check runs in a fresh
interpreter: sys.modules is the point."""

from __future__ import annotations

import json
import subprocess
import sys

_HEAVY = ("nltk.corpus", "nltk.metrics", "scipy.stats", "sklearn", "urllib3", "charset_normalizer")


def _fresh(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_building_the_pipeline_leaves_nltk_and_requests_unloaded() -> None:
    found = _fresh(
        "import json, sys; from extractors.nlp import build_nlp, parse; build_nlp(); "
        "ents = [e.text for e in parse('Received lenalidomide and bortezomib.').ents]; "
        f"print(json.dumps({{'loaded': [m for m in {_HEAVY!r} if m in sys.modules], 'ents': ents}}))"
    )
    assert found["loaded"] == []
    assert found["ents"] == ["lenalidomide", "bortezomib"]


def test_nltk_is_the_real_one_when_it_is_used() -> None:
    found = _fresh(
        "import json, sys; from extractors.nlp import build_nlp; build_nlp(); "
        "import quickumls.core as q; import nltk; "
        "print(json.dumps({'edit': q.nltk.edit_distance('myeloma', 'myelorna'), "
        "'corpus': hasattr(nltk, 'corpus'), 'module': type(sys.modules['nltk']).__name__}))"
    )
    assert found == {"edit": 2, "corpus": True, "module": "module"}


def test_requests_is_the_real_one_when_it_is_used() -> None:
    found = _fresh(
        "import json, sys; from extractors.nlp import build_nlp; build_nlp(); "
        "d = sys.modules['spacy.cli.download']; from requests.exceptions import RequestException; "
        "print(json.dumps({'session': d.requests.Session.__name__, "
        "'error': issubclass(RequestException, OSError), 'module': type(sys.modules['requests']).__name__}))"
    )
    assert found == {"session": "Session", "error": True, "module": "module"}
