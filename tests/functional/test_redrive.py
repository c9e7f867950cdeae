"""Dead letters say what is left and why, and an operator can replay them."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clb_unbind.cli import main as cli

from tests.conftest import load_event

ENVELOPE_SECRET = "redrive-test-envelope-secret-0123456789abcdef"
"""The function signs its dead letters: redriven, the operator's notice is restored only with a valid signature."""


def test_out_of_attempts_is_dead_lettered_then_redriven(emulator: Any, invoke: Any, tmp_path: Path) -> None:
    emulator.lock_load_balancer("lb-web00002", 3)
    answer = invoke({"instanceIds": ["ins-web00001"]}, timeout_ms=2000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.3",
                    CLB_UNBIND_MAX_ATTEMPTS="1", CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry",
                    CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter", CLB_UNBIND_ENVELOPE_SECRET=ENVELOPE_SECRET)
    assert answer["records"][0]["status"] == "dead_lettered"
    assert emulator.messages("clb-unbind-retry") == []
    (message,) = emulator.messages("clb-unbind-dead-letter")
    dead = json.loads(message["body"])
    assert dead["reason"] == "max_attempts"
    assert "ins-web00001" in dead["detail"] and dead["errors"] and dead["requestIds"]
    assert json.loads(dead["original"]) == {"instanceIds": ["ins-web00001"]}

    emulator.release_load_balancer("lb-web00002")
    path = tmp_path / "dead-letters.jsonl"
    path.write_text(message["body"] + "\n")
    assert cli(["redrive", str(path)]) == 0
    assert emulator.bindings("ins-web00001") == []


def test_scf_dead_letter_is_replayed_from_the_cli(emulator: Any, invoke: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "scf.json"
    path.write_text(json.dumps(load_event("scf-dead-letter.json")))
    assert cli(["invoke", str(path), "--dry-run"]) == 0
    assert emulator.count("BatchDeregisterTargets") == 0
    assert cli(["invoke", str(path)]) == 0
    assert emulator.bindings("ins-web00002") == []
    assert '"status": "unbound"' in capsys.readouterr().out


def test_redrive_reports_failure_for_a_hopeless_message(emulator: Any, invoke: Any, tmp_path: Path) -> None:
    path = tmp_path / "dead.json"
    path.write_text(json.dumps([{"kind": "clb-unbind/dead-letter", "version": 1, "reason": "malformed", "detail": "x",
                                 "attempt": 1, "firstSeen": "2026-11-22T10:00:00Z", "notices": [], "original": "garbage"}]))
    assert cli(["redrive", str(path)]) == 1
    assert emulator.count("BatchDeregisterTargets") == 0
