"""Reference solutions, one self-contained module per assignment.

Each module is a model submission: the grader grades it exactly as it grades a
student's file, and ``pytest grader`` checks that it earns full marks.
"""
