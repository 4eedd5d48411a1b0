"""What the grader knows about each assignment, one package per assignment."""
