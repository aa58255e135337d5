# syntax=docker/dockerfile:1
# Image of the notifications service.
# Build from the repository root (the context must hold uv.lock and the workspace):
#   docker build -f deploy/docker/notifications.Dockerfile -t customer-portal/notifications .
# Runs as uid 10001 on a read-only root file system (mount a writable /tmp), serves
# /health/live, /health/ready and /metrics on port 8107; Kubernetes probes: deploy/k8s/base/notifications.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# 1) third-party dependencies only, from the lock file: cached until uv.lock changes
COPY pyproject.toml uv.lock ./
COPY chassis/pyproject.toml chassis/
COPY contracts/events/pyproject.toml contracts/events/
COPY services/notifications/pyproject.toml services/notifications/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package portal-notifications
# 2) the workspace packages themselves, installed as ordinary (non-editable) wheels
COPY chassis/src chassis/src
COPY contracts/events/src contracts/events/src
COPY services/notifications/src services/notifications/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package portal-notifications

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin portal
# only the virtualenv: no uv, no sources, no build tools
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 8107
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8107/health/live', timeout=2)"]
CMD ["uvicorn", "--factory", "portal_notifications.main:app", "--host", "0.0.0.0", "--port", "8107", "--no-access-log", "--timeout-graceful-shutdown", "20"]
