# syntax=docker/dockerfile:1
# Image of the web portal: the Vite build of web/ served by an unprivileged nginx, which also
# proxies /api/, /schema, /health and /.well-known/ to the gateway Service (gateway:8000) so
# the browser stays on one origin (deploy/docker/web.nginx.conf).
# Build from the repository root:
#   docker build -f deploy/docker/web.Dockerfile -t customer-portal/web .
# Runs as uid 101 on a read-only root file system (mount a writable /tmp), serves the app and
# /healthz on port 8080; Kubernetes probes: deploy/k8s/base/web.

ARG NODE_IMAGE=node:20.19-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.28.0-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src/web
# 1) dependencies only, exactly as locked: cached until package-lock.json changes
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
# 2) the sources, then the production build (type check, Vite, bundle budget)
COPY web/ ./
RUN npm run build

FROM ${NGINX_IMAGE} AS runtime
# only the built files and the config: no node, no sources, no build tools
COPY --chown=root:root deploy/docker/web.nginx.conf /etc/nginx/nginx.conf
COPY --from=build --chown=root:root /src/web/dist /usr/share/nginx/html
USER 101:101
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
CMD ["nginx", "-g", "daemon off;"]
