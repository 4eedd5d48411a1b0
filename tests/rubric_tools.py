"""Test helper: a shipped rubric reduced to some of its items (same budgets, same artifacts)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def anchored(text: str) -> str:
    """A shipped rubric's text for a copy in another folder: its ``reference`` and ``template`` keys
    (relative to the rubric) made absolute, so the copy still finds the shipped files."""
    folder = ROOT / "rubrics"
    return re.sub(
        r'(?m)^(reference|template) = "([^"]+)"$',
        lambda m: f'{m.group(1)} = "{(folder / m.group(2)).resolve().as_posix()}"',
        text,
    )


def reduced_rubric(folder: Path, name: str, keep: tuple[str, ...], **overrides: float) -> Path:
    """Write ``folder/<name>.toml`` with only the items in ``keep``; ``overrides`` set top-level keys
    (e.g. load_timeout_s) and, as ``timeout_s``, every kept item's time limit. The calibration file
    is copied along, so the kept items keep their calibrated thresholds."""
    text = anchored((ROOT / "rubrics" / f"{name}.toml").read_text())
    head, *items = text.split("\n[[items]]\n")
    kept = [item for item in items if re.search(r'^id = "([^"]+)"', item, re.M).group(1) in keep]
    missing = set(keep) - {re.search(r'^id = "([^"]+)"', item, re.M).group(1) for item in kept}
    assert not missing, f"no such items: {missing}"
    timeout = overrides.pop("timeout_s", None)
    if timeout is not None:
        kept = [re.sub(r"^timeout_s = .*$", f"timeout_s = {timeout}", item, flags=re.M) for item in kept]
    for key, value in overrides.items():
        head = re.sub(rf"^{key} = .*$", f"{key} = {value}", head, flags=re.M)
    path = folder / f"{name}.toml"
    path.write_text(head + "".join("\n[[items]]\n" + item for item in kept))
    calibration = ROOT / "rubrics" / f"{name}.calibration.json"
    if calibration.exists():
        shutil.copy(calibration, folder / calibration.name)
    return path
