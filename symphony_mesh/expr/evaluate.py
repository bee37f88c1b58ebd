"""The entry points the engine, the providers and the `expr` command call.

Each function starts one or more *evaluations* (expressions.md 12): one template field value
gets one step budget, templates evaluated on demand through `$input` count toward the evaluation
that requested them, and cached inputs cost nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from symphony_mesh.expr.runtime import Run, Scope
from symphony_mesh.expr.values import JsonValue

__all__ = ["evaluate_fields", "evaluate_inputs", "evaluate_template", "evaluate_value"]


def evaluate_template(template: str, scope: Scope | None = None) -> JsonValue:
    """The value of one template string in `scope` (an empty scope by default).

    The result keeps its type when the template is exactly one expression; it is `None` for
    `""`. Raises `ExpressionError`, whose `code` and `message` are those of the spec.
    """
    return Run(scope if scope is not None else Scope()).template(template)


def evaluate_value(value: JsonValue, scope: Scope | None = None) -> JsonValue:
    """One field value of a document, as one evaluation: every string inside it, at any depth,
    is a template; lists and maps keep their shape; map keys and other values are kept."""
    return Run(scope if scope is not None else Scope()).structure(value)


def evaluate_fields(
    fields: Mapping[str, JsonValue], scope: Scope | None = None
) -> dict[str, JsonValue]:
    """A map of field values (a stage's `config`), each as its own evaluation, in order."""
    if scope is None:
        scope = Scope()
    return {key: Run(scope).structure(value) for key, value in fields.items()}


def evaluate_inputs(scope: Scope) -> dict[str, JsonValue]:
    """Every input of `scope`, templates evaluated in document order (each its own evaluation,
    reusing what `$input` already evaluated), then the data-only inputs."""
    return {key: scope.input(key) for key in scope.input_keys()}
