"""Operator's command line: replay events and dead letters through the same handler SCF runs.

    PYTHONPATH=handler python -m clb_unbind invoke events/direct.json --dry-run
    PYTHONPATH=handler python -m clb_unbind redrive dead-letters.json

Credentials are found as every tool of the project finds them (credentials.py): the SDK's own chain
(`TENCENTCLOUD_SECRET_ID`/`TENCENTCLOUD_SECRET_KEY`, the profile, a role), then SCF's names
(`TENCENTCLOUD_SECRETID`/`TENCENTCLOUD_SECRETKEY`/`TENCENTCLOUD_SESSIONTOKEN`). The target comes from
the same `CLB_UNBIND_*` variables as the function; `--endpoint` points every call at an emulator.
Exit status: 0 done, 1 a record failed, 2 usage or no credentials.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import Any, Dict, Iterator, Optional, Sequence

from .app import handle
from .credentials import NoCredentials, as_scf_names, find


def _messages(text: str) -> Iterator[Any]:
    """One JSON value, a JSON array of messages, or one JSON message per line."""
    text = text.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"line {number}: not JSON: {exc}") from None
        return
    if isinstance(value, list):
        yield from value
    else:
        yield value


def _unwrap(message: Any) -> Any:
    """A dead letter copied from the queue console may still be the string `MsgContent`."""
    if isinstance(message, str):
        try:
            return json.loads(message)
        except json.JSONDecodeError:
            return message
    return message


def _run(event: Any, timeout_seconds: float, env: Dict[str, str]) -> int:
    context = {"request_id": f"cli-{uuid.uuid4()}", "function_name": "clb-unbind-cli", "time_limit_in_ms": int(timeout_seconds * 1000)}
    try:
        answer = handle(event, context, env)
    except Exception as exc:  # the handler raises when work could not be queued: say so, go on
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    status = answer.get("statusCode")
    return 0 if status in (None, 200) else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clb_unbind", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", help="send every API call here (sets CLB_UNBIND_ENDPOINT), e.g. http://127.0.0.1:9000")
    parser.add_argument("--timeout", type=float, default=300.0, help="time budget in seconds, as SCF's timeout (default 300)")
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="run the handler on an event file (any trigger shape)")
    invoke.add_argument("file")
    invoke.add_argument("--dry-run", action="store_true", help="resolve and plan only: no mutating call")
    redrive = commands.add_parser("redrive", help="replay dead letters (the function's or SCF's); one, an array, or one per line")
    redrive.add_argument("file")
    redrive.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    try:
        env.update(as_scf_names(find(env)))
    except NoCredentials as exc:
        print(f"python -m clb_unbind: {exc}", file=sys.stderr)
        return 2
    if args.endpoint:
        env["CLB_UNBIND_ENDPOINT"] = args.endpoint
    if args.dry_run:
        env["CLB_UNBIND_DRY_RUN"] = "true"
    with open(args.file, encoding="utf-8") as handle_:
        text = handle_.read()
    if args.command == "invoke":
        return _run(json.loads(text), args.timeout, env)
    failures = 0
    for message in _messages(text):
        failures += _run(_unwrap(message), args.timeout, env)
    return 1 if failures else 0
