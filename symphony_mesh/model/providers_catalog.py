"""Which stage providers exist and which config keys each knows (campaigns.md section 9).

This catalog is data only: `apply` uses it to warn (3.3), the engine to fail stages with unknown
or out-of-scope providers (4.11), and the providers package registers one implementation per
in-scope type name. A stage may name a provider by its type name (`providers.stage.http`) or by
its short form (`http`); `canonical_provider` turns either into the type name.

Config keys: a key listed here is known (possibly "accepted and ignored" without warning, like the
script provider's `name` and `stagingFolder` or the wait provider's `user` and `password`); any
other key produces the apply warning `unknown config key for <provider> (ignored)`. Following
clarification 13.3, only in-scope providers get config-key warnings. The http provider's wait
settings are flat dotted keys (`wait.url`, ..., clarification 13.4).
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "APPROVAL",
    "CONFIG_KEYS",
    "COUNTER",
    "DELAY",
    "HTTP",
    "HTTP_SETTINGS",
    "IN_SCOPE_PROVIDERS",
    "LIST",
    "MOCK",
    "OUT_OF_SCOPE_PROVIDERS",
    "PREFIX",
    "REMOTE",
    "SCRIPT",
    "SIGNAL",
    "TEST_EFFECT",
    "TEST_PROVIDERS",
    "WAIT",
    "ProviderScope",
    "canonical_provider",
    "known_config_keys",
    "provider_scope",
]

PREFIX = "providers.stage."
"""The prefix a short provider name (`http`) lacks."""

MOCK = "providers.stage.mock"
COUNTER = "providers.stage.counter"
HTTP = "providers.stage.http"
DELAY = "providers.stage.delay"
SCRIPT = "providers.stage.script"
LIST = "providers.stage.list"
WAIT = "providers.stage.wait"
REMOTE = "providers.stage.remote"
SIGNAL = "providers.stage.signal"
APPROVAL = "providers.stage.approval"
TEST_EFFECT = "providers.stage.test.effect"

HTTP_SETTINGS: tuple[str, ...] = (
    "url",
    "method",
    "successCodes",
    "timeout",
    "wait.url",
    "wait.interval",
    "wait.count",
    "wait.start",
    "wait.success",
    "wait.fail",
    "wait.expression",
    "wait.expressionType",
)
"""The http provider's settings (9.4, flat `wait.*` keys per 13.4), in table order."""

CONFIG_KEYS: dict[str, frozenset[str]] = {
    MOCK: frozenset({"id"}),
    COUNTER: frozenset({"id"}),
    HTTP: frozenset(HTTP_SETTINGS),
    DELAY: frozenset(),
    SCRIPT: frozenset(
        {"script", "scriptFolder", "scriptEngine", "timeout", "name", "stagingFolder"}
    ),
    # 9.7 names baseUrl, user and password as "accepted and ignored (apply warning)".
    LIST: frozenset(),
    # 9.8 lists user and password as "accepted and ignored" among its config keys: no warning.
    WAIT: frozenset({"wait.interval", "wait.count", "user", "password"}),
    # 9.9: a remote stage's own config is not used; every key is warned about.
    REMOTE: frozenset(),
    SIGNAL: frozenset(),
    APPROVAL: frozenset(),
}
"""Config keys known by each in-scope provider."""

IN_SCOPE_PROVIDERS: frozenset[str] = frozenset(CONFIG_KEYS)
"""The providers symphony-mesh implements (9.1)."""

TEST_PROVIDERS: dict[str, frozenset[str]] = {TEST_EFFECT: frozenset()}
"""Providers that exist only on nodes started with `SYMPHONY_MESH_TEST_HOOKS=1` (federation.md)."""

OUT_OF_SCOPE_PROVIDERS: frozenset[str] = frozenset(
    {
        "providers.stage.patch",
        "providers.stage.create",
        "providers.stage.materialize",
        "providers.stage.proxy.http",
        "providers.stage.proxy.mqtt",
        "providers.stage.flaky",
    }
)
"""Symphony providers that symphony-mesh recognises but does not support (9.12)."""


class ProviderScope(Enum):
    """How symphony-mesh regards a provider name."""

    NONE = "none"
    """No provider: a router stage."""
    IN_SCOPE = "in-scope"
    """Implemented; config keys are checked."""
    OUT_OF_SCOPE = "out-of-scope"
    """A Symphony provider of 9.12: accepted with a warning, fails when run (400 / 1000)."""
    UNKNOWN = "unknown"
    """Anything else: accepted with a warning, fails when run (`provider <p> is not found`)."""


def canonical_provider(name: str) -> str:
    """The type name of a provider: `http` -> `providers.stage.http`; `""` stays `""`."""
    if not name or name.startswith(PREFIX):
        return name
    return PREFIX + name


def provider_scope(name: str, *, test_hooks: bool = False) -> ProviderScope:
    """Classify a provider as written (short or long form)."""
    canonical = canonical_provider(name)
    if not canonical:
        return ProviderScope.NONE
    if canonical in IN_SCOPE_PROVIDERS or (test_hooks and canonical in TEST_PROVIDERS):
        return ProviderScope.IN_SCOPE
    if canonical in OUT_OF_SCOPE_PROVIDERS:
        return ProviderScope.OUT_OF_SCOPE
    return ProviderScope.UNKNOWN


def known_config_keys(name: str) -> frozenset[str] | None:
    """Config keys of an in-scope (or test) provider; None for any other name."""
    canonical = canonical_provider(name)
    return CONFIG_KEYS.get(canonical, TEST_PROVIDERS.get(canonical))
