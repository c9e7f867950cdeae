"""Helpers shared by the trigger parsers: error messages, size checks, the parsing context.

Nothing here does I/O. Every parser turns its input into `Record`s and never raises: a problem
becomes a `refused` record whose reason names the offending field, e.g.
``Records[1].CMQ.msgBody.InstanceId: 'ins-XYZ' is not a CVM ... instance id``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Annotated, Iterable, List, Optional, Sequence, Tuple, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from ..config import Settings
from ..model import Record, is_instance_id
from ..scrub import scrub

# Largest string we json-decode that is not a message body (an SCF dead letter's ClientContext):
# SCF itself caps a synchronous invocation's ClientContext at 6 MB (docs/cloud-facts.md#scf-retries-and-async-invocation).
MAX_EVENT_BYTES = 6 * 1024 * 1024

INSTANCE_ID_RULE = "is not a CVM (ins- + 8 lowercase letters/digits) or ECM (ein- + 8) instance id"


def short_repr(value: Any, limit: int = 60) -> str:
    """A bounded repr for messages: a field's bad value is shown, never a whole payload, nor a secret
    pasted into it (refusals travel in answers, dead letters and the function's return value)."""
    try:
        text = scrub(repr(value))
    except (RecursionError, ValueError, TypeError):  # deep nesting, odd objects
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def check_instance_id(value: str) -> str:
    if not is_instance_id(value):
        raise ValueError(f"{short_repr(value)} {INSTANCE_ID_RULE}")
    return value


InstanceIdStr = Annotated[str, AfterValidator(check_instance_id)]
"""A string that is a CVM (`ins-xxxxxxxx`) or ECM (`ein-xxxxxxxx`) instance id."""


class Strict(BaseModel):
    """Base of every input model: unknown fields are tolerated, the fields we use are typed strictly."""

    # defer_build: a model's validator is built on first use, so a cold start pays only for the shapes its event has.
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, defer_build=True)


def join_path(prefix: str, *parts: Union[str, int]) -> str:
    """`join_path("Records[0]", "CMQ", "msgBody")` → `Records[0].CMQ.msgBody`; ints become `[i]`."""
    out = prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


def describe(error: ValidationError, prefix: str = "") -> str:
    """One short readable line, `field.path: what is wrong`, for a pydantic error."""
    problems = error.errors(include_url=False)
    if not problems:  # pragma: no cover - pydantic always reports at least one
        return f"{prefix or 'payload'}: invalid"
    first = problems[0]
    path = join_path(prefix, *[p for p in first.get("loc", ()) if isinstance(p, (str, int))])
    msg = str(first.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    kind = str(first.get("type", ""))
    if kind.endswith("_type") or kind in ("literal_error", "union_tag_invalid"):
        msg += f", got {got(first.get('input'))}"
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{path or 'payload'}: {msg}{suffix}"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def got(value: Any) -> str:
    """What a message says it got: a short value for scalars, the JSON type for containers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return short_repr(value, 40)
    return json_type(value)


def _int_or_str(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer or a string, got {got(value)}")
    return value


def _number_or_str(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number or a string, got {got(value)}")
    return value


def _str_or_str_list(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"expected a string or a list of strings, item {index} is {got(item)}")
        return value
    raise ValueError(f"expected a string or a list of strings, got {got(value)}")


# Unions checked by hand so that an error names the field, not pydantic's union member (`x.int`).
IntOrStr = Annotated[Any, AfterValidator(_int_or_str)]
NumberOrStr = Annotated[Any, AfterValidator(_number_or_str)]
StrOrStrList = Annotated[Any, AfterValidator(_str_or_str_list)]


def utf8_len(text: str) -> int:
    """Size in bytes as it travelled; lone surrogates (legal in JSON) are counted, not rejected."""
    return len(text.encode("utf-8", "surrogatepass"))


def too_big(path: str, size: int, limit: int) -> str:
    return f"{path}: {size} bytes is over the {limit}-byte limit (CLB_UNBIND_MAX_PAYLOAD_BYTES)"


def safe_dumps(value: Any) -> str:
    """`json.dumps` that cannot fail (odd objects become strings, cycles a placeholder)."""
    try:
        return json.dumps(value, default=str, allow_nan=True)
    except (ValueError, TypeError, RecursionError):
        return json.dumps(f"<{type(value).__name__} that cannot be serialised>")


class DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: List[Tuple[str, Any]]) -> dict:
    """`object_pairs_hook` that refuses a key given twice: `json` would silently keep the last one."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def loads(text: str, path: str, *, unique_keys: bool = False) -> Tuple[Any, Optional[str]]:
    """Decode JSON; on failure return the refusal reason instead of raising.

    With `unique_keys`, an object naming a key twice is refused: readers disagree on which value wins
    (Python keeps the last), so a signed body must have one meaning (`{"dryRun": true, "dryRun": false}`).
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs if unique_keys else None), None
    except DuplicateKey as exc:
        return None, f"{path}: key {short_repr(str(exc), 40)} is given more than once"
    except RecursionError:
        return None, f"{path}: JSON nested too deeply"
    except ValueError as exc:  # JSONDecodeError is a ValueError
        return None, f"{path}: not valid JSON ({exc})"


def dedupe(values: Iterable[str]) -> List[str]:
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class Context:
    """Where a payload sits and what its notices inherit."""

    settings: Settings
    source: str
    """Trigger that brought the payload: cmq, ckafka, eventbridge, apigw, direct."""
    record_id: str
    path: str
    """Field path of the payload in the event, for messages (`Records[0].CMQ.msgBody`)."""
    now: float
    depth: int = 0
    """How many SCF dead letters we are inside (only one level is replayed)."""

    def at(self, *parts: Union[str, int]) -> "Context":
        return replace(self, path=join_path(self.path, *parts))


def refused(ctx: Context, reason: str, payload: Optional[str], code: str = "refused_input") -> Record:
    return Record(record_id=ctx.record_id, source=ctx.source, refused=reason, payload=payload, refusal_code=code)


def ignored(ctx: Context, reason: str, payload: Optional[str]) -> Record:
    return Record(record_id=ctx.record_id, source=ctx.source, ignored=reason, payload=payload)


def make_unique(records: Sequence[Record]) -> Tuple[Record, ...]:
    """Record ids must be unique within an event: a repeated or empty id gets `#<index>` appended."""
    seen = set()
    out = []
    for index, record in enumerate(records):
        rid = record.record_id or f"record{index}"
        if rid in seen:
            rid = f"{rid}#{index}"
            while rid in seen:
                rid += "_"
        seen.add(rid)
        if rid != record.record_id:
            record = retag(record, record_id=rid)
        out.append(record)
    return tuple(out)


def retag(
    record: Record,
    *,
    record_id: Optional[str] = None,
    source: Optional[str] = None,
    notice_source: Optional[str] = None,
) -> Record:
    """Copy a record with a new id and/or source, carried into its notices and activities."""
    rid = record.record_id if record_id is None else record_id
    notices = tuple(
        replace(n, record_id=rid, source=notice_source or n.source) for n in record.notices
    )
    activities = tuple(
        replace(a, record_id=rid, source=notice_source or a.source) for a in record.activities
    )
    return replace(
        record,
        record_id=rid,
        source=source or record.source,
        notices=notices,
        activities=activities,
    )


__all__ = [
    "Context",
    "INSTANCE_ID_RULE",
    "InstanceIdStr",
    "IntOrStr",
    "NumberOrStr",
    "StrOrStrList",
    "got",
    "MAX_EVENT_BYTES",
    "Strict",
    "check_instance_id",
    "dedupe",
    "describe",
    "ignored",
    "join_path",
    "json_type",
    "loads",
    "make_unique",
    "refused",
    "retag",
    "safe_dumps",
    "short_repr",
    "too_big",
    "utf8_len",
]
