"""The one way to read a note's original text: an authorised reviewer, through the review UI,
and every attempt (allowed or not) is written to the audit trail.

Who may read: an active `adv_medewerker` whose ADV region is the region of the note's review case.
Nobody else (not coordinators, not administrators, not for notes without a case).
"""

from __future__ import annotations

import uuid

import psycopg

from buurtsignaal.adapters.users import record_audit
from buurtsignaal.privacy.crypto import Keyring, key_id_of, note_aad


class AccessDenied(PermissionError):
    """The actor may not read this note's original (the attempt was audited)."""


class OriginalUnavailable(LookupError):
    """Allowed, but the original was removed by retention or never stored (audited)."""


def read_original_text(conn: psycopg.Connection, note_id: uuid.UUID | str, actor: str,
                       keyring: Keyring) -> str:
    """Decrypt the original text of `note_id` for `actor` (a review-UI username) and audit it.

    Call it inside the request's transaction and catch AccessDenied/OriginalUnavailable INSIDE
    that transaction block, so the audit record of a refusal is committed too."""
    note = conn.execute(
        """SELECT n.id, n.original_ciphertext, c.id AS case_id, c.adv_region
           FROM notes n LEFT JOIN cases c ON c.note_id = n.id WHERE n.id = %s""",
        (str(note_id),),
    ).fetchone()
    user = conn.execute(
        "SELECT role, adv_region, disabled FROM users WHERE username = %s", (actor,)
    ).fetchone()
    case_id = note["case_id"] if note else None
    reason = None
    if note is None:
        reason = "no_such_note"
    elif case_id is None:
        reason = "note_has_no_case"
    elif user is None or user["disabled"]:
        reason = "unknown_or_disabled_user"
    elif user["role"] != "adv_medewerker" or user["adv_region"] != note["adv_region"]:
        reason = "not_the_cases_reviewer"
    if reason:
        record_audit(conn, actor, "original_text_denied", case_id,
                     {"note_id": str(note_id), "reason": reason})
        raise AccessDenied(reason)
    if note["original_ciphertext"] is None:
        record_audit(conn, actor, "original_text_unavailable", case_id, {"note_id": str(note_id)})
        raise OriginalUnavailable("the original text was removed by retention")
    blob = bytes(note["original_ciphertext"])
    text = keyring.decrypt(blob, note_aad(note["id"]))
    record_audit(conn, actor, "original_text_viewed", case_id,
                 {"note_id": str(note_id), "key_id": key_id_of(blob)})
    return text
