"""Originals, kept exactly as received, named by their SHA-256.

Written to a private temp file while the upload streams in, flushed to disk and
renamed into place before the API answers, so a crash at any moment leaves
either nothing or the whole file.  Only the service's user can read them
(0600 files in 0700 folders): faxes carry patients' health information.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1024 * 1024


class Incoming:
    """An upload being written: its bytes go to a private temp file and are hashed on the way."""

    def __init__(self, file: BinaryIO, path: Path) -> None:
        self._file = file
        self.path = path
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    def copy_from(self, source: BinaryIO) -> None:
        while chunk := source.read(_CHUNK):
            self.write(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def close(self) -> None:
        self._file.close()  # a no-op when finished


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.originals = root / "originals"
        self.incoming = root / "incoming"
        self.cache = root / "cache"  # derived files (page images): safe to delete
        for folder in (root, self.originals, self.incoming, self.cache):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.originals / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    @contextmanager
    def receive(self) -> Iterator[Incoming]:
        """Stream an upload into a temp file; :meth:`keep` it, or it is removed on leaving."""
        fd, name = tempfile.mkstemp(dir=self.incoming, prefix="up-")
        incoming = Incoming(os.fdopen(fd, "wb"), Path(name))
        try:
            yield incoming
        finally:
            incoming.close()
            incoming.path.unlink(missing_ok=True)

    def keep(self, incoming: Incoming) -> Path:
        """Move a finished upload into place under its hash (the same bytes are kept once)."""
        incoming.finish()
        target = self.path(incoming.sha256)
        target.parent.mkdir(mode=0o700, exist_ok=True)
        if target.exists():
            return target
        os.chmod(incoming.path, 0o600)
        os.replace(incoming.path, target)
        _fsync_dir(target.parent)
        return target

    def keep_file(self, source: Path) -> tuple[str, Path, int]:
        """Copy a file (from the watched folder) into the store; returns (sha256, path, size)."""
        with self.receive() as incoming, source.open("rb") as f:
            incoming.copy_from(f)
            path = self.keep(incoming)
            return incoming.sha256, path, incoming.size

    def cache_path(self, sha256: str, name: str) -> Path:
        folder = self.cache / sha256
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder / name


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write a derived file atomically, readable only by the service's user."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(name, 0o600)
    os.replace(name, path)
