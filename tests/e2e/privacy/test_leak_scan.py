"""Leak scan: notes with planted names, addresses, phone numbers, e-mail addresses and plates go
in over HTTP and Kafka (valid and malformed); then EVERYTHING the run wrote is scanned: every
service's log, every message of every topic (keys, values, headers), every e-mail the notifier
sent, every service's /metrics, and every database column. The only allowed places for a planted
value: the corporation's own messages on notes.incoming, the encrypted original, and the note's
structured address columns."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.adapters.kafka import list_topics
from buurtsignaal.adapters.users import add_user
from buurtsignaal.devstack import EmbeddedBroker, EmbeddedPostgres
from buurtsignaal.privacy.crypto import Keyring, note_aad
from tests.support import infra
from tests.support.mail import Mailbox
from tests.support.notes import note
from tests.support.services import ServiceProcs, login, service_procs

# Planted in the note TEXT (what the pseudonymiser must remove before anything leaves ingest).
NAMES = ["Fatima Yilmaz", "Yilmaz", "Hanneke Schreuder", "Schreuder", "Mehmet", "Kwame Mensah"]
ADDRESSES = ["Turfstekerstraat 41", "Turfstekerstraat", "Burgemeester de Withstraat 3", "9412 PX"]
PHONES = ["06-12345678", "0612345678", "+31 6 8765 4321", "0687654321", "010-7654321"]
OTHER = ["fatima.yilmaz@example.nl", "TX-204-K", "tx-204-k"]
# The structured address: stored in its own columns, never on the bus or in logs.
STRUCTURED = ["9411 XY", "9411XY"]
PLANTED = NAMES + ADDRESSES + PHONES + OTHER + STRUCTURED

HTTP_TEXTS = [
    "Mevr. Fatima Yilmaz (Turfstekerstraat 41) is weer uitgescholden voor vuile makaak, buurman "
    "riep dat ze terug moet naar haar eigen land. Zoon Mehmet belt 06-12345678.",
    "Hakenkruis op de deur van dhr. Kwame Mensah, Burgemeester de Withstraat 3, 9412 PX. Hij is "
    "bereikbaar op +31 6 8765 4321 en fatima.yilmaz@example.nl; dader reed weg in TX-204-K.",
    "<script>alert('x')</script> mevr. Hanneke Schreuder meldt dat kinderen van de Turkse familie "
    "worden bedreigd en nageroepen als kankerturken. Terugbellen 010-7654321.",
]
KAFKA_TEXT = ("Bewoonster mevr. Schreuder (tel 0687654321) zag dat de Marokkaanse buurvrouw werd "
              "bespuugd en uitgescholden voor kankermoslim, bij Turfstekerstraat 41.")


@pytest.fixture(scope="module")
def stack(e2e_infra: tuple[EmbeddedPostgres, EmbeddedBroker], mailbox: Mailbox,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcs]:
    pg, broker = e2e_infra
    infra.truncate_all(pg.url)
    tmp = tmp_path_factory.mktemp("leak")
    routing = {"receivers": [{"name": "intake", "email": {"to": ["intake@adv.example"]}}],
               "route": {"receiver": "intake", "group_wait": "0s"}}
    procs = service_procs(infra.make_settings(pg, broker)).with_mail_routing(routing, tmp, mailbox.port)
    procs.env.update({
        "BUURTSIGNAAL_DATA_DIR": str(tmp / "data"),
        "BUURTSIGNAAL_LOG_LEVEL": "DEBUG",  # the scan must hold at the most verbose level too
    })
    with procs:
        yield procs


def _variants(value: str) -> set[str]:
    out = {value.casefold()}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 9:
        out.add(digits)
    return out


def _hits(where: str, blob: str) -> list[str]:
    folded = blob.casefold()
    squashed = re.sub(r"[\s\-.()+]", "", folded)
    found = []
    for value in PLANTED:
        for v in _variants(value):
            if v in folded or (v.isdigit() and v in squashed):
                found.append(f"{where}: {value!r}")
                break
    return found


def _all_messages(bootstrap: str) -> list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        out = []
        for topic in sorted(list_topics(bootstrap)):
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            if not parts:
                continue
            consumer.assign(parts)
            consumer.seek_to_beginning(*parts)
            ends = consumer.end_offsets(parts)
            while any(consumer.position(tp) < ends[tp] for tp in parts):
                for records in consumer.poll(timeout_ms=1000).values():
                    for r in records:
                        out.append((topic, r.key or b"", r.value or b"", list(r.headers or [])))
        return out
    finally:
        consumer.close()


def test_nothing_personal_leaves_postgres(stack: ServiceProcs, mailbox: Mailbox) -> None:
    settings = stack.settings
    with psycopg.connect(settings.database_url, row_factory=dict_row, autocommit=True) as conn:
        ensure_tenant(conn, "corp-leak")
        key = create_key(conn, "corp-leak")
        add_user(conn, "adv.leak", "correct-horse-battery", "adv_medewerker",
                 adv_region="midden-nederland")
    address = {"postcode": "9411 XY", "house_number": 12}
    http_notes = [note(t, address=address) for t in HTTP_TEXTS]
    r = httpx.post(stack.url("ingest") + "/v1/notes", json={"notes": http_notes},
                   headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text
    bad = httpx.post(stack.url("ingest") + "/v1/notes", headers={"Authorization": f"Bearer {key}"},
                     json={"notes": [note("Mevr. Fatima Yilmaz 06-12345678", address=address,
                                          author_role="Fatima Yilmaz")]})
    assert bad.status_code == 422 and "Yilmaz" not in bad.text

    produced = [
        json.dumps({"tenant": "corp-leak", "note": note(KAFKA_TEXT, address=address,
                                                        municipality_code="GM0344")}).encode(),
        json.dumps({"tenant": "corp-leak",
                    "note": {**note(KAFKA_TEXT), "address": "Turfstekerstraat 41"}}).encode(),
        json.dumps({"tenant": "Fatima Yilmaz", "note": note(KAFKA_TEXT)}).encode(),
        b"Mevr. Fatima Yilmaz, 06-12345678 {not json",
        json.dumps({"tenant": "corp-leak",
                    "note": {**note(KAFKA_TEXT), "municipality_code": "9411 XY"}}).encode(),
    ]
    infra.produce(settings.kafka_bootstrap, settings.topic_incoming, produced)

    def count(sql: str) -> int:
        return int(infra.query(settings.database_url, sql)[0]["n"])

    infra.wait_until(lambda: count("SELECT count(*) AS n FROM note_scores") == 4, timeout=120,
                     what="4 valid notes scored end to end")
    infra.wait_until(lambda: sum(1 for t, *_ in _all_messages(settings.kafka_bootstrap)
                                 if t == settings.topic_deadletter) >= 4, timeout=60,
                     what="4 malformed Kafka messages dead-lettered")
    cases = count("SELECT count(*) AS n FROM cases")
    assert cases >= 3
    infra.wait_until(lambda: count("SELECT count(*) AS n FROM notifications WHERE status = 'sent'") >= 1,
                     timeout=60, what="a notification e-mail sent")

    # the reviewer's screens: the note shown as text, pseudonymised
    with httpx.Client(base_url=stack.url("notifier")) as ui:
        login(ui, "adv.leak", "correct-horse-battery")
        queue = ui.get("/")
        assert "<script>alert" not in queue.text and "&lt;script&gt;" in queue.text
        assert "[PERSOON-1]" in queue.text
        csp = queue.headers["Content-Security-Policy"]
        script_src = csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in script_src
        case_id = infra.query(settings.database_url, "SELECT min(id) AS id FROM cases")[0]["id"]
        assert ui.get(f"/zaken/{case_id}").status_code == 200

    problems: list[str] = []
    for service in ("ingest", "detector", "notifier"):
        problems += _hits(f"log of {service}", stack.log(service))
        problems += _hits(f"/metrics of {service}", httpx.get(stack.url(service) + "/metrics").text)
    allowed_incoming = set(produced)
    for topic, k, v, headers in _all_messages(settings.kafka_bootstrap):
        if topic == settings.topic_incoming and v in allowed_incoming:
            continue  # the corporation's own message: retention-limited, see docs/privacy.md
        blob = k.decode("utf-8", "replace") + v.decode("utf-8", "replace") + repr(headers)
        problems += _hits(f"topic {topic}", blob)
    assert mailbox.raw, "the notifier sent no e-mail: the mail scan would be empty"
    for i, raw in enumerate(mailbox.raw):
        problems += _hits(f"e-mail {i}", raw.decode("utf-8", "replace"))
    for path in (stack.log_dir.parent).glob("**/mail/*.eml"):
        problems += _hits(f"mail file {path.name}", path.read_text(errors="replace"))
    problems += _scan_database(settings.database_url)
    assert not problems, "personal data leaked:\n" + "\n".join(sorted(set(problems)))

    # ... and the originals are there, encrypted, for the audited review path
    ring = Keyring.parse(settings.encryption_keys)
    rows = infra.query(settings.database_url, "SELECT id, original_ciphertext FROM notes")
    originals = {ring.decrypt(bytes(r["original_ciphertext"]), note_aad(r["id"])) for r in rows}
    assert set(HTTP_TEXTS) | {KAFKA_TEXT} == originals


def _scan_database(url: str) -> list[str]:
    """Every column of every table, cast to text, except the encrypted original and the
    structured address columns of notes."""
    exempt = {("notes", "original_ciphertext"), ("notes", "postcode"), ("notes", "house_number"),
              ("notes", "house_suffix"), ("notes", "postcode_area")}
    problems: list[str] = []
    with psycopg.connect(url, row_factory=dict_row) as conn:
        columns = conn.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"""
        ).fetchall()
        for c in columns:
            if (c["table_name"], c["column_name"]) in exempt:
                continue
            values = conn.execute(
                psycopg.sql.SQL("SELECT {}::text AS v FROM {}").format(
                    psycopg.sql.Identifier(c["column_name"]), psycopg.sql.Identifier(c["table_name"]))
            ).fetchall()
            blob = "\n".join(v["v"] or "" for v in values)
            problems += _hits(f"table {c['table_name']}.{c['column_name']}", blob)
    return problems
