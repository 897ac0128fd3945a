"""The therapy classes, read from ``lexicons/therapy_classes.json``.

Shared by the extractors (every drug's class must be one) and the criteria (every
policy rule's class must be one), so a class is data in one place and neither
package names a class in code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from common.errors import LexiconError


@lru_cache(maxsize=1)
def therapy_classes() -> dict[str, str]:
    """Class id -> label, in the file's order."""
    try:
        raw = json.loads(resources.files("lexicons").joinpath("therapy_classes.json").read_text("utf-8"))
        rows = raw["rows"]
        return {str(row["id"]): str(row["label"]) for row in rows}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LexiconError(
            f"lexicons/therapy_classes.json: cannot be read as a list of classes ({exc})"
        ) from exc


def check_therapy_class(value: str) -> str:
    """A pydantic validator: the value must be a class id of the lexicon."""
    if value not in therapy_classes():
        known = ", ".join(therapy_classes())
        raise ValueError(f"unknown therapy class {value!r}; known: {known}")
    return value
