"""Structured JSON logs (structlog over stdlib logging). Log ids and counts, never note text,
names or addresses; the correlation id (the note id) follows a note from ingest to case."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "INFO", json: bool = True, service: str = "buurtsignaal") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # Tracebacks as a string field (no local variables: they may hold note text).
                structlog.processors.format_exc_info,
                lambda _l, _m, ev: {**ev, "service": service},
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Client libraries are chatty at INFO and may log message contents at DEBUG.
    for noisy in ("kafka", "aiokafka", "faust", "mode", "uvicorn.access", "httpx", "yoyo", "spacy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # spaCy attaches its own plain-text handler; its records go through ours (JSON) instead.
    logging.getLogger("spacy").handlers.clear()


def get(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
