"""The local going-live block, run as a user runs it: the emulator in its own process (the demo estate),
then each line of the block as a shell command in a second "terminal", nothing shared but the
environment the block exports.

`BLOCK` is the text the README shows (`block_text()` renders it); each step carries what the test
expects of it (exit status, words in its output). The block covers: package, setup (dry run, then for
real), check, breaking an invariant on purpose and check naming the fix, repairing it, a dead letter
made by the function itself (a load balancer kept busy, one attempt allowed), listing, a dry-run and a
real redrive, the next timer run ending the work, a malformed message dead-lettered and purged, check
with the dead-letter queue empty, an upgrade
published as a new version, a rollback and its undo, and teardown (dry run, then for real).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "emulator" / "estates" / "demo.json").read_text())
SECRET_ID, SECRET_KEY = DEMO["credentials"][0]["secretId"], DEMO["credentials"][0]["secretKey"]
PY = ".venv/bin/python"


@dataclass(frozen=True)
class Step:
    command: str
    note: str = ""
    code: int = 0
    says: Tuple[str, ...] = ()


START = "make emulator          # terminal 1: the local Tencent Cloud API (demo estate); it prints the export line below"
EXPORT = (f"export CLB_UNBIND_ENDPOINT=http://127.0.0.1:9000 TENCENTCLOUD_SECRET_ID={SECRET_ID} "
          f"TENCENTCLOUD_SECRET_KEY={SECRET_KEY}")
BREAK = (f"{PY} -c 'from deploy.cloud import Cloud; Cloud.from_env(\"ap-guangzhou\").write(\"tdmq\", "
         f"\"ModifyCmqQueueAttribute\", {{\"QueueName\": \"clb-unbind-lifecycle\", \"VisibilityTimeout\": 60}})'")
JUNK = (f"{PY} -c 'from deploy.cloud import Cloud; Cloud.from_env(\"ap-guangzhou\").write(\"tdmq\", \"SendCmqMsg\", "
        f"{{\"QueueName\": \"clb-unbind-lifecycle\", \"MsgContent\": \"hello\", \"DelaySeconds\": 0}})'")
LOCK = ("curl -s -X POST \"$CLB_UNBIND_ENDPOINT/_emulator/lock\" "
        "-d '{\"loadBalancerId\": \"lb-web00001\", \"seconds\": 6}'")

BLOCK = (
    Step("make package", "dist/clb-unbind.zip", says=("dist/clb-unbind.zip",)),
    Step("make setup GROUPS=asg-group001 DRY_RUN=1", "the plan; no write", says=("none made (dry run)",)),
    Step("make setup GROUPS=asg-group001", "queues, role, function, version 1, alias, timer, hook",
         says=("the timer now runs version 1 (alias live)",)),
    Step("make check GROUPS=asg-group001", "every invariant ok", says=("ok        dead_letters",)),
    Step(BREAK, "break one on purpose: the queue's VisibilityTimeout below the function timeout"),
    Step("make check GROUPS=asg-group001", "exit 1, with the fix", code=1,
         says=("VIOLATED  visibility_timeout: VisibilityTimeout 60 s < function timeout 300 s", "fix: set the queue's")),
    Step("make setup GROUPS=asg-group001", "repairs it, and nothing else", says=("VisibilityTimeout: 60 -> 330", "1 write call(s) made")),
    Step(LOCK, "a load balancer busy for 6 s (an emulator knob)"),
    Step(f"CLB_UNBIND_MAX_ATTEMPTS=1 {PY} -m deploy timer-run --seconds 4",
         "one timer run with one attempt allowed: the function gives up and dead-letters",
         says=('"dead_lettered"',)),
    Step("make check GROUPS=asg-group001", "the dead letter is reported", code=1,
         says=("VIOLATED  dead_letters", "make deadletters", "make redrive ALL=1")),
    Step("make deadletters", "each letter: reason, instances, attempts, first seen", says=("max_attempts (dead-letter)",)),
    Step("make redrive ALL=1 DRY_RUN=1", "what would happen", says=("would be redriven; none was (dry run)",)),
    Step("make redrive ALL=1", "re-queued, then deleted", says=("re-queued on clb-unbind-lifecycle", "deleted letter")),
    Step(f"{PY} -m deploy timer-run", "the next timer run ends the work", says=('"unbound"',)),
    Step(JUNK, "a producer sends something that is not a notification"),
    Step(f"{PY} -m deploy timer-run", "the function refuses it: a refused_input dead letter", says=('"refused_input"',)),
    Step(f"{PY} -m deploy deadletters purge --all", "it names no work: purged, not redriven",
         says=("refused_input (dead-letter), instances no instance", "deleted letter")),
    Step("make check GROUPS=asg-group001", "the dead-letter queue is empty again", says=("clb-unbind-dead-letter is empty",)),
    Step("make setup GROUPS=asg-group001 CMQ_ENDPOINT=$CLB_UNBIND_ENDPOINT", "an upgrade: a changed setting is a new version",
         says=("the timer now runs version 2 (alias live); undo: `make rollback VERSION=1`",)),
    Step("make rollback", "back to version 1: one UpdateAlias", says=("now points at version 1", "make rollback VERSION=2")),
    Step("make rollback VERSION=2", "undo the rollback", says=("now points at version 2",)),
    Step("make teardown", "dry run: what would go, what stays", says=("would delete:", "keeps:", "none made (dry run)")),
    Step("make teardown CONFIRM=1", "removes what setup created", says=("write call(s) made", "Undo: `make setup")),
)


def block_text() -> str:
    """The block as the README shows it: each step's note as a comment above its command."""
    lines = [START, "", "# terminal 2", EXPORT]
    for step in BLOCK:
        if step.note:
            lines.append(f"# {step.note}")
        lines.append(step.command)
    return "\n".join(lines)


@pytest.fixture
def emulator_endpoint() -> Iterator[str]:
    """`make emulator PORT=0` (any free port), as terminal 1 runs it; the export line it prints is the block's."""
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "emulator", "PORT=0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        while first and not first.startswith("emulator listening on "):
            first = proc.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("emulator listening on "), first
        endpoint = first.split()[-1]
        export = proc.stdout.readline()  # type: ignore[union-attr]
        assert export.strip() == "in a second terminal: " + EXPORT.replace("http://127.0.0.1:9000", endpoint), export
        yield endpoint
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # make and the emulator it started: this test's own process group
        proc.wait(timeout=10)


def as_run(command: str) -> str:
    """make as the test runs it: the venv is the one running this test, so make must not rebuild it."""
    return re.sub(r"^make ", "make --no-print-directory -o .venv/.installed ", command)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="the block runs .venv's Python: run via make test")
def test_the_local_going_live_block_runs_as_shown(emulator_endpoint: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))}
    env.update(CLB_UNBIND_ENDPOINT=emulator_endpoint, TENCENTCLOUD_SECRET_ID=SECRET_ID, TENCENTCLOUD_SECRET_KEY=SECRET_KEY,
               HOME=str(tmp_path))
    started = time.monotonic()
    for i, step in enumerate(BLOCK):
        run = subprocess.run(["bash", "-c", as_run(step.command)], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=180)
        out = run.stdout + run.stderr
        code = run.returncode
        own = re.search(r"^make \S+: the command exited (\d+)$", run.stderr, re.M)
        if step.command.startswith("make ") and own:
            code = int(own.group(1))  # GNU make exits 2 for any failed recipe; the target prints the command's own
        assert code == step.code, f"step {i} `{step.command}` exited {run.returncode}:\n{out}"
        for words in step.says:
            assert words in out, f"step {i} `{step.command}` does not say {words!r}:\n{out}"
        assert SECRET_KEY not in out, f"step {i} printed the secret key"
    print(f"the block took {time.monotonic() - started:.1f} s")
