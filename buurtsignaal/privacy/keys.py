"""Key rotation for the encrypted original texts (`buurtsignaal keys rotate`).

Procedure (docs/privacy.md): generate a key, put it FIRST in BUURTSIGNAAL_ENCRYPTION_KEYS (keep
the old ones after it), restart the services (new notes use the new key), run `keys rotate` (every
stored original is re-encrypted under the new key, in batches, online), then remove the old key
from the list and restart again. Rows stored before migration 0003 (plain text, no pseudonymiser)
are converted on the way: original encrypted, text pseudonymised.
"""

from __future__ import annotations

import psycopg

from buurtsignaal.privacy.crypto import note_aad
from buurtsignaal.privacy.protect import NoteProtector


def rotate(conn: psycopg.Connection, protector: NoteProtector, *, batch_size: int = 500) -> dict[str, object]:
    keyring = protector.keyring
    reencrypted = legacy = 0
    while True:
        with conn.transaction():
            rows = conn.execute(
                """SELECT id, original_ciphertext FROM notes
                   WHERE original_ciphertext IS NOT NULL AND original_key_id <> %s
                   LIMIT %s FOR UPDATE SKIP LOCKED""",
                (keyring.primary_id, batch_size),
            ).fetchall()
            for r in rows:
                blob = keyring.reencrypt(bytes(r["original_ciphertext"]), note_aad(r["id"]))
                conn.execute(
                    "UPDATE notes SET original_ciphertext = %s, original_key_id = %s WHERE id = %s",
                    (blob, keyring.primary_id, r["id"]),
                )
        reencrypted += len(rows)
        if len(rows) < batch_size:
            break
    while True:
        with conn.transaction():
            rows = conn.execute(
                """SELECT id, text FROM notes WHERE pseudonymiser IS NULL
                   LIMIT %s FOR UPDATE SKIP LOCKED""",
                (batch_size,),
            ).fetchall()
            for r in rows:
                protected = protector.protect(r["id"], r["text"])
                conn.execute(
                    """UPDATE notes SET text = %s, original_ciphertext = %s, original_key_id = %s,
                       pseudonymiser = %s WHERE id = %s""",
                    (protected.pseudonymised, protected.ciphertext, protected.key_id,
                     protector.name, r["id"]),
                )
        legacy += len(rows)
        if len(rows) < batch_size:
            break
    with conn.transaction():
        left = conn.execute(
            """SELECT original_key_id AS key_id, count(*) AS n FROM notes
               WHERE original_ciphertext IS NOT NULL GROUP BY original_key_id"""
        ).fetchall()
    return {
        "primary_key": keyring.primary_id,
        "reencrypted": reencrypted,
        "legacy_rows_protected": legacy,
        "rows_per_key": {r["key_id"]: r["n"] for r in left},
    }
