"""Model versions on disk and the active one in PostgreSQL.

On disk: `<registry>/<version>/` (manifest.json, weights.npz, metrics.json, evaluation.json after
`buurtsignaal evaluate --candidate`), plus `<registry>/current/`, the shipped default. In
PostgreSQL: `model_activations`, append-only. Replaying it gives the active version: `activate`
puts a version on top, `rollback` undoes the latest activation that is still in force; with
nothing activated, the shipped default is active.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,100}$")
DEFAULT_DIR = "current"
EVALUATION_FILE = "evaluation.json"


class RegistryError(ValueError):
    """A refused activation or rollback; the message is Dutch (shown to the admin)."""


@dataclass(frozen=True)
class ModelInfo:
    version: str
    path: Path
    shipped: bool
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    evaluation: dict[str, Any] | None


@dataclass(frozen=True)
class Activation:
    id: int
    at: datetime
    actor: str
    action: str
    version: str
    previous_version: str
    reason: str


def _json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _info(path: Path, shipped: bool) -> ModelInfo | None:
    manifest = _json(path / "manifest.json")
    if manifest is None or "model_version" not in manifest:
        return None
    version = str(manifest["model_version"])
    if not shipped and path.name != version:
        return None  # a copied or renamed directory: not a registered version
    return ModelInfo(version, path, shipped, manifest, _json(path / "metrics.json") or {},
                     _json(path / EVALUATION_FILE))


def list_models(registry: Path) -> list[ModelInfo]:
    """The shipped default first, then the registered versions, newest training first."""
    out = []
    default = _info(registry / DEFAULT_DIR, True)
    if default:
        out.append(default)
    others = [_info(p, False) for p in sorted(registry.iterdir()) if p.is_dir()
              and p.name != DEFAULT_DIR and not p.name.startswith(".")] if registry.is_dir() else []
    found = [m for m in others if m is not None]
    found.sort(key=lambda m: str(m.manifest.get("trained_at", "")), reverse=True)
    return out + found


def find(registry: Path, version: str) -> ModelInfo | None:
    if not VERSION_RE.match(version):
        return None
    return next((m for m in list_models(registry) if m.version == version), None)


def default_version(registry: Path) -> str:
    info = _info(registry / DEFAULT_DIR, True)
    return info.version if info else "detector-rules"


# ---- the active version (pure replay) ----------------------------------------------------------
def stack(history: list[Activation], default: str) -> list[str]:
    versions = [default]
    for row in history:
        if row.action == "activate":
            versions.append(row.version)
        elif len(versions) > 1:
            versions.pop()
    return versions


def active_version(history: list[Activation], default: str) -> str:
    return stack(history, default)[-1]


# ---- PostgreSQL ------------------------------------------------------------------------------
def history(conn: psycopg.Connection) -> list[Activation]:
    rows = conn.execute("SELECT * FROM model_activations ORDER BY id").fetchall()
    return [Activation(r["id"], r["at"], r["actor"], r["action"], r["version"],
                       r["previous_version"], r["reason"]) for r in rows]


def _append(conn: psycopg.Connection, actor: str, action: str, version: str, previous: str,
            reason: str) -> None:
    conn.execute("INSERT INTO model_activations (actor, action, version, previous_version, reason) "
                 "VALUES (%s, %s, %s, %s, %s)", (actor, action, version, previous, reason))


def _lock(conn: psycopg.Connection) -> list[Activation]:
    # One admin action at a time: the history must not change between reading and appending.
    conn.execute("LOCK TABLE model_activations IN SHARE ROW EXCLUSIVE MODE")
    return history(conn)


def activate(conn: psycopg.Connection, registry: Path, actor: str, version: str, reason: str,
             *, require_evaluation: bool = True) -> str:
    """Make `version` active. Refused for an unknown version, the version already active, or
    (unless it is the shipped default) a version without `evaluate --candidate` results."""
    reason = reason.strip()
    if not reason:
        raise RegistryError("Geef een reden op.")
    info = find(registry, version)
    if info is None:
        raise RegistryError(f"Onbekende modelversie '{version}'.")
    if require_evaluation and not info.shipped and info.evaluation is None:
        raise RegistryError("Dit model is nog niet geëvalueerd: draai eerst "
                            f"`buurtsignaal evaluate --candidate {version}`.")
    rows = _lock(conn)
    current = active_version(rows, default_version(registry))
    if current == version:
        raise RegistryError("Deze versie is al actief.")
    _append(conn, actor, "activate", version, current, reason)
    return current


def rollback(conn: psycopg.Connection, registry: Path, actor: str, reason: str) -> tuple[str, str]:
    """Undo the latest activation still in force: (version rolled back, version active now)."""
    reason = reason.strip()
    if not reason:
        raise RegistryError("Geef een reden op.")
    rows = _lock(conn)
    versions = stack(rows, default_version(registry))
    if len(versions) < 2:
        raise RegistryError("Er is geen activering om terug te draaien: het meegeleverde model is actief.")
    _append(conn, actor, "rollback", versions[-2], versions[-1], reason)
    return versions[-1], versions[-2]


def resolve(conn: psycopg.Connection, registry: Path) -> ModelInfo | None:
    """The active model's directory; None when the active version is missing on this machine."""
    return find(registry, active_version(history(conn), default_version(registry)))
