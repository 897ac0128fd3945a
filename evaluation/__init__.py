"""Measurement: accuracy against ground truth (eval) and speed (bench).

The only package that imports ``fixtures``; product code never does.
"""
