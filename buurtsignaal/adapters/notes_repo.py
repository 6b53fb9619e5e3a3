"""Storing notes and their outbox events in one transaction (the transactional outbox).

Before a note is stored its text is pseudonymised and the original encrypted (privacy.protect):
notes.text and the note-accepted event carry only the pseudonymised text; the original exists only
as ciphertext in notes.original_ciphertext."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from buurtsignaal.domain import events
from buurtsignaal.domain.notes import IncomingNote, area_key, subject_key
from buurtsignaal.privacy.protect import NoteProtector

OUTBOX_CHANNEL = "buurtsignaal_outbox"


@dataclass
class StoreResult:
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (external_id, note_id)
    duplicates: list[str] = field(default_factory=list)
    identifiers: dict[str, int] = field(default_factory=dict)  # placeholders made, by kind


def store_notes(
    conn: psycopg.Connection, notes: list[IncomingNote], *, key_secret: str, topic: str,
    protector: NoteProtector,
) -> StoreResult:
    """Insert new notes and their outbox rows atomically; (tenant, external_id) already present
    or repeated within the batch counts as a duplicate and is neither stored nor published again.
    The caller owns the transaction."""
    result = StoreResult()
    if not notes:
        return result
    now = datetime.now(UTC)
    rows = []
    seen: set[tuple[str, str]] = set()
    for note in notes:
        ident = (note.tenant, note.external_id)
        if ident in seen:
            result.duplicates.append(note.external_id)
            continue
        seen.add(ident)
        rows.append((uuid.uuid4(), note))
    protected = {nid: protector.protect(nid, n.text) for nid, n in rows}
    for p in protected.values():
        for kind, count in p.counts.items():
            result.identifiers[kind] = result.identifiers.get(kind, 0) + count
    cols = list(zip(*[
        (
            nid, n.tenant, n.external_id, n.occurred_at, now, n.author_role,
            protected[nid].pseudonymised, n.category,
            n.address.postcode.replace(" ", "").upper(), n.address.house_number, n.address.suffix,
            n.address.postcode_area, n.municipality_code,
            subject_key(key_secret, n.address),
            area_key(key_secret, n.municipality_code, n.address.postcode_area),
            n.source, str(nid), protected[nid].ciphertext, protected[nid].key_id, protector.name,
        )
        for nid, n in rows
    ], strict=True))
    inserted = conn.execute(
        """
        INSERT INTO notes (id, tenant_id, external_id, occurred_at, received_at, author_role, text,
                           category, postcode, house_number, house_suffix, postcode_area,
                           municipality_code, subject_key, area_key, source, correlation_id,
                           original_ciphertext, original_key_id, pseudonymiser)
        SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::timestamptz[],
                             %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[],
                             %s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                             %s::text[], %s::text[], %s::bytea[], %s::text[], %s::text[])
        ON CONFLICT (tenant_id, external_id) DO NOTHING
        RETURNING id, external_id, tenant_id, occurred_at, received_at, author_role, text,
                  subject_key, area_key, municipality_code, correlation_id
        """,
        [list(c) for c in cols],
    ).fetchall()
    inserted_ids = {r["external_id"] for r in inserted}
    result.duplicates.extend(n.external_id for _, n in rows if n.external_id not in inserted_ids)
    outbox = []
    for r in inserted:
        payload = events.note_accepted(
            note_id=r["id"], tenant=r["tenant_id"], occurred_at=r["occurred_at"],
            received_at=r["received_at"], text=r["text"], author_role=r["author_role"],
            subject_key=r["subject_key"], area_key=r["area_key"],
            municipality_code=r["municipality_code"], correlation_id=r["correlation_id"],
        )
        outbox.append((topic, r["subject_key"], Jsonb(payload)))
        result.accepted.append((r["external_id"], str(r["id"])))
    if outbox:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO outbox (topic, key, payload) VALUES (%s, %s, %s)", outbox)
        conn.execute("SELECT pg_notify(%s, '')", (OUTBOX_CHANNEL,))
    return result
