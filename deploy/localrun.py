"""`python -m deploy timer-run [--seconds 60]`: one timer run of the deployed function, here, now.

For trying the whole loop locally (against the emulator, which serves the APIs but runs no function)
and for an operator who wants a pass without waiting for the timer. It runs the handler SCF runs
(handler ``clb_unbind.app.handle``) on a timer event, with:
* the deployed function's environment (``GetFunction``), so the queue, groups, attempts and secrets
  are the function's own;
* on top, every ``CLB_UNBIND_*`` variable of this shell (``CLB_UNBIND_ENDPOINT`` to reach the
  emulator, or a one-off such as ``CLB_UNBIND_MAX_ATTEMPTS=1``);
* the operator's credentials in the names SCF gives a function (``TENCENTCLOUD_SECRETID`` …), so the
  run acts with the operator's permissions, not the run role's.
The function's own JSON log lines go to stdout, secrets scrubbed by the function's scrubber; the last
line is its answer. Exit status 0 when the run ended, 1 when it raised, 2 when there is no function.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any, Callable, Dict, Mapping, Optional

from . import current
from .cloud import Cloud
from .function_settings import function_settings, secrets_of

TIMER_EVENT = {"Type": "Timer", "TriggerName": "clb-unbind-consumer", "Time": "", "Message": ""}


def run_environment(cloud: Cloud, fn_env: Mapping[str, str], shell: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    shell = os.environ if shell is None else shell
    cred = cloud.credential
    env = {**fn_env, **{k: v for k, v in shell.items() if k.startswith("CLB_UNBIND_")},
           "TENCENTCLOUD_REGION": cloud.region, "TENCENTCLOUD_SECRETID": cred.secret_id,
           "TENCENTCLOUD_SECRETKEY": cred.secret_key}
    token = getattr(cred, "token", None)
    if token:
        env["TENCENTCLOUD_SESSIONTOKEN"] = token
    return env


def timer_run(cloud: Cloud, function: str, namespace: str, seconds: float, say: Callable[[str], None]) -> int:
    fn = current.function(cloud, function, namespace)
    if fn is None:
        say(f"timer-run: no function {function} in namespace {namespace} of {cloud.region}: run `make setup`")
        return 2
    function_settings({})  # the handler on sys.path
    from clb_unbind.app import handle
    from clb_unbind.scrub import scrub

    env = run_environment(cloud, current.environment(fn))
    context: Dict[str, Any] = {"request_id": f"timer-run-{uuid.uuid4()}", "function_name": function,
                               "time_limit_in_ms": int(seconds * 1000)}
    try:
        answer = handle(dict(TIMER_EVENT), context, env)
    except Exception as exc:  # the run raised (work it could not queue): say so, scrubbed
        secrets = [env.get(k) or "" for k in ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN")]
        secrets += list(secrets_of(env))
        say(str(scrub(f"timer-run: the run raised {type(exc).__name__}: {exc}", [s for s in secrets if s])))
        return 1
    say(json.dumps(answer, ensure_ascii=False))
    return 0
