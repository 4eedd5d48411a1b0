"""What the grader knows about each assignment, one package per assignment: its training stages
(``<name>/stages.py``, listed in ``registry.py``) and the diagnosis hooks of its
function exercises (``<name>/diagnoses.py``, registered by ``registry.py``).

Nothing is imported here: the engine imports what it needs, so no import circle passes through
this package."""
