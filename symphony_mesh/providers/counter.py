"""`providers.stage.counter` (campaigns.md 9.3): add numeric inputs to saved running totals.

The counter keeps its totals in provider state: the engine injects the state saved by the previous
run of the same stage and context as input `__state`, and saves the `__state` output for the next
run (4.7). The output `__state` is always the whole map, so a key counted in an earlier run and
absent now is kept. Injected `__*` keys and `<k>.init` keys are never counted.
"""

from __future__ import annotations

import math

from symphony_mesh.model.jsonvalues import JsonMap, JsonValue
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, ProviderCall
from symphony_mesh.providers.params import is_integer_text

__all__ = ["INIT_SUFFIX", "STATE_KEY", "counter_number", "run"]

STATE_KEY = "__state"
"""The injected input and the output that carry the totals between runs."""

INIT_SUFFIX = ".init"
"""Input `<k>.init` gives the start value of `k` when the state has no `k` yet."""


async def run(call: ProviderCall) -> Outcome:
    """Count every numeric input; fail 400 when the injected state is not a map."""
    state: JsonMap = {}
    if STATE_KEY in call.inputs:
        saved = call.inputs[STATE_KEY]
        if not isinstance(saved, dict):
            return Failed(StateCode.BAD_REQUEST, "input state is not a valid map")
        state = dict(saved)
    outputs: JsonMap = {}
    for key, value in call.inputs.items():
        if key.startswith("__") or key.endswith(INIT_SUFFIX):
            continue
        amount = counter_number(value)
        if amount is None:
            continue
        total = _start(key, state, call.inputs) + amount
        outputs[key] = total
        state[key] = total
    outputs[STATE_KEY] = state
    return Completed(outputs)


def _start(key: str, state: JsonMap, inputs: JsonMap) -> int:
    """What `key` is added to: its saved total, else a numeric `<key>.init` input, else 0."""
    # A saved value that is not numeric (state edited by hand, or written by another provider)
    # is treated as absent rather than failing the stage.
    saved = counter_number(state.get(key))
    if saved is not None:
        return saved
    init = counter_number(inputs.get(key + INIT_SUFFIX))
    return init if init is not None else 0


def counter_number(value: JsonValue) -> int | None:
    """An integer, a float truncated toward zero, or a string of a sign and digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return math.trunc(value) if math.isfinite(value) else None
    if isinstance(value, str) and is_integer_text(value):
        return int(value)
    return None
