"""What ingest does to a note's text before it is stored: pseudonymise it (the text everything
downstream sees) and encrypt the original (kept only in PostgreSQL, readable only through the
audited review-UI path, see access.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from buurtsignaal.privacy.crypto import Keyring, note_aad
from buurtsignaal.privacy.pseudonymise import Pseudonymiser, get_pseudonymiser


@dataclass(frozen=True)
class ProtectedText:
    pseudonymised: str
    ciphertext: bytes
    key_id: str
    counts: dict[str, int]


@dataclass(frozen=True)
class NoteProtector:
    pseudonymiser: Pseudonymiser
    keyring: Keyring

    @property
    def name(self) -> str:
        return self.pseudonymiser.name

    def protect(self, note_id: uuid.UUID, text: str) -> ProtectedText:
        result = self.pseudonymiser.pseudonymise(text)
        return ProtectedText(
            pseudonymised=result.text,
            ciphertext=self.keyring.encrypt(text, note_aad(note_id)),
            key_id=self.keyring.primary_id,
            counts=result.counts(),
        )


def protector_from_settings(settings: object) -> NoteProtector:
    """The protector configured by BUURTSIGNAAL_PSEUDONYMISER and BUURTSIGNAAL_ENCRYPTION_KEYS."""
    return NoteProtector(
        pseudonymiser=get_pseudonymiser(getattr(settings, "pseudonymiser", "builtin")),
        keyring=Keyring.parse(settings.encryption_keys),  # type: ignore[attr-defined]
    )
