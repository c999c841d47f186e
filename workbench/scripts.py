"""pgbench scripts as data: their SQL statements, their ``\\set`` draws, and literal binding.

A script is read the way pgbench reads it: backslash meta-commands (``\\set`` with its expression
language, ``\\sleep``, ``\\if`` ...), and SQL statements that end with ``;`` (or ``\\gset`` /
``\\aset``) at the end of a line. The ``\\set`` expressions are evaluated by a seeded interpreter with
pgbench's distributions, so plans and advice use representative parameter values, the same every
time (not pgbench's own random stream).

>>> script = read_script(Path("datasets/shop/workload/recent_orders.sql"))   # doctest: +SKIP
>>> params = script.draw(seed=1, n=2, variables={"n_customers": 50000})     # doctest: +SKIP
>>> bind(script.statements[0].sql, params[0])                              # doctest: +SKIP
'SELECT id, ... WHERE customer_id = 17 ORDER BY created_at DESC LIMIT 10'
"""

from __future__ import annotations

import bisect
import math
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

_VAR = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_SQL_TOKENS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/|::|(?<![:\w]):([A-Za-z_]\w*)", re.S)
_WRITE = {"insert", "update", "delete", "merge"}
_CONTROL = {"begin", "start", "commit", "end", "rollback", "savepoint", "release"}


@dataclass
class Statement:
    """One SQL statement of a script, with its ``:variables``."""

    sql: str
    line: int
    variables: tuple[str, ...]
    kind: str
    gset: bool = False

    @property
    def writes(self) -> bool:
        """INSERT, UPDATE, DELETE or MERGE."""
        return self.kind in _WRITE

    @property
    def control(self) -> bool:
        """Transaction control (BEGIN, COMMIT, END, ...)."""
        return self.kind in _CONTROL


@dataclass
class SetCommand:
    """A ``\\set name expression`` line."""

    name: str
    expression: str
    line: int


@dataclass
class Script:
    """A parsed pgbench script."""

    name: str
    path: Path | None
    statements: list[Statement] = field(default_factory=list)
    sets: list[SetCommand] = field(default_factory=list)

    @property
    def queries(self) -> list[Statement]:
        """The statements that are not transaction control."""
        return [s for s in self.statements if not s.control]

    def draw(self, seed: int = 1, n: int = 1, variables: dict[str, Any] | None = None
             ) -> list[dict[str, Any]]:
        """``n`` parameter sets: every ``\\set`` evaluated in order, deterministic for ``seed``."""
        rng = random.Random(seed)
        gset = {v for s in self.statements if s.gset for v in _gset_names(s)}
        draws = []
        for _ in range(n):
            values: dict[str, Any] = {"scale": 1, "client_id": 0, **(variables or {})}
            for command in self.sets:
                values[command.name] = evaluate(command.expression, values, rng,
                                                where=f"{self.name}:{command.line}")
            for name in gset:  # set by a previous statement at run time: any valid id will do
                values.setdefault(name, 1)
            draws.append(values)
        return draws


def read_script(path: Path, name: str | None = None) -> Script:
    """Read a pgbench script file."""
    from workbench.folders import read_text

    text = read_text(Path(path), "script")
    return parse_script(text, name or Path(path).stem, Path(path))


def parse_script(text: str, name: str = "script", path: Path | None = None) -> Script:
    """Parse pgbench script text."""
    script = Script(name, path)
    pending: list[str] = []
    start = 0
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not pending and stripped.startswith("\\"):
            number = i + 1
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1] + " " + lines[i]
            _meta(script, line.strip(), number)
        elif pending or (stripped and not stripped.startswith("--")):
            if not pending:
                start = i + 1
            pending.append(line)
            ends_gset = re.search(r"\\[ga]set(\s+\w+)?\s*$", stripped)
            if stripped.endswith(";") or ends_gset:
                body = "\n".join(pending).strip()
                body = re.sub(r"\\[ga]set(\s+\w+)?\s*$", "", body).strip().rstrip(";").strip()
                script.statements.append(_statement(body, start, bool(ends_gset)))
                pending = []
        i += 1
    if pending:
        script.statements.append(_statement("\n".join(pending).strip().rstrip(";"), start, False))
    return script


def _meta(script: Script, line: str, number: int) -> None:
    command, _, rest = line[1:].partition(" ")
    if command == "set":
        name, _, expression = rest.strip().partition(" ")
        if not name or not expression.strip():
            raise WorkbenchError(f"{script.name}:{number}: \\set needs a name and an expression",
                                 "write \\set name expression")
        script.sets.append(SetCommand(name, expression.strip(), number))


def _statement(body: str, line: int, gset: bool) -> Statement:
    plain = _strip_sql_comments(body)
    first = plain.split(None, 1)[0].lower() if plain.split() else ""
    if first == "with":
        match = re.search(r"\)\s*(select|insert|update|delete|merge)\b", plain, re.I)
        first = match.group(1).lower() if match else "select"
    names = tuple(dict.fromkeys(m.group(1) for m in _SQL_TOKENS.finditer(body) if m.group(1)))
    return Statement(body, line, names, first, gset)


def _gset_names(statement: Statement) -> list[str]:
    match = re.search(r"\breturning\b(.*)$", statement.sql, re.I | re.S)
    if not match:
        return []
    names = []
    for part in match.group(1).split(","):
        words = part.split()
        names.append(words[-1] if words else "")
    return [n for n in names if n]


def _strip_sql_comments(text: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.S).strip()


def bind(sql: str, params: dict[str, Any]) -> str:
    """Replace ``:name`` with SQL literals; strings, comments and ``::casts`` are left alone.

    >>> bind("SELECT 'a:b', x::int FROM t WHERE id = :id AND s = :s", {"id": 7, "s": "o'k"})
    "SELECT 'a:b', x::int FROM t WHERE id = 7 AND s = 'o''k'"
    """
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name:
            return match.group(0)
        if name not in params:
            raise WorkbenchError(f"unknown variable :{name} in {sql[:60]!r}",
                                 "define it with \\set or pass it with -D name=value")
        return _literal(params[name])

    return _SQL_TOKENS.sub(replace, sql)


def to_placeholders(sql: str) -> tuple[str, list[str]]:
    """``:name`` → ``$n`` (server-side parameters), with the names in order of ``$n``."""
    order: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name:
            return match.group(0)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _SQL_TOKENS.sub(replace, sql), order


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"'{value}'::float8"
    return "'" + str(value).replace("'", "''") + "'"


# -- the \set expression language ----------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+|\d+[eE][-+]?\d+)|(\d+)|:([A-Za-z_]\w*)"
                    r"|([A-Za-z_]\w*)|(<=|>=|<>|!=|<<|>>|\|\||&&|[-+*/%()<>=,!&|#~]))")


def evaluate(expression: str, values: dict[str, Any], rng: random.Random, where: str = "") -> Any:
    """Evaluate a pgbench ``\\set`` expression.

    >>> evaluate("1 + :x * 2", {"x": 3}, random.Random(1))
    7
    """
    tokens = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise WorkbenchError(f"{where}: cannot read {text[pos:pos + 20]!r} in \\set",
                                 "use pgbench's expression syntax")
        pos = m.end()
        if m.group(1):
            tokens.append(("num", float(m.group(1))))
        elif m.group(2):
            tokens.append(("num", int(m.group(2))))
        elif m.group(3):
            tokens.append(("var", m.group(3)))
        elif m.group(4):
            tokens.append(("word", m.group(4).lower()))
        elif m.group(5):
            tokens.append(("op", m.group(5)))
    parser = _Parser(tokens, values, rng, where)
    result = parser.expr()
    if parser.i != len(tokens):
        raise WorkbenchError(f"{where}: unexpected {tokens[parser.i][1]!r} in \\set", "check the syntax")
    return result


class _Parser:
    """Recursive descent over pgbench's grammar (OR < AND < NOT < comparison < bit < + < * < unary)."""

    def __init__(self, tokens: list[tuple[str, Any]], values: dict[str, Any], rng: random.Random,
                 where: str) -> None:
        self.t, self.values, self.rng, self.where, self.i = tokens, values, rng, where, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok and tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: Any) -> None:
        if not self.take(kind, value):
            raise WorkbenchError(f"{self.where}: expected {value!r} in \\set", "check the syntax")

    def expr(self) -> Any:
        left = self.and_()
        while self.take("word", "or") or self.take("op", "||"):
            right = self.and_()
            left = bool(left) or bool(right)
        return left

    def and_(self) -> Any:
        left = self.not_()
        while self.take("word", "and") or self.take("op", "&&"):
            right = self.not_()
            left = bool(left) and bool(right)
        return left

    def not_(self) -> Any:
        if self.take("word", "not") or self.take("op", "!"):
            return not self.not_()
        return self.comparison()

    def comparison(self) -> Any:
        left = self.bits()
        ops = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
               "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b}
        tok = self.peek()
        while tok and tok[0] == "op" and tok[1] in ops:
            self.i += 1
            left = ops[tok[1]](left, self.bits())
            tok = self.peek()
        return left

    def bits(self) -> Any:
        left = self.additive()
        ops = {"&": lambda a, b: a & b, "|": lambda a, b: a | b, "#": lambda a, b: a ^ b,
               "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b}
        tok = self.peek()
        while tok and tok[0] == "op" and tok[1] in ops:
            self.i += 1
            left = ops[tok[1]](int(left), int(self.additive()))
            tok = self.peek()
        return left

    def additive(self) -> Any:
        left = self.term()
        while True:
            if self.take("op", "+"):
                left = left + self.term()
            elif self.take("op", "-"):
                left = left - self.term()
            else:
                return left

    def term(self) -> Any:
        left = self.unary()
        while True:
            if self.take("op", "*"):
                left = left * self.unary()
            elif self.take("op", "/"):
                right = self.unary()
                if right == 0:
                    raise WorkbenchError(f"{self.where}: division by zero in \\set", "check it")
                left = int(left / right) if isinstance(left, int) and isinstance(right, int) \
                    else left / right
            elif self.take("op", "%"):
                right = self.unary()
                left = int(math.fmod(left, right))
            else:
                return left

    def unary(self) -> Any:
        if self.take("op", "-"):
            return -self.unary()
        if self.take("op", "+"):
            return self.unary()
        if self.take("op", "~"):
            return ~int(self.unary())
        return self.primary()

    def primary(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise WorkbenchError(f"{self.where}: \\set expression ends too early", "check it")
        self.i += 1
        kind, value = tok
        if kind == "num":
            return value
        if kind == "var":
            if value not in self.values:
                raise WorkbenchError(f"{self.where}: unknown variable :{value}",
                                     "define it with \\set first, or pass it with -D")
            return self.values[value]
        if kind == "op" and value == "(":
            inner = self.expr()
            self.expect("op", ")")
            return inner
        if kind == "word" and value == "case":
            return self.case()
        if kind == "word" and value in ("true", "false"):
            return value == "true"
        if kind == "word" and value == "null":
            return None
        if kind == "word":
            self.expect("op", "(")
            args: list[Any] = []
            if not self.take("op", ")"):
                args.append(self.expr())
                while self.take("op", ","):
                    args.append(self.expr())
                self.expect("op", ")")
            return call(value, args, self.rng, self.where)
        raise WorkbenchError(f"{self.where}: unexpected {value!r} in \\set", "check the syntax")

    def case(self) -> Any:
        result, done = None, False
        while self.take("word", "when"):
            condition = self.expr()
            if not self.take("word", "then"):
                raise WorkbenchError(f"{self.where}: CASE needs THEN", "check the syntax")
            value = self.expr()
            if condition and not done:
                result, done = value, True
        if self.take("word", "else"):
            value = self.expr()
            if not done:
                result = value
        if not self.take("word", "end"):
            raise WorkbenchError(f"{self.where}: CASE needs END", "check the syntax")
        return result


def call(name: str, args: list[Any], rng: random.Random, where: str = "") -> Any:
    """pgbench's built-in functions, with its distributions."""
    simple = {
        "abs": lambda a: abs(a[0]), "int": lambda a: int(a[0]), "double": lambda a: float(a[0]),
        "sqrt": lambda a: math.sqrt(a[0]), "exp": lambda a: math.exp(a[0]),
        "ln": lambda a: math.log(a[0]), "pi": lambda a: math.pi,
        "pow": lambda a: math.pow(a[0], a[1]), "power": lambda a: math.pow(a[0], a[1]),
        "greatest": lambda a: max(a), "least": lambda a: min(a), "debug": lambda a: a[0],
        "mod": lambda a: int(math.fmod(a[0], a[1])),
        "hash": lambda a: _hash(int(a[0]), int(a[1]) if len(a) > 1 else 0),
        "hash_murmur2": lambda a: _hash(int(a[0]), int(a[1]) if len(a) > 1 else 0),
        "hash_fnv1a": lambda a: _fnv1a(int(a[0]), int(a[1]) if len(a) > 1 else 0),
        "permute": lambda a: permute(int(a[0]), int(a[1]), int(a[2]) if len(a) > 2 else 0),
    }
    if name in simple:
        return simple[name](args)
    if name.startswith("random"):
        lb, ub = int(args[0]), int(args[1])
        if ub < lb:
            raise WorkbenchError(f"{where}: {name}: upper bound below lower bound", "swap them")
        if name == "random":
            return rng.randint(lb, ub)
        if name == "random_exponential":
            param = float(args[2])
            cut = math.exp(-param)
            u = rng.random()
            r = -math.log(cut + (1.0 - cut) * u) / param
            return lb + min(int((ub - lb + 1) * r), ub - lb)
        if name == "random_gaussian":
            param = float(args[2])
            while True:
                r = rng.gauss(0.0, 1.0)
                if -param <= r < param:
                    break
            return lb + int((ub - lb + 1) * (r + param) / (2.0 * param))
        if name == "random_zipfian":
            return lb + _zipf_rank(ub - lb + 1, float(args[2]), rng.random()) - 1
    raise WorkbenchError(f"{where}: unknown function {name}() in \\set",
                         "use one of pgbench's built-in functions")


@lru_cache(maxsize=32)
def _zipf_cdf(n: int, s: float) -> tuple[float, ...]:
    weights = [1.0 / (k ** s) for k in range(1, n + 1)]
    total = sum(weights)
    acc, cdf = 0.0, []
    for w in weights:
        acc += w / total
        cdf.append(acc)
    return tuple(cdf)


def _zipf_rank(n: int, s: float, u: float) -> int:
    if n > 2_000_000:  # continuous approximation for very large ranges
        return max(1, min(n, int((1 + u * ((n + 1) ** (1 - s) - 1)) ** (1 / (1 - s)))))
    return min(n, bisect.bisect_left(_zipf_cdf(n, s), u) + 1)


def _hash(value: int, seed: int) -> int:
    x = (value ^ (seed * 0x9E3779B97F4A7C15)) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 33)) * 0xFF51AFD7ED558CCD) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 33
    return x - (1 << 64) if x >= 1 << 63 else x


def _fnv1a(value: int, seed: int) -> int:
    h = 0xCBF29CE484222325 ^ (seed & 0xFFFFFFFFFFFFFFFF)
    for byte in (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= 1 << 63 else h


def permute(i: int, size: int, seed: int = 0) -> int:
    """A pseudo-random bijection of [0, size): cycle-walking a keyed permutation of the next power
    of two, as pgbench's permute() does (not bit-for-bit the same mapping)."""
    if size <= 0:
        raise WorkbenchError("permute() size must be > 0", "check the \\set expression")
    i %= size
    bits = max(1, (size - 1).bit_length())
    mask = (1 << bits) - 1
    keys = [(_hash(k, seed) & mask) | 1 for k in range(3)]
    value = i
    while True:
        for key in keys:
            value = (value * key) & mask  # odd multiplier: a bijection modulo 2^bits
            value ^= value >> max(1, bits // 2)
            value = (value + key) & mask
        if value < size:
            return value
