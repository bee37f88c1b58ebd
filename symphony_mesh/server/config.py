"""Node configuration: flags, environment, YAML file, defaults (federation.md 6, campaigns.md 11.4).

Precedence is flag, then environment (`SYMPHONY_MESH_NODE_<NAME>`, nested keys with `__`), then the
file given by `--config`, then the default (CFG-1). `load_node_config` returns a frozen
`NodeConfig`, or raises `ConfigError` whose text is the exact `error: ...` line and whose
`exit_code` is 2 (bad values, CFG-3/CFG-4/SEC-17/DIAG-4) or 1.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from symphony_mesh.model.durations import DurationError, parse_duration

__all__ = [
    "ConfigError",
    "EngineSettings",
    "FederationSettings",
    "NodeConfig",
    "is_loopback_host",
    "load_node_config",
    "parse_labels",
    "split_host_port",
]

ENV_PREFIX = "SYMPHONY_MESH_NODE_"
SITE_ID = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SITE_ID_RULE = (
    "use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit"
)
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")
MAX_LABELS = 64


class ConfigError(Exception):
    """A setting is invalid; `str()` is the full `error: ...` line."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class _Tunable:
    kind: str  # "duration" | "int" | "list"
    default: Any
    low: float | None = None
    high: float | None = None
    range_text: str = ""


_FEDERATION: dict[str, _Tunable] = {
    "heartbeatInterval": _Tunable("duration", 3.0, 1, 60, "1s to 60s"),
    "heartbeatTimeout": _Tunable("duration", 9.0, 2, None, "at least 2 x heartbeatInterval"),
    "keepaliveTime": _Tunable("duration", 5.0, 5, 300, "5s to 300s"),
    "keepaliveTimeout": _Tunable("duration", 3.0, 1, 60, "1s to 60s"),
    "connectTimeout": _Tunable("duration", 10.0, 1, 120, "1s to 120s"),
    "helloTimeout": _Tunable("duration", 10.0, 1, 120, "1s to 120s"),
    "reconnectBase": _Tunable("duration", 0.5, 0.1, 10, "0.1s to 10s"),
    "reconnectMax": _Tunable("duration", 30.0, 1, 600, "1s to 600s"),
    "authRetryInterval": _Tunable("duration", 60.0, 5, 3600, "5s to 3600s"),
    "ackTimeout": _Tunable("duration", 30.0, 1, 600, "1s to 600s"),
    "maxInflightPerSite": _Tunable("int", 64, 1, 1024, "1 to 1024"),
    "maxInflightPerLink": _Tunable("int", 1024, 1, 65536, "1 to 65536"),
    "acceptInflight": _Tunable("int", 1024, 1, 65536, "1 to 65536"),
    "resultWindow": _Tunable("int", 32, 1, 1024, "1 to 1024"),
    "maxConcurrentExecutions": _Tunable("int", 16, 1, 1024, "1 to 1024"),
    "maxMessageBytes": _Tunable("int", 4194304, 65536, 67108864, "65536 to 67108864"),
    "streamMaxAge": _Tunable("duration", 3600.0, 60, 86400, "1m to 24h"),
    "defaultDispatchTimeout": _Tunable("duration", 86400.0, 1, 365 * 86400, "1s to 365d"),
    "inboxRetention": _Tunable("duration", 168 * 3600.0, 3600, 365 * 86400, "1h to 365d"),
    "maxSites": _Tunable("int", 10000, 1, 100000, "1 to 100000"),
    "streamRateLimit": _Tunable("int", 10, 1, 100000, "1 to 100000"),
    "maxWatchers": _Tunable("int", 1000, 1, 100000, "1 to 100000"),
    "allowedProviders": _Tunable("list", None),
}

_ENGINE: dict[str, _Tunable] = {
    "retention": _Tunable("duration", 180 * 86400.0, 0, None, "0 or a duration"),
    "retentionInterval": _Tunable("duration", 3600.0, 1, None, "at least 1s"),
    "maxWorkers": _Tunable("int", 64, 1, 4096, "1 to 4096"),
    "configDir": _Tunable("path", None),
    "secretDir": _Tunable("path", None),
    "scriptDir": _Tunable("path", None),
}


@dataclass(frozen=True)
class FederationSettings:
    """The federation tunables of CFG-3, by their file key (`heartbeatInterval`, ...)."""

    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass(frozen=True)
class EngineSettings:
    """The workflow engine settings of campaigns.md 11.4 (durations in seconds)."""

    retention: float
    retention_interval: float
    max_workers: int
    config_dir: Path
    secret_dir: Path
    script_dir: Path


@dataclass(frozen=True)
class NodeConfig:
    """Everything `node run` needs, validated."""

    data_dir: Path
    """Store directory (CFG-30)."""
    listen: str
    """Main gRPC address `HOST:PORT`."""
    site_id: str | None
    """Explicit site id, or None to derive it (T-3)."""
    parent: str | None
    """Parent `HOST:PORT`, or None for a hub."""
    tls_dir: Path | None
    """`ca.pem`, `cert.pem`, `key.pem` of this node, or None."""
    insecure: bool
    """`--insecure`: no TLS at all (SEC-17)."""
    labels: Mapping[str, str]
    """This node's labels (T-5)."""
    admin_listen: str | None
    """Plaintext loopback admin port (DIAG-4), or None."""
    registration: str
    """`open` or `closed` (T-7)."""
    parent_server_name: str | None
    """Name checked in the parent's certificate (SEC-16)."""
    deny_file: Path | None
    """Deny list (SEC-40), or None."""
    shutdown_grace: float
    """Seconds in-flight work may take after SIGTERM (CFG-40)."""
    log_level: str
    """`debug`, `info`, `warning` or `error`."""
    log_format: str | None
    """`json`, `console`, or None to choose by terminal (DIAG-7)."""
    federation: FederationSettings = field(default_factory=lambda: FederationSettings({}))
    """CFG-3 tunables."""
    engine: EngineSettings | None = None
    """campaigns.md 11.4 settings."""

    @property
    def tls(self) -> bool:
        """Whether the main port uses mutual TLS."""
        return self.tls_dir is not None


def split_host_port(address: str) -> tuple[str, int]:
    """`("host", port)` of `HOST:PORT` or `[v6]:PORT`; ValueError when malformed."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"invalid address {address!r} (expected HOST:PORT)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)


def is_loopback_host(host: str) -> bool:
    """Whether `host` is `localhost`, in 127.0.0.0/8 or `::1`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_labels(text: str | Mapping[str, Any]) -> dict[str, str]:
    """Labels from `k=v,...` (or a file mapping), checked against T-5."""
    pairs: list[tuple[str, str]] = []
    if isinstance(text, Mapping):
        pairs = [(str(k), "" if v is None else str(v)) for k, v in text.items()]
    elif text.strip():
        for item in text.split(","):
            key, sep, value = item.strip().partition("=")
            if not sep:
                raise ConfigError(f'error: invalid label "{item.strip()}": expected key=value')
            pairs.append((key, value))
    labels: dict[str, str] = {}
    for key, value in pairs:
        if not _LABEL_KEY.match(key):
            raise ConfigError(f'error: invalid label "{key}={value}": invalid key')
        if not _LABEL_VALUE.match(value):
            raise ConfigError(f'error: invalid label "{key}={value}": invalid value')
        labels[key] = value
    if len(labels) > MAX_LABELS:
        raise ConfigError(f"error: invalid label set: at most {MAX_LABELS} labels")
    return labels


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"error: cannot read {path}: {exc.strerror}") from exc
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"error: {path}: cannot parse: {' '.join(str(exc).split())}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"error: {path}: must be a YAML mapping")
    return data


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not allowed")
        return super().compose_node(parent, index)


_TOP_KEYS = {
    "dataDir", "listen", "siteId", "parent", "tlsDir", "insecure", "labels", "adminListen",
    "metricsListen", "registration", "parentServerName", "denyFile", "shutdownGrace", "log",
    "federation", "engine",
}  # fmt: skip


def _env_name(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()


def _section(
    name: str,
    table: dict[str, _Tunable],
    file_values: Mapping[str, Any],
    env: Mapping[str, str],
    source: str,
) -> dict[str, Any]:
    unknown = sorted(set(file_values) - set(table))
    if unknown:
        raise ConfigError(f'error: {source}: unknown key "{name}.{unknown[0]}"')
    values: dict[str, Any] = {}
    for key, tunable in table.items():
        env_key = f"{ENV_PREFIX}{name.upper()}__{_env_name(key)}"
        raw = env[env_key] if env_key in env else file_values.get(key, tunable.default)
        values[key] = _convert(f"{name}.{key}", tunable, raw, source if key in file_values else "")
    return values


def _convert(path: str, tunable: _Tunable, raw: Any, source: str) -> Any:
    where = f"{source}: " if source else ""
    if raw is None or tunable.kind == "path":
        return None if raw is None else Path(str(raw))
    if tunable.kind == "list":
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"error: {where}{path}: must be a list of strings")
        return [i.strip() for i in items if i.strip()]
    number: float
    if tunable.kind == "duration":
        try:
            number = parse_duration(raw)
        except DurationError:
            raise ConfigError(f'error: {where}{path}: invalid duration "{raw}"') from None
    else:
        try:
            number = int(str(raw))
        except ValueError:
            raise ConfigError(f'error: {where}{path}: invalid integer "{raw}"') from None
    if (tunable.low is not None and number < tunable.low) or (
        tunable.high is not None and number > tunable.high
    ):
        raise ConfigError(f"error: {path}: {raw} is out of range ({tunable.range_text})")
    return number


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no", ""}:
        return False
    raise ConfigError(f'error: {name}: invalid boolean "{value}" (use true/false, yes/no, 1/0)')


def load_node_config(
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> NodeConfig:
    """Merge flags (None = not given), environment and the `--config` file into a NodeConfig."""
    env = dict(os.environ if env is None else env)
    config_path = flags.get("config") or env.get(f"{ENV_PREFIX}CONFIG")
    source = str(config_path) if config_path else ""
    file_values = _read_file(Path(config_path)) if config_path else {}
    unknown = sorted(set(file_values) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f'error: {source}: unknown key "{unknown[0]}"')
    log_file = file_values.get("log") or {}

    def setting(flag: str, file_key: str | None, default: Any = None) -> Any:
        if flags.get(flag) is not None:
            return flags[flag]
        env_key = ENV_PREFIX + flag.upper()
        if env_key in env:
            return env[env_key]
        if file_key is not None:
            holder = log_file if file_key.startswith("log.") else file_values
            key = file_key.removeprefix("log.")
            if key in holder:
                return holder[key]
        return default

    data_dir = setting("data_dir", "dataDir")
    listen = setting("listen", "listen")
    if not data_dir:
        raise ConfigError("error: --data-dir is required")
    if not listen:
        raise ConfigError("error: --listen is required")
    tls_dir = setting("tls_dir", "tlsDir")
    insecure = _bool(setting("insecure", "insecure", False), "insecure")
    parent = setting("parent", "parent")
    site_id = setting("site_id", "siteId")
    admin_listen = setting("admin_listen", "adminListen")
    _check_transport(str(listen), parent, tls_dir, insecure, admin_listen, site_id)
    registration = str(setting("registration", "registration", "open"))
    if registration not in {"open", "closed"}:
        raise ConfigError(f'error: invalid registration "{registration}" (use open or closed)')
    grace_raw = setting("shutdown_grace", "shutdownGrace", "10s")
    try:
        shutdown_grace = parse_duration(grace_raw)
    except DurationError:
        raise ConfigError(f'error: shutdownGrace: invalid duration "{grace_raw}"') from None
    log_level = str(setting("log_level", "log.level", "info")).lower()
    if log_level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(f'error: invalid log level "{log_level}"')
    log_format = setting("log_format", "log.format")
    if log_format is not None and log_format not in {"json", "console"}:
        raise ConfigError(f'error: invalid log format "{log_format}" (use json or console)')
    labels_raw = setting("labels", "labels", "")
    federation = _section(
        "federation", _FEDERATION, file_values.get("federation") or {}, env, source
    )
    if federation["heartbeatTimeout"] < 2 * federation["heartbeatInterval"]:
        raise ConfigError(
            f"error: federation.heartbeatTimeout: {federation['heartbeatTimeout']:g}s is out of "
            "range (at least 2 x heartbeatInterval)"
        )
    engine_values = _section("engine", _ENGINE, file_values.get("engine") or {}, env, source)
    root = Path(str(data_dir))
    engine = EngineSettings(
        retention=engine_values["retention"],
        retention_interval=engine_values["retentionInterval"],
        max_workers=int(engine_values["maxWorkers"]),
        config_dir=engine_values["configDir"] or root / "config",
        secret_dir=engine_values["secretDir"] or root / "secrets",
        script_dir=engine_values["scriptDir"] or root / "scripts",
    )
    if site_id is not None and not SITE_ID.match(str(site_id)):
        raise ConfigError(f'error: invalid site id "{site_id}": {SITE_ID_RULE}')
    deny_file = setting("deny_file", "denyFile")
    return NodeConfig(
        data_dir=root,
        listen=str(listen),
        site_id=None if site_id is None else str(site_id),
        parent=None if parent is None else str(parent),
        tls_dir=None if tls_dir is None else Path(str(tls_dir)),
        insecure=insecure,
        labels=parse_labels(labels_raw),
        admin_listen=None if admin_listen is None else str(admin_listen),
        registration=registration,
        parent_server_name=setting("parent_server_name", "parentServerName"),
        deny_file=None if deny_file is None else Path(str(deny_file)),
        shutdown_grace=shutdown_grace,
        log_level=log_level,
        log_format=log_format,
        federation=FederationSettings(federation),
        engine=engine,
    )


def _check_transport(
    listen: str,
    parent: str | None,
    tls_dir: str | None,
    insecure: bool,
    admin_listen: str | None,
    site_id: str | None,
) -> None:
    """SEC-17, DIAG-4 and T-3 rule 4: which transports the addresses allow."""
    addresses = [("--listen", listen)] + ([("--parent", parent)] if parent else [])
    hosts: dict[str, str] = {}
    for flag, address in addresses:
        try:
            hosts[flag] = split_host_port(address)[0]
        except ValueError as exc:
            raise ConfigError(f"error: {flag}: {exc}") from None
    if tls_dir and insecure:
        raise ConfigError("error: --tls-dir and --insecure are mutually exclusive")
    if not tls_dir and not insecure:
        for flag, address in addresses:
            if not is_loopback_host(hosts[flag]):
                raise ConfigError(
                    f"error: {flag} {address} is not a loopback address; pass --tls-dir DIR for "
                    "mutual TLS or --insecure to run without TLS"
                )
    if admin_listen is not None:
        try:
            admin_host = split_host_port(admin_listen)[0]
        except ValueError:
            admin_host = ""
        if not is_loopback_host(admin_host):
            raise ConfigError(
                "error: --admin-listen must be a loopback address (127.0.0.1, ::1 or localhost)"
            )
    if parent and not tls_dir and site_id is None:
        raise ConfigError("error: --site-id is required with --parent when TLS is off")
