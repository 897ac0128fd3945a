"""The composer: one function takes a document and returns the report."""

from pipeline.composer import Processed, assemble_report, process_document, process_file

__all__ = ["Processed", "assemble_report", "process_document", "process_file"]
