"""The README's configuration table names every setting the function and the operator tools read.

An operator configures the function from that table alone, so a `CLB_UNBIND_` variable the code reads
but the table leaves out is a setting nobody can find.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Set

ROOT = Path(__file__).resolve().parents[2]
PREFIXED = re.compile(r"""(?:\bp|\bPREFIX)\s*\+\s*["']([A-Z][A-Z0-9_]*)["']""")
LITERAL = re.compile(r"\bCLB_UNBIND_([A-Z][A-Z0-9_]*)\b")


def settings_read_by_code() -> Set[str]:
    names: Set[str] = set()
    for folder in ("handler", "deploy"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names.update(PREFIXED.findall(text))
            names.update(LITERAL.findall(text))
    return {f"CLB_UNBIND_{name.rstrip('_')}" for name in names if name.rstrip("_")}


def configuration_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Configuration\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, "README.md has no '## Configuration' section"
    return match.group(1)


def test_the_scan_finds_the_settings_it_must() -> None:
    found = settings_read_by_code()
    assert {"CLB_UNBIND_QUEUE", "CLB_UNBIND_ENDPOINT", "CLB_UNBIND_API_CLOCK_SKEW"} <= found


def test_every_setting_is_in_the_configuration_table() -> None:
    section = configuration_section()
    rows = set(re.findall(r"`(CLB_UNBIND_[A-Z0-9_]+)`", section))
    missing = sorted(settings_read_by_code() - rows)
    assert not missing, f"README.md's Configuration section does not name: {', '.join(missing)}"
