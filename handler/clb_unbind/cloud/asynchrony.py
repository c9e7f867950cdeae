"""Which of the function's writes are tasks it must poll, decided by one rule: Tencent's API
specification for the action says "本接口为异步接口" (or "异步接口"). The specification is the `api.json`
that Tencent's command-line tool `tccli` ships (version 3.1.189.1, docs/testing-spec.md); the doc pages
cited say the same. An action whose document lacks the words answers when it is done.

The function never trusts a reply alone: verification re-reads the bindings (pipeline.py's
verify step), so if a write documented as synchronous were still running, what is left is retried.
tests/functional/test_spec_asynchrony.py checks every entry against api.json and that no other write
the function sends is missing here.
"""
from __future__ import annotations

from typing import Dict, Tuple

ASYNCHRONOUS: Dict[Tuple[str, str], bool] = {
    # tccli 3.1.189.1 clb/v20180317/api.json, BatchDeregisterTargets: "批量解绑四七层后端服务。批量解绑的
    # 资源数量上限为500。只支持VPC网络负载均衡。" No "异步接口".
    ("clb", "BatchDeregisterTargets"): False,
    # tccli 3.1.189.1 clb/v20180317/api.json, BatchModifyTargetWeight: "... 本接口为异步接口，本接口返回成功后
    # 需以返回的 RequestID 为入参，调用 DescribeTaskStatus 接口查询本次任务是否成功。"
    ("clb", "BatchModifyTargetWeight"): True,
    # tccli 3.1.189.1 ecm/v20190719/api.json, BatchDeregisterTargets: "批量解绑后端服务。" No "异步接口"
    # (doc 1108/48469 the same), unlike e.g. clb DeregisterTargets. Before this rule the function polled
    # DescribeLoadBalanceTaskStatus after it on no source.
    ("ecm", "BatchDeregisterTargets"): False,
    # tccli 3.1.189.1 ecm/v20190719/api.json, BatchModifyTargetWeight: "批量修改监听器绑定的后端机器的转发权重。"
    # No "异步接口"; its response (SDK ecm 3.1.105) has only RequestId, no task to poll.
    ("ecm", "BatchModifyTargetWeight"): False,
}


def is_asynchronous(service: str, action: str) -> bool:
    """KeyError for a write not decided here: a new write must be looked up in api.json first."""
    return ASYNCHRONOUS[(service, action)]
