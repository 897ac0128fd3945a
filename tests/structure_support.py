"""Session fixtures for the page-structure tests: the documents of ``structure_docs``,
rendered once per session and read once per rendering."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from structure_docs import Made, all_docs, writer_for

from common.models import Document
from common.settings import Settings
from common.structure import DocumentStructure

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

DOCS = {doc.name: doc for doc in all_docs()}


class Reader:
    def __init__(self, root: Path) -> None:
        self.made = Made(root)
        self._read: dict[tuple[str, str], Document] = {}

    def path(self, name: str, rendering: str) -> Path:
        return self.made.path(name, rendering, writer_for(DOCS[name]))

    def document(self, name: str, rendering: str) -> Document:
        from reading.reader import read_document

        key = (name, rendering)
        if key not in self._read:
            self._read[key] = read_document(self.path(name, rendering), Settings(workers=2))
        return self._read[key]

    def structure(self, name: str, rendering: str) -> DocumentStructure:
        from extractors.structure import document_structure

        return _structure(self, name, rendering, document_structure)


_STRUCTURES: dict[tuple[int, str, str], DocumentStructure] = {}


def _structure(reader: Reader, name: str, rendering: str, build: object) -> DocumentStructure:
    key = (id(reader), name, rendering)
    if key not in _STRUCTURES:
        assert callable(build)
        _STRUCTURES[key] = build(reader.document(name, rendering).pages)
    return _STRUCTURES[key]


_SHARED: list[Reader] = []


def shared_reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    """One reader for the session, whichever test module asks first (OCR is the cost)."""
    if not _SHARED:
        _SHARED.append(Reader(tmp_path_factory.mktemp("structure-docs")))
    return _SHARED[0]
