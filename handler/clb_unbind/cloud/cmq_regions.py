"""Region → TDMQ-for-CMQ data-plane endpoint code, with the source of every row.

The data plane's addresses follow one pattern per network (Tencent doc 1496/61039, "HTTP 数据流 SDK",
queue model; the same patterns in Tencent's Java demo comments, doc 1496/61006):

* public: ``https://cmq-{code}.public.tencenttdmq.com`` (HTTPS only); downstream traffic over it is
  billed ("目前消息队列对于公网下行流量是要收取流量费用的", doc 1496/61039; doc 1111/46415 says the same
  for ``SendMessage``);
* private: ``http://{code}.mqadapter.cmq.tencentyun.com`` (HTTP only), reachable from a VPC in the
  same region (doc 1496/61039: "同地域的内网接入").

Sources of the codes:

* ``doc``: doc 1496/61039 names gz (广州), sh (上海), bj (北京), hk (中国香港), cd (成都); doc 1496/122722
  ("接入点切换对应列表") gives the full public and private URLs for gz and sh.
* ``tcmqcli``: the region map of ``tcmqcli``, a TDMQ-CMQ command-line tool
  (github.com/yougg/cmq-go-tdmq, ``cmd/cli/tcmqcli.go``, ``regions``), which pairs each code with the
  API 3.0 region name. Left out of it: ``others`` (no region), ``tj`` (mapped to ``ap-beijing-z1``, a
  zone, not a region), ``szjrtce`` / ``shjrtce`` (private-cloud editions, mapped crosswise), the
  ``-ec`` edge zones, and ``dub``, ``la``, ``sl``, ``syd`` (region names not confirmed as API 3.0 ones).
  These rows are UNCONFIRMED by Tencent's documentation: a wrong one fails loudly (the host does not
  answer) and ``CLB_UNBIND_CMQ_ENDPOINT`` overrides it.

docs/regions.md is the table for readers.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

PUBLIC = "https://cmq-{code}.public.tencenttdmq.com"
PRIVATE = "http://{code}.mqadapter.cmq.tencentyun.com"

# region: (code, source)
REGIONS: Dict[str, Tuple[str, str]] = {
    "ap-guangzhou": ("gz", "doc"),
    "ap-shanghai": ("sh", "doc"),
    "ap-beijing": ("bj", "doc"),
    "ap-hongkong": ("hk", "doc"),
    "ap-chengdu": ("cd", "doc"),
    "ap-chongqing": ("cq", "tcmqcli"),
    "ap-nanjing": ("nj", "tcmqcli"),
    "ap-shenzhen": ("szx", "tcmqcli"),
    "ap-tianjin": ("tsn", "tcmqcli"),
    "ap-guiyang": ("gy", "tcmqcli"),
    "ap-qingyuan": ("qy", "tcmqcli"),
    "ap-shanghai-fsi": ("shjr", "tcmqcli"),
    "ap-shenzhen-fsi": ("szjr", "tcmqcli"),
    "ap-beijing-fsi": ("bjjr", "tcmqcli"),
    "ap-guangzhou-open": ("gzopen", "tcmqcli"),
    "ap-singapore": ("sg", "tcmqcli"),
    "ap-bangkok": ("th", "tcmqcli"),
    "ap-jakarta": ("jkt", "tcmqcli"),
    "ap-mumbai": ("in", "tcmqcli"),
    "ap-seoul": ("kr", "tcmqcli"),
    "ap-tokyo": ("jp", "tcmqcli"),
    "ap-taipei": ("tpe", "tcmqcli"),
    "na-siliconvalley": ("usw", "tcmqcli"),
    "na-ashburn": ("use", "tcmqcli"),
    "na-toronto": ("ca", "tcmqcli"),
    "eu-frankfurt": ("de", "tcmqcli"),
    "eu-moscow": ("ru", "tcmqcli"),
    "sa-saopaulo": ("sao", "tcmqcli"),
}

CMQ_REGION_CODES: Dict[str, str] = {region: code for region, (code, _) in REGIONS.items()}


def public_endpoint(region: str) -> Optional[str]:
    code = CMQ_REGION_CODES.get(region)
    return PUBLIC.format(code=code) if code else None


def private_endpoint(region: str) -> Optional[str]:
    code = CMQ_REGION_CODES.get(region)
    return PRIVATE.format(code=code) if code else None
