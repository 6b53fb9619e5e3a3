"""Audited reading of originals, key rotation, retention purge and erasure against real
PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import ensure_tenant
from buurtsignaal.adapters.notes_repo import store_notes
from buurtsignaal.adapters.users import add_user
from buurtsignaal.config import Settings
from buurtsignaal.privacy.access import AccessDenied, OriginalUnavailable, read_original_text
from buurtsignaal.privacy.crypto import Keyring
from buurtsignaal.privacy.erasure import address_key, erase_household
from buurtsignaal.privacy.keys import rotate
from buurtsignaal.privacy.protect import NoteProtector, protector_from_settings
from buurtsignaal.privacy.pseudonymise import BuiltinPseudonymiser
from buurtsignaal.privacy.retention import RetentionPolicy, purge
from buurtsignaal.service.intake import parse_batch
from tests.support import infra
from tests.support.notes import note

ORIGINAL = "Mevr. Yilmaz (Kerkstraat 12) wordt uitgescholden, bel 06-12345678."


def _conn(settings: Settings) -> psycopg.Connection[Any]:
    return psycopg.connect(settings.database_url, row_factory=dict_row, autocommit=True)


def _store(conn: psycopg.Connection[Any], settings: Settings, notes: list[dict[str, Any]],
           protector: NoteProtector | None = None) -> list[str]:
    ensure_tenant(conn, "corp-a")
    parsed = parse_batch({"notes": notes}, "corp-a")
    assert isinstance(parsed, list)
    with conn.transaction():
        result = store_notes(conn, parsed, key_secret=settings.key_secret,
                             topic=settings.topic_accepted,
                             protector=protector or protector_from_settings(settings))
    return [nid for _, nid in result.accepted]


def _case(conn: psycopg.Connection[Any], note_id: str, status: str = "nieuw", region: str =
          "midden-nederland", age_days: int = 0) -> int:
    row = conn.execute(
        """INSERT INTO cases (note_id, subject_key, municipality_code, adv_region, severity, score,
                              grounds, forms, model_version, status, updated_at)
           SELECT id, subject_key, municipality_code, %s, 2, 0.9, '{herkomst}', '{verbaal}', 't',
                  %s, now() - make_interval(days => %s) FROM notes WHERE id = %s RETURNING id""",
        (region, status, age_days, note_id),
    ).fetchone()
    return int(row["id"])


def _age(conn: psycopg.Connection[Any], note_ids: list[str], days: int) -> None:
    conn.execute("UPDATE notes SET received_at = now() - make_interval(days => %s) "
                 "WHERE id = ANY(%s::uuid[])", (days, note_ids))


def test_only_the_cases_reviewer_reads_the_original_and_every_read_is_audited(settings: Settings) -> None:
    ring = Keyring.parse(settings.encryption_keys)
    with _conn(settings) as conn:
        flagged, unflagged = _store(conn, settings, [note(ORIGINAL), note(ORIGINAL)])
        case_id = _case(conn, flagged)
        add_user(conn, "adv.utrecht", "correct-horse-battery", "adv_medewerker",
                 adv_region="midden-nederland")
        add_user(conn, "adv.drenthe", "correct-horse-battery", "adv_medewerker", adv_region="drenthe")
        add_user(conn, "admin", "correct-horse-battery", "beheerder")
        with conn.transaction():
            assert read_original_text(conn, flagged, "adv.utrecht", ring) == ORIGINAL
        for actor, note_id in (("adv.drenthe", flagged), ("admin", flagged),
                               ("adv.utrecht", unflagged), ("nobody", flagged)):
            with conn.transaction(), pytest.raises(AccessDenied):
                read_original_text(conn, note_id, actor, ring)
        conn.execute("UPDATE notes SET original_ciphertext = NULL WHERE id = %s", (flagged,))
        with conn.transaction(), pytest.raises(OriginalUnavailable):
            read_original_text(conn, flagged, "adv.utrecht", ring)
    audit = infra.query(settings.database_url,
                        "SELECT actor, action, case_id, detail FROM audit_log ORDER BY id")
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("adv.utrecht", "original_text_viewed"), ("adv.drenthe", "original_text_denied"),
        ("admin", "original_text_denied"), ("adv.utrecht", "original_text_denied"),
        ("nobody", "original_text_denied"), ("adv.utrecht", "original_text_unavailable")]
    assert audit[0]["case_id"] == case_id and audit[0]["detail"]["key_id"] == "demo"
    assert all("Yilmaz" not in str(a) for a in audit)


def test_key_rotation_reencrypts_everything_and_converts_legacy_rows(settings: Settings) -> None:
    old_spec = settings.encryption_keys
    new_entry = Keyring.generate("k2")
    with _conn(settings) as conn:
        ids = _store(conn, settings, [note(ORIGINAL), note("Lekkage bij dhr. Bakker.")])
        # a row as stored before migration 0003: plain original, no pseudonymiser
        legacy_id = _store(conn, settings, [note("Dhr. Jansen, tel 0612345678, klaagt.")])[0]
        conn.execute("""UPDATE notes SET text = 'Dhr. Jansen, tel 0612345678, klaagt.',
                        original_ciphertext = NULL, original_key_id = NULL, pseudonymiser = NULL
                        WHERE id = %s""", (legacy_id,))
        rotated = NoteProtector(BuiltinPseudonymiser(), Keyring.parse(f"{new_entry},{old_spec}"))
        report = rotate(conn, rotated, batch_size=1)
        assert report["reencrypted"] == 2 and report["legacy_rows_protected"] == 1
        assert report["rows_per_key"] == {"k2": 3}
        assert rotate(conn, rotated)["reencrypted"] == 0  # idempotent
        only_new = Keyring.parse(new_entry)
        rows = conn.execute("SELECT id, text, original_ciphertext FROM notes").fetchall()
    from buurtsignaal.privacy.crypto import note_aad

    originals = {str(r["id"]): only_new.decrypt(bytes(r["original_ciphertext"]), note_aad(r["id"]))
                 for r in rows}
    assert originals[ids[0]] == ORIGINAL
    assert originals[legacy_id] == "Dhr. Jansen, tel 0612345678, klaagt."
    legacy_text = next(r["text"] for r in rows if str(r["id"]) == legacy_id)
    assert "Jansen" not in legacy_text and "0612345678" not in legacy_text


def test_retention_purge_deletes_anonymises_and_records(settings: Settings) -> None:
    policy = RetentionPolicy(unflagged_notes_days=90, dismissed_cases_days=365,
                             escalated_cases_days=1825, original_text_days=30)
    with _conn(settings) as conn:
        old_unflagged, young_unflagged, dismissed, open_case, escalated, mid = _store(
            conn, settings,
            [note(ORIGINAL, address={"postcode": "3531 AB", "house_number": i}) for i in range(1, 7)])
        _age(conn, [old_unflagged, dismissed, open_case, escalated], 400)
        _age(conn, [mid], 40)
        _case(conn, dismissed, "afgewezen", age_days=366)
        _case(conn, open_case, "in_behandeling", age_days=366)
        _case(conn, escalated, "geescaleerd", age_days=366)  # within its 5 years
        conn.execute("CREATE TABLE IF NOT EXISTS ew_test_state (subject_key text, level text)")
        conn.execute("INSERT INTO ew_test_state SELECT subject_key, 'signaal' FROM notes "
                     "WHERE id = ANY(%s::uuid[])", ([old_unflagged, young_unflagged],))
        conn.execute("INSERT INTO ew_test_state VALUES (NULL, 'gebied')")  # area rows: not per household
        dry = purge(conn, policy, erasure_topic=settings.topic_erasures, dry_run=True)
        assert infra.query(settings.database_url, "SELECT count(*) AS n FROM notes")[0]["n"] == 6
        wet = purge(conn, policy, erasure_topic=settings.topic_erasures)
        conn.execute("DROP TABLE ew_test_state")
    assert dry == wet
    assert wet["unflagged_notes"] == 1 and wet["dismissed_cases"] == 1 and wet["escalated_cases"] == 0
    assert wet["anonymous_case_records"] == 1
    assert wet["original_texts"] == 1  # the 40-day-old unflagged note; open/escalated keep theirs
    assert wet["derived:ew_test_state"] == 1  # the household of the deleted note only
    # The detector is told to forget the two deleted notes (two households), keys and ids only.
    assert wet["sent"] == {"events": 2, "households": 2, "note_ids": 2, "area_keys": 1}
    queued = infra.query(settings.database_url, "SELECT key, payload FROM outbox WHERE topic = %s",
                         (settings.topic_erasures,))
    assert sorted(i for q in queued for i in q["payload"]["note_ids"]) == sorted([old_unflagged, dismissed])
    assert all(q["payload"]["household"] is False and "Yilmaz" not in str(q) for q in queued)
    left = {str(r["id"]) for r in infra.query(settings.database_url, "SELECT id FROM notes")}
    assert left == {young_unflagged, open_case, escalated, mid}
    stats = infra.query(settings.database_url, "SELECT * FROM anonymous_statistics")
    assert [(s["status"], s["grounds"], s["removed_because"]) for s in stats] == [
        ("afgewezen", ["herkomst"], "dismissed_cases")]
    runs = infra.query(settings.database_url,
                       "SELECT dry_run, trigger, counts FROM retention_runs ORDER BY id")
    assert [(r["dry_run"], r["counts"]["unflagged_notes"]) for r in runs] == [(True, 1), (False, 1)]


def test_erasure_removes_one_household_and_nothing_else(settings: Settings) -> None:
    with _conn(settings) as conn:
        mine = _store(conn, settings, [note(ORIGINAL, address={"postcode": "3531 ab", "house_number": 7,
                                                                "suffix": "A"}) for _ in range(2)])
        other = _store(conn, settings, [note(ORIGINAL, address={"postcode": "3531 AB", "house_number": 8})])
        _case(conn, mine[0])
        _case(conn, other[0])
        key = address_key(settings.key_secret, "3531AB", 7, "a")  # however it is typed
        topic = settings.topic_erasures
        dry = erase_household(conn, key, actor="test", reference="AVG-1", erasure_topic=topic,
                              dry_run=True)
        assert dry["notes"] == 2 and dry["dry_run"] is True
        counts = erase_household(conn, key, actor="test", reference="AVG-1", erasure_topic=topic)
        assert counts["notes"] == 2 and counts["cases"] == 1 and counts["outbox_events"] == 2
        assert counts["sent"] == {"events": 1, "households": 1, "note_ids": 2, "area_keys": 1}
        with pytest.raises(ValueError, match="reference"):
            erase_household(conn, key, actor="test", reference=" ", erasure_topic=topic)
    left = infra.query(settings.database_url, "SELECT id FROM notes")
    assert [str(r["id"]) for r in left] == other
    outbox = infra.query(settings.database_url, "SELECT topic, key, payload FROM outbox ORDER BY id")
    assert [o["topic"] for o in outbox] == [settings.topic_accepted, settings.topic_erasures]
    forget = outbox[1]["payload"]  # queued in the erasure's transaction, for the detector
    assert forget["household"] is True and forget["subject_key"] == key == outbox[1]["key"]
    assert sorted(forget["note_ids"]) == sorted(mine)
    log = infra.query(settings.database_url, "SELECT * FROM erasure_log")
    assert len(log) == 1 and log[0]["reference"] == "AVG-1" and key not in str(log[0])
    assert log[0]["counts"]["sent"]["events"] == 1
