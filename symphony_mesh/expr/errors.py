"""The errors of the expression language (expressions.md 13).

An expression error is a pair (code, message): the code is a State code of campaigns.md 10.2
(`1000` "Bad Config" for almost everything, `500` "Internal Error" for the two data errors),
the message is the exact text of the spec. Where the error happened is kept apart from the
message, because the message is part of the contract (`symphony-mesh expr` prints it verbatim)
while the location is for people reading logs.

    ExpressionError               any error of the language (code 1000 unless noted)
    ├── ExpressionSyntaxError     unclosed group or call, `$` without a name, empty argument
    ├── ExpressionLookupError     a missing input, output, context key, JSONPath match (500),
    │                             config or secret field: the errors `$default` replaces
    └── ExpressionLimitError      template size, nesting, steps, string size (12)

`ExpressionError` is deliberately not a `symphony_mesh.errors.MeshError`: a `MeshError.code`
names a gRPC status, while the engine needs the integer State code here, and an expression
error never travels as an RPC error of its own (it fails a stage, campaigns.md 4.11).
"""

from __future__ import annotations

__all__ = [
    "BAD_CONFIG",
    "INTERNAL_ERROR",
    "STATE_NAMES",
    "ExpressionError",
    "ExpressionLimitError",
    "ExpressionLookupError",
    "ExpressionSyntaxError",
]

BAD_CONFIG = 1000
"""State code of almost every expression error."""

INTERNAL_ERROR = 500
"""State code of `failed to decode base64 string` and `no matches found by JsonPath query`."""

STATE_NAMES: dict[int, str] = {BAD_CONFIG: "Bad Config", INTERNAL_ERROR: "Internal Error"}
"""The State name of each code an expression error can carry (campaigns.md 10.2)."""


class ExpressionError(Exception):
    """An error of the expression language: a State code and the spec's message.

    `position`, `template` and `input_path` say where it happened; they are filled in as the
    error travels out of the evaluator and never change `message`.
    """

    code: int
    """The State code: 1000 (Bad Config) or 500 (Internal Error)."""
    message: str
    """The message exactly as the spec words it, without the State name."""
    position: int | None
    """Offset (in characters) in `template` of the token or call where the error arose."""
    template: str | None
    """The template `position` refers to (an input's template when `input_path` is set)."""
    input_path: tuple[str, ...]
    """The chain of `$input` keys being evaluated when it arose, outermost first."""

    def __init__(self, message: str, *, code: int = BAD_CONFIG, position: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position
        self.template = None
        self.input_path = ()

    def __str__(self) -> str:
        return self.message

    @property
    def display_text(self) -> str:
        """`<State name>: <message>`, what a stage's `errorMessage` shows (expressions.md 0)."""
        return f"{STATE_NAMES.get(self.code, 'Internal Error')}: {self.message}"

    def describe(self) -> str:
        """The display text followed by the location, for logs and people (not a contract)."""
        where: list[str] = []
        if self.input_path:
            where.append("in input " + " -> ".join(repr(key) for key in self.input_path))
        if self.position is not None:
            where.append(f"at offset {self.position}")
            if self.template is not None:
                excerpt = self.template[self.position : self.position + 24]
                where.append(f"near {excerpt!r}")
        if not where:
            return self.display_text
        return f"{self.display_text} ({', '.join(where)})"


class ExpressionSyntaxError(ExpressionError):
    """The expression text does not follow the grammar (expressions.md 5.1)."""


class ExpressionLookupError(ExpressionError):
    """A value that was asked for does not exist (the lookup errors of expressions.md 8.1)."""


class ExpressionLimitError(ExpressionError):
    """A hard limit of expressions.md 12 was exceeded."""
