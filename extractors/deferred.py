"""Modules that spaCy's and medspaCy's imports pull in and this pipeline never uses, left
unloaded until something asks one of them for an attribute, if ever.

* ``nltk``: medspaCy imports QuickUMLS (its UMLS component, not in our pipeline), which
  imports NLTK for a stopword list it reads only when a QuickUMLS component is built.
  NLTK's own import pulls in scipy.stats and scikit-learn: 1.5-2 s of CPU a start-up.
* ``requests``: spaCy imports its command line (``spacy.cli``) with the package, and the
  model download and ``validate`` commands import requests, used only when they run:
  0.05-0.1 s of CPU (requests with urllib3 and charset_normalizer).

``importlib.util.LazyLoader`` cannot serve: on Python 3.11 an ``import`` statement reads
the module's ``__spec__``, and LazyLoader loads the module there and then.  The stand-in
here keeps the real spec and loads the real module on the first attribute it lacks.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

UNUSED = ("nltk", "requests")

_LOADING = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module imported but not yet used."""

    def __getattr__(self, attr: str) -> Any:  # only for attributes the stand-in lacks
        name = self.__name__
        with _LOADING:
            if sys.modules.get(name) is self:
                del sys.modules[name]
            real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def defer(name: str) -> None:
    """Put a stand-in for top-level module ``name`` in ``sys.modules``, unless it is loaded
    already or not installed."""
    with _LOADING:
        if name in sys.modules:
            return
        spec = importlib.util.find_spec(name)
        if spec is None:
            return
        stand_in = _Deferred(name)
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in


def defer_unused() -> None:
    for name in UNUSED:
        defer(name)
