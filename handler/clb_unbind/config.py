"""Settings, read once per invocation from the environment (names are a contract: ../shared/DESIGN.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import FrozenSet, Mapping, Optional

from .model import LOAD_BALANCER_ID

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
    raw = env.get(name) or ""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    region: str = "ap-guangzhou"
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

    @property
    def secrets(self) -> tuple:
        """Every value that must never reach a log line."""
        return tuple(s for s in (self.secret_id, self.secret_key, self.session_token, self.api_secret) if s)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        p = PREFIX
        allowed = _csv(env, p + "ALLOWED_LOAD_BALANCERS")
        bad = sorted(lb for lb in allowed if not LOAD_BALANCER_ID.match(lb))
        if bad:
            raise SettingsError(f"{p}ALLOWED_LOAD_BALANCERS holds ids that are not load balancer ids: {bad}")
        types = _csv(env, p + "EVENTBRIDGE_TYPES") or DEFAULT_EVENTBRIDGE_TYPES
        return cls(
            region=env.get("TENCENTCLOUD_REGION") or cls.region,
            endpoint=(env.get(p + "ENDPOINT") or "").strip() or None,
            secret_id=env.get("TENCENTCLOUD_SECRETID") or None,
            secret_key=env.get("TENCENTCLOUD_SECRETKEY") or None,
            session_token=env.get("TENCENTCLOUD_SESSIONTOKEN") or None,
            dry_run=_bool(env, p + "DRY_RUN", False),
            retry_queue=(env.get(p + "RETRY_QUEUE") or "").strip() or None,
            dead_letter_queue=(env.get(p + "DEAD_LETTER_QUEUE") or "").strip() or None,
            max_attempts=int(_number(env, p + "MAX_ATTEMPTS", 5, 1, 100)),
            api_secret=env.get(p + "API_SECRET") or None,
            allowed_load_balancers=allowed,
            drain_seconds=_number(env, p + "DRAIN_SECONDS", 0.0, 0, 3600),
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
        )
