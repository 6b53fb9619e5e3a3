"""E-mail to receivers over SMTP (STARTTLS or implicit TLS, optional login).

Messages carry no personal data and no note text: case numbers, level, municipality, grounds,
severity and a link (the payload built by the scheduler). Without an SMTP host in demo mode the
messages are written as .eml files instead, so `make run` shows them without a mail server.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from buurtsignaal.domain.taxonomy import GROUND_LABELS_NL, SEVERITY_LABELS_NL

KIND_SUBJECTS = {
    "nieuw": "Nieuw signaal voor beoordeling",
    "escalatie": "Escalatie: bevestigd signaal voor uw gemeente",
    "herinnering": "Herinnering: nog niet opgepakt",
    "herinnering_escalatie": "Herinnering (escalatie): signaal blijft liggen",
}
KIND_INTRO = {
    "nieuw": "Er staat nieuw werk klaar in de werkvoorraad van Buurtsignaal.",
    "escalatie": ("De ADV heeft een signaal bevestigd en met toestemming naar uw gemeente "
                  "geëscaleerd. Bevestig de ontvangst in Buurtsignaal en leg vast wat er is gedaan."),
    "herinnering": "Deze zaken zijn nog niet opgepakt binnen de afgesproken termijn.",
    "herinnering_escalatie": ("Deze zaken zijn ondanks herinneringen nog niet opgepakt. U ontvangt "
                              "dit bericht als tweede aanspreekpunt."),
}


class DeliveryError(Exception):
    """The message was not delivered; the scheduler retries with backoff."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    starttls: bool = True
    ssl: bool = False
    sender: str = "buurtsignaal@localhost"
    timeout: float = 15.0
    file_dir: Path | None = None  # demo fallback when host is empty


def render(payload: dict[str, Any]) -> tuple[str, str]:
    """Subject and plain-text body, in Dutch."""
    cases = payload["cases"]
    numbers = ", ".join(c["case_number"] for c in cases[:3]) + (" …" if len(cases) > 3 else "")
    subject = f"[Buurtsignaal] {KIND_SUBJECTS[payload['kind']]}: {numbers}"
    lines = [KIND_INTRO[payload["kind"]], ""]
    for c in cases:
        grounds = ", ".join(GROUND_LABELS_NL.get(g, g) for g in c["grounds"]) or "-"
        lines += [
            f"Zaak {c['case_number']}",
            f"  Niveau:    {c['level']}",
            f"  Gemeente:  {c['municipality']}",
            f"  Gronden:   {grounds}",
            f"  Ernst:     {SEVERITY_LABELS_NL.get(c['severity'], c['severity'])}",
            f"  Openen:    {c['url']}",
            "",
        ]
    lines += ["Dit bericht bevat bewust geen namen, adressen of notitietekst. Log in om de zaak "
              "te bekijken.", "", "-- Buurtsignaal"]
    return subject, "\n".join(lines)


def build(config: SmtpConfig, to: tuple[str, ...], payload: dict[str, Any],
          message_id: str) -> EmailMessage:
    subject, body = render(payload)
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=message_id, domain="buurtsignaal")
    msg.set_content(body)
    return msg


def send(config: SmtpConfig, to: tuple[str, ...], payload: dict[str, Any], message_id: str) -> None:
    msg = build(config, to, payload, message_id)
    if not config.host:
        if config.file_dir is None:
            raise DeliveryError("no SMTP host configured (BUURTSIGNAAL_SMTP_HOST)")
        config.file_dir.mkdir(parents=True, exist_ok=True)
        (config.file_dir / f"{message_id}.eml").write_bytes(bytes(msg))
        return
    context = ssl.create_default_context()
    try:
        if config.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                   context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            if config.starttls and not config.ssl:
                client.starttls(context=context)
            if config.user:
                client.login(config.user, config.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        # The reason only: SMTP errors may echo addresses, never note text (there is none).
        raise DeliveryError(f"SMTP: {type(exc).__name__}: {str(exc)[:200]}") from exc
