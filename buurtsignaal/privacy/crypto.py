"""Application-level encryption of the original note text: AES-256-GCM with key ids.

BUURTSIGNAAL_ENCRYPTION_KEYS="k2026b:<base64url 32 bytes>,k2026a:<...>" — the first key encrypts,
every listed key decrypts. Rotation: put a new key first, run `buurtsignaal keys rotate` (re-
encrypts every row under the new key), then drop the old key from the list (docs/privacy.md).

Blob layout: version (1 byte, 0x01) | key-id length (1 byte) | key id (ascii) | nonce (12 bytes) |
ciphertext + GCM tag. The associated data binds a ciphertext to its row (the note id), so a
ciphertext copied to another row does not decrypt.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class KeyringError(ValueError):
    """Configuration problem: the message names the problem, never a key."""


class DecryptionError(Exception):
    """Wrong key, unknown key id, tampered or mismatched ciphertext."""


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]  # (key id, 32-byte key); the first one encrypts

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("no encryption keys configured")
        ids = [kid for kid, _ in self.keys]
        if len(set(ids)) != len(ids):
            raise KeyringError("encryption key ids must be unique")
        for kid, key in self.keys:
            if not _KEY_ID.match(kid):
                raise KeyringError(f"invalid key id {kid!r}: use letters, digits, '_', '.', '-'")
            if len(key) != 32:
                raise KeyringError(f"key {kid!r} must be 32 bytes (base64url of 32 random bytes)")

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """'id:base64key,id2:base64key' -> Keyring (first = primary)."""
        keys = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            kid, sep, encoded = part.partition(":")
            if not sep:
                raise KeyringError("each encryption key must look like 'key-id:base64key'")
            try:
                key = base64.urlsafe_b64decode(encoded.strip() + "=" * (-len(encoded.strip()) % 4))
            except (ValueError, TypeError) as exc:
                raise KeyringError(f"key {kid.strip()!r} is not valid base64") from exc
            keys.append((kid.strip(), key))
        return cls(tuple(keys))

    @staticmethod
    def generate(key_id: str) -> str:
        """A new 'id:key' entry for BUURTSIGNAAL_ENCRYPTION_KEYS."""
        if not _KEY_ID.match(key_id):
            raise KeyringError(f"invalid key id {key_id!r}")
        return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"

    @property
    def primary_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(kid for kid, _ in self.keys)

    def _key(self, kid: str) -> bytes:
        for candidate, key in self.keys:
            if candidate == kid:
                return key
        raise DecryptionError(f"unknown key id {kid!r}: add the old key to the keyring")

    def encrypt(self, plaintext: str, associated: bytes) -> bytes:
        kid, key = self.keys[0]
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), associated)
        return bytes([VERSION, len(kid)]) + kid.encode("ascii") + nonce + sealed

    def decrypt(self, blob: bytes, associated: bytes) -> str:
        kid = key_id_of(blob)
        offset = 2 + len(kid)
        nonce, sealed = blob[offset:offset + 12], blob[offset + 12:]
        try:
            return AESGCM(self._key(kid)).decrypt(nonce, sealed, associated).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not verify (wrong key, row or tampering)") from exc

    def reencrypt(self, blob: bytes, associated: bytes) -> bytes:
        return self.encrypt(self.decrypt(blob, associated), associated)


def key_id_of(blob: bytes) -> str:
    if len(blob) < 2 or blob[0] != VERSION:
        raise DecryptionError("not a buurtsignaal ciphertext (unknown version)")
    length = blob[1]
    if len(blob) < 2 + length + 12 + 16:
        raise DecryptionError("ciphertext is truncated")
    return blob[2:2 + length].decode("ascii", "replace")


def note_aad(note_id: object) -> bytes:
    """Associated data for a note's original text: the ciphertext belongs to this note only."""
    return f"buurtsignaal:note-original:{note_id}".encode()
