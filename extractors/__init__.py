"""Pages in, clinical facts out.  The only package that touches spaCy."""

from extractors.deferred import defer_unused

# Before spaCy is first imported (by any module of this package): what its import and
# medspaCy's would load for nothing (see extractors/deferred.py).
defer_unused()
