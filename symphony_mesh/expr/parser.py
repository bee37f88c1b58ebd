"""The recursive-descent parser: the tokens of one expression segment to a `Program`
(expressions.md 5).

The grammar is followed rule by rule; the methods are named after its productions. Recursion
only happens where the grammar nests (groups, brackets, call arguments, unary signs), and every
such level is counted: entering level 65 raises the nesting error, so the parser's own recursion
stays far below Python's limit. Operator chains are loops.

Symphony parses and evaluates one top-level expression at a time, so an error in the second
expression is only reported once the first has evaluated without error. To keep that order with
a cached tree, a syntax error does not escape `parse_program`: it is stored in the `Program` and
raised when evaluation reaches it.

Subtrees made only of literals and operators are folded into one `Const` as they are built; the
`Const` keeps the number of steps the subtree would have cost, so limits behave the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from symphony_mesh.expr.errors import ExpressionError, ExpressionSyntaxError
from symphony_mesh.expr.functions import bind
from symphony_mesh.expr.lexer import END, IDENT, PUNCT, Token, tokenize
from symphony_mesh.expr.limits import MAX_DEPTH, nesting_exceeded
from symphony_mesh.expr.nodes import EMPTY, Bracket, Call, Chain, Const, Node, Unary

if TYPE_CHECKING:
    from symphony_mesh.expr.runtime import Run

__all__ = ["DeferredError", "Program", "parse_program"]

_FACTOR_OPERATORS = frozenset("*/\\.:?=~&")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class DeferredError:
    """A syntax or nesting error met while parsing, raised when evaluation gets there."""

    kind: Callable[..., ExpressionError]
    """The exception class to raise."""
    message: str
    code: int
    position: int | None
    depth: int
    """The deepest nesting reached before the error (checked against the `$input` depth)."""

    def raise_error(self) -> ExpressionError:
        """A fresh exception (a cached tree must never hand out the same exception twice)."""
        return self.kind(self.message, code=self.code, position=self.position)


@dataclass(frozen=True, slots=True)
class Program:
    """The top-level expressions of one expression segment, in order (5.2)."""

    expressions: tuple[Node, ...]
    """The expressions to evaluate and combine, in order."""
    depths: tuple[int, ...]
    """For each expression, the deepest nesting it reaches."""
    error: DeferredError | None
    """The error that stopped parsing after the last expression, if any."""
    position: int
    """Offset of the expression text in the template."""


class _FoldCounter:
    """Stands in for a run while folding constants: only steps are counted."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0


def _fold(node: Node) -> Node:
    """`node` evaluated now, as a `Const` costing the same steps; `node` itself if that fails."""
    counter = _FoldCounter()
    try:
        # Only literals and operators are below `node`: they read nothing but the step count.
        value = node.evaluate(cast("Run", counter))
    except ExpressionError:
        return node
    assert isinstance(value, str | int | float)
    return Const(value, counter.steps, node.pos)


def _constant(node: Node | None) -> bool:
    return node is None or type(node) is Const


class _Parser:
    """The state of parsing one expression text."""

    def __init__(self, source: str, start: int, end: int) -> None:
        self.tokens: list[Token] = tokenize(source, start, end)
        self.index = 0
        self.depth = 0
        self.deepest = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _is(self, char: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == PUNCT and token.text == char

    def _found(self) -> str:
        token = self.token
        return "end of expression" if token.kind == END else f"'{token.text}'"

    def _enter(self, position: int) -> None:
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        if self.depth > MAX_DEPTH:
            raise nesting_exceeded(position)

    def _expect(self, char: str) -> None:
        if not self._is(char):
            raise ExpressionSyntaxError(
                f"expected '{char}' but found {self._found()}", position=self.token.pos
            )
        self.index += 1

    # program = { expr(outside), skip one token }
    def program(self, position: int) -> Program:
        expressions: list[Node] = []
        depths: list[int] = []
        error: DeferredError | None = None
        while True:
            self.deepest = self.depth = 0
            try:
                node = self.expr(outside=True)
            except ExpressionError as exc:
                error = DeferredError(type(exc), exc.message, exc.code, exc.position, self.deepest)
                break
            if node is EMPTY:
                break
            expressions.append(node)
            depths.append(self.deepest)
            if self.token.kind != END:
                self.index += 1  # the one token skipped after each top-level expression
        return Program(tuple(expressions), tuple(depths), error, position)

    # expr = factor { ("+"|"-"|",") factor } [ "(" expr ")" ]
    def expr(self, outside: bool) -> Node:
        first = self.factor()
        if first is None:
            return EMPTY
        operators: list[str] = []
        operands: list[Node | None] = []
        positions: list[int] = []
        while True:
            token = self.token
            if token.kind != PUNCT:
                break
            char = token.text
            if char == "+" or char == "-" or (char == "," and outside):
                self.index += 1
                operators.append(char)
                positions.append(token.pos)
                operands.append(self.factor())
            elif char == "(":
                # A group after an operand replaces the whole expression: `a(b)` is `b`.
                self.index += 1
                self._enter(token.pos)
                group = self.expr(outside=True)
                self._expect(")")
                self.depth -= 1
                return group
            else:
                break
        return self._chain(first, operators, operands, positions)

    # factor = primary { op primary }
    def factor(self) -> Node | None:
        first = self.primary()
        operators: list[str] = []
        operands: list[Node | None] = []
        positions: list[int] = []
        while True:
            token = self.token
            if token.kind != PUNCT or token.text not in _FACTOR_OPERATORS:
                break
            self.index += 1
            operators.append(token.text)
            positions.append(token.pos)
            operands.append(self.primary())
        if not operators:
            return first
        return self._chain(first, operators, operands, positions)

    def _chain(
        self,
        first: Node | None,
        operators: list[str],
        operands: list[Node | None],
        positions: list[int],
    ) -> Node:
        if not operators:
            assert first is not None
            return first
        start = first.pos if first is not None else positions[0]
        node = Chain(first, tuple(operators), tuple(operands), tuple(positions), start)
        if _constant(first) and all(_constant(operand) for operand in operands):
            return _fold(node)
        return node

    # primary = literal | call | group | brackets | unary | NONE
    def primary(self) -> Node | None:
        token = self.token
        kind = token.kind
        if kind == END:
            return None
        if kind != PUNCT:
            self.index += 1
            return Const(token.value, 1, token.pos)
        char = token.text
        if char == "$":
            return self.call()
        if char == "(":
            self.index += 1
            self._enter(token.pos)
            group = self.expr(outside=True)
            self._expect(")")
            self.depth -= 1
            return group
        if char == "[" or char == "{":
            self.index += 1
            self._enter(token.pos)
            inner = self.expr(outside=True)
            self._expect(_CLOSERS[char])
            self.depth -= 1
            bracket = Bracket(char, _CLOSERS[char], inner, token.pos)
            return _fold(bracket) if _constant(inner) else bracket
        if char == "+" or char == "-":
            self.index += 1
            self._enter(token.pos)
            operand = self.primary()
            self.depth -= 1
            unary = Unary(char == "-", operand, token.pos)
            return _fold(unary) if _constant(operand) else unary
        return None

    # call = "$" identifier "(" { expr(inside) [","] } ")"
    def call(self) -> Node:
        dollar = self.token
        self.index += 1
        name_token = self.token
        if name_token.kind != IDENT:
            raise ExpressionSyntaxError(
                f"expected a function name after '$' but found {self._found()}",
                position=name_token.pos,
            )
        name = name_token.text
        self.index += 1
        if not self._is("("):
            raise ExpressionSyntaxError(
                f"expected '(' after ${name} but found {self._found()}", position=self.token.pos
            )
        self._enter(self.token.pos)
        self.index += 1
        args: list[Node] = []
        while not self._is(")"):
            position = self.token.pos
            arg = self.expr(outside=False)
            if arg is EMPTY:
                raise ExpressionSyntaxError("invalid argument", position=position)
            args.append(arg)
            if self._is(","):
                self.index += 1
        self.index += 1
        self.depth -= 1
        return Call(name, bind(name, len(args)), tuple(args), dollar.pos)


def parse_program(source: str, start: int, end: int) -> Program:
    """The program of the expression text `source[start:end]` (already trimmed)."""
    return _Parser(source, start, end).program(start)
