"""Validation of one document on its own: envelope, metadata, Campaign and Activation specs.

`check_document(raw)` applies every rule of campaigns.md 3.2 that a document can be checked
against alone (all but V4, the references of V8/V31/V32, V34 and V35, which need the rest of the
file and the store: see `apply`). It returns a `CheckedDocument` holding the report, the facts the
planner needs, and the typed object when there was no problem.

Symphony REST bodies. The lead's decision: a document that has neither `apiVersion` nor `kind`
(both absent or null) is accepted as `workflow.symphony/v1`, its kind inferred from its spec --
`spec.campaignversion` present: Activation; `spec.rootResource` or `spec.stages` present:
CampaignVersion; otherwise Campaign -- with the warning
`<doc>: kind: not set; inferred <Kind> from the document's spec (a Symphony REST body)`.
A document missing only one of the two still gets the V1 or V2 error.

How a document is named in messages (`<doc>`): `<kind in lowercase>/<metadata.name>` when both are
strings (the kind as written, lowercased, even when it is not a known kind), otherwise
`document <n>`. An empty name counts as missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from symphony_mesh.model.campaign_versions import VersionFacts, check_campaign_version
from symphony_mesh.model.checks import DocumentReport, Rule, child
from symphony_mesh.model.documents import Activation, Campaign, Document, DocumentKind, Metadata
from symphony_mesh.model.jsonvalues import (
    MAX_NESTING,
    JsonMap,
    JsonValue,
    compact_json_size,
    nesting_depth,
)
from symphony_mesh.model.names import (
    API_VERSION,
    NAMESPACE,
    OBJECT_NAME_RULE,
    campaign_version_object_name,
    is_object_name,
)
from symphony_mesh.model.reading import RawDocument

__all__ = [
    "MAX_INPUTS_BYTES",
    "SYSTEM_LABELS",
    "CheckedDocument",
    "check_document",
    "document_label",
]

MAX_INPUTS_BYTES = 1024 * 1024
"""V33: activation inputs are at most 1 MiB as compact JSON."""

SYSTEM_LABELS = frozenset({"campaignversion", "statusMessage"})
"""Activation labels maintained by the node (10.5); ignored when applied."""

_TOP_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_METADATA_FIELDS = frozenset(
    {
        "name",
        "namespace",
        "labels",
        "annotations",
        "uid",
        "generation",
        "resourceVersion",
        "creationTimestamp",
        "etag",
        "ownerReferences",
        "managedFields",
        "finalizers",
    }
)
_ACTIVATION_FIELDS = frozenset({"campaignversion", "stage", "inputs", "timeout"})
_CAMPAIGN_SPEC_REASON = (
    "unknown field (a Campaign only groups versions; stages belong in a CampaignVersion)"
)


@dataclass(frozen=True)
class CheckedDocument:
    """One document after the checks that need nothing but the document itself."""

    number: int
    """The document's number in its file."""
    report: DocumentReport
    """Its problems and warnings so far."""
    kind: DocumentKind | None
    """The (possibly inferred) kind, when it is one of the three."""
    name: str | None
    """`metadata.name` when it is a non-empty string (valid or not)."""
    document: Document | None
    """The typed object; None when the document has a problem."""
    version: VersionFacts | None = None
    """For a CampaignVersion: what references need to know."""
    campaign_version_ref: str | None = None
    """For an Activation: `spec.campaignversion` when it is a non-empty string."""
    stage: str = ""
    """For an Activation: `spec.stage` when it is a string."""
    spec: JsonMap | None = None
    """For an Activation: its normalised spec (for V34), when its fields are valid."""

    @property
    def doc(self) -> str:
        """How messages name the document."""
        return self.report.doc


def document_label(body: JsonValue, number: int) -> str:
    """`<kind lowercase>/<name>` or `document <n>` (3.2), after kind inference."""
    kind, _ = _kind_of(body)
    name = _name_of(body)
    if isinstance(kind, str) and name is not None:
        return f"{kind.lower()}/{name}"
    return f"document {number}"


def _kind_of(body: JsonValue) -> tuple[JsonValue, bool]:
    """The kind as written, or the inferred one for a REST body; and whether it was inferred."""
    if not isinstance(body, dict):
        return None, False
    if body.get("apiVersion") is None and body.get("kind") is None:
        spec = body.get("spec")
        if isinstance(spec, dict) and spec.get("campaignversion") is not None:
            return "Activation", True
        if isinstance(spec, dict) and (
            spec.get("rootResource") is not None or spec.get("stages") is not None
        ):
            return "CampaignVersion", True
        return "Campaign", True
    return body.get("kind"), False


def _name_of(body: JsonValue) -> str | None:
    if not isinstance(body, dict):
        return None
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        return None
    name = metadata.get("name")
    return name if isinstance(name, str) and name else None


def check_document(raw: RawDocument, *, test_hooks: bool = False) -> CheckedDocument:
    """Validate one document on its own (see the module docstring)."""
    body = raw.body
    report = DocumentReport(document_label(body, raw.number))
    if not isinstance(body, dict):
        report.error(Rule.V6, "", "must be a map")
        return CheckedDocument(raw.number, report, None, None, None)
    if nesting_depth(body) > MAX_NESTING:
        # Only reachable for bodies that did not come through read_documents.
        report.error(Rule.V6, "", f"nesting deeper than {MAX_NESTING} levels")
        return CheckedDocument(raw.number, report, None, None, None)

    kind_value, inferred = _kind_of(body)
    kind = _check_envelope(report, body, kind_value, inferred)
    name = _name_of(body)
    metadata, name_valid = _check_metadata(report, body, kind)

    if kind is DocumentKind.CAMPAIGN:
        _check_campaign_spec(report, body.get("spec"))
        campaign = Campaign(metadata) if metadata and not report.problems else None
        return CheckedDocument(raw.number, report, kind, name, campaign)
    if kind is DocumentKind.CAMPAIGN_VERSION:
        facts = check_campaign_version(
            report, metadata, name_valid, body.get("spec"), test_hooks=test_hooks
        )
        return CheckedDocument(raw.number, report, kind, name, facts.version, version=facts)
    if kind is DocumentKind.ACTIVATION:
        return _check_activation(raw.number, report, name, metadata, body.get("spec"))
    return CheckedDocument(raw.number, report, None, name, None)


def _check_envelope(
    report: DocumentReport, body: JsonMap, kind_value: JsonValue, inferred: bool
) -> DocumentKind | None:
    """V1, V2 and the unknown top-level fields; return the kind when it is a known one."""
    if inferred:
        report.warn(
            "kind",
            f"not set; inferred {kind_value} from the document's spec (a Symphony REST body)",
        )
    else:
        api_version = body.get("apiVersion")
        if api_version is None:
            report.error(Rule.V1, "apiVersion", "required")
        elif api_version != API_VERSION:
            report.error(Rule.V1, "apiVersion", f"must be {API_VERSION}")
    kind: DocumentKind | None = None
    if kind_value is None:
        report.error(Rule.V2, "kind", "required")
    elif not isinstance(kind_value, str):
        report.error(Rule.V2, "kind", "must be a string")
    else:
        kind = DocumentKind.from_kind_name(kind_value)
        if kind is None:
            report.error(
                Rule.V2,
                "kind",
                f'unknown kind "{kind_value}" (expected Campaign, CampaignVersion or Activation)',
            )
    report.unknown_fields(body, _TOP_FIELDS, "")
    return kind


def _check_metadata(
    report: DocumentReport, body: JsonMap, kind: DocumentKind | None
) -> tuple[Metadata | None, bool]:
    """V3, V4b, V5 and V6 of `metadata`; the typed metadata when the name is a string."""
    value = body.get("metadata")
    if value is None:
        report.error(Rule.V3, "metadata.name", "required")
        return None, False
    if not isinstance(value, dict):
        report.error(Rule.V6, "metadata", "must be a map")
        return None, False
    report.unknown_fields(value, _METADATA_FIELDS, "metadata")
    name_value = value.get("name")
    name_valid = False
    if name_value is None or name_value == "":
        report.error(Rule.V3, "metadata.name", "required")
    elif not isinstance(name_value, str):
        report.error(Rule.V3, "metadata.name", "must be a string")
    elif not is_object_name(name_value):
        report.error(Rule.V3, "metadata.name", OBJECT_NAME_RULE)
    else:
        name_valid = True
    namespace = value.get("namespace")
    if namespace is not None and namespace != NAMESPACE:
        report.error(Rule.V4B, "metadata.namespace", f'must be "{NAMESPACE}"')
    labels = report.string_map(value, "labels", "metadata")
    annotations = report.string_map(value, "annotations", "metadata")
    if kind is DocumentKind.ACTIVATION:
        labels = {key: text for key, text in labels.items() if key not in SYSTEM_LABELS}
    if not isinstance(name_value, str) or not name_value:
        return None, False
    return Metadata(name_value, labels, annotations), name_valid


def _check_campaign_spec(report: DocumentReport, spec: JsonValue) -> None:
    """V7: a Campaign's spec is absent, null or `{}`."""
    if spec is None:
        return
    if not isinstance(spec, dict):
        report.error(Rule.V6, "spec", "must be a map")
        return
    for key in spec:
        report.error(Rule.V7, child("spec", key), _CAMPAIGN_SPEC_REASON)


def _check_activation(
    number: int,
    report: DocumentReport,
    name: str | None,
    metadata: Metadata | None,
    spec_value: JsonValue,
) -> CheckedDocument:
    """The self-contained rules of an Activation's spec (V5, V6, V18, V31 required, V33)."""
    kind = DocumentKind.ACTIVATION
    if spec_value is None:
        spec_value = {}
    if not isinstance(spec_value, dict):
        report.error(Rule.V6, "spec", "must be a map")
        return CheckedDocument(number, report, kind, name, None)
    spec = spec_value
    report.unknown_fields(spec, _ACTIVATION_FIELDS, "spec")
    reference: str | None = None
    if spec.get("campaignversion") in (None, ""):
        report.error(Rule.V31, "spec.campaignversion", "required")
    else:
        reference = report.string_field(spec, "campaignversion", "spec")
    stage = report.string_field(spec, "stage", "spec") or ""
    inputs: JsonMap = {}
    raw_inputs = spec.get("inputs")
    if raw_inputs is not None and not isinstance(raw_inputs, dict):
        report.error(Rule.V33, "spec.inputs", "must be a map")
    elif isinstance(raw_inputs, dict):
        inputs = raw_inputs
        if compact_json_size(inputs) > MAX_INPUTS_BYTES:
            report.error(Rule.V33, "spec.inputs", "larger than 1 MiB")
    timeout = report.duration_field(spec, "timeout", "spec")

    activation: Activation | None = None
    normalised: JsonMap | None = None
    if reference is not None:
        activation = Activation(
            metadata=metadata or Metadata(""),
            campaign_version=reference,
            campaign_version_name=campaign_version_object_name(reference),
            stage=stage,
            inputs=inputs,
            timeout=timeout,
            timeout_written=spec.get("timeout") if timeout is not None else None,
        )
        normalised = activation.spec
    typed = activation if activation is not None and metadata and not report.problems else None
    return CheckedDocument(
        number,
        report,
        kind,
        name,
        typed,
        campaign_version_ref=reference,
        stage=stage,
        spec=normalised,
    )
