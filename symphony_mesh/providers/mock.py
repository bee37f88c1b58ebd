"""`providers.stage.mock` (campaigns.md 9.2): echo the inputs, counting `foo` up by one.

The mock is the test bench of campaigns: it returns a copy of every input, injected `__*` keys
included, so a stage can simulate any result (`status: 400, error: bad` fails through the engine's
success rule, 4.6). Input `foo` is the one exception: it is counted up, so a loop over a mock stage
can count its iterations.
"""

from __future__ import annotations

import re

from symphony_mesh.expr.values import number_text
from symphony_mesh.model.jsonvalues import JsonValue
from symphony_mesh.providers.base import Completed, Outcome, ProviderCall

__all__ = ["COUNTED_INPUT", "run"]

COUNTED_INPUT = "foo"
"""The input the mock counts up."""

_INTEGER_TEXT = re.compile(r"-?[0-9]+")


async def run(call: ProviderCall) -> Outcome:
    """Return a copy of all inputs with `foo` counted up; never fails and never waits."""
    outputs = dict(call.inputs)
    if COUNTED_INPUT in outputs:
        outputs[COUNTED_INPUT] = counted(outputs[COUNTED_INPUT])
    return Completed(outputs)


def counted(value: JsonValue) -> JsonValue:
    """`null`/`""` -> 1; a value whose text is `-?digits` -> that integer + 1; else unchanged.

    Only strings and numbers can have such a text (a boolean's is `true`/`false`, a container's
    is JSON), so nothing else is rendered: a huge list is left alone without being serialised.
    """
    if value is None or value == "":
        return 1
    if isinstance(value, str):
        rendered = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        rendered = number_text(value)
    else:
        return value
    if _INTEGER_TEXT.fullmatch(rendered):
        return int(rendered) + 1
    return value
