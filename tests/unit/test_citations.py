"""Every citation in the project points at something its reader has.

A user of the project has Tencent's documentation, the SDK packages and this repository's own
``docs/``. Citations of the developers' private notes (a facts file, a design file outside the
repository, their section numbers) lead nowhere, so no tracked file may carry one. And a citation of
``docs/<page>.md#<heading>`` must name a page and a heading that exist.
"""
from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Spelled in pieces so that this file does not match itself.
PRIVATE = re.compile("|".join([
    r"tencent" + r"-facts",
    r"DESIGN" + r"\.md",
    r"\.\./" + r"shared",
    r"/work/" + r"shared",
    r"shared/" + r"reference",
    r"\bfacts " + "\u00a7",
    "\u00a7" + r"\s?\d",  # a section number of the private facts file
]))
DOCS_LINK = re.compile(r"docs/([A-Za-z0-9_.-]+\.md)#([A-Za-z0-9_\-\u00a0-\uffff]+)")
RELATIVE_LINK = re.compile(r"\]\(([A-Za-z0-9_.-]+\.md)(?:#([^)\s]+))?\)")


def tracked_files() -> List[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return ""


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = []
    for ch in heading.strip().lower():
        if ch in " -_" or unicodedata.category(ch)[0] in "LN":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> Set[str]:
    seen: Dict[str, int] = {}
    found: Set[str] = set()
    in_code = False
    for line in text_of(page).splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_code or not match:
            continue
        base = slug(re.sub(r"`", "", match.group(1)))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_no_tracked_file_cites_the_private_notes() -> None:
    offenders = []
    for path in tracked_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == THIS:
            continue
        for number, line in enumerate(text_of(path).splitlines(), 1):
            if PRIVATE.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()[:120]}")
    assert not offenders, "citations a reader cannot follow:\n" + "\n".join(offenders)


def test_slug_follows_github() -> None:
    assert slug("AS reads: instances, hooks, activities") == "as-reads-instances-hooks-activities"
    assert slug("CLB BatchDeregisterTargets is synchronous") == "clb-batchderegistertargets-is-synchronous"


def test_every_docs_anchor_cited_exists() -> None:
    broken = []
    cache: Dict[Path, Set[str]] = {}
    for path in tracked_files():
        rel = path.relative_to(ROOT).as_posix()
        text = text_of(path)
        links = [(ROOT / "docs" / page, anchor) for page, anchor in DOCS_LINK.findall(text)]
        if rel.startswith("docs/") and rel.endswith(".md"):
            links += [(path.parent / page, anchor) for page, anchor in RELATIVE_LINK.findall(text)]
            links += [(path, anchor) for anchor in re.findall(r"\]\(#([^)\s]+)\)", text)]
        for page, anchor in links:
            if not page.is_file():
                broken.append(f"{rel}: {page.relative_to(ROOT)} does not exist")
                continue
            if anchor and anchor not in cache.setdefault(page, anchors(page)):
                broken.append(f"{rel}: no heading #{anchor} in {page.relative_to(ROOT)}")
    assert not broken, "\n".join(sorted(set(broken)))
