"""Documents in, pages out, and the application around the pipeline (composer, CLI)."""
