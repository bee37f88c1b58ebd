"""The syntax tree and how each node evaluates: literals, operators, brackets and calls.

The parser builds these nodes once per template string (the tree is cached), so a node never
holds per-evaluation state: everything that changes is on the `Run` passed to `evaluate`. Every
node evaluated costs one step (expressions.md 12); a `Const` that stands for a folded constant
subtree costs the steps of the nodes it replaced, so folding changes speed, never results.

Operator chains (`a+b-c`, `x.y/z`) are one `Chain` node evaluated in a loop, which is what lets a
64 KiB chain of 20 000 operators evaluate without deep recursion (expressions.md 6). Once a chain's
running value is a string, every later operator only appends text, so the pieces are collected in
a list and joined once instead of copying the growing string at every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from symphony_mesh.expr.errors import ExpressionError
from symphony_mesh.expr.limits import (
    MAX_STEPS,
    MAX_STRING_BYTES,
    check_string,
    steps_exceeded,
    string_too_long,
    utf8_len,
)
from symphony_mesh.expr.values import (
    INT64_MAX,
    INT64_MIN,
    JsonValue,
    is_number,
    normalize_number,
    number_text,
    text,
)

if TYPE_CHECKING:
    from symphony_mesh.expr.runtime import Run

__all__ = [
    "ARITHMETIC",
    "EMPTY",
    "Bracket",
    "Call",
    "Chain",
    "Const",
    "FunctionImpl",
    "Node",
    "Unary",
    "apply_operator",
    "negate",
]

FunctionImpl = Callable[["Run", "tuple[Node, ...]"], JsonValue]
"""A built-in function: receives the run and its unevaluated arguments."""

ARITHMETIC = frozenset("+-*/")
"""Operators that compute when both operands are numbers; every other one joins text."""


class Node:
    """A syntax node; `pos` is the offset in the template where it starts."""

    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def evaluate(self, run: Run) -> JsonValue:
        """The node's value in `run` (counting its steps)."""
        raise NotImplementedError


class Const(Node):
    """A literal, or a constant subtree folded by the parser, with the steps it stands for."""

    __slots__ = ("steps", "value")

    def __init__(self, value: str | int | float, steps: int, pos: int) -> None:
        super().__init__(pos)
        self.value = value
        self.steps = steps

    def evaluate(self, run: Run) -> JsonValue:
        steps = run.steps + self.steps
        run.steps = steps
        if steps > MAX_STEPS:
            raise steps_exceeded(self.pos)
        return self.value


EMPTY = Const("", 0, 0)
"""The EMPTY expression of 5.1 (`()`): worth "" as an operand; ends a program; not an argument."""


def negate(number: int | float) -> int | float:
    """Unary minus of a number (an int64 result when integral, like every arithmetic result)."""
    if type(number) is int and INT64_MIN < number <= INT64_MAX:
        return -number
    return normalize_number(-float(number))


def _arithmetic(operator: str, left: int | float, right: int | float) -> JsonValue:
    """`left <op> right` for two numbers, computed in double precision (2.5, 6)."""
    a = float(left)
    b = float(right)
    if operator == "+":
        return normalize_number(a + b)
    if operator == "-":
        return normalize_number(a - b)
    if operator == "*":
        return normalize_number(a * b)
    if b == 0:
        # Division by zero is not an error: the quotient is written out as text.
        return f"{number_text(left)}/{number_text(right)}"
    return normalize_number(a / b)


def apply_operator(operator: str, left: JsonValue, right: JsonValue, pos: int) -> JsonValue:
    """The value of `left <operator> right` (section 6); NONE/EMPTY operands arrive as ""."""
    if operator in ARITHMETIC and is_number(left) and is_number(right):
        try:
            return _arithmetic(operator, left, right)  # type: ignore[arg-type]  # is_number
        except OverflowError:
            # Only an integer too big for a double (data, never a literal) can get here.
            pass
    separator = "" if operator == "+" else operator
    return check_string(text(left) + separator + text(right), pos)


class Chain(Node):
    """A left-associative chain `first op1 x1 op2 x2 ...`; a missing operand (NONE) is None."""

    __slots__ = ("first", "operands", "operators", "positions")

    def __init__(
        self,
        first: Node | None,
        operators: tuple[str, ...],
        operands: tuple[Node | None, ...],
        positions: tuple[int, ...],
        pos: int,
    ) -> None:
        super().__init__(pos)
        self.first = first
        self.operators = operators
        self.operands = operands
        self.positions = positions

    def evaluate(self, run: Run) -> JsonValue:
        first = self.first
        value: JsonValue = "" if first is None else first.evaluate(run)
        operators = self.operators
        operands = self.operands
        count = len(operators)
        i = 0
        while i < count:
            if type(value) is str:
                return self._append_text(run, value, i)
            steps = run.steps + 1
            run.steps = steps
            if steps > MAX_STEPS:
                raise steps_exceeded(self.positions[i])
            operand = operands[i]
            right = "" if operand is None else operand.evaluate(run)
            value = apply_operator(operators[i], value, right, self.positions[i])
            i += 1
        return value

    def _append_text(self, run: Run, start: str, i: int) -> str:
        """Finish the chain from operator `i` on, the running value being the string `start`."""
        pieces = [start]
        size = utf8_len(start)
        operators = self.operators
        operands = self.operands
        for j in range(i, len(operators)):
            steps = run.steps + 1
            run.steps = steps
            if steps > MAX_STEPS:
                raise steps_exceeded(self.positions[j])
            operand = operands[j]
            right = "" if operand is None else text(operand.evaluate(run))
            operator = operators[j]
            if operator != "+":
                pieces.append(operator)
                size += 1
            pieces.append(right)
            # The string this operator produces is everything so far: check it as a whole.
            size += utf8_len(right)
            if size > MAX_STRING_BYTES:
                raise string_too_long(self.positions[j])
        return "".join(pieces)


class Unary(Node):
    """`+x` or `-x`; `operand` is None when nothing followed the sign (NONE)."""

    __slots__ = ("negative", "operand")

    def __init__(self, negative: bool, operand: Node | None, pos: int) -> None:
        super().__init__(pos)
        self.negative = negative
        self.operand = operand

    def evaluate(self, run: Run) -> JsonValue:
        steps = run.steps + 1
        run.steps = steps
        if steps > MAX_STEPS:
            raise steps_exceeded(self.pos)
        operand = self.operand
        if operand is None:
            return ""
        value = operand.evaluate(run)
        if not self.negative:
            return value
        if is_number(value):
            try:
                return negate(value)  # type: ignore[arg-type]  # is_number
            except OverflowError:
                pass
        return check_string("-" + text(value), self.pos)


class Bracket(Node):
    """`[x]` or `{x}`: the text of x between the brackets."""

    __slots__ = ("closer", "inner", "opener")

    def __init__(self, opener: str, closer: str, inner: Node, pos: int) -> None:
        super().__init__(pos)
        self.opener = opener
        self.closer = closer
        self.inner = inner

    def evaluate(self, run: Run) -> JsonValue:
        steps = run.steps + 1
        run.steps = steps
        if steps > MAX_STEPS:
            raise steps_exceeded(self.pos)
        inner = text(self.inner.evaluate(run))
        return check_string(self.opener + inner + self.closer, self.pos)


class Call(Node):
    """`$name(args)`: the function was bound by the parser (or is a stored error)."""

    __slots__ = ("args", "function", "name")

    def __init__(self, name: str, function: FunctionImpl, args: tuple[Node, ...], pos: int):
        super().__init__(pos)
        self.name = name
        self.function = function
        self.args = args

    def evaluate(self, run: Run) -> JsonValue:
        steps = run.steps + 1
        run.steps = steps
        if steps > MAX_STEPS:
            raise steps_exceeded(self.pos)
        try:
            return self.function(run, self.args)
        except ExpressionError as exc:
            # The innermost call an error passes through is where it happened.
            if exc.position is None:
                exc.position = self.pos
            raise
