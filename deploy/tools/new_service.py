"""Scaffold the deploy files of a new service under services/<name>/ (run once, then review).

    uv run python deploy/tools/new_service.py billing 8103

Writes deploy/k8s/base/<name>/ (ServiceAccount, ConfigMap, Deployment, Service, HPA, PDB,
NetworkPolicy, KafkaUser that writes only <name>.events), the dev and prod overlay leaves,
deploy/docker/<name>.Dockerfile (+ .dockerignore), adds the leaf to both overlays, a
MongoDB user with readWrite on portal_<name>, a compose service, and (for a context not
declared yet) the <name>.events and .dlq topics, which the projector may read. Then edit by hand
what only you know: topics the service consumes (KafkaUser ACLs: Read on the topic, Read on
its consumer-group prefix, Write on <topic>.dlq), extra Secrets, extra settings.
`uv run python deploy/tools/check.py` tells what is still missing.
"""

# ruff: noqa: E501  (the Dockerfile template keeps its long CMD lines)
from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MARKER = "new_service.py adds"

KUSTOMIZATION = """\
# The {name} service on its own: everything it needs except the shared Kafka and MongoDB
# clusters (base/kafka, base/mongodb) and the Secrets created outside git (docs/operations.md).
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - pairs:
      app.kubernetes.io/part-of: customer-portal
    includeTemplates: true
resources:
  - serviceaccount.yaml
  - deployment.yaml
  - service.yaml
  - hpa.yaml
  - pdb.yaml
  - networkpolicy.yaml
  - podmonitor.yaml
  - kafkauser.yaml
configMapGenerator:
  - name: {name}-config
    options:
      labels:
        app.kubernetes.io/name: {name}
    literals:
      - KAFKA_BOOTSTRAP_SERVERS=portal-kafka-kafka-bootstrap:9093
      - KAFKA_SECURITY_PROTOCOL=SASL_SSL
      - KAFKA_SASL_MECHANISM=SCRAM-SHA-512
      - KAFKA_SASL_USERNAME=portal-{name}
      - KAFKA_SSL_CAFILE=/etc/portal/kafka-ca/ca.crt
      - PORTAL_JWT_JWKS_URL=http://identity:8102/v1/auth/jwks
      - {prefix}_MONGODB_DATABASE=portal_{name}
      - {prefix}_LOG_LEVEL=INFO
      - {prefix}_LOG_JSON=true
"""

SERVICEACCOUNT = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
automountServiceAccountToken: false
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/component: service
spec:
  replicas: 2
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
        app.kubernetes.io/component: service
        portal.io/tier: app
        portal.io/kafka-client: "true"
        portal.io/mongodb-client: "true"
        portal.io/identity-client: "true"
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{port}"
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: {name}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {name}
          image: portal-{name}
          imagePullPolicy: IfNotPresent
          # the image's CMD: uvicorn --factory portal_{name}.main:app --host 0.0.0.0 --port {port}
          ports:
            - name: http
              containerPort: {port}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {name}-config
          env:
            - name: MONGODB_URI
              valueFrom:
                secretKeyRef:
                  name: portal-mongodb-{name} # written by the MongoDB operator
                  key: connectionString.standard
            - name: KAFKA_SASL_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: portal-{name} # written by the Strimzi user operator (KafkaUser)
                  key: password
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            periodSeconds: 5
            timeoutSeconds: 4
            failureThreshold: 3
          lifecycle:
            preStop:
              sleep:
                seconds: 5
          resources:
            requests:
              cpu: 100m
              memory: 192Mi
            limits:
              cpu: "1"
              memory: 512Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            privileged: false
            capabilities:
              drop:
                - ALL
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: kafka-ca
              mountPath: /etc/portal/kafka-ca
              readOnly: true
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        - name: kafka-ca
          secret:
            secretName: portal-kafka-cluster-ca-cert # written by Strimzi
            items:
              - key: ca.crt
                path: ca.crt
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: {port}
      targetPort: http
      protocol: TCP
"""

HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
"""

PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
"""

NETWORKPOLICY = """\
# In: only the gateway (and Prometheus) on the HTTP port.
# Out: only identity's JWKS, Kafka, MongoDB and DNS.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {name}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: gateway
      ports:
        - port: {port}
          protocol: TCP
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: monitoring
          podSelector:
            matchLabels:
              app.kubernetes.io/name: prometheus
      ports:
        - port: {port}
          protocol: TCP
  egress:
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: identity
      ports:
        - port: 8102
          protocol: TCP
    - to:
        - podSelector:
            matchLabels:
              strimzi.io/cluster: portal-kafka
              strimzi.io/broker-role: "true"
      ports:
        - port: 9093
          protocol: TCP
    - to:
        - podSelector:
            matchLabels:
              app: portal-mongodb-svc
      ports:
        - port: 27017
          protocol: TCP
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
"""

PODMONITOR = """\
# Prometheus (prometheus-operator) scrapes /metrics of every {name} pod on its "http" port.
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  podMetricsEndpoints:
    - port: http
      path: /metrics
      interval: 30s
"""

KAFKAUSER = """\
# {name} writes only {name}.events. For each topic it consumes add: Read on the topic,
# Read on its consumer-group prefix ({name}-), Write on <topic>.dlq.
apiVersion: kafka.strimzi.io/v1
kind: KafkaUser
metadata:
  name: portal-{name}
  labels:
    app.kubernetes.io/name: {name}
    strimzi.io/cluster: portal-kafka
spec:
  authentication:
    type: scram-sha-512
  authorization:
    type: simple
    acls:
      - resource:
          type: topic
          name: {name}.events
          patternType: literal
        operations: [Write, Describe]
"""

LEAF = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {namespace}
resources:
  - ../../../base/{name}
components:
  - ../../../components/{env}
images:
  - name: portal-{name}
    newName: registry.example.com/customer-portal/{name}
    newTag: "{tag}"
"""

MONGODB_USER = """\
    # the {name} service's event store and read models
    - name: {name}
      db: admin
      passwordSecretRef:
        name: portal-mongodb-{name}-password
      roles:
        - name: readWrite
          db: portal_{name}
      scramCredentialsSecretName: portal-mongodb-{name}-scram
      connectionStringSecretName: portal-mongodb-{name}
"""

COMPOSE = """\
  {name}:
    <<: *app
    build:
      context: ..
      dockerfile: deploy/docker/{name}.Dockerfile
    image: customer-portal/{name}:dev
    environment:
      <<: *env
      {prefix}_MONGODB_DATABASE: portal_{name}
    expose:
      - "{port}"

"""

TOPIC = """\
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata:
  name: {topic}
  labels:
    strimzi.io/cluster: portal-kafka
    portal.io/context: {name}
  annotations:
    portal.io/description: {what}
spec:
  topicName: {topic}
  partitions: {partitions}
  replicas: 3
  config:
    retention.ms: -1
    retention.bytes: -1
    cleanup.policy: delete
    min.insync.replicas: 2
    message.timestamp.type: CreateTime
"""

PROJECTOR_ACLS = """\
      - resource:
          type: topic
          name: {name}.events
          patternType: literal
        operations: [Read, Describe]
      - resource:
          type: topic
          name: {name}.events.dlq
          patternType: literal
        operations: [Write, Describe]
"""

ENVS = {"dev": ("portal-dev", "dev"), "prod": ("portal", "0.1.0")}


def dockerfile(name: str, package: str, members: list[str], app: str, port: int, what: str) -> str:
    dirs = ["chassis", "contracts/events", *members]
    copy_pyproject = "\n".join(f"COPY {d}/pyproject.toml {d}/" for d in dirs)
    copy_src = "\n".join(f"COPY {d}/src {d}/src" for d in dirs)
    return f"""# syntax=docker/dockerfile:1
# Image of {what}.
# Build from the repository root (the context must hold uv.lock and the workspace):
#   docker build -f deploy/docker/{name}.Dockerfile -t customer-portal/{name} .
# Runs as uid 10001 on a read-only root file system (mount a writable /tmp), serves
# /health/live, /health/ready and /metrics on port {port}; Kubernetes probes: deploy/k8s/base/{name}.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${{PYTHON_IMAGE}} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${{UV_VERSION}}"
ENV UV_COMPILE_BYTECODE=1 \\
    UV_LINK_MODE=copy \\
    UV_PYTHON_DOWNLOADS=never \\
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# 1) third-party dependencies only, from the lock file: cached until uv.lock changes
COPY pyproject.toml uv.lock ./
{copy_pyproject}
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --frozen --no-dev --no-install-workspace --package {package}
# 2) the workspace packages themselves, installed as ordinary (non-editable) wheels
{copy_src}
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --frozen --no-dev --no-editable --package {package}

FROM ${{PYTHON_IMAGE}} AS runtime
RUN groupadd --system --gid 10001 portal \\
    && useradd --system --uid 10001 --gid portal --no-create-home --home-dir /nonexistent \\
       --shell /usr/sbin/nologin portal
# only the virtualenv: no uv, no sources, no build tools
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE {port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \\
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/health/live', timeout=2)"]
CMD ["uvicorn", "--factory", "{app}", "--host", "0.0.0.0", "--port", "{port}", "--no-access-log", "--timeout-graceful-shutdown", "20"]
"""


def dockerignore(name: str, members: list[str]) -> str:
    dirs = ["chassis", "contracts/events", *members]
    allowed = "".join(f"!{d}/pyproject.toml\n!{d}/src\n" for d in dirs)
    return (
        "# BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile: send only what\n"
        f"# deploy/docker/{name}.Dockerfile copies (the context is the whole repository).\n"
        f"*\n!pyproject.toml\n!uv.lock\n{allowed}**/__pycache__\n**/*.pyc\n"
    )


def write(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        print(f"kept     {path.relative_to(ROOT)} (exists; --force overwrites)")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote    {path.relative_to(ROOT)}")


def insert_before_marker(path: Path, block: str, already: str) -> None:
    text = path.read_text()
    if already in text:
        print(f"kept     {path.relative_to(ROOT)} (already has it)")
        return
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if MARKER in line:
            lines.insert(i, block)
            path.write_text("".join(lines))
            print(f"updated  {path.relative_to(ROOT)}")
            return
    raise SystemExit(f"{path}: no line with '{MARKER}' to insert before")


def add_context(name: str) -> None:
    """The context's topic and DLQ, created by compose too; the projector reads them."""
    topics = K8S / "base" / "kafka" / "topics.yaml"
    text = topics.read_text()
    if f"name: {name}.events\n" not in text:
        for topic, partitions, what in (
            (f"{name}.events", 6, f"Domain events of the {name} context"),
            (f"{name}.events.dlq", 1, f"Dead letters of {name}.events consumers"),
        ):
            text = (
                text.rstrip("\n")
                + "\n"
                + TOPIC.format(topic=topic, name=name, partitions=partitions, what=what)
            )
        topics.write_text(text)
        print(f"updated  {topics.relative_to(ROOT)}")
    projector = K8S / "base" / "projector" / "kafkauser.yaml"
    text = projector.read_text()
    if f"name: {name}.events\n" not in text:
        projector.write_text(text.rstrip("\n") + "\n" + PROJECTOR_ACLS.format(name=name))
        print(f"updated  {projector.relative_to(ROOT)}")
    compose = ROOT / "deploy" / "compose.yaml"
    text = compose.read_text()
    loop = re.search(r"(?m)^(\s*for ctx in )([a-z0-9 ]+)(; do)$", text)
    if loop and name not in loop.group(2).split():
        text = text[: loop.end(2)] + f" {name}" + text[loop.end(2) :]
        compose.write_text(text)
        print(f"updated  {compose.relative_to(ROOT)} (kafka-topics)")


def scaffold(name: str, port: int, force: bool = False) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9]*", name):
        raise SystemExit("the service name must be lower-case letters and digits")
    if not 8100 <= port <= 8189:
        raise SystemExit("services listen on 8100-8189 (the gateway may reach only that range)")
    values = {"name": name, "port": port, "prefix": name.upper()}
    base = K8S / "base" / name
    for filename, template in (
        ("kustomization.yaml", KUSTOMIZATION),
        ("serviceaccount.yaml", SERVICEACCOUNT),
        ("deployment.yaml", DEPLOYMENT),
        ("service.yaml", SERVICE),
        ("hpa.yaml", HPA),
        ("pdb.yaml", PDB),
        ("networkpolicy.yaml", NETWORKPOLICY),
        ("podmonitor.yaml", PODMONITOR),
        ("kafkauser.yaml", KAFKAUSER),
    ):
        write(base / filename, template.format(**values), force)
    for env, (namespace, tag) in ENVS.items():
        leaf = LEAF.format(namespace=namespace, env=env, tag=tag, **values)
        write(K8S / "overlays" / env / name / "kustomization.yaml", leaf, force)
        top = K8S / "overlays" / env / "kustomization.yaml"
        text = top.read_text()
        if not re.search(rf"(?m)^\s*-\s*{name}\s*$", text):
            top.write_text(text.rstrip("\n") + f"\n  - {name}\n")
            print(f"updated  {top.relative_to(ROOT)}")
    docker = ROOT / "deploy" / "docker"
    members = [f"services/{name}"]
    what = f"the {name} service"
    text = dockerfile(name, f"portal-{name}", members, f"portal_{name}.main:app", port, what)
    write(docker / f"{name}.Dockerfile", text, force)
    write(docker / f"{name}.Dockerfile.dockerignore", dockerignore(name, members), force)
    insert_before_marker(
        K8S / "base" / "mongodb" / "mongodb.yaml",
        MONGODB_USER.format(**values),
        f"- name: {name}\n",
    )
    insert_before_marker(
        ROOT / "deploy" / "compose.yaml", COMPOSE.format(**values), f"\n  {name}:\n"
    )
    add_context(name)


def main() -> None:
    parser = argparse.ArgumentParser(description="Scaffold the deploy files of a new service.")
    parser.add_argument("name", help="the directory name under services/, e.g. billing")
    parser.add_argument("port", type=int, help="its internal HTTP port (8100-8189)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args()
    scaffold(args.name, args.port, args.force)


if __name__ == "__main__":
    main()
