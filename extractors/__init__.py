"""Pages in, clinical facts out.  The only package that touches spaCy."""
