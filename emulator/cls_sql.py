"""CLS "search | SQL" statements run with DuckDB over stored log lines: the emulator's analysis engine.

CLS's SQL is Presto's dialect with a few extensions (Tencent docs 614/78970, 614/72804, 614/41989).
DuckDB runs most of it as written; this module bridges the rest, and only the rest, so that a query
the project documents is the one that runs here:

* a SELECT without FROM reads the topic (CLS's implicit table): `FROM log` is added;
* `histogram(__TIMESTAMP__, interval N unit)` (CLS's time bucket, `__TIMESTAMP__` in milliseconds)
  becomes `time_bucket(INTERVAL N unit, epoch_ms(__TIMESTAMP__))`;
* `CROSS JOIN UNNEST(m) AS t(k, v)` over a map becomes a lateral join on its keys and values;
* `json_extract_scalar` (Presto) and `approx_percentile` are macros over DuckDB's own functions.

The search part before `|` is limited to `*` (every query of the project filters in SQL); anything
else is refused rather than guessed at. Rows are dicts, numbers as DuckDB returns them.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Tuple

CLAUSE_END = ("WHERE", "GROUP", "ORDER", "LIMIT", "HAVING")
_HISTOGRAM = re.compile(r"histogram\(\s*__TIMESTAMP__\s*,\s*interval\s+(\d+)\s+(\w+)\s*\)", re.I)
_UNNEST_MAP = re.compile(r"CROSS JOIN UNNEST\((\w+)\) AS (\w+)\((\w+),\s*(\w+)\)", re.I)
MACROS = (
    "CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)",
    "CREATE MACRO approx_percentile(x, q) AS approx_quantile(x, q)",
)


class QueryError(ValueError):
    """A statement this engine does not run (CLS answers such a statement with `InvalidParameter`)."""


def split(statement: str) -> Tuple[str, str]:
    search, bar, sql = statement.partition("|")
    if not bar:
        raise QueryError("a statement without `| SQL` is a search; only analysis statements are run here")
    if search.strip() != "*":
        raise QueryError(f"search condition {search.strip()!r}: only `*` is supported here")
    return search.strip(), sql.strip()


def to_duckdb(sql: str) -> str:
    """The CLS SQL of one statement, in DuckDB's dialect."""
    sql = _HISTOGRAM.sub(lambda m: f"time_bucket(INTERVAL {m.group(1)} {m.group(2)}, epoch_ms(__TIMESTAMP__))", sql)
    sql = _with_from(sql)
    return _UNNEST_MAP.sub(
        lambda m: (f"CROSS JOIN LATERAL (SELECT unnest(map_keys({m.group(1)})) AS {m.group(3)}, "
                   f"unnest(map_values({m.group(1)})) AS {m.group(4)}) AS {m.group(2)}"),
        sql,
    )


def _with_from(sql: str) -> str:
    """Add `FROM log` to every SELECT that has no FROM of its own (at its own parenthesis depth)."""
    tokens = re.findall(r"'[^']*'|\w+|\s+|.", sql)
    out: List[str] = []
    pending: List[int] = []  # depths of SELECTs still looking for their FROM
    depth = 0
    for token in tokens:
        word = token.upper()
        if token == "(":
            depth += 1
        elif token == ")":
            if pending and pending[-1] == depth:
                pending.pop()
                out.append(" FROM log ")
            depth -= 1
        elif pending and pending[-1] == depth and word == "FROM":
            pending.pop()
        elif pending and pending[-1] == depth and word in CLAUSE_END:
            pending.pop()
            out.append("FROM log ")
        if word == "SELECT":
            pending.append(depth)
        out.append(token)
    if pending:
        out.append(" FROM log")
    return "".join(out)


def run(lines: Iterable[Mapping[str, Any]], statement: str) -> List[Dict[str, Any]]:
    """Run one statement over log rows (`__TIMESTAMP__` in ms, `SCF_Message`, any other field)."""
    import duckdb

    _, sql = split(statement)
    rows = list(lines)
    con = duckdb.connect()
    try:
        for macro in MACROS:
            con.execute(macro)
        con.execute("CREATE TABLE log (__TIMESTAMP__ BIGINT, SCF_Message VARCHAR, SCF_RequestId VARCHAR, SCF_FunctionName VARCHAR)")
        con.executemany(
            "INSERT INTO log VALUES (?, ?, ?, ?)",
            [(int(r["__TIMESTAMP__"]), str(r.get("SCF_Message", "")), r.get("SCF_RequestId"), r.get("SCF_FunctionName")) for r in rows],
        )
        try:
            cursor = con.execute(to_duckdb(sql))
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from None
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
