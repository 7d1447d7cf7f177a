r"""TaskRouter's expression language: tokenizer, recursive-descent parser, closure compiler.

Used for TaskQueue ``TargetWorkers``, Workflow filter and target expressions, ``skip_if`` and
the ``TargetWorkersExpression`` / ``EvaluateTaskAttributes`` list filters.  :func:`parse`
compiles an expression once into nested Python closures; :meth:`Expression.evaluate` never
re-parses and never raises on a JSON document.

Grammar (EBNF; keywords are case-insensitive, whitespace between tokens is ignored)::

    expression = or_expr ;
    or_expr    = and_expr , { ( "OR" | "||" ) , and_expr } ;
    and_expr   = unary , { ( "AND" | "&&" ) , unary } ;
    unary      = { "NOT" } , primary ;
    primary    = "(" , or_expr , ")" | "true" | "false" | comparison ;
    comparison = operand , operator , operand ;
    operator   = "==" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "CONTAINS"
               | "HAS" | ">-" | "IN" | "<-" | "NOT" , "IN" ;
    operand    = constant | reference | array ;
    array      = "[" , [ constant , { "," , constant } ] , "]" ;
    constant   = string | number | "true" | "false" | "null" ;
    reference  = name , { "." , name | "[" , digits , "]" } ;   (* no spaces around . or [ *)
    name       = ( letter | "_" ) , { letter | digit | "_" } ;  (* not a keyword *)
    number     = [ "-" ] , digits , [ "." , digits ] , [ ( "e" | "E" ) , [ "+" | "-" ] , digits ] ;
    string     = '"' , { char | "\" , any } , '"' | "'" , { char | "\" , any } , "'" ;

Semantics:

* A reference is looked up in the document: a missing key, an out-of-range index or a step into
  a non-container gives null (``None``), exactly like a JSON ``null`` value.  Values are JSON
  types (tuples count as arrays); any other type only ever satisfies ``!= null``.
* null: ``x == null`` is true iff x is null; ``x != null`` is true iff x is not null, even when
  x is an array or object (so ``preferred_agents != null`` works).  Orderings with null are false.
* ``== != < <= > >=`` compare scalars (strings, numbers, booleans); an array or object on either
  side makes them false, ``!=`` included.  Numbers compare numerically (``1 == 1.0``); a number
  against a string that parses as a number compares numerically (``"6" > 5``).  Otherwise
  different types are never equal: ``==`` is false, ``!=`` is true, orderings are false.
  Booleans are not numbers (``true != 1``) and have no order.  Two strings order by code point.
* ``a CONTAINS b``: both are strings and b is a (case-sensitive) substring of a.
* ``a HAS b`` (``a >- b``): a is an array holding an element ``== b`` (b null or scalar).
* ``a IN b`` (``a <- b``): b is an array and either a is null/scalar and equals an element of b,
  or a is an array sharing at least one element with b.  ``a NOT IN b``: b is an array, a is not
  an object and ``a IN b`` is false -- so it is false, like ``IN``, when b is not an array.
* A bare operand is an error, except the literals ``true`` and ``false``.  Keywords cannot start
  a reference (``has.x`` is an error); later segments may be anything (``task.in``).
* ``>-`` / ``<-`` right before a digit read as ``>`` / ``<`` and a negative number: ``x>-1``.
* String escapes: ``\n``, ``\t``, ``\r``; a backslash before any other character yields it.
* Limits: at most ``MAX_LENGTH`` characters and ``MAX_DEPTH`` levels of nested parentheses.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any, NamedTuple, NoReturn

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Expression", "ExpressionError", "evaluate", "parse"]

MAX_LENGTH = 8192
MAX_DEPTH = 64

Fn = Callable[[Any], bool]
Operand = tuple[bool, Any]  # (is_constant, constant value or resolver function)


class ExpressionError(ValueError):
    """Raised for an invalid expression; ``.expression``, ``.position`` (0-based), ``.reason``."""

    def __init__(self, expression: str, position: int, reason: str) -> None:
        self.expression = expression
        self.position = position
        self.reason = reason
        shown = expression if len(expression) <= 200 else expression[:197] + "..."
        super().__init__(f"Invalid expression {shown!r} at position {position}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.expression, self.position, self.reason)

    def pointer(self) -> str:
        """The expression and, below it, a caret under the offending character."""
        line = "".join(c if c.isprintable() else " " for c in self.expression)
        return f"{line}\n{' ' * self.position}^"


_NUMERIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_KIND = {str: "s", int: "n", float: "n", bool: "b", type(None): None}  # JSON scalars, exact types
_ARRAYS = (list, tuple)


def _as_number(s: str) -> int | float | None:
    if _NUMERIC.fullmatch(s) is None:
        return None
    try:
        return int(s)
    except ValueError:  # a fraction or exponent, or too many digits for int()
        return float(s)


def _pair(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Two non-null scalars made comparable, or None when their types never compare."""
    ka, kb = _KIND.get(type(a)), _KIND.get(type(b))
    if ka == kb:
        return None if ka is None else (a, b)
    if ka == "n" and kb == "s":
        b = _as_number(b)
    elif ka == "s" and kb == "n":
        a = _as_number(a)
    else:
        return None
    return None if a is None or b is None else (a, b)


def _eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if type(a) is type(b):  # fast path
        return type(a) in _KIND and a == b
    p = _pair(a, b)
    return p is not None and p[0] == p[1]


def _ne(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is not b
    return type(a) in _KIND and type(b) in _KIND and not _eq(a, b)


def _ordering(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        p = _pair(a, b)
        return p is not None and type(p[0]) is not bool and test(*p)

    return compare


def _contains(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and b in a


def _has(a: Any, b: Any) -> bool:
    return isinstance(a, _ARRAYS) and type(b) in _KIND and any(_eq(x, b) for x in a)


def _in(a: Any, b: Any) -> bool:
    if not isinstance(b, _ARRAYS):
        return False
    if isinstance(a, _ARRAYS):
        return any(_eq(x, y) for x in a for y in b)
    return type(a) in _KIND and any(_eq(a, y) for y in b)


def _not_in(a: Any, b: Any) -> bool:
    ok = isinstance(b, _ARRAYS) and (type(a) in _KIND or isinstance(a, _ARRAYS))
    return ok and not _in(a, b)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _eq, "=": _eq, "!=": _ne, "CONTAINS": _contains,
    "<": _ordering(operator.lt), "<=": _ordering(operator.le),
    ">": _ordering(operator.gt), ">=": _ordering(operator.ge),
    "HAS": _has, ">-": _has, "IN": _in, "<-": _in, "NOT IN": _not_in,
}  # fmt: skip


def _always(doc: Any) -> bool:
    return True


def _never(doc: Any) -> bool:
    return False


def _resolver(path: tuple[str | int, ...]) -> Callable[[Any], Any]:
    if len(path) == 1:
        key = path[0]
        return lambda doc: doc.get(key) if type(doc) is dict or isinstance(doc, Mapping) else None

    def resolve(doc: Any) -> Any:
        cur = doc
        for seg in path:
            if seg.__class__ is int:
                if not isinstance(cur, _ARRAYS) or seg >= len(cur):
                    return None
                cur = cur[seg]
            elif type(cur) is dict or isinstance(cur, Mapping):  # dict: skip the ABC check
                cur = cur.get(seg)
            else:
                return None
        return cur

    return resolve


def _compare(op: Callable[[Any, Any], bool], left: Operand, right: Operand) -> Fn:
    (lconst, lv), (rconst, rv) = left, right
    if lconst and rconst:
        return _always if op(lv, rv) else _never
    if rconst:
        return lambda doc: op(lv(doc), rv)
    if lconst:
        return lambda doc: op(lv, rv(doc))
    return lambda doc: op(lv(doc), rv(doc))


def _combine(parts: list[Fn], conjunction: bool) -> Fn:
    """AND (``conjunction``) or OR of ``parts``, folding constant parts away."""
    neutral, absorbing = (_always, _never) if conjunction else (_never, _always)
    if absorbing in parts:
        return absorbing
    fns = [f for f in parts if f is not neutral]
    if not fns:
        return neutral
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        f, g = fns
        return (lambda doc: f(doc) and g(doc)) if conjunction else (lambda doc: f(doc) or g(doc))
    quantifier = all if conjunction else any
    return lambda doc: quantifier(fn(doc) for fn in fns)


def _negate(fn: Fn) -> Fn:
    if fn is _always or fn is _never:
        return _never if fn is _always else _always
    return lambda doc: not fn(doc)


class _Tok(NamedTuple):
    kind: str  # "const", "ref", "kw", "op" or "eof"
    value: Any  # constant, reference path (tuple), upper-cased keyword or symbol
    pos: int  # offset in the source
    text: str  # the source slice


_WS = re.compile(r"\s*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_AFTER_NUMBER = re.compile(r"[\w.]")
_NAME = re.compile(r"[^\W\d]\w*")
_INDEX = re.compile(r"\[\s*([0-9]+)\s*\]")
_HYPHENATED = re.compile(r"[\w.\-]+")
_SYMBOL = re.compile(r"==|!=|<=|>=|<-(?![0-9])|>-(?![0-9])|&&|\|\||[=<>()\[\],]")
_STRING = {q: re.compile(q + r"((?:[^" + q + r"\\]|\\.)*)" + q, re.S) for q in "'\""}
_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_NOT_IN = re.compile(r"\s+in\b", re.I)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS", "TRUE", "FALSE", "NULL"})
_LITERALS = {"TRUE": True, "FALSE": False, "NULL": None}


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, n = 0, len(text)
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            toks.append(_Tok("eof", None, n, ""))
            return toks
        ch = text[pos]
        if ch in _STRING:
            if (m := _STRING[ch].match(text, pos)) is None:
                raise ExpressionError(text, pos, f"unterminated string starting at position {pos}")
            value = _ESCAPE.sub(lambda e: _ESCAPES.get(e[1], e[1]), m[1])
            tok = _Tok("const", value, pos, m[0])
        elif m := _NUMBER.match(text, pos):
            if _AFTER_NUMBER.match(text, m.end()):
                raise ExpressionError(text, pos, "invalid number")
            try:
                number = int(m[0]) if m[0].lstrip("-").isdigit() else float(m[0])
            except ValueError:
                raise ExpressionError(text, pos, "number has too many digits") from None
            tok = _Tok("const", number, pos, m[0])
        elif m := _NAME.match(text, pos):
            tok = _reference(text, m)
        elif m := _SYMBOL.match(text, pos):
            tok = _Tok("op", m[0], pos, m[0])
        else:
            raise ExpressionError(text, pos, f"unexpected character {ch!r}")
        toks.append(tok)
        pos = tok.pos + len(tok.text)


def _reference(text: str, m: re.Match[str]) -> _Tok:
    start, pos = m.start(), m.end()
    if (word := m[0].upper()) in _KEYWORDS:
        if word == "NOT" and (im := _NOT_IN.match(text, pos)):
            return _Tok("kw", "NOT IN", start, text[start : im.end()])
        return _Tok("kw", word, start, m[0])
    path: list[str | int] = [m[0]]
    while pos < len(text):
        if text[pos] == ".":
            if (nm := _NAME.match(text, pos + 1)) is None:
                raise ExpressionError(text, pos + 1, "expected an attribute name after '.'")
            path.append(nm[0])
            pos = nm.end()
        elif text[pos] == "[":
            if (im := _INDEX.match(text, pos)) is None:
                raise ExpressionError(text, pos, "expected a non-negative integer index in [ ]")
            path.append(int(im[1]) if len(im[1]) < 19 else 1 << 62)  # huge: always out of range
            pos = im.end()
        elif text[pos] == "-":
            fix = _HYPHENATED.match(text, start)[0].replace("-", "_")  # type: ignore[index]
            why = f"hyphens are not supported in attribute names; use underscores (e.g. {fix!r})"
            raise ExpressionError(text, pos, why)
        else:
            break
    return _Tok("ref", tuple(path), start, text[start:pos])


def _show(tok: _Tok) -> str:
    if tok.kind == "kw" or (tok.kind == "op" and tok.value not in ("(", ")", "[", "]", ",")):
        return str(tok.value)
    return tok.text if tok.kind == "const" and isinstance(tok.value, str) else f"'{tok.text}'"


class _Parser:
    def __init__(self, text: str, prefixes: frozenset[str] | None) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.prefixes = prefixes
        self.roots: set[str] = set()
        self.prev = ""  # how the last consumed token reads in messages

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, *values: str, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok.kind in ("kw", "op") and tok.value in values

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        self.prev = _show(tok)
        return tok

    def fail(self, tok: _Tok, reason: str) -> NoReturn:
        raise ExpressionError(self.text, tok.pos, reason)

    def expected(self, what: str) -> NoReturn:
        tok = self.peek()
        after = f" after {self.prev}" if self.prev else ""
        found = "" if tok.kind == "eof" else f", found {_show(tok)}"
        self.fail(tok, f"expected {what}{after}{found}")

    def parse(self) -> Fn:
        fn = self.or_expr()
        tok = self.peek()
        if tok.kind != "eof":
            if self.at(")"):
                self.fail(tok, "unbalanced ')' without a matching '('")
            self.fail(tok, f"expected AND, OR or the end of the expression, found {_show(tok)}")
        return fn

    def or_expr(self, conjunction: bool = False) -> Fn:
        """``or_expr``, or ``and_expr`` when ``conjunction``."""
        term = self.unary if conjunction else lambda: self.or_expr(conjunction=True)
        parts = [term()]
        while self.at(*(("AND", "&&") if conjunction else ("OR", "||"))):
            self.take()
            parts.append(term())
        return _combine(parts, conjunction)

    def unary(self) -> Fn:
        negated = False
        while self.at("NOT"):
            self.take()
            negated = not negated
        fn = self.primary()
        return _negate(fn) if negated else fn

    def primary(self) -> Fn:
        tok = self.peek()
        if self.at("("):
            if self.depth >= MAX_DEPTH:
                self.fail(tok, f"parentheses are nested more than {MAX_DEPTH} levels deep")
            self.depth += 1
            self.take()
            fn = self.or_expr()
            close = self.peek()
            if not self.at(")"):
                if close.kind == "eof":
                    self.fail(close, f"missing ')' to close '(' at position {tok.pos}")
                self.fail(close, f"expected AND, OR or ')', found {_show(close)}")
            self.take()
            self.depth -= 1
            return fn
        if self.at("TRUE", "FALSE") and not self.at(*_OPS, k=1):
            self.take()
            return _always if tok.value == "TRUE" else _never
        return self.comparison()

    def comparison(self) -> Fn:
        left = self.operand("a comparison")
        if not self.at(*_OPS):
            if self.at("NOT"):
                self.take()
                self.expected("IN")
            self.expected("a comparison operator")
        op = _OPS[self.take().value]
        return _compare(op, left, self.operand("a value"))

    def constant(self) -> Operand | None:
        tok = self.peek()
        if tok.kind == "const" or self.at(*_LITERALS):
            self.take()
            return True, _LITERALS[tok.value] if tok.kind == "kw" else tok.value
        return None

    def operand(self, what: str) -> Operand:
        if (const := self.constant()) is not None:
            return const
        tok = self.peek()
        if tok.kind == "ref":
            root = tok.value[0]
            if self.prefixes is not None and root not in self.prefixes:
                starts = " or ".join(f"{p}." for p in sorted(self.prefixes)) or "nothing"
                self.fail(tok, f"invalid key '{tok.text}': keys must start with {starts}")
            self.roots.add(root)
            self.take()
            return False, _resolver(tok.value)
        if self.at("["):
            self.take()
            items: list[Any] = []
            while not (items == [] and self.at("]")):
                if (item := self.constant()) is None:
                    self.expected("a constant in the array")
                items.append(item[1])
                if not self.at(","):
                    break
                self.take()
            if not self.at("]"):
                self.expected("',' or ']'")
            self.take()
            return True, tuple(items)
        self.expected(what)


class Expression:
    """A compiled expression; :meth:`evaluate` is cheap and never raises on JSON documents."""

    __slots__ = ("_fn", "_roots", "source")
    source: str

    def __init__(self, source: str, fn: Fn, roots: frozenset[str]) -> None:
        self.source = source
        self._fn = fn
        self._roots = roots

    def evaluate(self, document: Mapping[str, Any]) -> bool:
        return self._fn(document)

    @property
    def roots(self) -> frozenset[str]:
        """The first segment of every reference, e.g. ``{"task", "worker"}``."""
        return self._roots

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def parse(text: str, *, prefixes: Collection[str] | None = None) -> Expression:
    """Compile ``text``; with ``prefixes``, every reference must start with one of them."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(text, MAX_LENGTH, f"expression is over {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError(text, 0, "expression is empty")
    if isinstance(prefixes, str):
        prefixes = (prefixes,)
    parser = _Parser(text, None if prefixes is None else frozenset(prefixes))
    fn = parser.parse()
    return Expression(text, fn, frozenset(parser.roots))


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Expression:
    return parse(text)


def evaluate(text: str, document: Mapping[str, Any]) -> bool:
    """Parse (cached) and evaluate; raises :class:`ExpressionError` only for a bad expression."""
    return _parse_cached(text).evaluate(document)
