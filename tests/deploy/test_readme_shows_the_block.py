"""The README's local going-live block is the block `test_going_live_block` runs, word for word: what a
user pastes is what the suite proves works."""
from __future__ import annotations

from pathlib import Path

from tests.deploy.test_going_live_block import block_text

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_tested_block() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```sh\n{block_text()}\n```" in readme, "README.md does not show tests/deploy/test_going_live_block.block_text()"
