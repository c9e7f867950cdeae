"""Every name an operator passes, checked before the first API call: a bad value is a usage error
(exit 2) that says what a good one looks like, never a request the cloud refuses halfway through.

Formats, from the SDK models' field descriptions:
* scaling group id ``asg-`` + 8 lower-case letters or digits (the ids every Auto Scaling reply carries;
  the function's own ``config.GROUP_ID``);
* function name: letters, digits, ``-`` and ``_``, first a letter, last not ``-``/``_``, 2-60 characters
  (scf ``CreateFunctionRequest.FunctionName``); the namespace is held to the same rule;
* queue name: first a letter, then letters, digits, ``-`` and ``_``, at most 64 characters
  (tdmq ``CreateCmqQueueRequest.QueueName``);
* role and policy name: 1-128 of letters, digits and ``+=,.@-_`` (cam ``CreateRoleRequest.RoleName``,
  ``CreatePolicyRequest.PolicyName``);
* CMQ endpoint: a base URL, scheme, host and optional port only (the data plane's addresses, docs/regions.md);
* function version: a number (scf ``PublishVersion`` numbers them from 1) or ``$LATEST``; a dead
  letter's message id: letters, digits, ``-`` and ``_``;
* region: lower-case words joined by ``-``, as in ``ap-guangzhou``, ``na-siliconvalley``,
  ``ap-shanghai-fsi`` (the region list of any product page, e.g. tdmq ``SendCmqMsg``, doc 1179/55919).
"""
from __future__ import annotations

import re
from typing import Iterable, List, Optional, Tuple

GROUP_ID = re.compile(r"^asg-[a-z0-9]{8}$")
FUNCTION = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_-]{0,58}[A-Za-z0-9])$")
QUEUE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
CAM_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
REGION = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+){1,3}$")
ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?/?$")
VERSION = re.compile(r"^(?:\$LATEST|[1-9][0-9]{0,9})$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

RULES = {
    "group": (GROUP_ID, "asg- and 8 lower-case letters or digits, e.g. asg-a1b2c3d4"),
    "region": (REGION, "a region id such as ap-guangzhou"),
    "function": (FUNCTION, "2-60 letters, digits, - or _, first a letter, last a letter or digit"),
    "namespace": (FUNCTION, "2-60 letters, digits, - or _, first a letter, last a letter or digit"),
    "queue": (QUEUE, "up to 64 letters, digits, - or _, first a letter"),
    "role": (CAM_NAME, "1-128 letters, digits or +=,.@-_"),
    "policy": (CAM_NAME, "1-128 letters, digits or +=,.@-_"),
    "endpoint": (ENDPOINT, "a base URL such as https://cmq-gz.public.tencenttdmq.com (scheme, host, optional port)"),
    "version": (VERSION, "a published version number such as 3 (or $LATEST)"),
    "message_id": (MESSAGE_ID, "a message id as the dead-letter listing prints it"),
}


class InvalidInput(ValueError):
    """A value the cloud would refuse or misread; the message names the flag and the rule."""


def problems(values: Iterable[Tuple[str, str, Optional[str]]]) -> List[str]:
    """(kind, flag, value) triples -> one line per bad value; None values are skipped."""
    out = []
    for kind, flag, value in values:
        if value is None:
            continue
        pattern, rule = RULES[kind]
        if not pattern.match(value):
            out.append(f"{flag} {value!r} is not valid: {rule}")
    return out


def require(values: Iterable[Tuple[str, str, Optional[str]]]) -> None:
    found = problems(values)
    if found:
        raise InvalidInput("; ".join(found))
