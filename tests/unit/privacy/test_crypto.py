from __future__ import annotations

import uuid

import pytest

from buurtsignaal.privacy.crypto import DecryptionError, Keyring, KeyringError, key_id_of, note_aad


def _ring(*ids: str) -> Keyring:
    return Keyring.parse(",".join(Keyring.generate(i) for i in ids))


def test_round_trip_binds_the_ciphertext_to_its_note() -> None:
    ring = _ring("k1")
    a, b = uuid.uuid4(), uuid.uuid4()
    blob = ring.encrypt("Mevr. Yilmaz, Kerkstraat 12", note_aad(a))
    assert b"Yilmaz" not in blob
    assert key_id_of(blob) == "k1"
    assert ring.decrypt(blob, note_aad(a)) == "Mevr. Yilmaz, Kerkstraat 12"
    with pytest.raises(DecryptionError):
        ring.decrypt(blob, note_aad(b))  # copied to another row


def test_tampering_is_detected() -> None:
    ring = _ring("k1")
    blob = bytearray(ring.encrypt("tekst", b"aad"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(blob), b"aad")


def test_rotation_old_keys_decrypt_the_first_encrypts() -> None:
    old = _ring("old")
    blob = old.encrypt("origineel", b"aad")
    rotated = Keyring((("new", _ring("new").keys[0][1]), *old.keys))
    assert rotated.primary_id == "new"
    assert rotated.decrypt(blob, b"aad") == "origineel"
    again = rotated.reencrypt(blob, b"aad")
    assert key_id_of(again) == "new"
    without_old = Keyring(rotated.keys[:1])
    assert without_old.decrypt(again, b"aad") == "origineel"
    with pytest.raises(DecryptionError, match="unknown key id"):
        without_old.decrypt(blob, b"aad")


@pytest.mark.parametrize("spec, message", [
    ("", "no encryption keys"),
    ("nocolon", "key-id:base64key"),
    ("k1:c2hvcnQ", "32 bytes"),
    ("bad id!:" + "A" * 43, "invalid key id"),
])
def test_bad_configuration_is_named_without_echoing_keys(spec: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as err:
        Keyring.parse(spec)
    assert "c2hvcnQ" not in str(err.value)


def test_duplicate_key_ids_are_refused() -> None:
    entry = Keyring.generate("k1")
    with pytest.raises(KeyringError, match="unique"):
        Keyring.parse(f"{entry},{entry}")
