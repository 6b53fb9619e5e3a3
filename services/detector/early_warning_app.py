"""The early warning as its own faust process (decision 0037): notes.scored -> household and
area tables -> alerts.raised, without the scoring path in the same process.

Its own app id and consumer group (`buurtsignaal-early-warning`); the tables' changelog topics
are named in Settings, so the state is the same whichever process holds it. Run the detector
with BUURTSIGNAAL_DETECTOR_EARLY_WARNING=false next to it, or every note is counted by both
(harmless: alerts have deterministic ids and the notifier upserts them, but wasted work).
Entry point: `buurtsignaal serve early-warning`.
"""

from __future__ import annotations

from typing import Any

import faust

from buurtsignaal.config import Settings
from services.detector.app import base_app
from services.detector.early_warning.streaming import attach


def create_app(settings: Settings) -> faust.App:
    # No linger: the early warning waits for each alert and forwarded area note to be
    # acknowledged before it writes its state (decision 0042), so a linger would be paid per
    # flagged note, in series.
    app = base_app(settings, "buurtsignaal-early-warning", settings.early_warning_port, linger=0.0)
    attach(app, settings)

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    return app
