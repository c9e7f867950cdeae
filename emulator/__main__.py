"""``python -m emulator --estate FILE --port N [knobs]``: serve until killed.

Its first line, once the port is bound, is ``emulator listening on http://127.0.0.1:N``; then what a
second terminal needs to use it: the variables to export (endpoint, credentials) and the estate's
scaling groups, so nobody has to read the estate file.

It refuses to start without the SDK model packages every reply is checked against (they are in
requirements-dev.txt): started outside the project's virtual environment it would print its first
line and then fail every request.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import sys
from pathlib import Path

from . import DEMO_ESTATE, Emulator, Knobs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m emulator", description="Local Tencent Cloud API emulator")
    p.add_argument("--estate", default=str(DEMO_ESTATE), help="estate JSON file (default: the demo estate)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0 = any free port)")
    p.add_argument("--task-seconds", type=float, default=Knobs.task_seconds)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--drop-reply-rate", type=float, default=0.0)
    p.add_argument("--drop-reply-mode", choices=("close", "http502"), default="close")
    p.add_argument("--busy-rate", type=float, default=0.0)
    p.add_argument("--task-fail-rate", type=float, default=0.0)
    p.add_argument("--not-bound-as-failure", action="store_true")
    p.add_argument("--rate-limit", type=int, default=Knobs.rate_limit_per_second, help="requests/s per action; 0 = off")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fault-actions", default="", help="comma-separated Action or service:Action names (default all)")
    p.add_argument("--cmq-error-rate", type=float, default=0.0, help="CMQ data-plane requests answered --cmq-error-code")
    p.add_argument("--cmq-error-code", type=int, default=Knobs.cmq_error_code)
    p.add_argument("--cmq-empty-rate", type=float, default=0.0, help="CMQ receives answered 7000 while messages wait")
    p.add_argument("--cmq-duplicate-rate", type=float, default=0.0, help="delivered CMQ messages that stay visible")
    p.add_argument("--cmq-fault-actions", default="", help="comma-separated CMQ actions the cmq knobs apply to")
    p.add_argument("--as-terminate-seconds", type=float, default=None,
                   help="a TERMINATING scaling-group member leaves its group this long after (default: never)")
    return p.parse_args(argv)


def missing_dependencies() -> list[str]:
    """The SDK model packages of the emulated services that this Python cannot import."""
    from .services import SERVICES

    missing = []
    for spec in SERVICES.values():
        try:
            found = importlib.util.find_spec(spec.models)
        except ModuleNotFoundError:
            found = None
        if found is None:
            missing.append(spec.models.split(".")[1])
    return sorted(set(missing))


def how_to_use(endpoint: str, estate_path: str) -> list[str]:
    """The lines after the first: what to export in a second terminal, and the estate's groups."""
    raw = json.loads(Path(estate_path).read_text())
    cred = (raw.get("credentials") or [{}])[0]
    groups = " ".join(g.get("autoScalingGroupId", "") for g in raw.get("scalingGroups") or [])
    lines = [f"in a second terminal: export CLB_UNBIND_ENDPOINT={endpoint} "
             f"TENCENTCLOUD_SECRET_ID={cred.get('secretId', '')} TENCENTCLOUD_SECRET_KEY={cred.get('secretKey', '')}"]
    if groups:
        lines.append(f"scaling groups: {groups} (region {raw.get('region', 'ap-guangzhou')}); "
                     f"e.g. make setup GROUPS=\"{groups}\"")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_dependencies()
    if missing:
        print(f"emulator: cannot start: {sys.executable} has no Tencent Cloud SDK package for {', '.join(missing)}; "
              "run `make emulator` (it uses the project's .venv), or `make .venv/.installed` and then "
              "`.venv/bin/python -m emulator`", file=sys.stderr)
        return 2
    knobs = Knobs(
        task_seconds=args.task_seconds, latency_seconds=args.latency, error_rate=args.error_rate,
        drop_reply_rate=args.drop_reply_rate, drop_reply_mode=args.drop_reply_mode, busy_rate=args.busy_rate,
        task_fail_rate=args.task_fail_rate, not_bound_as_failure=args.not_bound_as_failure,
        rate_limit_per_second=args.rate_limit, seed=args.seed,
        fault_actions=frozenset(a.strip() for a in args.fault_actions.split(",") if a.strip()),
        cmq_error_rate=args.cmq_error_rate, cmq_error_code=args.cmq_error_code, cmq_empty_rate=args.cmq_empty_rate,
        cmq_duplicate_rate=args.cmq_duplicate_rate, cmq_fault_actions=args.cmq_fault_actions,
        as_terminate_seconds=args.as_terminate_seconds,
    )
    emu = Emulator.from_file(args.estate, knobs=knobs, host=args.host, port=args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from .server import make_server

    emu._server = make_server(emu, emu.host, emu.port)
    emu.port = emu._server.server_address[1]
    emu.endpoint = f"http://{emu.host}:{emu.port}"
    print(f"emulator listening on {emu.endpoint}", flush=True)
    for line in how_to_use(emu.endpoint, args.estate):
        print(line, flush=True)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emu._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
