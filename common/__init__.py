"""Models and errors shared by every stage (the seams of the pipeline)."""
