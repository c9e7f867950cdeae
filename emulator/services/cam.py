"""CAM 2019-01-16: roles, custom policies and their attachments (global: no region).

GetRole, CreateRole, UpdateAssumeRolePolicy, ListAttachedRolePolicies, ListPolicies, GetPolicy,
CreatePolicy, UpdatePolicy, AttachRolePolicy, DetachRolePolicy.

Behaviour sources (SDK cam 3.1.181 ``models.py`` docstrings and ``errorcodes.py``):
* ``CreateRoleRequest.RoleName`` / ``CreatePolicyRequest.PolicyName``: 1–128 characters of letters,
  digits and ``+=,.@-_`` (``InvalidParameter.RoleNameError`` / ``InvalidParameter.PolicyNameError``);
  a taken role name ``InvalidParameter.RoleNameInUse``, a taken policy name
  ``FailedOperation.PolicyNameInUse``; an unknown role ``InvalidParameter.RoleNotExist``; an unknown
  policy id ``ResourceNotFound.PolicyIdNotFound`` (GetPolicy) / ``InvalidParameter.PolicyIdNotExist``
  (attach, update); a document that is not JSON of ``version`` + ``statement``
  ``InvalidParameter.PolicyDocumentError``; a trust document without a principal
  ``InvalidParameter.PrincipalError``.
* ``GetRole``, ``UpdateAssumeRolePolicy``, ``ListAttachedRolePolicies``: RoleId xor RoleName;
  ``AttachRolePolicy`` / ``DetachRolePolicy``: PolicyId xor PolicyName and AttachRoleId xor
  AttachRoleName (DetachRole…) ("二选一"); neither → ``MissingParameter``.
* ``ListAttachedRolePolicies.Rp`` "不能大于200"; ``ListPolicies`` Rp 1–200 (default 20), Page 1–200
  (default 1), Scope All/QCS/Local, Keyword matches the policy name: ``InvalidParameter.ParamError``
  outside those (the code for a bad page is chosen). Only custom (Local) policies are emulated.
* Attaching a policy twice leaves one attachment (CAM's answer to a repeated attach is UNCONFIRMED).
"""
from __future__ import annotations

import json
import re
from typing import Any

from .. import deployment
from ..errors import ApiError, missing
from .common import ActionSpec, Ctx, ServiceSpec, require

NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")


def _document(raw: str, trust: bool) -> str:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ApiError("InvalidParameter.PolicyDocumentError", "PolicyDocument is not valid JSON.") from None
    if not isinstance(doc, dict) or "version" not in doc or not isinstance(doc.get("statement"), list) or not doc["statement"]:
        raise ApiError("InvalidParameter.PolicyDocumentError", "PolicyDocument needs a version and a statement list.")
    for i, statement in enumerate(doc["statement"]):
        if not isinstance(statement, dict) or not statement.get("action") or statement.get("effect") not in ("allow", "deny"):
            raise ApiError("InvalidParameter.PolicyDocumentError", f"statement {i} needs an action and an effect.")
        if trust and not statement.get("principal"):
            raise ApiError("InvalidParameter.PrincipalError", f"statement {i} of a role's trust policy needs a principal.")
    return raw


def _role(ctx: Ctx, role_id: Any, name: Any) -> deployment.Role:
    if not role_id and not name:
        raise missing("RoleName")
    role = deployment.of(ctx.estate).role_by_id_or_name(role_id, name)
    if role is None:
        raise ApiError("InvalidParameter.RoleNotExist", f"The role {name or role_id} does not exist.")
    return role


def _policy(ctx: Ctx, policy_id: Any, name: Any, code: str = "InvalidParameter.PolicyIdNotExist") -> deployment.Policy:
    dep = deployment.of(ctx.estate)
    if policy_id is None and not name:
        raise missing("PolicyId")
    found = dep.policies.get(policy_id) if policy_id is not None else dep.policy_by_name(name)
    if found is None:
        raise ApiError(code, f"The policy {policy_id if policy_id is not None else name} does not exist.")
    return found


def _role_info(r: deployment.Role) -> dict:
    return {"RoleId": r.role_id, "RoleName": r.name, "PolicyDocument": r.document, "Description": r.description,
            "AddTime": r.add_time, "UpdateTime": r.update_time, "ConsoleLogin": r.console_login, "RoleType": "user",
            "SessionDuration": 7200, "Tags": [], "RoleArn": f"qcs::cam::uin/100000000001:roleName/{r.name}"}


def get_role(ctx: Ctx, params: dict) -> dict:
    return {"RoleInfo": _role_info(_role(ctx, params.get("RoleId"), params.get("RoleName")))}


def create_role(ctx: Ctx, params: dict) -> dict:
    name = require(params, "RoleName")
    if not NAME.match(name):
        raise ApiError("InvalidParameter.RoleNameError", f"The role name {name} is invalid.")
    document = _document(require(params, "PolicyDocument"), trust=True)
    dep = deployment.of(ctx.estate)
    if name in dep.roles:
        raise ApiError("InvalidParameter.RoleNameInUse", f"The role name {name} is in use.")
    role = deployment.Role(str(dep.next_id() * 1000 + 7), name, document, params.get("Description") or "",
                           params.get("ConsoleLogin") or 0)
    dep.roles[name] = role
    return {"RoleId": role.role_id}


def update_assume_role_policy(ctx: Ctx, params: dict) -> dict:
    role = _role(ctx, params.get("RoleId"), params.get("RoleName"))
    role.document = _document(require(params, "PolicyDocument"), trust=True)
    role.update_time = deployment._now_text()
    return {}


def list_attached_role_policies(ctx: Ctx, params: dict) -> dict:
    role = _role(ctx, params.get("RoleId"), params.get("RoleName"))
    page, rp = require(params, "Page"), require(params, "Rp")
    if page < 1 or not 1 <= rp <= 200:
        raise ApiError("InvalidParameter.ParamError", "Page starts at 1 and Rp is 1-200.")
    dep = deployment.of(ctx.estate)
    items = [{"PolicyId": p.policy_id, "PolicyName": p.name, "AddTime": p.add_time, "PolicyType": "User",
              "CreateMode": 2, "Deactived": 0, "DeactivedDetail": [], "Description": p.description}
             for p in (dep.policies[i] for i in role.attached if i in dep.policies)]
    return {"List": items[(page - 1) * rp:page * rp], "TotalNum": len(items)}


def list_policies(ctx: Ctx, params: dict) -> dict:
    page = 1 if params.get("Page") is None else params["Page"]
    rp = 20 if params.get("Rp") is None else params["Rp"]
    scope = params.get("Scope") or "All"
    if not 1 <= page <= 200 or not 1 <= rp <= 200 or scope not in ("All", "QCS", "Local"):
        raise ApiError("InvalidParameter.ParamError", "Page is 1-200, Rp 1-200, Scope All, QCS or Local.")
    keyword = params.get("Keyword") or ""
    dep = deployment.of(ctx.estate)
    found = [] if scope == "QCS" else [p for p in dep.policies.values() if keyword in p.name]
    attachments = {pid: sum(pid in r.attached for r in dep.roles.values()) for pid in dep.policies}
    items = [{"PolicyId": p.policy_id, "PolicyName": p.name, "AddTime": p.add_time, "Type": 1, "Description": p.description,
              "CreateMode": 2, "Attachments": attachments.get(p.policy_id, 0), "UpdateTime": p.update_time, "Tags": []}
             for p in found]
    return {"TotalNum": len(items), "List": items[(page - 1) * rp:page * rp], "ServiceTypeList": []}


def get_policy(ctx: Ctx, params: dict) -> dict:
    p = _policy(ctx, require(params, "PolicyId"), None, code="ResourceNotFound.PolicyIdNotFound")
    return {"PolicyName": p.name, "Description": p.description, "Type": 1, "AddTime": p.add_time,
            "UpdateTime": p.update_time, "PolicyDocument": p.document, "IsServiceLinkedRolePolicy": 0, "Tags": []}


def create_policy(ctx: Ctx, params: dict) -> dict:
    name = require(params, "PolicyName")
    if not NAME.match(name):
        raise ApiError("InvalidParameter.PolicyNameError", f"The policy name {name} is invalid.")
    document = _document(require(params, "PolicyDocument"), trust=False)
    dep = deployment.of(ctx.estate)
    if dep.policy_by_name(name) is not None:
        raise ApiError("FailedOperation.PolicyNameInUse", f"The policy name {name} is in use.")
    policy = deployment.Policy(dep.next_id(), name, document, params.get("Description") or "")
    dep.policies[policy.policy_id] = policy
    return {"PolicyId": policy.policy_id}


def update_policy(ctx: Ctx, params: dict) -> dict:
    by_name = params.get("PolicyId") is None
    p = _policy(ctx, params.get("PolicyId"), params.get("PolicyName"))
    if params.get("PolicyDocument") is not None:
        p.document = _document(params["PolicyDocument"], trust=False)
    if params.get("Description") is not None:
        p.description = params["Description"]
    p.update_time = deployment._now_text()
    return {"PolicyId": p.policy_id} if by_name else {}


def _attachment(ctx: Ctx, params: dict, role_key: str) -> tuple:
    policy = _policy(ctx, params.get("PolicyId"), params.get("PolicyName"))
    role = _role(ctx, params.get(f"{role_key}Id"), params.get(f"{role_key}Name"))
    return policy, role


def attach_role_policy(ctx: Ctx, params: dict) -> dict:
    policy, role = _attachment(ctx, params, "AttachRole")
    if policy.policy_id not in role.attached:
        role.attached.append(policy.policy_id)
    return {}


def detach_role_policy(ctx: Ctx, params: dict) -> dict:
    policy, role = _attachment(ctx, params, "DetachRole")
    if policy.policy_id in role.attached:
        role.attached.remove(policy.policy_id)
    return {}


def delete_role(ctx: Ctx, params: dict) -> dict:
    """``DeleteRoleRequest``: RoleId or RoleName. Whether CAM refuses a role that still holds policies is
    not documented in the SDK; the emulator deletes it with its attachments (chosen)."""
    role = _role(ctx, params.get("RoleId"), params.get("RoleName"))
    del deployment.of(ctx.estate).roles[role.name]
    return {}


def delete_policy(ctx: Ctx, params: dict) -> dict:
    """``DeletePolicyRequest.PolicyId``: a list of ids, all of which must exist (else none is deleted,
    ``ResourceNotFound.PolicyIdNotFound``, chosen); a deleted policy is detached from every role."""
    ids = require(params, "PolicyId")
    dep = deployment.of(ctx.estate)
    for pid in ids:
        _policy(ctx, pid, None, code="ResourceNotFound.PolicyIdNotFound")
    for pid in ids:
        dep.policies.pop(pid, None)
        for role in dep.roles.values():
            if pid in role.attached:
                role.attached.remove(pid)
    return {}


SERVICE = ServiceSpec(
    name="cam",
    version="2019-01-16",
    models="tencentcloud.cam.v20190116.models",
    region_required=False,
    actions={
        "GetRole": ActionSpec(get_role),
        "CreateRole": ActionSpec(create_role, write=True),
        "UpdateAssumeRolePolicy": ActionSpec(update_assume_role_policy, write=True),
        "ListAttachedRolePolicies": ActionSpec(list_attached_role_policies),
        "ListPolicies": ActionSpec(list_policies),
        "GetPolicy": ActionSpec(get_policy),
        "CreatePolicy": ActionSpec(create_policy, write=True),
        "UpdatePolicy": ActionSpec(update_policy, write=True),
        "AttachRolePolicy": ActionSpec(attach_role_policy, write=True),
        "DetachRolePolicy": ActionSpec(detach_role_policy, write=True),
        "DeleteRole": ActionSpec(delete_role, write=True),
        "DeletePolicy": ActionSpec(delete_policy, write=True),
    },
)
