# syntax=docker/dockerfile:1
#
# Buurtsignaal service image. One image runs every service; the command picks which:
#   buurtsignaal serve ingest|detector|early-warning|notifier, buurtsignaal migrate,
#   buurtsignaal topics create
#
# No secrets are baked in: BUURTSIGNAAL_KEY_SECRET, BUURTSIGNAAL_SESSION_SECRET,
# BUURTSIGNAAL_ENCRYPTION_KEYS and the database password come from the runtime environment
# (see docker-compose.yml). Build: docker build -t buurtsignaal:local .

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# Build stage: install the project and its dependencies into a self-contained virtualenv.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

# Bytecode is compiled here on purpose: at runtime the venv is read-only for the service user.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY buurtsignaal/ ./buurtsignaal/
COPY services/ ./services/
RUN pip install . \
    && python -c "import buurtsignaal, services" \
    && test -x /opt/venv/bin/buurtsignaal

# ---------------------------------------------------------------------------------------------
# Runtime stage: slim base + the virtualenv + read-only data (models, schemas, config).
# Demo mode is off by default: without real secrets the services refuse to start.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="buurtsignaal" \
      org.opencontainers.image.description="Signals of discriminatory harassment in housing-corporation notes, routed to ADV review" \
      org.opencontainers.image.licenses="EUPL-1.2"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BUURTSIGNAAL_HOME=/app \
    BUURTSIGNAAL_HOST=0.0.0.0 \
    BUURTSIGNAAL_DEMO_MODE=false \
    BUURTSIGNAAL_HEALTHCHECK_PORT=8001

# Unprivileged user with a fixed uid/gid (predictable volume permissions, runAsNonRoot in k8s).
RUN groupadd --system --gid 10001 buurtsignaal \
    && useradd --system --uid 10001 --gid buurtsignaal \
        --home-dir /home/buurtsignaal --create-home --shell /usr/sbin/nologin buurtsignaal

COPY --from=build /opt/venv /opt/venv

# Code and data stay owned by root: the service user can read but not modify them.
WORKDIR /app
COPY models/ ./models/
COPY schemas/ ./schemas/
COPY config/ ./config/

USER 10001:10001

EXPOSE 8001 8002 8003 8004

# Probes /healthz of the service in this container. The image runs any of the services, so
# the port comes from BUURTSIGNAAL_HEALTHCHECK_PORT (read only here, not by the application):
# 8001 ingest (the default CMD), 8002 detector, 8003 notifier, 8004 early warning;
# docker-compose.yml sets it per service. Stdlib only; a connection error or non-2xx status
# exits non-zero.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('BUURTSIGNAAL_HEALTHCHECK_PORT', '8001'); urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=4)"]

CMD ["buurtsignaal", "serve", "ingest"]
