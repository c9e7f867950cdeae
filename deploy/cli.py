"""`python -m deploy setup|check`: the commands and flags of docs/design.md#operator-commands.

    python -m deploy setup --group asg-aaaaaaaa [--group asg-…] [--region ap-guangzhou] [--dry-run]
    python -m deploy check [--function clb-unbind] [--region …] [--group asg-…] [--json]

Exit status: setup 0 done (or planned, with --dry-run), 1 a write failed or the live state blocks
the plan; check 0 every invariant holds, 1 one is violated; both 2 for a usage or credential error
(and for an API error that stops the reading). Every name is validated before any call
(deploy/validate.py), and every line the tool prints is scrubbed of the credential's values
(handler clb_unbind/scrub.py).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import current, deadletters, localrun, release, teardown, watching
from .apply import ApplyError, apply, pending
from .cloud import ApiFailure, Cloud, CredentialError
from .desired import PACKAGE, Desired, Inputs, desired
from .function_settings import function_settings
from .invariants import check
from .regions import endpoint_finding
from .numbers import DerivationError, Timings
from .plan import PlanError, plan
from .validate import InvalidInput, require

USAGE, FAILED, OK = 2, 1, 0


def _region(arg: Optional[str]) -> str:
    return arg or os.environ.get("TENCENTCLOUD_REGION") or "ap-guangzhou"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy", description="Provision and check a clb-unbind deployment.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--region", help="region of the function, queues and groups (default TENCENTCLOUD_REGION, else ap-guangzhou)")
    common.add_argument("--function", default="clb-unbind", help="function name (default clb-unbind)")
    common.add_argument("--namespace", default="default")
    common.add_argument("--group", action="append", default=[], metavar="ASG_ID", help="scaling group (repeatable)")
    common.add_argument("--cmq-endpoint", help="CMQ data-plane base URL (CLB_UNBIND_CMQ_ENDPOINT; docs/regions.md)")
    common.add_argument("--logset", help="an existing CLS logset id for the function's logs (default: logset clb-unbind, made)")
    common.add_argument("--topic", help="an existing CLS topic id for the function's logs (default: one named after the function)")
    common.add_argument("--notice", help="a CLS alarm notice id the alarms notify (default: none, said so; docs/alarms.md)")
    common.add_argument("--latency-alarm-seconds", type=int, default=watching.LATENCY_SECONDS,
                        help=f"hook latency above which the alarm fires (default {watching.LATENCY_SECONDS})")
    s = sub.add_parser("setup", parents=[common], help="provision idempotently; --dry-run prints the plan only")
    s.add_argument("--dry-run", action="store_true", help="print the plan, call no write API")
    s.add_argument("--package", type=Path, default=PACKAGE, help="the zip `make package` builds (default dist/clb-unbind.zip)")
    s.add_argument("--queue", default="clb-unbind-lifecycle")
    s.add_argument("--dead-letter-queue", default="clb-unbind-dead-letter")
    s.add_argument("--role", default="clb-unbind-role")
    s.add_argument("--policy", default="clb-unbind-policy")
    s.add_argument("--memory", type=int, default=128)
    s.add_argument("--transition", default="NORMAL", choices=("NORMAL", "EXTENSION"),
                   help="the hooks' LifecycleTransitionType: NORMAL (scale-in only, the default) or EXTENSION (also "
                        "RemoveInstances, DetachInstances, stop and instance refresh; see docs/lifecycle-hooks.md)")
    d = Timings()
    s.add_argument("--timeout", type=int, default=d.function_timeout, help=f"function timeout, s (default {d.function_timeout})")
    s.add_argument("--timer-seconds", type=int, default=d.timer_interval, help="timer interval, s; divides 60 (default 60)")
    s.add_argument("--consume-seconds", type=float, default=d.consume_seconds)
    s.add_argument("--poll-seconds", type=float, default=d.poll_seconds)
    s.add_argument("--max-attempts", type=int, default=d.max_attempts)
    s.add_argument("--retry-base-seconds", type=float, default=d.retry_base_seconds)
    s.add_argument("--retry-max-seconds", type=float, default=d.retry_max_seconds)
    s.add_argument("--heartbeat", type=int, help="HeartbeatTimeout, s (default: the least that covers a run and a retry)")
    s.add_argument("--version", help="point the timer's alias at this published version instead of the package's")
    c = sub.add_parser("check", parents=[common], help="read the deployment; one line per invariant")
    c.add_argument("--json", action="store_true", help='print [{"invariant", "ok", "detail", "fix"}]')
    r = sub.add_parser("rollback", parents=[common], help="point the timer's alias at an earlier version (deploy/release.py)")
    r.add_argument("--version", help="the version to run (default: the newest one older than the alias's)")
    r.add_argument("--dry-run", action="store_true", help="say what would change; call no write API")
    r.add_argument("--list", action="store_true", help="list the published versions, the alias's marked *")
    t = sub.add_parser("teardown", parents=[common], help="remove what setup created (a dry run without --yes)")
    t.add_argument("--yes", action="store_true", help="delete for real (without it: print what would go and what stays)")
    t.add_argument("--force", action="store_true", help="delete queues that still hold messages")
    t.add_argument("--queue", help="the lifecycle queue when the function is gone (default clb-unbind-lifecycle)")
    t.add_argument("--dead-letter-queue", help="its dead-letter queue when the function is gone (default clb-unbind-dead-letter)")
    tr = sub.add_parser("timer-run", parents=[common], help="one timer run of the deployed function, here and now (deploy/localrun.py)")
    tr.add_argument("--seconds", type=float, default=60.0, help="the run's time limit (default 60)")
    dl = sub.add_parser("deadletters", parents=[common], help="list, redrive or purge the dead-letter queue (deploy/deadletters.py)")
    dl.add_argument("action", choices=("list", "redrive", "purge"))
    dl.add_argument("--id", action="append", default=[], metavar="MSG_ID", help="a letter's message id (repeatable)")
    dl.add_argument("--all", action="store_true", help="every letter")
    dl.add_argument("--dry-run", action="store_true", help="say what would happen; send and delete nothing")
    dl.add_argument("--queue", help="read this dead-letter queue instead of the function's")
    return parser


def _inputs(args: argparse.Namespace) -> Inputs:
    timings = Timings(function_timeout=args.timeout, timer_interval=args.timer_seconds, consume_seconds=args.consume_seconds,
                      poll_seconds=args.poll_seconds, max_attempts=args.max_attempts,
                      retry_base_seconds=args.retry_base_seconds, retry_max_seconds=args.retry_max_seconds,
                      heartbeat=args.heartbeat)
    return Inputs(groups=tuple(args.group), region=_region(args.region), function=args.function, namespace=args.namespace,
                  queue=args.queue, dead_letter_queue=args.dead_letter_queue, role=args.role, policy=args.policy,
                  package=args.package, memory=args.memory, cmq_endpoint=args.cmq_endpoint, timings=timings,
                  transition=args.transition, version=args.version)


def _validate_environment(d: Desired) -> None:
    """Setup never stores an environment the function would refuse at its first run."""
    settings = function_settings({**d.function.environment, "TENCENTCLOUD_REGION": d.inputs.region})
    try:
        settings.cmq_base_url  # noqa: B018 - raises for a region without a known CMQ endpoint
    except ValueError as exc:
        raise ValueError(f"{exc} (pass --cmq-endpoint; the console shows the queue's address)") from None


def _validate(args: argparse.Namespace) -> None:
    """Every name any subcommand takes, checked before the first call (deploy/validate.py)."""
    names = [("region", "--region", _region(args.region)), ("function", "--function", args.function),
             ("namespace", "--namespace", args.namespace), ("endpoint", "--cmq-endpoint", args.cmq_endpoint)]
    names += [("group", "--group", g) for g in args.group] + [("message_id", "--id", i) for i in getattr(args, "id", [])]
    for kind, flag in (("queue", "--queue"), ("queue", "--dead-letter-queue"), ("role", "--role"), ("policy", "--policy"),
                       ("version", "--version")):
        names.append((kind, flag, getattr(args, flag[2:].replace("-", "_"), None)))
    require(names)


class _Scrubbed:
    """The tool's output: every line scrubbed of the secrets the tool holds (its credential's values)."""

    def __init__(self, say: Callable[[str], None]) -> None:
        from .function_settings import handler_module

        self._say = say
        self._scrub = handler_module("scrub").scrub
        self.secrets: list = []

    def __call__(self, line: str) -> None:
        self._say(self._scrub(line, self.secrets))

    def factory(self, base: Callable[..., Cloud]) -> Callable[..., Cloud]:
        def make(*args: object, **kwargs: object) -> Cloud:
            cloud = base(*args, **kwargs)
            self.secrets.extend(cloud.secrets())
            return cloud
        return make


def setup(args: argparse.Namespace, cloud_factory: Callable[..., Cloud], say: Callable[[str], None]) -> int:
    try:
        d = desired(_inputs(args))
        _validate_environment(d)
    except (ValueError, FileNotFoundError) as exc:
        kind = "cannot derive the numbers" if isinstance(exc, DerivationError) else "usage"
        say(f"setup: {kind}: {exc}")
        return USAGE
    try:
        cloud = cloud_factory(d.inputs.region, dry_run=args.dry_run)
    except CredentialError as exc:
        say(f"setup: {exc}")
        return USAGE
    say(f"clb-unbind setup: function {d.function.name} in {d.inputs.region}, groups {', '.join(h.group for h in d.hooks)}"
        + (" (dry run: no write call)" if args.dry_run else ""))
    say("derived numbers:")
    for resource, value in d.derived.all():
        say(f"  {resource} {value.name} = {value.value}")
        say(f"      because {value.reason}")
    try:
        steps = plan(cloud, d, _and_watching(_watch(args), d))
    except PlanError as exc:
        say(f"setup: {exc}")
        return FAILED
    except ApiFailure as exc:
        say(f"setup: reading the deployment failed: {exc}")
        return USAGE  # as check: credentials refused or the API unreachable; nothing was written
    say("plan:")
    for step in steps:
        say(f"  {step.kind:<9} {step.resource}")
        for change in step.changes:
            say(f"              {change}")
    writes = pending(steps)
    if args.dry_run:
        say(f"{len(writes)} write call(s) planned: " + (", ".join(f"{w.service}:{w.action}" for w in writes) or "none")
            + "; none made (dry run)")
        return OK
    if not writes:
        say("nothing to change")
        return OK
    try:
        sent = apply(cloud, steps, say)
    except (ApiFailure, ApplyError) as exc:
        say(f"setup: {exc}; run setup again once the cause is fixed: it resumes where it stopped")
        return FAILED
    groups = " ".join(h.group for h in d.hooks)
    moved = release.alias_change(steps)
    if moved:
        live = release.alias(cloud, d.function.name, d.function.namespace) or {}
        before = moved.split(" -> ")[0].lstrip("-> ").strip()
        say(f"the timer now runs version {live.get('FunctionVersion')} (alias {release.ALIAS})"
            + (f"; undo: `make rollback VERSION={before}`" if before else ""))
    say(watching.notice_line(_watch(args)))
    say(f"{sent} write call(s) made; now run `make check GROUPS=\"{groups}\"` "
        f"(python -m deploy check --function {d.function.name} --region {d.inputs.region})")
    return OK


def _watch(args: argparse.Namespace) -> watching.Watch:
    return watching.Watch(args.function, args.namespace, args.logset, args.topic, args.notice, args.latency_alarm_seconds)


def _and_watching(w: watching.Watch, d: Desired) -> Callable[..., list]:
    """The release steps (version, alias), then the watching's (deploy/watching.py): both need the function."""
    def steps(cloud: Cloud, desired_: Desired, exists: bool) -> list:
        live = current.function(cloud, desired_.function.name, desired_.function.namespace) if exists else None
        return release.release_steps(cloud, desired_, exists) + watching.steps(cloud, w, desired_.inputs.region, live,
                                                                               desired_.function.role)
    return steps


def run_check(args: argparse.Namespace, cloud_factory: Callable[..., Cloud], say: Callable[[str], None]) -> int:
    try:
        cloud = cloud_factory(_region(args.region), dry_run=True)
        findings = check(cloud, args.function, args.namespace, args.group, watch=_watch(args))
        if args.cmq_endpoint:
            findings = endpoint_finding(cloud, args.function, args.namespace, args.cmq_endpoint, findings)
    except CredentialError as exc:
        say(f"check: {exc}")
        return USAGE
    except ApiFailure as exc:
        say(f"check: reading the deployment failed: {exc}")
        return USAGE
    if args.json:
        say(json.dumps([f.to_dict() for f in findings], ensure_ascii=False))
    else:
        for f in findings:
            fix = f" -- fix: {f.fix}" if not f.ok and f.fix else ""
            say(f"{'ok' if f.ok else 'VIOLATED':<9} {f.invariant}: {f.detail}{fix}")
    return OK if all(f.ok for f in findings) else FAILED


def _guarded(command: str, say: Callable[[str], None], body: Callable[[], int]) -> int:
    """Run one operator command: missing credentials or a failed read is one clear line and exit 2."""
    try:
        return body()
    except CredentialError as exc:
        say(f"{command}: {exc}")
        return USAGE
    except ApiFailure as exc:
        say(f"{command}: reading the deployment failed: {exc}")
        return USAGE


def run_timer(args: argparse.Namespace, cloud_factory: Callable[..., Cloud], say: Callable[[str], None]) -> int:
    def body() -> int:
        cloud = cloud_factory(_region(args.region), dry_run=False)
        return localrun.timer_run(cloud, args.function, args.namespace, args.seconds, say)
    return _guarded("timer-run", say, body)


def run_teardown(args: argparse.Namespace, cloud_factory: Callable[..., Cloud], say: Callable[[str], None]) -> int:
    def body() -> int:
        region = _region(args.region)
        cloud = cloud_factory(region, dry_run=not args.yes)
        inputs = teardown.inputs_for(args.function, args.namespace, region, args.queue, args.dead_letter_queue)
        return teardown.teardown(cloud, inputs, args.force, say)
    return _guarded("teardown", say, body)


def run_rollback(args: argparse.Namespace, cloud_factory: Callable[..., Cloud], say: Callable[[str], None]) -> int:
    def body() -> int:
        cloud = cloud_factory(_region(args.region), dry_run=bool(args.dry_run or args.list))
        if args.list:
            for line in release.version_lines(cloud, args.function, args.namespace) or ["no published version"]:
                say(line)
            return OK
        return release.rollback(cloud, args.function, args.namespace, args.version, say)
    return _guarded("rollback", say, body)


def run_deadletters(args: argparse.Namespace, cloud_factory: Callable[..., Cloud], say: Callable[[str], None]) -> int:
    def body() -> int:
        cloud = cloud_factory(_region(args.region), dry_run=bool(args.dry_run or args.action == "list"))
        return deadletters.run(cloud, args, say)
    return _guarded("deadletters", say, body)


def main(argv: Optional[Sequence[str]] = None, cloud_factory: Optional[Callable[..., Cloud]] = None,
         say: Callable[[str], None] = print) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return USAGE if exc.code else OK
    try:
        _validate(args)
    except InvalidInput as exc:
        say(f"{args.command}: usage: {exc}")
        return USAGE
    out = _Scrubbed(say)
    say = out
    factory = out.factory(cloud_factory or Cloud.from_env)
    if args.command == "setup":
        return setup(args, factory, say)
    if args.command == "deadletters":
        return run_deadletters(args, factory, say)
    if args.command == "rollback":
        return run_rollback(args, factory, say)
    if args.command == "teardown":
        return run_teardown(args, factory, say)
    if args.command == "timer-run":
        return run_timer(args, factory, say)
    return run_check(args, factory, say)


if __name__ == "__main__":
    sys.exit(main())
