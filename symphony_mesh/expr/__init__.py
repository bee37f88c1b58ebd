"""The `${{ }}` expression language of campaign documents (spec/expressions.md).

The language is Symphony's, observable corners included (bare words are strings, `$if` compares
with the text `true`, a single-expression template keeps its type), with Symphony's dangers
removed: data is never evaluated as an expression, evaluation order is deterministic, `$and` and
`$or` short-circuit, and hard limits end hostile templates with an error. It is pure Python with
no I/O except through the injected `$config`/`$secret` resolver, and no host-language `eval`.

Evaluating::

    from symphony_mesh.expr import Scope, evaluate_template

    scope = Scope(outputs={"weight-counter": {"weight": 40}})
    evaluate_template("${{$if($le($output(weight-counter,weight),0), roll-back, next)}}", scope)
    # -> "next"

The engine's calls:

- `Scope(inputs=..., data_inputs=..., triggers=..., outputs=..., value=..., value_input=...,
  resolver=...)`: the data sources of one stage run. Inputs are templates evaluated on demand
  (cached, with cycle detection); everything else is data. `scope.with_outputs(outputs)` is the
  selector scope sharing the evaluated inputs.
- `evaluate_template(template, scope) -> JsonValue`: one template string.
- `evaluate_value(value, scope) -> JsonValue`: one document field whose every string inside is a
  template (lists and maps keep their shape; map keys are never evaluated).
- `evaluate_fields(fields, scope) -> dict`: a stage's `config`, each value its own evaluation.
- `evaluate_inputs(scope) -> dict` and `scope.input(key)`: the stage inputs, in document order.
- `jsonpath_query(value, query)`: the JSONPath subset (the http provider's `jsonpath` waits).
- Errors are `ExpressionError` (`.code` 1000 or 500, `.message` as the spec words it,
  `.display_text` = `Bad Config: …`, `.position`/`.template`/`.input_path` for locating it).
- `LocalSources(config_dir, secret_dir)` reads `$config`/`$secret` from directories and
  `SYMPHONY_MESH_CONFIG__…`/`SYMPHONY_MESH_SECRET__…` variables; any object following the
  `ConfigResolver` protocol may replace it (`StaticSources` holds values in memory).
"""

from __future__ import annotations

from symphony_mesh.expr.errors import (
    BAD_CONFIG,
    INTERNAL_ERROR,
    STATE_NAMES,
    ExpressionError,
    ExpressionLimitError,
    ExpressionLookupError,
    ExpressionSyntaxError,
)
from symphony_mesh.expr.evaluate import (
    evaluate_fields,
    evaluate_inputs,
    evaluate_template,
    evaluate_value,
)
from symphony_mesh.expr.jsonpath import jsonpath_query
from symphony_mesh.expr.limits import (
    MAX_DEPTH,
    MAX_STEPS,
    MAX_STRING_BYTES,
    MAX_TEMPLATE_BYTES,
    utf8_len,
)
from symphony_mesh.expr.resolver import NO_SOURCES, ConfigResolver, StaticSources
from symphony_mesh.expr.runtime import Scope
from symphony_mesh.expr.sources import LocalSources
from symphony_mesh.expr.template import (
    Template,
    clear_template_cache,
    compile_template,
    parse_template,
)
from symphony_mesh.expr.values import JsonValue, compact_json, decode_json, text, type_name

__all__ = [
    "BAD_CONFIG",
    "INTERNAL_ERROR",
    "MAX_DEPTH",
    "MAX_STEPS",
    "MAX_STRING_BYTES",
    "MAX_TEMPLATE_BYTES",
    "NO_SOURCES",
    "STATE_NAMES",
    "ConfigResolver",
    "ExpressionError",
    "ExpressionLimitError",
    "ExpressionLookupError",
    "ExpressionSyntaxError",
    "JsonValue",
    "LocalSources",
    "Scope",
    "StaticSources",
    "Template",
    "clear_template_cache",
    "compact_json",
    "compile_template",
    "decode_json",
    "evaluate_fields",
    "evaluate_inputs",
    "evaluate_template",
    "evaluate_value",
    "jsonpath_query",
    "parse_template",
    "text",
    "type_name",
    "utf8_len",
]
