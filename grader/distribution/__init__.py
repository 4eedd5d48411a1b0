"""What a course hands out: a student kit (``grader student-kit``) and a Gradescope autograder
(``grader gradescope``). Both ship a wheel of the grader with the reference's results on the
rubric's inputs computed ahead (``precompute.py``), so neither holds the reference's source.
"""
