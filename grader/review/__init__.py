"""``grader review OUT``: a local web app to grade the written answers of a class, by question.

Layers (docs/architecture.md, "Review"): ``store`` (SQLite in OUT, every confirmed action),
``classroom`` (the class's answers, criteria and figures, read from the reports), ``images``
(the pictures in a student's notebook near an answer), ``groups`` (similar answers),
``sync`` (the store into the reports through merge-manual's validation), ``app`` (routes,
token, CSRF) and ``server`` (uvicorn, the URL, the browser).
"""
