"""Scopes and evaluations: what an expression can read, and the state of one evaluation
(expressions.md 7, 11, 12).

A `Scope` holds the four data sources and the config/secret resolver. Its inputs are templates,
evaluated on demand by `$input` (each key at most once per scope, cached; failures are not
cached) with cycle detection; everything else in it is data and is returned as it is. A `Run`
is one evaluation in a scope: it carries the step count and the `$input` nesting, which is why
each evaluation (one stage input, the selector, one config value...) gets a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from symphony_mesh.expr.errors import ExpressionError, ExpressionLookupError
from symphony_mesh.expr.limits import MAX_DEPTH, nesting_exceeded
from symphony_mesh.expr.resolver import NO_SOURCES, ConfigResolver
from symphony_mesh.expr.template import run_template
from symphony_mesh.expr.values import JsonValue, json_size

__all__ = ["Run", "Scope"]


class Scope:
    """The data an expression can read (expressions.md 7; campaigns.md 4.4).

    - `inputs`: key -> template value (strings are templates, lists and maps are evaluated element
      by element, other values are kept), read by `$input(key)`.
    - `data_inputs`: key -> data value, also read by `$input(key)` but never evaluated (the
      engine's injected `__*` keys); a key in both is taken from `data_inputs`.
    - `triggers`: the activation inputs (`$trigger`), data; None when absent.
    - `outputs`: stage -> map of that stage's latest outputs (`$output`), data; None when absent.
    - `value`: what `$val()`/`$context()` return, data.
    - `value_input`: when set and that input exists, `$val()` is that input's value instead of
      `value` (a stage run passes "context", campaigns.md 4.4).
    - `resolver`: where `$config` and `$secret` look (default: nothing configured).

    A scope caches the inputs it evaluated and is meant for one stage run; it is not thread-safe.
    """

    __slots__ = (
        "_active",
        "_cache",
        "_data_inputs",
        "_inputs",
        "outputs",
        "resolver",
        "triggers",
        "value",
        "value_input",
    )

    def __init__(
        self,
        *,
        inputs: Mapping[str, JsonValue] | None = None,
        data_inputs: Mapping[str, JsonValue] | None = None,
        triggers: Mapping[str, JsonValue] | None = None,
        outputs: Mapping[str, Mapping[str, JsonValue]] | None = None,
        value: JsonValue = None,
        value_input: str | None = None,
        resolver: ConfigResolver | None = None,
    ) -> None:
        self._inputs: Mapping[str, JsonValue] = inputs if inputs is not None else {}
        self._data_inputs: Mapping[str, JsonValue] = data_inputs if data_inputs is not None else {}
        self.triggers = triggers
        """Activation inputs (data), or None."""
        self.outputs = outputs
        """Latest outputs of each stage (data), or None."""
        self.value = value
        """The value `$val()` returns when `value_input` does not apply."""
        self.value_input = value_input
        """The input whose value `$val()` returns, when present."""
        self.resolver: ConfigResolver = resolver if resolver is not None else NO_SOURCES
        """The `$config`/`$secret` resolver."""
        self._cache: dict[str, JsonValue] = {}
        self._active: set[str] = set()

    @property
    def has_inputs(self) -> bool:
        """Whether there is a non-empty input collection (`$input` fails without one)."""
        return bool(self._inputs) or bool(self._data_inputs)

    def input_keys(self) -> list[str]:
        """Every input key: the templates in document order, then the data-only keys."""
        keys = list(self._inputs)
        keys.extend(key for key in self._data_inputs if key not in self._inputs)
        return keys

    def input(self, key: str) -> JsonValue:
        """The value of input `key`, evaluating it (as its own evaluation) if not done yet.

        Raises `ExpressionError`: `property <key> is not found`, a cycle, or any error of the
        input's template.
        """
        return Run(self).input(key, nested=False)

    def with_outputs(self, outputs: Mapping[str, Mapping[str, JsonValue]] | None) -> Scope:
        """A scope like this one but with other outputs, sharing the evaluated inputs.

        This is the selector scope of campaigns.md 4.4: inputs already evaluated in the stage
        scope are reused, not evaluated again.
        """
        derived = Scope(
            inputs=self._inputs,
            data_inputs=self._data_inputs,
            triggers=self.triggers,
            outputs=outputs,
            value=self.value,
            value_input=self.value_input,
            resolver=self.resolver,
        )
        derived._cache = self._cache
        derived._active = self._active
        return derived


class Run:
    """One evaluation in a scope: its step count and its `$input` nesting depth."""

    __slots__ = ("depth", "scope", "steps")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.steps = 0
        """Syntax nodes evaluated so far (expressions.md 12)."""
        self.depth = 0
        """Template evaluations started by `$input` and still in progress."""

    def template(self, source: str) -> JsonValue:
        """The value of the template `source` (cached parse)."""
        return run_template(source, self)

    def structure(self, value: JsonValue) -> JsonValue:
        """A template value: a string is a template, lists and maps are evaluated element by
        element (map keys never are), anything else is returned as it is."""
        if isinstance(value, str):
            return run_template(value, self)
        if not isinstance(value, list | Mapping):
            return value
        result = self._container(value)
        # A container built here is a produced value: held to the string limit (see _combine).
        json_size(result)
        return result

    def _container(self, value: list[JsonValue] | Mapping[str, JsonValue]) -> JsonValue:
        """Evaluate a list or map in document order, without recursion."""
        root: list[JsonValue] | dict[str, JsonValue] = [] if isinstance(value, list) else {}
        stack = [(_items(value), root)]
        while stack:
            items, target = stack[-1]
            for key, child in items:
                result: JsonValue
                if isinstance(child, str):
                    result = run_template(child, self)
                elif isinstance(child, list | Mapping):
                    result = [] if isinstance(child, list) else {}
                    _store(target, key, result)
                    stack.append((_items(child), result))
                    break
                else:
                    result = child
                _store(target, key, result)
            else:
                stack.pop()
        return root

    def input(self, key: str, *, nested: bool = True) -> JsonValue:
        """`$input(key)` (8.2): cached value, data value, or the template evaluated now.

        `nested` is False for an evaluation the engine starts itself (it is not started by
        `$input`, so it adds no nesting level).
        """
        scope = self.scope
        cache = scope._cache
        if key in cache:
            return cache[key]
        data = scope._data_inputs
        if key in data:
            return data[key]
        if key in scope._active:
            raise ExpressionError(f"Detect circular dependency, object: input, field: {key}")
        inputs = scope._inputs
        if key not in inputs:
            raise ExpressionLookupError(f"property {key} is not found")
        if nested:
            self.depth += 1
        scope._active.add(key)
        try:
            if self.depth > MAX_DEPTH:
                raise nesting_exceeded(None)
            value = self.structure(inputs[key])
        except ExpressionError as exc:
            exc.input_path = (key, *exc.input_path)
            raise
        finally:
            scope._active.discard(key)
            if nested:
                self.depth -= 1
        cache[key] = value
        return value

    def context_value(self) -> JsonValue:
        """What `$val()` reads: the `value_input` input when there is one, else the value."""
        scope = self.scope
        key = scope.value_input
        if key is not None and (key in scope._inputs or key in scope._data_inputs):
            return self.input(key)
        return scope.value


def _items(
    value: list[JsonValue] | Mapping[str, JsonValue],
) -> Iterator[tuple[object, JsonValue]]:
    if isinstance(value, list):
        return iter(enumerate(value))
    return iter(value.items())


def _store(target: list[JsonValue] | dict[str, JsonValue], key: object, value: JsonValue) -> None:
    if isinstance(target, list):
        target.append(value)
    else:
        target[key] = value  # type: ignore[index]  # map keys come from a map
