"""Operator commands for privacy: erasure, retention, encryption keys, API-key scopes.

    buurtsignaal erase --address-key KEY --reference AVG-2026-001
    buurtsignaal erase --postcode "3531 AB" --house-number 14 [--suffix A] --reference ...
        (exit code 3: done in PostgreSQL, but the detector's event is still queued; re-run)
    buurtsignaal retention purge [--dry-run]      buurtsignaal retention show
    buurtsignaal keys generate [--key-id ID]      buurtsignaal keys rotate
    buurtsignaal apikey list|revoke|set ...
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

retention_app = typer.Typer(help="Retention periods and the purge.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys for the original note texts.", no_args_is_help=True)


def _connect():  # type: ignore[no-untyped-def]
    import psycopg
    from psycopg.rows import dict_row

    from buurtsignaal.config import get_settings

    return psycopg.connect(get_settings().database_url, row_factory=dict_row, autocommit=True)


def _logs_to_stderr() -> None:
    """Logs go to stderr so that stdout holds only the JSON report (scripts parse it)."""
    from buurtsignaal import logs
    from buurtsignaal.config import get_settings

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json, "cli")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _print(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def erase(
    reference: Annotated[str, typer.Option(help="request reference, e.g. the AVG request number")],
    address_key: Annotated[str, typer.Option(help="household key (subject_key)")] = "",
    postcode: Annotated[str, typer.Option()] = "",
    house_number: Annotated[int, typer.Option()] = 0,
    suffix: Annotated[str, typer.Option()] = "",
    dry_run: Annotated[bool, typer.Option(help="report what would be removed")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Right to erasure: remove everything about one household, also from the detector's
    early-warning state, and report what was removed. Safe to re-run."""
    from buurtsignaal.config import get_settings
    from buurtsignaal.privacy.erasure import address_key as make_key
    from buurtsignaal.privacy.erasure import erase_household
    from buurtsignaal.privacy.topics import retention_by_topic

    settings = get_settings()
    _logs_to_stderr()
    if bool(address_key) == bool(postcode):
        _fail("give either --address-key or --postcode with --house-number")
    if postcode and house_number < 1:
        _fail("--house-number is required with --postcode")
    key = address_key or make_key(settings.key_secret, postcode, house_number, suffix)
    if not dry_run and not yes:
        typer.confirm("This permanently deletes all notes, cases and derived data of this "
                      "household. Continue?", abort=True)
    with _connect() as conn:
        counts = erase_household(conn, key, actor=f"cli:{getpass.getuser()}", reference=reference,
                                 erasure_topic=settings.topic_erasures, dry_run=dry_run)
        sent = counts.pop("sent")
        published = None if dry_run else _publish(conn)
    hours = retention_by_topic(settings, _policy())
    _print({
        "household_key": key, "dry_run": dry_run, "removed": counts,
        "early_warning_state": _state_report(settings.topic_erasures, sent, published, dry_run),
        "kafka_copies": "pseudonymised copies on topics expire with topic retention: "
                        + ", ".join(f"{t} {h} h" for t, h in hours.items()),
        "kept": "audit_log entries (who viewed or changed which case number; no text, no address)",
    })
    _exit_if_pending(published, "the erasure")


def _publish(conn: Any) -> Any:
    """Publish every queued erasure.v1 event now (this run's and any left by an earlier one)."""
    from buurtsignaal.adapters.kafka import make_producer
    from buurtsignaal.config import get_settings
    from buurtsignaal.privacy.propagate import publish_pending

    settings = get_settings()
    return publish_pending(conn, settings.topic_erasures,
                           lambda: make_producer(settings.kafka_bootstrap, "buurtsignaal-privacy"))


def _state_report(topic: str, sent: dict[str, int], published: Any, dry_run: bool) -> dict[str, Any]:
    report: dict[str, Any] = {"topic": topic, ("would_queue" if dry_run else "queued"): sent}
    if published is not None:
        report.update(published.as_json())
    return report


def _exit_if_pending(published: Any, what: str) -> None:
    """The database part is done; say so loudly when the detector has not been told yet."""
    if published is not None and published.pending:
        typer.secho(
            f"warning: {what} is done in PostgreSQL, but {published.pending} event(s) for the "
            f"detector's early-warning state could not be published ({published.error or 'broker'}). "
            "They stay queued in the outbox: the ingest service publishes them when the broker is "
            "back, or re-run this command (it is safe to repeat).", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(3)


def _policy():  # type: ignore[no-untyped-def]
    from buurtsignaal.config import get_settings
    from buurtsignaal.privacy.retention import RetentionPolicy

    return RetentionPolicy.load(get_settings().retention_file)


@retention_app.command("purge")
def retention_purge(
    dry_run: Annotated[bool, typer.Option(help="count only; everything is rolled back")] = False,
) -> None:
    """Delete or anonymise what is past its retention period (config/retention.yaml), and tell the
    detector's early-warning state to forget the removed notes."""
    from buurtsignaal.config import get_settings
    from buurtsignaal.privacy.retention import purge

    topic = get_settings().topic_erasures
    _logs_to_stderr()
    with _connect() as conn:
        counts = purge(conn, _policy(), erasure_topic=topic, dry_run=dry_run, trigger="cli")
        published = None if dry_run or counts is None else _publish(conn)
    if counts is None:
        _fail("another purge is running; try again later")
        return
    sent = counts.pop("sent")
    _print({"dry_run": dry_run, "at": datetime.now(UTC).isoformat(), "counts": counts,
            "early_warning_state": _state_report(topic, sent, published, dry_run)})
    _exit_if_pending(published, "the purge")


@retention_app.command("show")
def retention_show() -> None:
    """Print the retention policy in force."""
    _print(_policy().as_json())


@keys_app.command("generate")
def keys_generate(
    key_id: Annotated[str, typer.Option(help="a new, unique id")] = "",
) -> None:
    """Print a new encryption key entry for BUURTSIGNAAL_ENCRYPTION_KEYS (put it first)."""
    from buurtsignaal.privacy.crypto import Keyring

    typer.echo(Keyring.generate(key_id or "k" + datetime.now(UTC).strftime("%Y%m%d%H%M")))


@keys_app.command("rotate")
def keys_rotate(batch_size: Annotated[int, typer.Option(min=1)] = 500) -> None:
    """Re-encrypt every stored original under the first key in BUURTSIGNAAL_ENCRYPTION_KEYS."""
    from buurtsignaal.config import get_settings
    from buurtsignaal.privacy.keys import rotate
    from buurtsignaal.privacy.protect import protector_from_settings

    with _connect() as conn:
        report = rotate(conn, protector_from_settings(get_settings()), batch_size=batch_size)
    _print(report)
    old = {k: n for k, n in report["rows_per_key"].items() if k != report["primary_key"]}  # type: ignore[attr-defined]
    if old:
        _fail(f"rows still under old keys: {old}")


def apikey_list(tenant: Annotated[str, typer.Option()] = "") -> None:
    """List API keys (prefix, scopes, limits, expiry; never the key)."""
    from buurtsignaal.adapters.apikeys import list_keys

    with _connect() as conn:
        for row in list_keys(conn, tenant or None):
            typer.echo(json.dumps({k: (str(v) if v is not None else None) for k, v in row.items()},
                                  ensure_ascii=False))


def apikey_revoke(prefix_or_id: str) -> None:
    """Revoke an API key by its prefix (first 8 characters) or id."""
    from buurtsignaal.adapters.apikeys import revoke_key

    with _connect() as conn:
        n = revoke_key(conn, prefix_or_id)
    if not n:
        _fail(f"no active key {prefix_or_id!r}")
    typer.echo(f"revoked {n} key(s)")


def apikey_set(
    prefix_or_id: str,
    scope: Annotated[list[str] | None, typer.Option(help="notes:write, notes:read")] = None,
    rate_limit: Annotated[int, typer.Option(help="requests per minute; 0 = default")] = -1,
) -> None:
    """Change the scopes or the rate limit of an API key."""
    from buurtsignaal.adapters.apikeys import SCOPES

    if scope and set(scope) - set(SCOPES):
        _fail(f"scopes must be among {', '.join(SCOPES)}")
    with _connect() as conn:
        row = conn.execute(
            """UPDATE api_keys SET scopes = coalesce(%s, scopes),
                   rate_limit_per_minute = CASE WHEN %s < 0 THEN rate_limit_per_minute
                                                WHEN %s = 0 THEN NULL ELSE %s END
               WHERE prefix = %s OR id::text = %s RETURNING prefix, scopes, rate_limit_per_minute""",
            (scope or None, rate_limit, rate_limit, rate_limit, prefix_or_id, prefix_or_id),
        ).fetchone()
    if row is None:
        _fail(f"no key {prefix_or_id!r}")
    _print(dict(row))


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
    app.add_typer(retention_app, name="retention")
    app.add_typer(keys_app, name="keys")
    for group in app.registered_groups:
        if group.name == "apikey" and group.typer_instance is not None:
            group.typer_instance.command("list")(apikey_list)
            group.typer_instance.command("revoke")(apikey_revoke)
            group.typer_instance.command("set")(apikey_set)
