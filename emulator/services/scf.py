"""SCF 2018-04-16: the management actions the operator tool uses.

GetFunction, CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, ListTriggers,
CreateTrigger, UpdateTrigger, DeleteTrigger, GetFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig,
PublishVersion, ListVersionByFunction, CreateAlias, GetAlias, UpdateAlias, ListAliases, DeleteAlias,
DeleteFunction.

Behaviour sources (SDK scf 3.1.100 ``models.py`` docstrings and ``errorcodes.py``):
* ``CreateFunctionRequest``: FunctionName 2–60 characters, letters, digits, ``-`` and ``_``, a letter
  first and neither ``-`` nor ``_`` last (``InvalidParameterValue.FunctionName``); Timeout 1–900
  (``LimitExceeded.Timeout``); MemorySize 64 or 128–3072 in steps of 128
  (``InvalidParameterValue.MemorySize``); Runtime from the listed set (``InvalidParameterValue.Runtime``);
  Handler "文件名称.方法名称" (``InvalidParameterValue.Handler``); Description letters, digits,
  spaces, commas, newlines, full stops and Chinese, at most 1000 (``InvalidParameterValue.Description``);
  ``Code.ZipFile`` base64 of a zip (``InvalidParameterValue.ZipFileBase64BinasciiError`` /
  ``InvalidParameterValue.ZipFile``; none: ``MissingParameter.Code``); an existing name
  ``ResourceInUse.Function``; an unknown role ``ResourceNotFound.Role``; an unknown namespace
  ``ResourceNotFound.Namespace``. Environment variables: key and value "不可为空字符"
  (``InvalidParameterValue.Environment``).
* ``UpdateFunctionConfigurationRequest.Runtime``: "创建时指定，目前不支持修改" → a different runtime is
  ``InvalidParameterValue.Runtime``. Parameters left out are left unchanged (chosen: the API pages
  give no other reading).
* ``GetFunction`` of an unknown function: ``ResourceNotFound.Function``. The function is ``Active`` at
  once (the real one passes through Creating/Updating; not emulated).
* ``CreateTriggerRequest.Type`` "cos、cls、timer、ckafka、http" (``InvalidParameterValue.Type``); a timer's
  TriggerName letters, digits, ``-`` and ``_``, at most 100 (``InvalidParameterValue.TriggerName``);
  ``TriggerDesc`` a seven-field cron (docs/cloud-facts.md#scf-timer-trigger; ``InvalidParameterValue.TriggerDesc``); ``Enable``
  OPEN/CLOSE (``InvalidParameterValue.Enable``); a taken name ``ResourceInUse.Trigger``. Replies and
  ListTriggers give ``Enable`` as 1/0 and a timer's ``TriggerDesc`` as ``{"cron": "..."}``
  (serverless-tencent/tencent-component-toolkit ``src/modules/triggers/timer.ts``: "post TriggerDesc is
  "0 */6 * * * * *" but get "{"cron":"0 */6 * * * * *"}"", Enable posted OPEN/CLOSE, read 1/0).
* ``UpdateTriggerRequest.Type`` "目前只支持timer、ckafka、http三种类型"; an unknown trigger
  ``ResourceNotFound.Trigger``.
* Async invoke config: ``AsyncTriggerConfig{RetryConfig: [{RetryNum}], MsgTTL}``; a new function has
  SCF's defaults, 2 retries (docs/cloud-facts.md#scf-retries-and-async-invocation) and MsgTTL 21600 s. Bounds RetryNum 0–2 and MsgTTL 60–21600
  (``LimitExceeded.RetryNum`` / ``LimitExceeded.MsgTTL``) are chosen from the console's ranges:
  UNCONFIRMED.
* ``ListTriggers`` Offset/Limit: Limit default 20; a Limit above 100 is ``InvalidParameterValue.Limit``
  (the cap is chosen).
* Versions (doc 583/37161 PublishVersion; doc 583/15371): a published version is a copy of $LATEST's
  code and configuration, numbered from 1 upwards, without triggers; ``ListVersionByFunction`` pages
  with Offset/Limit (default 20) and answers ``FunctionVersion`` (names) and ``Versions``
  (``FunctionVersion`` model). That the list includes ``$LATEST`` is chosen (UNCONFIRMED). A
  function that is not ``Active`` cannot publish (``FailedOperation.FunctionVersionStatusNotActive``).
* Aliases (doc 583/44164 CreateAlias, 583/44161 UpdateAlias, 583/36149): a name of 1-64 letters,
  digits, ``_`` and ``-``, a letter first (``CreateAliasRequest.Name``); a main ``FunctionVersion``
  ($LATEST or a published version: ``ResourceNotFound.Version``) and at most one additional version in
  ``RoutingConfig``, never the main one; a taken name ``ResourceInUse.Alias``; an unknown one
  ``ResourceNotFound.Alias``. Every function has ``$DEFAULT``, created pointing at $LATEST, which cannot
  be deleted (``InvalidParameterValue.Alias``, "不支持删除默认别名").
* Triggers may be bound to $LATEST, a version or an alias (doc 583/31456, 583/36149); an unknown one is
  ``ResourceNotFound.Qualifier``. ``UpdateTrigger`` / ``DeleteTrigger`` find the trigger by name, type
  and ``Qualifier`` ("触发器创建时所指向的函数版本或别名，默认为 $LATEST"): they cannot move a trigger to
  another qualifier.
* ``DeleteFunction`` without ``Qualifier`` deletes every version; with one, that version, refused while
  an alias points at it (``UnsupportedOperation.AliasBind``: "资源还有别名绑定").
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile

from .. import deployment
from ..errors import ApiError, missing
from .common import ActionSpec, Ctx, ServiceSpec, require

RUNTIMES = frozenset({
    "Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10", "Nodejs6.10", "Nodejs8.9", "Nodejs10.15",
    "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Nodejs18.15", "Php5.6", "Php7", "Php7.4", "Php8.0", "Go1",
    "Java8", "Java11", "CustomRuntime",
})
TRIGGER_TYPES = frozenset({"cos", "cls", "timer", "ckafka", "http"})
UPDATABLE_TRIGGER_TYPES = frozenset({"timer", "ckafka", "http"})
QUALIFIERS = frozenset({"$LATEST", "$DEFAULT"})

FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$")
HANDLER = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9]\.[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9]$")
DESCRIPTION = re.compile(r"^[A-Za-z0-9 ,.\n\u4e00-\u9fff]{0,1000}$")
TIMER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
CRON_FIELD = re.compile(r"^[0-9*?/,\-LW#A-Za-z]+$")


def _function(ctx: Ctx, params: dict) -> deployment.Function:
    name = require(params, "FunctionName")
    found = deployment.of(ctx.estate).function(ctx.region, params.get("Namespace") or "default", name)
    if found is None:
        raise ApiError("ResourceNotFound.Function", f"The function {name} does not exist.")
    return found


def _check_namespace(ctx: Ctx, params: dict) -> str:
    namespace = params.get("Namespace") or "default"
    if namespace not in deployment.of(ctx.estate).namespaces:
        raise ApiError("ResourceNotFound.Namespace", f"The namespace {namespace} does not exist.")
    return namespace


def _zip(raw: str) -> bytes:
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("InvalidParameterValue.ZipFileBase64BinasciiError", "ZipFile is not valid base64.") from None
    try:
        zipfile.ZipFile(io.BytesIO(data)).testzip()
    except zipfile.BadZipFile:
        raise ApiError("InvalidParameterValue.ZipFile", "ZipFile is not a zip archive.") from None
    return data


def _environment(params: dict) -> dict[str, str] | None:
    env = params.get("Environment")
    if env is None:
        return None
    out: dict[str, str] = {}
    for i, var in enumerate(env.get("Variables") or []):
        key, value = var.get("Key"), var.get("Value")
        if not key or value is None or value == "":
            raise ApiError("InvalidParameterValue.Environment",
                           f"Environment.Variables.{i}: Key and Value must not be empty.")
        out[key] = value
    return out


def _settings(ctx: Ctx, params: dict, fn_runtime: str | None) -> dict:
    """Validated configuration fields present in ``params``."""
    out: dict = {}
    if params.get("Timeout") is not None:
        if not 1 <= params["Timeout"] <= 900:
            raise ApiError("LimitExceeded.Timeout", f"Timeout must be within [1, 900], got {params['Timeout']}.")
        out["timeout"] = params["Timeout"]
    if params.get("MemorySize") is not None:
        m = params["MemorySize"]
        if not (m == 64 or (128 <= m <= 3072 and m % 128 == 0)):
            raise ApiError("InvalidParameterValue.MemorySize", f"MemorySize must be 64 or 128-3072 in steps of 128, got {m}.")
        out["memory"] = m
    if params.get("Description") is not None:
        if not DESCRIPTION.match(params["Description"]):
            raise ApiError("InvalidParameterValue.Description",
                           "Description allows letters, digits, spaces, commas, newlines and full stops, at most 1000.")
        out["description"] = params["Description"]
    if params.get("Handler") is not None:
        if not HANDLER.match(params["Handler"]):
            raise ApiError("InvalidParameterValue.Handler", f"The handler {params['Handler']} is not file.method.")
        out["handler"] = params["Handler"]
    if params.get("Role") is not None:
        if params["Role"] and params["Role"] not in deployment.of(ctx.estate).roles:
            raise ApiError("ResourceNotFound.Role", f"The role {params['Role']} does not exist.")
        out["role"] = params["Role"]
    if params.get("Runtime") is not None:
        if params["Runtime"] not in RUNTIMES:
            raise ApiError("InvalidParameterValue.Runtime", f"The runtime {params['Runtime']} is not supported.")
        if fn_runtime is not None and params["Runtime"] != fn_runtime:
            raise ApiError("InvalidParameterValue.Runtime", "The runtime cannot be changed after the function is created.")
        out["runtime"] = params["Runtime"]
    env = _environment(params)
    if env is not None:
        out["environment"] = env
    return out


def create_function(ctx: Ctx, params: dict) -> dict:
    name = require(params, "FunctionName")
    if not FUNCTION_NAME.match(name):
        raise ApiError("InvalidParameterValue.FunctionName", f"The function name {name} is invalid.")
    namespace = _check_namespace(ctx, params)
    dep = deployment.of(ctx.estate)
    if dep.function(ctx.region, namespace, name) is not None:
        raise ApiError("ResourceInUse.Function", f"The function {name} already exists.")
    if (params.get("Type") or "Event") not in ("Event", "HTTP"):
        raise ApiError("InvalidParameterValue.FunctionType", "Type must be Event or HTTP.")
    code = params.get("Code") or {}
    if not code.get("ZipFile"):
        raise ApiError("MissingParameter.Code", "Code.ZipFile is required (only zip uploads are emulated).")
    data = _zip(code["ZipFile"])
    fields = _settings(ctx, {**params, "Runtime": params.get("Runtime") or "Python2.7"}, None)
    fn = deployment.Function(
        name=name, namespace=namespace, region=ctx.region, function_id=f"lam-{dep.next_id():08d}",
        runtime=fields["runtime"], handler=fields.get("handler", "index.main_handler"), timeout=fields.get("timeout", 3),
        memory=fields.get("memory", 128), description=fields.get("description", ""), role=fields.get("role", ""),
        environment=fields.get("environment", {}), code=data, type=params.get("Type") or "Event",
    )
    dep.functions[(ctx.region, namespace, name)] = fn
    return {}


def update_function_code(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    raw = params.get("ZipFile") or (params.get("Code") or {}).get("ZipFile")
    if not raw:
        raise ApiError("MissingParameter.Code", "ZipFile is required (only zip uploads are emulated).")
    data = _zip(raw)
    fields = _settings(ctx, {"Handler": params.get("Handler")}, fn.runtime)
    fn.code = data
    fn.handler = fields.get("handler", fn.handler)
    fn.code_updates += 1
    fn.mod_time = deployment._now_text()
    return {}


def update_function_configuration(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    fields = _settings(ctx, params, fn.runtime)
    fields.pop("runtime", None)
    for key, value in fields.items():
        setattr(fn, key, value)
    fn.mod_time = deployment._now_text()
    return {}


def _trigger_info(t: deployment.Trigger) -> dict:
    return {"Enable": 1 if t.enable else 0, "Qualifier": t.qualifier, "TriggerName": t.name, "Type": t.type,
            "TriggerDesc": t.desc, "AvailableStatus": "Available", "CustomArgument": t.custom_argument,
            "AddTime": t.add_time, "ModTime": t.mod_time, "ResourceId": "", "BindStatus": "on",
            "TriggerAttribute": "", "Description": t.description}


def _trigger(t: deployment.Trigger) -> dict:
    return {"ModTime": t.mod_time, "Type": t.type, "TriggerDesc": t.desc, "TriggerName": t.name,
            "AddTime": t.add_time, "Enable": 1 if t.enable else 0, "CustomArgument": t.custom_argument,
            "AvailableStatus": "Available", "ResourceId": "", "BindStatus": "on", "TriggerAttribute": "",
            "Qualifier": t.qualifier, "Description": t.description}


def get_function(ctx: Ctx, params: dict) -> dict:
    """``Qualifier`` a published version answers that version's code and configuration (it is "函数的
    版本号", GetFunctionRequest; a version is a frozen copy, doc 583/15371); anything else, $LATEST's."""
    fn = _function(ctx, params)
    version = fn.versions.get(params.get("Qualifier") or "")
    if version is not None:
        return {**_latest_view(fn, params), "Description": version.description, "Handler": version.handler,
                "CodeSize": len(version.code), "Timeout": version.timeout, "FunctionVersion": version.version,
                "MemorySize": version.memory, "Runtime": version.runtime, "Role": version.role,
                "Environment": {"Variables": [{"Key": k, "Value": v} for k, v in version.environment.items()]},
                "ModTime": version.mod_time, "AddTime": version.add_time, "Status": version.status}
    return _latest_view(fn, params)


def _latest_view(fn: deployment.Function, params: dict) -> dict:
    return {
        "ModTime": fn.mod_time, "CodeInfo": "", "Description": fn.description,
        "Triggers": [_trigger(t) for t in fn.triggers.values()], "Handler": fn.handler, "CodeSize": len(fn.code),
        "Timeout": fn.timeout, "FunctionVersion": "$LATEST", "MemorySize": fn.memory, "Runtime": fn.runtime,
        "FunctionName": fn.name, "UseGpu": "FALSE",
        "Environment": {"Variables": [{"Key": k, "Value": v} for k, v in fn.environment.items()]},
        "CodeResult": "success", "CodeError": "", "ErrNo": 0, "Namespace": fn.namespace, "Role": fn.role,
        "InstallDependency": "FALSE", "Status": fn.status, "StatusDesc": "", "ClsLogsetId": "", "ClsTopicId": "",
        "FunctionId": fn.function_id, "Tags": [], "Type": fn.type, "L5Enable": "FALSE", "Layers": [],
        "AddTime": fn.add_time, "Qualifier": params.get("Qualifier") or "$LATEST", "InitTimeout": 65,
        "StatusReasons": [], "AsyncRunEnable": "FALSE", "TraceEnable": "FALSE", "DnsCache": "FALSE",
    }


def list_triggers(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    offset = params.get("Offset") or 0
    limit = 20 if params.get("Limit") is None else params["Limit"]
    if offset < 0:
        raise ApiError("InvalidParameterValue.Offset", f"Offset must be >= 0, got {offset}.")
    if not 0 <= limit <= 100:
        raise ApiError("InvalidParameterValue.Limit", f"Limit must be within [0, 100], got {limit}.")
    triggers = list(fn.triggers.values())
    return {"TotalCount": len(triggers), "Triggers": [_trigger_info(t) for t in triggers[offset:offset + limit]]}


def _enable(params: dict, default: str = "OPEN") -> bool:
    value = params.get("Enable") or default
    if value not in ("OPEN", "CLOSE"):
        raise ApiError("InvalidParameterValue.Enable", f"Enable must be OPEN or CLOSE, got {value}.")
    return value == "OPEN"


def _qualifier(params: dict, fn: deployment.Function, default: str = "$LATEST") -> str:
    """$LATEST, a published version or an alias of ``fn`` (a trigger may be bound to any of them, doc
    583/31456 and 583/36149)."""
    q = params.get("Qualifier") or default
    if q not in QUALIFIERS and q not in fn.versions and q not in fn.aliases:
        raise ApiError("ResourceNotFound.Qualifier", f"The version or alias {q} does not exist.")
    return q


def _timer_desc(raw: str) -> str:
    fields = raw.split()
    if len(fields) != 7 or not all(CRON_FIELD.match(f) for f in fields):
        raise ApiError("InvalidParameterValue.TriggerDesc",
                       f"A timer's TriggerDesc is a cron expression of seven fields (seconds first), got {raw!r}.")
    return json.dumps({"cron": " ".join(fields)})


def create_trigger(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    name = require(params, "TriggerName")
    kind = require(params, "Type")
    if kind not in TRIGGER_TYPES:
        raise ApiError("InvalidParameterValue.Type", f"The trigger type {kind} is not supported: cos, cls, timer, ckafka, http.")
    if kind != "timer":
        raise ApiError("InvalidParameterValue.Type", f"Only timer triggers are emulated, not {kind}.")
    if not TIMER_NAME.match(name):
        raise ApiError("InvalidParameterValue.TriggerName", f"The trigger name {name} is invalid.")
    if name in fn.triggers:
        raise ApiError("ResourceInUse.Trigger", f"The trigger {name} already exists.")
    desc = params.get("TriggerDesc")
    if desc is None:
        raise missing("TriggerDesc")
    trigger = deployment.Trigger(name, kind, _timer_desc(desc), _enable(params), _qualifier(params, fn),
                                 description=params.get("Description") or "",
                                 custom_argument=params.get("CustomArgument") or "")
    fn.triggers[name] = trigger
    return {"TriggerInfo": _trigger(trigger)}


def update_trigger(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    name = require(params, "TriggerName")
    kind = require(params, "Type")
    if kind not in UPDATABLE_TRIGGER_TYPES:
        raise ApiError("InvalidParameterValue.Type", f"UpdateTrigger supports timer, ckafka and http, not {kind}.")
    trigger = fn.triggers.get(name)
    if trigger is None or trigger.type != kind or trigger.qualifier != (params.get("Qualifier") or "$LATEST"):
        raise ApiError("ResourceNotFound.Trigger", f"The trigger {name} does not exist.")
    if params.get("TriggerDesc") is not None:
        trigger.desc = _timer_desc(params["TriggerDesc"])
    if params.get("Enable") is not None:
        trigger.enable = _enable(params)
    if params.get("Description") is not None:
        trigger.description = params["Description"]
    trigger.mod_time = deployment._now_text()
    return {}


def get_function_event_invoke_config(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    return {"AsyncTriggerConfig": {"RetryConfig": [{"RetryNum": fn.async_retry_num}], "MsgTTL": fn.async_msg_ttl}}


def update_function_event_invoke_config(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    config = require(params, "AsyncTriggerConfig")
    retries = config.get("RetryConfig") or []
    if retries:
        num = retries[0].get("RetryNum")
        if num is None or not 0 <= num <= 2:
            raise ApiError("LimitExceeded.RetryNum", f"RetryNum must be within [0, 2], got {num}.")
        fn.async_retry_num = num
    ttl = config.get("MsgTTL")
    if ttl is not None:
        if not 60 <= ttl <= 21600:
            raise ApiError("LimitExceeded.MsgTTL", f"MsgTTL must be within [60, 21600], got {ttl}.")
        fn.async_msg_ttl = ttl
    return {}


# ------------------------------------------------------------------ versions and aliases
ALIAS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _version_of(fn: deployment.Function, version: str, code: str = "ResourceNotFound.Version") -> str:
    if version != deployment.LATEST and version not in fn.versions:
        raise ApiError(code, f"The version {version} of {fn.name} does not exist.")
    return version


def publish_version(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    if fn.status != "Active":
        raise ApiError("FailedOperation.FunctionVersionStatusNotActive", f"The function {fn.name} is {fn.status}.")
    description = params.get("Description") or ""
    if not DESCRIPTION.match(description):
        raise ApiError("InvalidParameterValue.Description",
                       "Description allows letters, digits, spaces, commas, newlines and full stops, at most 1000.")
    fn.last_version += 1
    number = str(fn.last_version)
    fn.versions[number] = deployment.Version(number, description, fn.code, fn.handler, fn.timeout, fn.memory, fn.runtime,
                                             fn.role, dict(fn.environment))
    return {"FunctionVersion": number, "CodeSize": len(fn.code), "MemorySize": fn.memory, "Description": description,
            "Handler": fn.handler, "Timeout": fn.timeout, "Runtime": fn.runtime, "Namespace": fn.namespace}


def list_version_by_function(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    offset = params.get("Offset") or 0
    limit = 20 if params.get("Limit") is None else params["Limit"]
    order = params.get("Order") or "ASC"
    order_by = params.get("OrderBy") or "AddTime"
    if offset < 0 or not 0 <= limit <= 100:
        raise ApiError("InvalidParameterValue.Limit", "Offset must be >= 0 and Limit within [0, 100].")
    if order not in ("ASC", "DESC") or order_by not in ("AddTime", "ModTime"):
        raise ApiError("InvalidParameterValue.Order", "Order is ASC or DESC, OrderBy AddTime or ModTime.")
    latest = {"Version": deployment.LATEST, "Description": fn.description, "AddTime": fn.add_time, "ModTime": fn.mod_time,
              "Status": fn.status}
    rows = [latest] + [{"Version": v.version, "Description": v.description, "AddTime": v.add_time, "ModTime": v.mod_time,
                        "Status": v.status} for v in sorted(fn.versions.values(), key=lambda v: int(v.version))]
    if order == "DESC":
        rows.reverse()
    page = rows[offset:offset + limit]
    return {"FunctionVersion": [r["Version"] for r in page], "Versions": page, "TotalCount": len(rows)}


def _alias(fn: deployment.Function, name: str) -> deployment.Alias:
    found = fn.aliases.get(name)
    if found is None:
        raise ApiError("ResourceNotFound.Alias", f"The alias {name} of {fn.name} does not exist.")
    return found


def _routing(fn: deployment.Function, params: dict, main: str) -> dict:
    routing = params.get("RoutingConfig") or {}
    extra = [w.get("Version") for w in routing.get("AdditionalVersionWeights") or []]
    extra += [m.get("Version") for m in routing.get("AddtionVersionMatchs") or []]
    if len(extra) > 1 or main in extra:
        raise ApiError("InvalidParameterValue.AdditionalVersionWeights",
                       "An alias has at most one additional version, other than its main version.")
    for version in extra:
        _version_of(fn, version or "")
    return routing


def _alias_info(a: deployment.Alias) -> dict:
    return {"FunctionVersion": a.version, "Name": a.name, "RoutingConfig": a.routing or {"AdditionalVersionWeights": [],
            "AddtionVersionMatchs": []}, "Description": a.description, "AddTime": a.add_time, "ModTime": a.mod_time}


def create_alias(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    name = require(params, "Name")
    if not ALIAS_NAME.match(name):
        raise ApiError("InvalidParameterValue.Name", f"The alias name {name} is invalid: a letter first, then letters, "
                                                     f"digits, _ and -, at most 64.")
    if name in fn.aliases:
        raise ApiError("ResourceInUse.Alias", f"The alias {name} already exists.")
    version = _version_of(fn, require(params, "FunctionVersion"))
    fn.aliases[name] = deployment.Alias(name, version, params.get("Description") or "", _routing(fn, params, version))
    return {}


def get_alias(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    return _alias_info(_alias(fn, require(params, "Name")))


def update_alias(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    alias = _alias(fn, require(params, "Name"))
    version = _version_of(fn, require(params, "FunctionVersion"))
    routing = _routing(fn, params, version)
    alias.version, alias.routing = version, routing
    if params.get("Description") is not None:
        alias.description = params["Description"]
    alias.mod_time = deployment._now_text()
    return {}


def list_aliases(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    offset, limit = int(params.get("Offset") or 0), int(params.get("Limit") or 20)
    rows = [a for a in fn.aliases.values() if not params.get("FunctionVersion") or a.version == params["FunctionVersion"]]
    return {"Aliases": [_alias_info(a) for a in rows[offset:offset + limit]], "TotalCount": len(rows)}


def delete_alias(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    name = require(params, "Name")
    if name == deployment.DEFAULT_ALIAS:
        raise ApiError("InvalidParameterValue.Alias", "The default alias cannot be deleted.")
    _alias(fn, name)
    del fn.aliases[name]
    return {}


# ------------------------------------------------------------------ deleting
def delete_trigger(ctx: Ctx, params: dict) -> dict:
    fn = _function(ctx, params)
    name = require(params, "TriggerName")
    kind = require(params, "Type")
    trigger = fn.triggers.get(name)
    if trigger is None or trigger.type != kind or trigger.qualifier != (params.get("Qualifier") or "$LATEST"):
        raise ApiError("ResourceNotFound.Trigger", f"The trigger {name} does not exist.")
    del fn.triggers[name]
    return {}


def delete_function(ctx: Ctx, params: dict) -> dict:
    """Without ``Qualifier`` every version goes ("不填默认删除函数下全部版本", DeleteFunctionRequest); with one,
    that version, unless an alias points at it (``UnsupportedOperation.AliasBind``)."""
    fn = _function(ctx, params)
    qualifier = params.get("Qualifier")
    if qualifier:
        _version_of(fn, qualifier, "ResourceNotFound.FunctionVersion")
        if qualifier == deployment.LATEST:
            raise ApiError("InvalidParameterValue.Qualifier", "$LATEST goes only with the function.")
        if any(a.version == qualifier for a in fn.aliases.values()):
            raise ApiError("UnsupportedOperation.AliasBind", f"An alias points at version {qualifier}.")
        del fn.versions[qualifier]
        return {}
    del deployment.of(ctx.estate).functions[(fn.region, fn.namespace, fn.name)]
    return {}


SERVICE = ServiceSpec(
    name="scf",
    version="2018-04-16",
    models="tencentcloud.scf.v20180416.models",
    actions={
        "GetFunction": ActionSpec(get_function),
        "CreateFunction": ActionSpec(create_function, write=True),
        "UpdateFunctionCode": ActionSpec(update_function_code, write=True),
        "UpdateFunctionConfiguration": ActionSpec(update_function_configuration, write=True),
        "ListTriggers": ActionSpec(list_triggers),
        "CreateTrigger": ActionSpec(create_trigger, write=True),
        "UpdateTrigger": ActionSpec(update_trigger, write=True),
        "GetFunctionEventInvokeConfig": ActionSpec(get_function_event_invoke_config),
        "UpdateFunctionEventInvokeConfig": ActionSpec(update_function_event_invoke_config, write=True),
        "PublishVersion": ActionSpec(publish_version, write=True),
        "ListVersionByFunction": ActionSpec(list_version_by_function),
        "CreateAlias": ActionSpec(create_alias, write=True),
        "GetAlias": ActionSpec(get_alias),
        "UpdateAlias": ActionSpec(update_alias, write=True),
        "ListAliases": ActionSpec(list_aliases),
        "DeleteAlias": ActionSpec(delete_alias, write=True),
        "DeleteTrigger": ActionSpec(delete_trigger, write=True),
        "DeleteFunction": ActionSpec(delete_function, write=True),
    },
)
