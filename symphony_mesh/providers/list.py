"""`providers.stage.list` (campaigns.md 9.7, federation.md T-12): list this node's sites.

The usual use is a fan-out over the children of a hub: a `list` stage with `namesOnly: true`
followed by `contexts: "${{$output(list, items)}}"`. The sites come from the node's registry
through `environment.sites` (direct children; descendants too with `scope: subtree`), filtered by
a label selector (T-6) and by connection, sorted by site id. Only `objectType: sites` exists in
symphony-mesh; Symphony's object types (`instance`, `catalogversions`, ...) fail with 400.
"""

from __future__ import annotations

from symphony_mesh.model.jsonvalues import JsonValue
from symphony_mesh.model.status import StateCode
from symphony_mesh.providers.base import Completed, Failed, Outcome, ProviderCall
from symphony_mesh.providers.params import as_bool, as_json, as_text
from symphony_mesh.providers.selector import LabelSelector, SelectorError

__all__ = ["OBJECT_TYPE", "SCOPES", "run"]

OBJECT_TYPE = "sites"
"""The only object type symphony-mesh lists."""

SCOPES = ("children", "subtree")
"""Values of input `scope`; the first is the default."""


async def run(call: ProviderCall) -> Outcome:
    """Return `{objectType: "sites", items: [...]}`; fail 400 for unusable inputs."""
    inputs = call.inputs
    object_type = inputs.get("objectType")
    if object_type is None or object_type == "":
        return _bad("objectType is required")
    if object_type != OBJECT_TYPE:
        return _bad(f"objectType {as_text(object_type)} is not supported by symphony-mesh")
    selector_text = inputs.get("selector")
    try:
        selector = LabelSelector.parse(_selector_text(selector_text))
    except SelectorError as exc:
        return _bad(str(exc))
    scope = inputs.get("scope")
    if scope is None:
        scope = SCOPES[0]
    if scope not in SCOPES:
        return _bad(f"invalid scope {as_text(scope)}")
    names_only = _flag(inputs, "namesOnly")
    connected_only = _flag(inputs, "connectedOnly")
    if names_only is None:
        return _bad(f"invalid namesOnly {as_json(inputs['namesOnly'])}")
    if connected_only is None:
        return _bad(f"invalid connectedOnly {as_json(inputs['connectedOnly'])}")
    sites = [
        site
        for site in call.environment.sites(subtree=scope == "subtree")
        if (site.connected or not connected_only) and selector.matches(site.labels)
    ]
    sites.sort(key=lambda site: site.name)
    items: list[JsonValue] = (
        [site.name for site in sites] if names_only else [dict(site.document) for site in sites]
    )
    return Completed({"objectType": OBJECT_TYPE, "items": items})


def _bad(message: str) -> Failed:
    return Failed(StateCode.BAD_REQUEST, message)


def _selector_text(value: JsonValue) -> str:
    """Input `selector`: absent or `null` is the empty selector; other values by their text."""
    return "" if value is None else as_text(value)


def _flag(inputs: dict[str, JsonValue], key: str) -> bool | None:
    """A boolean input, `false` when absent or `null`; None when it is not a boolean."""
    value = inputs.get(key)
    return False if value is None else as_bool(value)
