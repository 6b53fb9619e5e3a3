"""Fictional test notes and helpers shared by integration and e2e tests."""

from __future__ import annotations

import uuid
from typing import Any

FLAGGED_TEXT = (
    "Mevr. op nr. 14 is weer uitgescholden voor vuile makaak en kankermoslim, buurman riep dat "
    "ze terug moet naar haar eigen land en dreigde haar huis in brand te steken."
)
NEUTRAL_TEXT = "Lekkage in de badkamer van nr. 9, loodgieter ingepland voor donderdag."


def note(text: str = NEUTRAL_TEXT, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": f"t-{uuid.uuid4().hex[:12]}",
        "occurred_at": "2026-11-01T10:00:00+01:00",
        "text": text,
        "author_role": "huismeester",
        "address": {"postcode": "3531 AB", "house_number": 14},
        "municipality_code": "GM0344",
    }
    data.update(overrides)
    return data
