"""Renderers of a finished report: the readable summary and the FHIR R4 Bundle."""
