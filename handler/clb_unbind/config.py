"""Settings, read once per invocation from the environment (names are a contract: docs/design.md#environment-variables)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import FrozenSet, Mapping, Optional

from .cloud.cmq_regions import CMQ_REGION_CODES  # region → endpoint code, each row with its source
from .model import GROUP_ID, LOAD_BALANCER_ID

PREFIX = "CLB_UNBIND_"

DEFAULT_EVENTBRIDGE_TYPES = frozenset(
    {
        # Tencent EventBridge CVM types are `cvm:ErrorEvent:<EventType>` (docs 1108/46252, 248/65684). No CVM
        # event announces a termination; these announce that an instance is about to stop serving.
        "cvm:ErrorEvent:InstanceRestarting",
        "cvm:ErrorEvent:InstanceRunningRisksExecuting",
        "cvm:ErrorEvent:InstanceRunningAbnormallyExecuting",
        "cvm:OperationEvent:InstancePowerOff",
        # Project convention: an AS lifecycle payload put on a custom bus with PutEvents.
        "as:LifecycleHook",
    }
)


class SettingsError(ValueError):
    """A setting has a value the function cannot work with; the message names the variable."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, not {raw!r}")
    return value


def _csv(env: Mapping[str, str], name: str) -> FrozenSet[str]:
    """A comma-separated list; set but naming nothing (``","``, ``" "``) is an error, never "everything"."""
    raw = env.get(name)
    if raw is None or raw == "":
        return frozenset()
    values = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if not values:
        raise SettingsError(f"{name} is set but names nothing ({raw!r}): unset it, or list ids")
    return values


def _ids(env: Mapping[str, str], name: str, pattern: "re.Pattern[str]", what: str) -> FrozenSet[str]:
    values = _csv(env, name)
    bad = sorted(v for v in values if not pattern.fullmatch(v))
    if bad:
        raise SettingsError(f"{name} holds ids that are not {what}: {bad}")
    return values


def _name(env: Mapping[str, str], name: str) -> Optional[str]:
    return (env.get(name) or "").strip() or None


MIN_API_SECRET_BYTES = 16
DRAIN_MODES = ("off", "fixed", "adaptive")


def _drain_mode(env: Mapping[str, str], drain_seconds: float) -> str:
    raw = (env.get(PREFIX + "DRAIN") or "").strip().lower()
    if not raw:
        return "fixed" if drain_seconds > 0 else "off"
    if raw not in DRAIN_MODES:
        raise SettingsError(f"{PREFIX}DRAIN must be one of {', '.join(DRAIN_MODES)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    region: str = ""
    """The function's region: the SCF context's `tencentcloud_region`, else `TENCENTCLOUD_REGION` (Tencent's
    table of built-in variables, doc 583/32748, does not list it). Never a default: a function in one region
    must not call another region's APIs. Empty: the function is misconfigured (`require_region`)."""
    endpoint: Optional[str] = None
    secret_id: Optional[str] = field(default=None, repr=False)
    secret_key: Optional[str] = field(default=None, repr=False)
    session_token: Optional[str] = field(default=None, repr=False)
    dry_run: bool = False
    retry_queue: Optional[str] = None
    dead_letter_queue: Optional[str] = None
    max_attempts: int = 5
    api_secret: Optional[str] = field(default=None, repr=False)
    allowed_load_balancers: FrozenSet[str] = frozenset()
    drain_seconds: float = 0.0
    drain_mode: str = "off"
    """`CLB_UNBIND_DRAIN`: off, fixed (wait `drain_seconds` in the run) or adaptive (docs/drain.md);
    unset: fixed when `CLB_UNBIND_DRAIN_SECONDS` is above 0, else off."""
    drain_zero_readings: int = 1
    drain_max_seconds: float = 3600.0
    timer_seconds: float = 60.0
    """How often the timer trigger fires (`CLB_UNBIND_TIMER_SECONDS`): an adaptive drain looks again one interval later."""
    log_level: str = "INFO"
    eventbridge_types: FrozenSet[str] = DEFAULT_EVENTBRIDGE_TYPES
    max_instances: int = 100
    max_payload_bytes: int = 64 * 1024
    concurrency: int = 4
    rate_limit_per_second: float = 20.0
    safety_margin_seconds: float = 3.0
    task_poll_seconds: float = 0.5
    retry_base_seconds: float = 10.0
    retry_max_seconds: float = 600.0
    api_clock_skew_seconds: int = 300
    queue: Optional[str] = None
    """The TDMQ-for-CMQ queue a timer run consumes (`CLB_UNBIND_QUEUE`)."""
    cmq_endpoint: Optional[str] = None
    """Base URL of the CMQ data plane; see `cmq_base_url`."""
    consume_seconds: float = 50.0
    poll_seconds: float = 3.0
    groups: FrozenSet[str] = frozenset()
    """Scaling groups every timer run reconciles with Auto Scaling; empty: no sweep."""
    max_instances_per_pass: int = 100
    topics: FrozenSet[str] = frozenset()
    """TDMQ-for-CMQ topics whose lifecycle hooks are ours too (`CLB_UNBIND_TOPICS`, legacy topic trigger)."""
    envelope_secret: Optional[str] = field(default=None, repr=False)
    """HMAC key of the envelopes the function writes (`CLB_UNBIND_ENVELOPE_SECRET`); none: nothing is signed."""
    audit_seconds: int = 60
    """The hook audit's window, the timer's interval (audit.py); 0 turns the audit off."""

    @property
    def cmq_base_url(self) -> str:
        """`CLB_UNBIND_CMQ_ENDPOINT`, else `CLB_UNBIND_ENDPOINT` (the emulator serves both wire formats),
        else the public endpoint of the region (docs/cloud-facts.md#cmq-endpoints: `https://cmq-{region}.public.tencenttdmq.com`)."""
        if self.cmq_endpoint:
            return self.cmq_endpoint
        if self.endpoint:
            return self.endpoint
        code = CMQ_REGION_CODES.get(self.region)
        if code is None:
            raise SettingsError(f"no known CMQ endpoint for {self.region}: set {PREFIX}CMQ_ENDPOINT")
        return f"https://cmq-{code}.public.tencenttdmq.com"

    @property
    def secrets(self) -> tuple:
        """Every value that must never reach a log line."""
        return tuple(s for s in (self.secret_id, self.secret_key, self.session_token, self.api_secret, self.envelope_secret) if s)

    def require_region(self) -> "Settings":
        if not self.region:
            raise SettingsError("the function has no region: the SCF context carries no tencentcloud_region and "
                                "TENCENTCLOUD_REGION is not set")
        return self

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, region: Optional[str] = None) -> "Settings":
        """`region`: the SCF context's `tencentcloud_region`, which wins over `TENCENTCLOUD_REGION`."""
        env = os.environ if env is None else env
        p = PREFIX
        allowed = _ids(env, p + "ALLOWED_LOAD_BALANCERS", LOAD_BALANCER_ID, "load balancer ids")
        groups = _ids(env, p + "GROUPS", GROUP_ID, "scaling group ids (asg-xxxxxxxx)")
        types = _csv(env, p + "EVENTBRIDGE_TYPES") or DEFAULT_EVENTBRIDGE_TYPES
        api_secret = env.get(p + "API_SECRET") or None
        if api_secret is not None and len(api_secret.encode("utf-8")) < MIN_API_SECRET_BYTES:
            raise SettingsError(f"{p}API_SECRET must be at least {MIN_API_SECRET_BYTES} bytes")
        queue = _name(env, p + "QUEUE")
        return cls(
            region=(region or env.get("TENCENTCLOUD_REGION") or "").strip(),
            endpoint=(env.get(p + "ENDPOINT") or "").strip() or None,
            secret_id=env.get("TENCENTCLOUD_SECRETID") or None,
            secret_key=env.get("TENCENTCLOUD_SECRETKEY") or None,
            session_token=env.get("TENCENTCLOUD_SESSIONTOKEN") or None,
            dry_run=_bool(env, p + "DRY_RUN", False),
            retry_queue=_name(env, p + "RETRY_QUEUE") or queue,
            dead_letter_queue=_name(env, p + "DEAD_LETTER_QUEUE"),
            max_attempts=int(_number(env, p + "MAX_ATTEMPTS", 5, 1, 100)),
            api_secret=api_secret,
            allowed_load_balancers=allowed,
            drain_seconds=_number(env, p + "DRAIN_SECONDS", 0.0, 0, 3600),
            drain_mode=_drain_mode(env, _number(env, p + "DRAIN_SECONDS", 0.0, 0, 3600)),
            drain_zero_readings=int(_number(env, p + "DRAIN_ZERO_READINGS", 1, 1, 60)),
            drain_max_seconds=_number(env, p + "DRAIN_MAX_SECONDS", 3600.0, 0, 7200),
            timer_seconds=_number(env, p + "TIMER_SECONDS", 60.0, 1, 3600),
            log_level=(env.get(p + "LOG_LEVEL") or "INFO").upper(),
            eventbridge_types=types,
            max_instances=int(_number(env, p + "MAX_INSTANCES", 100, 1, 100)),
            max_payload_bytes=int(_number(env, p + "MAX_PAYLOAD_BYTES", 64 * 1024, 1024, 6 * 1024 * 1024)),
            concurrency=int(_number(env, p + "CONCURRENCY", 4, 1, 32)),
            rate_limit_per_second=_number(env, p + "RATE_LIMIT", 20.0, 0.1, 20.0),
            safety_margin_seconds=_number(env, p + "SAFETY_MARGIN_SECONDS", 3.0, 0, 60),
            task_poll_seconds=_number(env, p + "TASK_POLL_SECONDS", 0.5, 0.01, 10),
            retry_base_seconds=_number(env, p + "RETRY_BASE_SECONDS", 10.0, 0, 3600),
            retry_max_seconds=_number(env, p + "RETRY_MAX_SECONDS", 600.0, 0, 43200),
            queue=queue,
            cmq_endpoint=_name(env, p + "CMQ_ENDPOINT"),
            consume_seconds=_number(env, p + "CONSUME_SECONDS", 50.0, 0, 900),
            poll_seconds=_number(env, p + "POLL_SECONDS", 3.0, 0, 30),
            groups=groups,
            max_instances_per_pass=int(_number(env, p + "MAX_INSTANCES_PER_PASS", 100, 1, 100)),
            api_clock_skew_seconds=int(_number(env, p + "API_CLOCK_SKEW", 300, 1, 900)),
            topics=_csv(env, p + "TOPICS"),
            envelope_secret=env.get(p + "ENVELOPE_SECRET") or None,
            audit_seconds=int(_number(env, p + "AUDIT_SECONDS", 60, 0, 3600)),
        )
