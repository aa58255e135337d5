"""The envelope every published event travels in.

CloudEvents 1.0 in Kafka binary mode: attributes as `ce_*` headers, the event itself
as the JSON value. Our extensions (lower-case alphanumerics, as CloudEvents requires)
carry the stream position so consumers can be idempotent, plus tracing and tenancy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    """Unique event id (CloudEvents `id`); consumers may use it to deduplicate."""
    source: str
    """URI-reference of the producing service, e.g. `/portal/wallet`."""
    type: str
    """Event type name, e.g. `TopUpCompleted`."""
    subject: str
    """The stream (aggregate) id; also the Kafka key."""
    time: datetime
    specversion: str = SPEC_VERSION
    datacontenttype: str = CONTENT_TYPE
    schemaversion: int = 1
    streamversion: int
    """Position of this event in its stream, starting at 1."""
    correlationid: str | None = None
    causationid: str | None = None
    actor: str | None = None
    tenant: str | None = None
    """The customer account the event belongs to, when it belongs to one."""
    traceparent: str | None = None
    data: dict[str, Any]

    def to_kafka(self) -> tuple[bytes, dict[str, str], bytes]:
        """Key, headers and value in CloudEvents Kafka binary mode."""
        headers = {
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_specversion": self.specversion,
            "content-type": self.datacontenttype,
            "ce_schemaversion": str(self.schemaversion),
            "ce_streamversion": str(self.streamversion),
        }
        for name in ("correlationid", "causationid", "actor", "tenant"):
            value = getattr(self, name)
            if value:
                headers[f"ce_{name}"] = value
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        import json

        value = json.dumps(self.data, separators=(",", ":"), default=str).encode()
        return self.subject.encode(), headers, value

    @classmethod
    def from_kafka(cls, headers: dict[str, str], value: bytes) -> EventEnvelope:
        """Inverse of to_kafka; raises ValueError on a message that is not ours."""
        import json

        try:
            return cls(
                id=headers["ce_id"],
                source=headers["ce_source"],
                type=headers["ce_type"],
                subject=headers["ce_subject"],
                time=datetime.fromisoformat(headers["ce_time"]),
                specversion=headers.get("ce_specversion", SPEC_VERSION),
                datacontenttype=headers.get("content-type", CONTENT_TYPE),
                schemaversion=int(headers.get("ce_schemaversion", "1")),
                streamversion=int(headers["ce_streamversion"]),
                correlationid=headers.get("ce_correlationid"),
                causationid=headers.get("ce_causationid"),
                actor=headers.get("ce_actor"),
                tenant=headers.get("ce_tenant"),
                traceparent=headers.get("traceparent"),
                data=json.loads(value),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a CloudEvents binary-mode message: {exc}") from exc
