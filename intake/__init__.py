"""The fax-intake application around the pipeline: CLI, API, store, watched folder."""
