"""EXPLAIN's text format read into the JSON format's document, so one model serves both.

People paste what psql shows: frames (``|``, ``│``), the ``QUERY PLAN`` header and ``(N rows)``
footer, psql's wrap markers (``.`` / ``…`` at the end of a line and the start of the next) and
newline markers (``+`` / ``↵``), tabs for spaces, or lines cut by a terminal. :func:`clean_lines`
removes all that; :func:`text_to_document` then rebuilds the tree from the indentation of the
``->`` arrows and maps every detail line to the key EXPLAIN (FORMAT JSON) would have printed
(``Buffers: shared hit=4 read=2`` -> ``Shared Hit Blocks``, ``Shared Read Blocks``; ``Hash Left
Join`` -> ``Node Type`` "Hash Join", ``Join Type`` "Left"; ...). Counters the text format leaves
out when they are zero (buffers, WAL) are filled with 0 as JSON has them.

>>> doc = text_to_document('''
...  Limit  (cost=0.29..0.31 rows=1 width=8) (actual time=0.010..0.011 rows=1 loops=1)
...    ->  Index Scan using t_pkey on t  (cost=0.29..8.31 rows=1 width=8) (actual tim
... e=0.009..0.009 rows=1 loops=1)
...          Index Cond: (id = 5)
...  Execution Time: 0.030 ms''')
>>> child = doc["Plan"]["Plans"][0]
>>> child["Node Type"], child["Index Name"], child["Relation Name"], child["Parent Relationship"]
('Index Scan', 't_pkey', 't', 'Outer')
>>> doc["Execution Time"]
0.03
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import WorkbenchError

_FRAME = "|│║┃"
_RULE = re.compile(r"^[\s\-+─═━┼┬┴├┤┌┐└┘╞╡╪╟╢╫╠╣╬╔╗╚╝╤╧]+$")
_FOOTER = re.compile(r"^\s*\(\d+ rows?\)\s*$")
_COSTS = re.compile(r"\s*\((?=cost=|actual |never executed)")
_NUM = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|Infinity|NaN"
_COST = re.compile(rf"cost=({_NUM})\.\.({_NUM}) rows=({_NUM}) width=(\d+)")
_ACTUAL_TIME = re.compile(rf"actual time=({_NUM})\.\.({_NUM}) rows=({_NUM}) loops=(\d+)")
_ACTUAL_ROWS = re.compile(rf"actual rows=({_NUM}) loops=(\d+)")
_HEADER = re.compile(r"^((?:InitPlan|SubPlan)(?: \d+.*)?|CTE .+)$")
_WORKER = re.compile(r"^Worker (\d+):\s*(.*)$")
_PROPERTY = re.compile(r"^([A-Z][A-Za-z0-9 /()\-]*?):(?:\s+(.*))?$")
_TRIGGER = re.compile(rf"^Trigger(?: (?!for constraint )(\S+))?(?: for constraint (\S+))?"
                      rf"(?: on (\S+))?: (?:time=({_NUM}) )?calls=(\d+)$")

_JOIN = re.compile(r"^(Nested Loop|Hash|Merge)( (?:Left|Right|Full|Semi|Anti|Right Semi|Right Anti))?"
                   r"( Join)?$")
_AGG = re.compile(r"^(Partial |Finalize )?(HashAggregate|GroupAggregate|MixedAggregate|Aggregate)$")
_SETOP = re.compile(r"^(HashSetOp|SetOp) (Intersect All|Intersect|Except All|Except)$")
_MODIFY = re.compile(r"^(Insert|Update|Delete|Merge) on (.+)$")
_INDEX = re.compile(r"^(Index Scan|Index Only Scan)( Backward)? using (\S+|\"(?:[^\"]|\"\")+\") "
                    r"on (.+)$")
_SCAN_ON = re.compile(r"^(.+? Scan) on (.+)$")
_CUSTOM = re.compile(r"^Custom Scan \((.+?)\)(?: on (.+))?$")
_FOREIGN_MODIFY = re.compile(r"^Foreign (Insert|Update|Delete) on (.+)$")
_STRATEGY = {"HashAggregate": "Hashed", "GroupAggregate": "Sorted", "MixedAggregate": "Mixed",
             "Aggregate": "Plain", "HashSetOp": "Hashed", "SetOp": "Sorted"}
_LISTS = {"Output", "Sort Key", "Group Key", "Presorted Key", "Conflict Arbiter Indexes"}
_BUFFER_KINDS = {("shared", "hit"): "Shared Hit Blocks", ("shared", "read"): "Shared Read Blocks",
                 ("shared", "dirtied"): "Shared Dirtied Blocks",
                 ("shared", "written"): "Shared Written Blocks",
                 ("local", "hit"): "Local Hit Blocks", ("local", "read"): "Local Read Blocks",
                 ("local", "dirtied"): "Local Dirtied Blocks",
                 ("local", "written"): "Local Written Blocks",
                 ("temp", "read"): "Temp Read Blocks", ("temp", "written"): "Temp Written Blocks"}
_WAL_KEYS = {"records": "WAL Records", "fpi": "WAL FPI", "bytes": "WAL Bytes",
             "buffers full": "WAL Buffers Full"}
_MEMOIZE = {"Hits": "Cache Hits", "Misses": "Cache Misses", "Evictions": "Cache Evictions",
            "Overflows": "Cache Overflows", "Memory Usage": "Peak Memory Usage"}
_LINE_START = re.compile(r"^\s*(->|InitPlan\b|SubPlan\b|CTE |Worker \d+:|Trigger |[A-Z][A-Za-z0-9 /()\-]*?:"
                         r"(\s|$)|Planning Time|Execution Time|Total runtime)")


def looks_like_text_plan(text: str) -> bool:
    """True when ``text`` reads as EXPLAIN's text format rather than JSON.

    >>> looks_like_text_plan("Seq Scan on t  (cost=0.00..1.01 rows=1 width=4)")
    True
    >>> looks_like_text_plan('[{"Plan": {}}]')
    False
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    return bool(stripped) and stripped[0] not in "[{"


def clean_lines(text: str) -> list[str]:
    """The plan's own lines: no frames, headers, footers, psql wrap marks or tabs.

    >>> clean_lines('''+---------+
    ... | QUERY PLAN |
    ... +---------+
    ... | Seq Scan on t  (cost=0.00..1.0.|
    ... |.1 rows=1 width=4)|
    ... (1 row)''')
    [' Seq Scan on t  (cost=0.00..1.01 rows=1 width=4)']
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    lines = _unquote([ln.rstrip("\n") for ln in lines])
    lines = [_unframe(ln.expandtabs(8)) for ln in lines]
    header = next((i for i, ln in enumerate(lines) if ln.strip() == "QUERY PLAN"), None)
    if header is not None:
        lines = lines[header + 1:]
    kept = [re.sub(r"\s+(\+|↵)\s*$", "", line)  # psql: a newline inside the value
            for line in lines if line.strip() and not _FOOTER.match(line) and not _RULE.match(line)]
    # psql pads every line with a space on the left; its wrapped format marks a cut with "." (or
    # "…") at the end of a line and in that left margin of the next one.
    padded = bool(kept) and kept[0][:1] == " "
    out: list[str] = []
    for index, line in enumerate(kept):
        following = kept[index + 1] if index + 1 < len(kept) else ""
        if padded and out and line[:1] in (".", "…") and out[-1].rstrip()[-1:] in (".", "…"):
            out[-1] = out[-1].rstrip()[:-1] + line[1:]
        elif out and _continues(line, following, out):
            out[-1] += line  # a line cut by a terminal or an editor (its spaces kept)
        else:
            out.append(line)
    return [line.rstrip() for line in out]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _continues(line: str, following: str, out: list[str]) -> bool:
    """Whether ``line`` is the rest of the line before it, cut by a terminal or an editor."""
    if not _LINE_START.match(line):
        # ... unless it is the first part of a line cut inside its first word
        return not (line[:1] == " " and not _LINE_START.match(following)
                    and bool(_LINE_START.match(line + following)))
    # A detail line never sits left of the line before it (only nodes, InitPlan/SubPlan/CTE
    # headers, Worker blocks and the lines after the plan do): "  Memory: 25kB" there is the end
    # of "Sort Method: quicksort" cut before its two spaces.
    body = line.strip()
    if body.startswith("->") or _HEADER.match(body) or _WORKER.match(body) \
            or body.startswith("Trigger "):
        return False
    return _indent(out[0]) < _indent(line) < _indent(out[-1])


def _unquote(lines: list[str]) -> list[str]:
    """Lines in double quotes (CSV, a GUI grid's copy) lose them; a plan line never starts with
    a quote."""
    return [ln[1:-1].replace('""', '"') if len(ln) > 1 and ln[0] == ln[-1] == '"' else ln
            for ln in lines]


def _unframe(line: str) -> str:
    stripped = line.strip()
    if len(stripped) >= 2 and stripped[0] in _FRAME and stripped[-1] in _FRAME:
        return stripped[1:-1].rstrip()
    if stripped[:1] in _FRAME:
        return stripped[1:].rstrip()
    if stripped[-1:] in _FRAME:
        return line.rstrip()[:-1].rstrip()
    return line


@dataclass
class _Frame:
    column: int
    node: dict[str, Any]
    relationship: str | None = None
    children: list[dict[str, Any]] = field(default_factory=list)


def text_to_document(text: str) -> dict[str, Any]:
    """The JSON document (``{"Plan": ..., "Execution Time": ...}``) of a text-format plan."""
    lines = clean_lines(text)
    if not lines:
        raise WorkbenchError("empty plan", "pass the output of EXPLAIN, in text or JSON format")
    doc: dict[str, Any] = {}
    stack: list[_Frame] = []
    root_column = -1
    pending: tuple[str, int] | None = None  # an InitPlan/SubPlan/CTE header and its column
    section: tuple[int, dict[str, Any]] | None = None  # Worker N: / Planning: / JIT: blocks
    for line in lines:
        column = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith("->") or not stack:
            if not body.startswith("->") and stack:
                raise WorkbenchError(f"cannot read the plan line {body[:60]!r}",
                                     "pass a complete EXPLAIN output")
            node = _node(body[2:].strip() if body.startswith("->") else body)
            while stack and stack[-1].column >= column:
                stack.pop()
            if body.startswith("->") and not stack:
                raise WorkbenchError(f"the plan line {body[:60]!r} has no parent node",
                                     "pass the plan from its first line")
            if stack:
                if pending and pending[1] < column:
                    node["Parent Relationship"] = "SubPlan" if pending[0].startswith("SubPlan") \
                        else "InitPlan"
                    node["Subplan Name"] = pending[0]
                stack[-1].node.setdefault("Plans", []).append(node)
            else:
                root_column = column
                doc["Plan"] = node
            pending, section = None, None
            stack.append(_Frame(column, node))
            continue
        if column <= root_column:
            section = _top_level(doc, body, column)
            continue
        if section and column > section[0]:
            _detail(section[1], body)
            continue
        section = None
        while len(stack) > 1 and stack[-1].column >= column:
            stack.pop()
        owner = stack[-1].node
        if _HEADER.match(body):
            pending = (body, column)
            continue
        worker = _WORKER.match(body)
        if worker:
            entry = {"Worker Number": int(worker.group(1))}
            owner.setdefault("Workers", []).append(entry)
            if worker.group(2):
                _detail(entry, worker.group(2))
            section = (column, entry)
            continue
        _detail(owner, body)
    if "Plan" not in doc:
        raise WorkbenchError("no plan node found in the text", "pass the output of EXPLAIN")
    _finish(doc["Plan"], _has(doc["Plan"], "Shared Hit Blocks"), _has(doc["Plan"], "WAL Records"))
    return doc


def _top_level(doc: dict[str, Any], body: str, column: int) -> tuple[int, dict[str, Any]] | None:
    """Lines at the root's indentation: timings, settings, and the Planning/JIT blocks."""
    trigger = _TRIGGER.match(body)
    if trigger:
        name, constraint, relation, time, calls = trigger.groups()
        entry: dict[str, Any] = {"Trigger Name": name, "Constraint Name": constraint,
                                 "Relation": relation,
                                 "Time": None if time is None else _number(time),
                                 "Calls": int(calls)}
        doc.setdefault("Triggers", []).append({k: v for k, v in entry.items() if v is not None})
        return None
    match = _PROPERTY.match(body)
    if not match:
        raise WorkbenchError(f"cannot read the plan line {body[:60]!r}",
                             "pass a complete EXPLAIN output")
    key, value = match.group(1), (match.group(2) or "").strip()
    if key in ("Planning Time", "Execution Time", "Total runtime"):
        doc["Total Runtime" if key == "Total runtime" else key] = _number(value.split()[0])
    elif key == "Settings":
        doc["Settings"] = {k.strip(): v.strip().strip("'") for k, v in
                           (item.split("=", 1) for item in _split_list(value) if "=" in item)}
    elif key == "Query Identifier":
        doc[key] = int(value)
    elif key == "Serialization":
        doc[key] = _key_values(value, {"time": "Time", "output": "Output Volume",
                                       "format": "Format"})
    elif not value:
        block: dict[str, Any] = doc.setdefault(key, {})
        return column, block
    else:
        doc[key] = _scalar(value)
    return None


def _node(text: str) -> dict[str, Any]:
    """One node line: what it is, on what, and its estimated and actual figures."""
    parts = _COSTS.split(text, maxsplit=1)
    description, figures = parts[0].strip(), (f"({parts[1]}" if len(parts) > 1 else "")
    node = _describe(description)
    node.update(_figures(figures))
    return node


def _figures(figures: str) -> dict[str, Any]:
    """``(cost=a..b rows=n width=w) (actual time=a..b rows=n loops=l)`` as JSON keys."""
    node: dict[str, Any] = {}
    cost = _COST.search(figures)
    if cost:
        node.update({"Startup Cost": _number(cost.group(1)), "Total Cost": _number(cost.group(2)),
                     "Plan Rows": _number(cost.group(3)), "Plan Width": int(cost.group(4))})
    timed = _ACTUAL_TIME.search(figures)
    counted = _ACTUAL_ROWS.search(figures)
    if timed:
        node.update({"Actual Startup Time": _number(timed.group(1)),
                     "Actual Total Time": _number(timed.group(2)),
                     "Actual Rows": _number(timed.group(3)), "Actual Loops": int(timed.group(4))})
    elif counted:
        node.update({"Actual Rows": _number(counted.group(1)),
                     "Actual Loops": int(counted.group(2))})
    elif "never executed" in figures:
        node.update({"Actual Startup Time": 0.0, "Actual Total Time": 0.0, "Actual Rows": 0,
                     "Actual Loops": 0})
    return node


def _describe(text: str) -> dict[str, Any]:
    """``Parallel Index Only Scan Backward using i on s.t x`` -> Node Type, Index Name, ..."""
    node: dict[str, Any] = {"Parallel Aware": False}
    if text.startswith("Parallel "):
        node["Parallel Aware"], text = True, text[len("Parallel "):]
    if text.startswith("Async "):
        node["Async Capable"], text = True, text[len("Async "):]
    join, agg, setop = _JOIN.match(text), _AGG.match(text), _SETOP.match(text)
    if join and (join.group(3) or join.group(1) == "Nested Loop"):
        node["Node Type"] = "Nested Loop" if join.group(1) == "Nested Loop" \
            else f"{join.group(1)} Join"
        node["Join Type"] = (join.group(2) or " Inner").strip()
    elif agg:
        node.update({"Node Type": "Aggregate", "Strategy": _STRATEGY[agg.group(2)],
                     "Partial Mode": (agg.group(1) or "Simple").strip()})
    elif setop:
        node.update({"Node Type": "SetOp", "Strategy": _STRATEGY[setop.group(1)],
                     "Command": setop.group(2)})
    elif m := _INDEX.match(text):
        node.update({"Node Type": m.group(1), "Scan Direction": "Backward" if m.group(2)
                     else "Forward", "Index Name": _unquote_identifier(m.group(3))})
        node.update(_target(m.group(1), m.group(4)))
    elif m := _MODIFY.match(text):
        node.update({"Node Type": "ModifyTable", "Operation": m.group(1)})
        node.update(_target("ModifyTable", m.group(2)))
    elif m := _FOREIGN_MODIFY.match(text):
        node.update({"Node Type": "Foreign Scan", "Operation": m.group(1)})
        node.update(_target("Foreign Scan", m.group(2)))
    elif m := _CUSTOM.match(text):
        node.update({"Node Type": "Custom Scan", "Custom Plan Provider": m.group(1)})
        if m.group(2):
            node.update(_target("Custom Scan", m.group(2)))
    elif text.startswith("Bitmap Index Scan on "):
        node.update({"Node Type": "Bitmap Index Scan",
                     "Index Name": _unquote_identifier(text[len("Bitmap Index Scan on "):].strip())})
    elif m := _SCAN_ON.match(text):
        node["Node Type"] = m.group(1)
        node.update(_target(m.group(1), m.group(2)))
    else:
        node["Node Type"] = text
    return node


def _target(node_type: str, text: str) -> dict[str, Any]:
    """``schema.name alias`` after ``on``, named as EXPLAIN's JSON names it for this node."""
    words = _identifiers(text)
    if not words:
        return {}
    name, alias = words[0], (words[1] if len(words) > 1 else None)
    schema, base = (name[-2] if len(name) >= 2 else None), name[-1]
    if node_type == "Subquery Scan" or node_type == "Values Scan":
        return {"Alias": base}
    if node_type in ("CTE Scan", "WorkTable Scan"):
        return {"CTE Name": base, "Alias": alias[-1] if alias else base}
    if node_type == "Named Tuplestore Scan":
        return {"Tuplestore Name": base, "Alias": alias[-1] if alias else base}
    if node_type == "Table Function Scan":
        return {"Table Function Name": base, "Alias": alias[-1] if alias else base}
    out: dict[str, Any] = {"Function Name" if node_type == "Function Scan" else "Relation Name": base}
    if schema is not None:
        out["Schema"] = schema
    out["Alias"] = alias[-1] if alias else base
    return out


def _identifiers(text: str) -> list[tuple[str, ...]]:
    """Space-separated, possibly quoted and dotted identifiers: ``"My T".x y`` -> [(My T, x), (y,)]."""
    words: list[tuple[str, ...]] = []
    parts: list[str] = []
    current, quoted, i = "", False, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if quoted and text[i + 1:i + 2] == '"':
                current, i = current + '"', i + 2
                continue
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(current)
            current = ""
        elif ch == " " and not quoted:
            if current or parts:
                words.append((*parts, current))
            parts, current = [], ""
        else:
            current += ch
        i += 1
    if current or parts:
        words.append((*parts, current))
    return words


def _unquote_identifier(text: str) -> str:
    return text[1:-1].replace('""', '"') if text.startswith('"') and text.endswith('"') else text


def _detail(target: dict[str, Any], body: str) -> None:
    """One detail line of a node (or of a Worker, Planning or JIT block)."""
    if body.startswith("actual "):  # Worker N:  actual time=... rows=... loops=...
        target.update(_figures(body))
        return
    match = _PROPERTY.match(body)
    if not match:
        target.setdefault("Details", []).append(body)
        return
    key, value = match.group(1), (match.group(2) or "").strip()
    if key.endswith(" Groups"):  # Incremental Sort: Full-sort Groups / Pre-sorted Groups
        target[key] = _sort_groups(body)
    elif key == "Buffers":
        target.update(_buffers(value))
    elif key == "I/O Timings":
        target.update(_io_timings(value))
    elif key == "WAL":
        target.update(_key_values(value, _WAL_KEYS))
    elif key == "Sort Method":
        target.update(_sort_method(value))
    elif key == "Heap Blocks":
        target.update(_key_values(value, {"exact": "Exact Heap Blocks", "lossy": "Lossy Heap Blocks"}))
    elif key == "Memory" and "used=" in value:
        target.update(_key_values(value, {"used": "Memory Used", "allocated": "Memory Allocated"}))
    elif key in ("Buckets", "Batches", "Hits", "Planned Partitions", "Storage"):
        _pairs(target, body)
    elif key in _LISTS:
        target[key] = _split_list(value)
    else:
        target[key] = _scalar(value)


def _pairs(target: dict[str, Any], body: str) -> None:
    """``Buckets: 1024 (originally 512)  Batches: 1  Memory Usage: 9kB`` and the like."""
    pairs = [p.split(":", 1) for p in re.split(r"\s{2,}", body) if ":" in p]
    hash_node = any(k.strip() == "Buckets" for k, _ in pairs)
    for key, value in pairs:
        key, value = key.strip(), value.strip()
        original = re.match(r"(\S+) \(originally (\S+)\)", value)
        if key in ("Buckets", "Batches") and hash_node:
            name = f"Hash {key}"
            target[name] = _scalar(original.group(1) if original else value)
            target[f"Original {name}"] = _scalar(original.group(2) if original else value)
        elif key == "Batches":
            target["HashAgg Batches"] = _scalar(value)
        elif key in ("Memory Usage", "Disk Usage", "Maximum Storage"):
            target["Peak Memory Usage" if key == "Memory Usage" else key] = _kilobytes(value)
        elif key in _MEMOIZE:
            target[_MEMOIZE[key]] = _scalar(value)
        else:
            target[key] = _scalar(value)


def _buffers(value: str) -> dict[str, int]:
    """``shared hit=4 read=2, temp written=8`` -> Shared Hit Blocks 4, ... (zeros included)."""
    out: dict[str, int] = {name: 0 for name in _BUFFER_KINDS.values()}
    for group in value.split(","):
        words = group.split()
        if not words:
            continue
        kind = words[0]
        for item in words[1:]:
            what, _, count = item.partition("=")
            name = _BUFFER_KINDS.get((kind, what))
            if name and count:
                out[name] = int(count)
    return out


def _io_timings(value: str) -> dict[str, float]:
    """PG 16+: ``shared read=0.1 write=0.2, temp read=...``; PG 13-15: ``read=0.1 write=0.2``."""
    out: dict[str, float] = {}
    for group in value.split(","):
        words = group.split()
        if not words:
            continue
        kind = words[0] if "=" not in words[0] else ""
        label = {"shared": "Shared ", "local": "Local ", "temp": "Temp ", "shared/local": "",
                 "": ""}.get(kind, f"{kind.title()} ")
        for item in words[1 if kind else 0:]:
            what, _, number = item.partition("=")
            if number:
                out[f"{label}I/O {what.title()} Time"] = float(number)
    return out


def _sort_method(value: str) -> dict[str, Any]:
    """``external merge  Disk: 5376kB`` -> Sort Method, Sort Space Used, Sort Space Type."""
    out: dict[str, Any] = {"Sort Method": re.split(r"\s{2,}", value, maxsplit=1)[0]}
    rest = re.search(r"(Memory|Disk):\s*(\d+)kB", value)
    if rest:
        out.update({"Sort Space Type": rest.group(1), "Sort Space Used": int(rest.group(2))})
    return out


def _sort_groups(body: str) -> dict[str, Any]:
    """``Full-sort Groups: 1  Sort Method: quicksort  Average Memory: 26kB  Peak Memory: 26kB``."""
    pairs = dict((k.strip(), v.strip()) for k, v in (p.split(":", 1) for p in
                                                     re.split(r"\s{2,}", body) if ":" in p))
    out: dict[str, Any] = {"Group Count": _scalar(next(iter(pairs.values()), "0"))}
    if "Sort Method" in pairs:
        out["Sort Methods Used"] = [m.strip() for m in pairs["Sort Method"].split(",")]
    memory = {f"{k.split()[0]} Sort Space Used": _kilobytes(v) for k, v in pairs.items()
              if k in ("Average Memory", "Peak Memory")}
    disk = {f"{k.split()[0]} Sort Space Used": _kilobytes(v) for k, v in pairs.items()
            if k in ("Average Disk", "Peak Disk")}
    if memory:
        out["Sort Space Memory"] = memory
    if disk:
        out["Sort Space Disk"] = disk
    return out


def _key_values(value: str, names: dict[str, str]) -> dict[str, Any]:
    """``records=36 fpi=0 bytes=3544 buffers full=0`` -> WAL Records 36, ..."""
    out: dict[str, Any] = {}
    for raw, key in names.items():
        match = re.search(rf"(?:^|[\s,]){re.escape(raw)}=(\S+)", value)
        if match:
            number = match.group(1).rstrip(",")
            out[key] = _kilobytes(number) if number.endswith("kB") else _scalar(
                number.removesuffix("ms").strip())
    if names is _WAL_KEYS:
        for key in ("WAL Records", "WAL FPI", "WAL Bytes"):
            out.setdefault(key, 0)
    return out


def _kilobytes(text: str) -> int | float:
    number = _number(text.strip().removesuffix("kB"))
    return number


def _split_list(value: str) -> list[str]:
    """Top-level comma-separated items (commas inside parentheses or quotes stay)."""
    items, depth, quote, current = [], 0, "", ""
    for ch in value:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        items.append(current.strip())
    return items


def _scalar(value: str) -> Any:
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(_NUM, value):
        return _number(value)
    return value


def _number(text: str) -> int | float:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text)


def _has(node: dict[str, Any], key: str) -> bool:
    return key in node or any(_has(child, key) for child in node.get("Plans", []))


def _finish(node: dict[str, Any], buffers: bool, wal: bool) -> None:
    """Parent relationships of ordinary children, and the zero counters text leaves out."""
    if buffers:
        for name in _BUFFER_KINDS.values():
            node.setdefault(name, 0)
    if wal:
        for key in ("WAL Records", "WAL FPI", "WAL Bytes"):
            node.setdefault(key, 0)
    ordinary = [c for c in node.get("Plans", []) if "Parent Relationship" not in c]
    node_type = node.get("Node Type")
    for index, child in enumerate(ordinary):
        if node_type in ("Append", "Merge Append", "BitmapAnd", "BitmapOr"):
            child["Parent Relationship"] = "Member"
        elif node_type == "Subquery Scan":
            child["Parent Relationship"] = "Subquery"
        elif node_type == "Custom Scan":
            child["Parent Relationship"] = "children"
        else:
            child["Parent Relationship"] = "Outer" if index == 0 else "Inner"
    # EXPLAIN prints InitPlans before a node's own children and SubPlans after them; JSON keeps
    # the same order, so nothing to reorder.
    for child in node.get("Plans", []):
        _finish(child, buffers, wal)
