"""How the test suite is shared between pytest-xdist workers (`pytest -n 2`, the README's command).

Every test module runs whole on one worker, so a module's fixtures (a graded corpus, a review
app, a notebook kernel) are built once. The three modules that grade whole corpora with their
own pool of sandboxed workers, `test_fidelity.py`, `test_styles.py` and `test_hostile.py`, are
one unit of work: they run one after the other on the same xdist worker, never at the same time
(each keeps both cores busy, and the hostile corpus times its gradings). xdist starts the largest
unit first, so the rest of the suite, mostly one training thread at a time, runs on the other
worker meanwhile.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

# Test modules that form one unit of work (by file name).
RUN_TOGETHER = {"test_fidelity.py": "corpora", "test_hostile.py": "corpora", "test_styles.py": "corpora"}


def unit_of_work(nodeid: str) -> str:
    """The test's file, or the shared unit its file belongs to."""
    path = nodeid.split("::", 1)[0]
    return RUN_TOGETHER.get(PurePosixPath(path).name, path)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown when xdist is not installed
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class ByUnitOfWork(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    return ByUnitOfWork(config, log)
