"""`buurtsignaal`: the operator's command line (typer).

Services, schema, topics, tenants and keys, users, sending notes, the embedded dev stack, and the
detector's detect/train/evaluate (registered from services.detector.cli).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from buurtsignaal.config import get_settings

app = typer.Typer(help="Buurtsignaal: signalen van discriminatie in de woonomgeving.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
tenants_app = typer.Typer(help="Housing corporations (tenants).", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys of housing corporations.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts of the review UI.", no_args_is_help=True)
dev_app = typer.Typer(help="The embedded stack for demos and development.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(tenants_app, name="tenants")
app.add_typer(apikey_app, name="apikey")
app.add_typer(users_app, name="users")
app.add_typer(dev_app, name="dev")

SERVICES = ("ingest", "detector", "early-warning", "notifier")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def serve(service: Annotated[str, typer.Argument(
        help="ingest | detector | early-warning | notifier")]) -> None:
    """Run one service in the foreground."""
    settings = get_settings()
    if service == "ingest":
        import uvicorn

        from services.ingest.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.ingest_port,
                    log_config=None, access_log=False)
    elif service == "notifier":
        import uvicorn

        from services.notifier.app import create_app as create_notifier

        uvicorn.run(create_notifier(settings), host=settings.host, port=settings.notifier_port,
                    log_config=None, access_log=False)
    elif service in ("detector", "early-warning"):
        from faust.worker import Worker

        from buurtsignaal import logs

        if service == "detector":
            from services.detector.app import create_app as create_faust_app
        else:  # the early warning in its own process (docs/decisions/0037)
            from services.detector.early_warning_app import create_app as create_faust_app

        class _Worker(Worker):
            def on_setup_root_logger(self, logger, level):  # type: ignore[no-untyped-def]
                # faust installs its own plain-text handlers when it starts: ours (JSON) win.
                super().on_setup_root_logger(logger, level)
                logs.configure(settings.log_level, settings.log_json, service)

        logs.configure(settings.log_level, settings.log_json, service)
        faust_app = create_faust_app(settings)
        worker = _Worker(faust_app, loglevel=settings.log_level, quiet=True)
        worker.execute_from_commandline()
    else:
        _fail(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from buurtsignaal.adapters.postgres import migrate as run_migrations

    applied = run_migrations(get_settings().database_url)
    typer.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or '-'}")


@topics_app.command("create")
def topics_create() -> None:
    """Create all topics the services use (idempotent), with retention from config/retention.yaml."""
    from buurtsignaal.privacy.topics import create_all

    settings = get_settings()
    created, drift = create_all(settings)
    typer.echo(f"created: {', '.join(created) or '-'} (all present: {', '.join(settings.topics)})")
    for topic, differ in drift.items():  # existing topics are not altered (docs/privacy.md)
        typer.secho(f"warning: {topic} lacks " + ", ".join(f"{k}={v}" for k, v in differ.items())
                    + ": set it with the cluster's tooling (kafka-configs.sh --alter)", err=True,
                    fg=typer.colors.YELLOW)


def _connect():  # type: ignore[no-untyped-def]
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(get_settings().database_url, row_factory=dict_row)


@tenants_app.command("add")
def tenants_add(tenant_id: str, name: Annotated[str, typer.Option()] = "") -> None:
    """Register a housing corporation."""
    from buurtsignaal.adapters.apikeys import ensure_tenant

    with _connect() as conn:
        ensure_tenant(conn, tenant_id, name or tenant_id)
    typer.echo(f"tenant {tenant_id} registered")


@apikey_app.command("create")
def apikey_create(
    tenant: Annotated[str, typer.Option(help="tenant id, e.g. demo-corporatie")],
    label: Annotated[str, typer.Option()] = "",
    expires_days: Annotated[int, typer.Option(help="0 = no expiry")] = 365,
) -> None:
    """Create an API key for a tenant and print it (it is shown only once)."""
    from buurtsignaal.adapters.apikeys import create_key, tenant_exists

    with _connect() as conn:
        if not tenant_exists(conn, tenant):
            _fail(f"unknown tenant {tenant!r}: add it first with `buurtsignaal tenants add`")
        expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
        key = create_key(conn, tenant, label=label, expires_at=expires)
    typer.echo(key)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="adv_medewerker | coordinator | beheerder")],
    region: Annotated[str, typer.Option(help="ADV region (adv_medewerker)")] = "",
    municipality: Annotated[list[str] | None, typer.Option(help="CBS code (coordinator)")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
) -> None:
    """Add or update a review-UI account."""
    from buurtsignaal.adapters.users import add_user

    with _connect() as conn:
        try:
            add_user(conn, username, password, role, adv_region=region or None,
                     municipalities=municipality or [])
        except ValueError as exc:
            _fail(str(exc))
    typer.echo(f"user {username} ({role}) saved")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable an account and end its sessions."""
    from buurtsignaal.adapters.users import disable_user

    with _connect() as conn:
        if not disable_user(conn, username):
            _fail(f"no user {username!r}")
    typer.echo(f"user {username} disabled")


@app.command()
def send(
    file: Annotated[Path, typer.Argument(help="JSONL, one note per line (note.v1)")],
    api_key: Annotated[str, typer.Option(envvar="BUURTSIGNAAL_API_KEY")],
    url: Annotated[str, typer.Option()] = "",
    batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 500,
) -> None:
    """Send a JSONL file of notes to the ingest API, in batches."""
    import httpx

    settings = get_settings()
    url = url or f"http://{settings.host}:{settings.ingest_port}"
    notes = []
    for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            notes.append(json.loads(line))
        except json.JSONDecodeError as exc:
            _fail(f"{file}:{lineno}: not valid JSON ({exc.msg})")
    accepted = duplicates = 0
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {api_key}"}) as client:
        for start in range(0, len(notes), batch_size):
            response = client.post("/v1/notes", json={"notes": notes[start:start + batch_size]})
            if response.status_code != 202:
                typer.echo(json.dumps(response.json(), indent=2, ensure_ascii=False), err=True)
                _fail(f"batch starting at line {start + 1} rejected with {response.status_code}")
            body = response.json()
            accepted += len(body["accepted"])
            duplicates += len(body["duplicates"])
    typer.echo(f"accepted {accepted}, duplicates {duplicates}")


@dev_app.command("up")
def dev_up(
    reset: Annotated[bool, typer.Option(help="delete the dev database first")] = False,
) -> None:
    """Start PostgreSQL, the broker, the three services and load demo data (Ctrl-C stops all)."""
    from buurtsignaal.devrun import run_dev_stack

    sys.exit(run_dev_stack(reset=reset))


def _register_command_groups() -> None:
    """Commands that live next to the code they drive (detector, early warning, privacy, reports)."""
    from buurtsignaal.privacy.cli import register as privacy
    from buurtsignaal.reporting.cli import register as reports
    from services.detector.cli import register as detector
    from services.detector.early_warning.cli import register as early_warning

    for register in (detector, early_warning, privacy, reports):
        register(app)


_register_command_groups()

if __name__ == "__main__":
    app()
