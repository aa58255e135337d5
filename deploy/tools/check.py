"""Static checks of everything under deploy/ (no cluster, no Docker engine needed).

    uv run python deploy/tools/check.py          # what `make deploy-check` runs
    uv run pytest tests/deploy                   # the same checks, one test each

- every deployable (each services/<name>, the gateway, the projector, the web portal) has a
  kustomize base,
  a leaf in every overlay, a Dockerfile and a compose service: a new service without them
  fails here;
- `kustomize build` of every overlay (and of each of its leaves) succeeds;
- every rendered object validates (kubeconform -strict) against the schemas vendored in
  deploy/k8s/schemas (Kubernetes, Strimzi, MongoDB Community operator,
  prometheus-operator), none is skipped;
- every Deployment has probes, requests and limits, a non-root read-only securityContext,
  a Service, an HPA, a PodDisruptionBudget and a NetworkPolicy; the NetworkPolicies, Kafka
  topics and users, and MongoDB users follow the rules of docs/operations.md;
- the Dockerfiles are multi-stage uv builds from the lock file running as a non-root user;
  the web portal's is a multi-stage `npm ci` build from web/package-lock.json whose final
  stage is an unprivileged nginx (pinned) with deploy/docker/web.nginx.conf, no build tools;
- deploy/compose.yaml parses and names Kafka, MongoDB and every deployable;
- every Deployment sets only the environment variables its settings read: its own prefix
  (WALLET_, NOTIFICATIONS_...) and aliases, plus the chassis' shared KAFKA_*, MONGODB_URI
  and PORTAL_JWT_*;
- every Deployment has a PodMonitor scraping /metrics on the port its app serves them on,
  which its NetworkPolicy opens to Prometheus; the PrometheusRule has the alerts
  REQUIRED_ALERTS names; the Grafana dashboard ConfigMap carries the sidecar's label; and
  every metric name in an alert's or a dashboard panel's PromQL is one the code registers
  (chassis, gateway and services, plus the HTTP metrics of Litestar's Prometheus middleware).

kustomize and kubeconform are built and cached by deploy/tools/k8s-tools.sh.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "prod")
SHARED_LEAVES = ("platform", "kafka", "mongodb")
CONTEXTS = ("identity", "wallet", "billing", "tickets", "crm", "repairs", "notifications")
"""Every bounded context has a topic, whether or not its service has landed yet."""
KAFKA_CLUSTER = "portal-kafka"
KAFKA_PORT = 9093
MONGODB_POD_LABELS = {"app": "portal-mongodb-svc"}
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
PROMETHEUS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
SERVICE_PORTS = (8100, 8189)
"""Internal HTTP ports of the services (the gateway may reach this range only)."""
IDENTITY_PORT = 8102
GATEWAY_PORT = 8000
METRICS_PORTS = {"gateway": 8191}
"""Deployables serving /metrics on a port of their own (the gateway: not on the public one)."""
REQUIRED_ALERTS = {
    "PortalProjectionLagHigh",
    "PortalOutboxPendingGrowing",
    "PortalEventDeadLettered",
    "PortalHttp5xxRatioHigh",
    "PortalRelayLeaderMissing",
}
"""Alerts docs/operations.md describes; the PrometheusRule must define each."""
DASHBOARD_LABEL = ("grafana_dashboard", "1")
"""The label the Grafana dashboard sidecar (kube-prometheus-stack) looks for."""
MAILERS = {"notifications"}
"""Deployables that send mail: they alone reach an SMTP relay outside the cluster."""
SMTP_PORTS = {465, 587}
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
SERVICE_CALLS = {("billing", "wallet"), ("tickets", "billing")}
"""The only HTTP calls between services (caller, callee): billing debits and credits the
wallet; tickets checks a related order or contract code with billing."""
"""identity serves the JWKS every token-verifying deployable fetches."""


@dataclass(frozen=True)
class Deployable:
    name: str
    package: str
    app: str
    port: int
    database: str
    is_service: bool
    static: bool = False
    """Static files behind nginx (the web portal): no Python, Kafka, MongoDB or metrics."""

    @property
    def topic(self) -> str | None:
        return f"{self.name}.events" if self.is_service else None


def deployables(root: Path = ROOT) -> list[Deployable]:
    """Each services/<name> package, then the gateway, the projector and the web portal."""
    found = []
    for pyproject in sorted((root / "services").glob("*/pyproject.toml")):
        name = pyproject.parent.name
        settings = pyproject.parent / "src" / f"portal_{name}" / "settings.py"
        match = (
            re.search(r"^\s*port:\s*int\s*=\s*(\d+)", settings.read_text(), re.M)
            if (settings.exists())
            else None
        )
        found.append(
            Deployable(
                name=name,
                package=f"portal-{name}",
                app=f"portal_{name}.main:app",
                port=int(match.group(1)) if match else 0,
                database=f"portal_{name}",
                is_service=True,
            )
        )
    found.append(
        Deployable(
            "gateway", "portal-gateway", "portal_gateway.main:app", 8000, "portal_gateway", False
        )
    )
    found.append(
        Deployable(
            "projector",
            "portal-gateway",
            "portal_gateway.projector:app",
            8190,
            "portal_gateway",
            False,
        )
    )
    found.append(WEB)
    return found


WEB = Deployable("web", "portal-web", "web/dist", 8080, "", False, static=True)
"""The web portal: web/ built by Vite, served by nginx, which proxies the API to the gateway."""
STATIC_PROBE = "/healthz"
"""nginx's own answer (deploy/docker/web.nginx.conf): /health/* is the gateway's, proxied."""


def contexts(root: Path = ROOT) -> list[str]:
    extra = [d.name for d in deployables(root) if d.is_service and d.name not in CONTEXTS]
    return [*CONTEXTS, *extra]


# --- tools and rendering -----------------------------------------------------------------


def tool(name: str, root: Path = ROOT) -> str:
    """Path of kustomize or kubeconform, built on first use (deploy/tools/k8s-tools.sh)."""
    result = subprocess.run(
        ["bash", str(root / "deploy" / "tools" / "k8s-tools.sh"), name],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not build {name}:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]


def overlay_dirs(root: Path = ROOT) -> list[Path]:
    """Every overlay and every leaf of an overlay (each is applied on its own)."""
    base = root / "deploy" / "k8s" / "overlays"
    return sorted(p.parent for p in base.rglob("kustomization.yaml"))


def build(kustomize: str, directory: Path) -> str:
    result = subprocess.run([kustomize, "build", str(directory)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kustomize build {directory} failed:\n{result.stderr}")
    return result.stdout


def load(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def validate(kubeconform: str, files: Iterable[Path], root: Path = ROOT) -> list[str]:
    """kubeconform -strict against the vendored schemas only; a kind without one fails."""
    schemas = root / "deploy" / "k8s" / "schemas"
    builtin = "kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    crd = "crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    result = subprocess.run(
        [
            kubeconform,
            "-strict",
            "-summary",
            "-schema-location",
            f"{schemas}/{builtin}",
            "-schema-location",
            f"{schemas}/{crd}",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return []


# --- helpers --------------------------------------------------------------------------------


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def name_of(doc: dict[str, Any]) -> str:
    return str(doc.get("metadata", {}).get("name", "?"))


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """matchLabels-only selectors (the only kind used here)."""
    if not selector:
        return True
    if selector.get("matchExpressions"):
        return False
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"].get("metadata", {}).get("labels", {}))


# --- coverage: a base, overlay leaves, a Dockerfile and a compose service per deployable ----


def coverage_problems(root: Path = ROOT) -> list[str]:
    problems = []
    k8s = root / "deploy" / "k8s"
    compose = compose_services(root)
    for d in deployables(root):
        if not (k8s / "base" / d.name / "kustomization.yaml").is_file():
            problems.append(
                f"{d.name}: no kustomize base deploy/k8s/base/{d.name}/kustomization.yaml"
            )
        for env in ENVS:
            leaf = k8s / "overlays" / env / d.name / "kustomization.yaml"
            if not leaf.is_file():
                problems.append(f"{d.name}: no overlay leaf deploy/k8s/overlays/{env}/{d.name}/")
            top = k8s / "overlays" / env / "kustomization.yaml"
            listed = yaml.safe_load(top.read_text()).get("resources", []) if top.is_file() else []
            if d.name not in [str(r).strip("./") for r in listed]:
                problems.append(
                    f"{d.name}: not listed in deploy/k8s/overlays/{env}/kustomization.yaml"
                )
        if not (root / "deploy" / "docker" / f"{d.name}.Dockerfile").is_file():
            problems.append(f"{d.name}: no Dockerfile deploy/docker/{d.name}.Dockerfile")
        if d.name not in compose:
            problems.append(f"{d.name}: no service in deploy/compose.yaml")
        if d.is_service and not d.port:
            problems.append(f"{d.name}: no `port: int = ...` default in its settings.py")
    return problems


# --- rendered objects ---------------------------------------------------------------------


def deployment_problems(docs: list[dict[str, Any]], root: Path = ROOT) -> list[str]:
    problems = []
    static = {d.name for d in deployables(root) if d.static}
    accounts = {name_of(d) for d in of_kind(docs, "ServiceAccount")}
    for dep in of_kind(docs, "Deployment"):
        where = f"Deployment {name_of(dep)}"
        pod = dep["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            problems.append(f"{where}: pod securityContext.runAsNonRoot is not true")
        if psc.get("runAsUser", 1) == 0:
            problems.append(f"{where}: runs as uid 0")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile is not RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        account = pod.get("serviceAccountName")
        if not account or account not in accounts:
            problems.append(f"{where}: ServiceAccount {account!r} is not rendered beside it")
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            problems.append(f"{where}: uses a host namespace")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod.get("containers", []):
            cwhere = f"{where} container {c['name']}"
            image = str(c.get("image", ""))
            if not image or image.endswith(":latest"):
                problems.append(f"{cwhere}: image {image!r} is not pinned")
            ports = {p.get("name") for p in c.get("ports", [])} | {
                p.get("containerPort") for p in c.get("ports", [])
            }
            for probe, path in (
                ("livenessProbe", STATIC_PROBE if name_of(dep) in static else "/health/live"),
                ("readinessProbe", STATIC_PROBE if name_of(dep) in static else "/health/ready"),
            ):
                get = c.get(probe, {}).get("httpGet", {})
                if get.get("path") != path:
                    problems.append(f"{cwhere}: {probe} is not an HTTP GET of {path}")
                elif get.get("port") not in ports:
                    problems.append(
                        f"{cwhere}: {probe} port {get.get('port')!r} is not a container port"
                    )
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    if what not in res.get(part, {}):
                        problems.append(f"{cwhere}: no {what} in resources.{part}")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{cwhere}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{cwhere}: readOnlyRootFilesystem is not true")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                problems.append(f"{cwhere}: capabilities do not drop ALL")
            if sc.get("privileged") or sc.get("capabilities", {}).get("add"):
                problems.append(f"{cwhere}: privileged or adds capabilities")
            if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
                problems.append(f"{cwhere}: may run as root")
            tmp = [m for m in c.get("volumeMounts", []) if m.get("mountPath") == "/tmp"]
            if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
                problems.append(f"{cwhere}: no emptyDir mounted at /tmp (read-only root)")
    return problems


def companion_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Each Deployment has its Service, HPA, PDB and NetworkPolicy; each is default-denied."""
    problems = []
    deny = [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
    ]
    has_platform = any(of_kind(docs, "Namespace"))
    for dep in of_kind(docs, "Deployment"):
        name, labels = name_of(dep), pod_labels(dep)
        if not any(selects(s["spec"].get("selector"), labels) for s in of_kind(docs, "Service")):
            problems.append(f"Deployment {name}: no Service selects its pods")
        if not any(
            h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
            and h["spec"]["scaleTargetRef"].get("name") == name
            for h in of_kind(docs, "HorizontalPodAutoscaler")
        ):
            problems.append(f"Deployment {name}: no HorizontalPodAutoscaler")
        if not any(
            selects(p["spec"].get("selector"), labels) for p in of_kind(docs, "PodDisruptionBudget")
        ):
            problems.append(f"Deployment {name}: no PodDisruptionBudget")
        own = [
            p
            for p in of_kind(docs, "NetworkPolicy")
            if p["spec"].get("ingress") is not None or p["spec"].get("egress") is not None
            if selects(p["spec"].get("podSelector"), labels)
        ]
        if not own or not all(
            {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", [])) for p in own
        ):
            problems.append(f"Deployment {name}: no NetworkPolicy governing its ingress and egress")
        if labels.get("portal.io/tier") != "app":
            problems.append(f"Deployment {name}: pods lack portal.io/tier=app (default deny)")
        if has_platform and not any(selects(p["spec"].get("podSelector"), labels) for p in deny):
            problems.append(f"Deployment {name}: no default-deny NetworkPolicy selects its pods")
    return problems


def _peer_is(peer: dict[str, Any], *, labels: dict[str, str]) -> bool:
    return set(peer) == {"podSelector"} and peer["podSelector"].get("matchLabels") == labels


def network_problems(docs: list[dict[str, Any]], root: Path = ROOT) -> list[str]:
    """Only the gateway reaches the services' HTTP ports (and, for the JWKS, the deployables
    that verify tokens reach identity's; and the callers in SERVICE_CALLS their callees);
    only the portal's pods reach Kafka and MongoDB; app pods reach nothing but Kafka,
    MongoDB, DNS, identity, their SERVICE_CALLS callees (and the gateway: the services); the
    web portal's nginx is open to all on its port like the gateway, and reaches only the
    gateway (which must let it in) and DNS."""
    problems = []
    by_name = {d.name: d for d in deployables(root)}
    static = {d.name for d in deployables(root) if d.static}
    kafka_pods = {"strimzi.io/cluster": KAFKA_CLUSTER, "strimzi.io/broker-role": "true"}
    for dep in of_kind(docs, "Deployment"):
        name, labels = name_of(dep), pod_labels(dep)
        d = by_name.get(name)
        for policy in of_kind(docs, "NetworkPolicy"):
            spec = policy["spec"]
            if not selects(spec.get("podSelector"), labels) or (
                spec.get("ingress") is None and spec.get("egress") is None
            ):
                continue
            where = f"NetworkPolicy {name_of(policy)} (for {name})"
            for rule in spec.get("ingress", []):
                peers = rule.get("from", [])
                if not peers and name != "gateway" and name not in static:
                    problems.append(f"{where}: ingress open to every source")
                for peer in peers:
                    if not (
                        _peer_is(peer, labels={"app.kubernetes.io/name": "gateway"})
                        or peer == PROMETHEUS_PEER
                        or (
                            name == "gateway"
                            and any(
                                _peer_is(peer, labels={"app.kubernetes.io/name": s}) for s in static
                            )
                        )
                        or (
                            name == "identity"
                            and _peer_is(peer, labels={"portal.io/identity-client": "true"})
                        )
                        or any(
                            callee == name
                            and _peer_is(peer, labels={"app.kubernetes.io/name": caller})
                            for caller, callee in SERVICE_CALLS
                        )
                    ):
                        problems.append(
                            f"{where}: ingress from {peer} (only gateway, Prometheus, "
                            "declared SERVICE_CALLS, the web portal to the gateway)"
                        )
            for rule in spec.get("egress", []):
                peers, ports = rule.get("to", []), rule.get("ports", [])
                if not peers:
                    problems.append(f"{where}: egress open to every destination")
                for peer in peers:
                    if peer == DNS_PEER:
                        ok = {p.get("port") for p in ports} == {53}
                    elif name in MAILERS and "ipBlock" in peer:
                        # Outside the cluster, on the mail submission ports only.
                        ok = bool(ports) and {p.get("port") for p in ports} <= SMTP_PORTS
                        ok = ok and set(PRIVATE_RANGES) <= set(peer["ipBlock"].get("except", []))
                    elif name in static:
                        ok = _peer_is(peer, labels={"app.kubernetes.io/name": "gateway"}) and [
                            p.get("port") for p in ports
                        ] == [GATEWAY_PORT]
                    elif _peer_is(peer, labels=kafka_pods):
                        ok = [p.get("port") for p in ports] == [KAFKA_PORT]
                    elif _peer_is(peer, labels=MONGODB_POD_LABELS):
                        ok = [p.get("port") for p in ports] == [27017]
                    elif name != "identity" and _peer_is(
                        peer, labels={"app.kubernetes.io/name": "identity"}
                    ):
                        ok = [p.get("port") for p in ports] == [IDENTITY_PORT]
                    elif callee := next(
                        (
                            by_name[c]
                            for n, c in SERVICE_CALLS
                            if n == name
                            and c in by_name
                            and _peer_is(peer, labels={"app.kubernetes.io/name": c})
                        ),
                        None,
                    ):
                        ok = [p.get("port") for p in ports] == [callee.port]
                    elif name == "gateway" and _peer_is(
                        peer, labels={"app.kubernetes.io/component": "service"}
                    ):
                        ok = all(
                            SERVICE_PORTS[0]
                            <= p.get("port", 0)
                            <= p.get("endPort", p.get("port", 0))
                            <= SERVICE_PORTS[1]
                            for p in ports
                        ) and bool(ports)
                    else:
                        ok = False
                    if not ok:
                        problems.append(f"{where}: egress to {peer} on {ports} is not allowed")
        if d and d.is_service and labels.get("app.kubernetes.io/component") != "service":
            problems.append(
                f"Deployment {name}: a service's pods need app.kubernetes.io/component=service"
            )
        if name != "gateway" and not d:
            problems.append(f"Deployment {name}: not a known deployable")
    for kafka in of_kind(docs, "Kafka"):
        for listener in kafka["spec"]["kafka"]["listeners"]:
            where = f"Kafka {name_of(kafka)} listener {listener['name']}"
            if listener.get("networkPolicyPeers") != [
                {"podSelector": {"matchLabels": {"portal.io/kafka-client": "true"}}}
            ]:
                problems.append(
                    f"{where}: networkPolicyPeers must be the portal's Kafka clients only"
                )
            if not listener.get("authentication"):
                problems.append(f"{where}: no authentication (KafkaUser ACLs need it)")
            if listener.get("port") != KAFKA_PORT or not listener.get("tls"):
                problems.append(f"{where}: clients expect TLS on {KAFKA_PORT}")
    for policy in of_kind(docs, "NetworkPolicy"):
        if policy["spec"].get("podSelector", {}).get("matchLabels") == MONGODB_POD_LABELS:
            for rule in policy["spec"].get("ingress", []):
                for peer in rule.get("from", []) or [{}]:
                    if not (
                        _peer_is(peer, labels={"portal.io/mongodb-client": "true"})
                        or _peer_is(peer, labels=MONGODB_POD_LABELS)
                    ):
                        problems.append(
                            f"NetworkPolicy {name_of(policy)}: MongoDB ingress from {peer}"
                        )
    for dep in of_kind(docs, "Deployment"):
        labels = pod_labels(dep)
        if labels.get("portal.io/identity-client") != "true":
            continue
        reaches = any(
            _peer_is(peer, labels={"app.kubernetes.io/name": "identity"})
            or _peer_is(peer, labels={"app.kubernetes.io/component": "service"})
            for p in of_kind(docs, "NetworkPolicy")
            if selects(p["spec"].get("podSelector"), labels)
            for rule in p["spec"].get("egress", [])
            for peer in rule.get("to", [])
        )
        if not reaches:
            problems.append(f"Deployment {name_of(dep)}: verifies tokens but cannot reach identity")
    problems += proxy_problems(docs, static)
    client_labels = ("portal.io/kafka-client", "portal.io/mongodb-client")
    for dep in of_kind(docs, "Deployment"):
        if name_of(dep) not in by_name and any(pod_labels(dep).get(k) for k in client_labels):
            problems.append(f"Deployment {name_of(dep)}: carries a Kafka/MongoDB client label")
    return problems


def _admits(rule: dict[str, Any], labels: dict[str, str], port: int) -> bool:
    """Whether an ingress rule lets pods with these labels (same namespace) in on port."""
    ports = rule.get("ports") or [{}]
    on_port = any(
        p.get("port") is None or p["port"] <= port <= p.get("endPort", p["port"]) for p in ports
    )
    peers = rule.get("from") or [{}]
    return on_port and any(
        not peer or (set(peer) == {"podSelector"} and selects(peer["podSelector"], labels))
        for peer in peers
    )


def proxy_problems(docs: list[dict[str, Any]], static: set[str]) -> list[str]:
    """The web portal proxies the API: its pods reach the gateway on its port, and wherever
    the gateway is rendered beside them, the gateway's NetworkPolicies let them in."""
    problems = []
    deployments = {name_of(d): d for d in of_kind(docs, "Deployment")}
    gateway = deployments.get("gateway")
    for name in sorted(static & set(deployments)):
        labels = pod_labels(deployments[name])
        own = [
            p
            for p in of_kind(docs, "NetworkPolicy")
            if selects(p["spec"].get("podSelector"), labels)
        ]
        if not any(
            _peer_is(peer, labels={"app.kubernetes.io/name": "gateway"})
            and GATEWAY_PORT in [p.get("port") for p in rule.get("ports", [])]
            for p in own
            for rule in p["spec"].get("egress", [])
            for peer in rule.get("to", [])
        ):
            problems.append(f"Deployment {name}: no NetworkPolicy lets it reach the gateway")
        if gateway is not None and not any(
            _admits(rule, labels, GATEWAY_PORT)
            for p in of_kind(docs, "NetworkPolicy")
            if selects(p["spec"].get("podSelector"), pod_labels(gateway))
            and p["spec"].get("ingress")
            for rule in p["spec"]["ingress"]
        ):
            problems.append(f"Deployment gateway: no NetworkPolicy lets {name}'s pods in")
    return problems


def env_refs(dep: dict[str, Any]) -> dict[str, tuple[str, str]]:
    refs = {}
    for c in dep["spec"]["template"]["spec"]["containers"]:
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs[e["name"]] = (ref["name"], ref["key"])
    return refs


SERVER_ENV = {"gateway": {"FORWARDED_ALLOW_IPS"}}
"""Variables read by the server rather than the settings (uvicorn's trusted proxies)."""


def settings_file(d: Deployable, root: Path = ROOT) -> Path:
    package = "gateway" if d.package == "portal-gateway" else d.name
    top = root / ("gateway" if package == "gateway" else f"services/{package}")
    return top / "src" / f"portal_{package}" / "settings.py"


def env_names_read(path: Path) -> tuple[set[str], set[str]]:
    """(prefixes, exact names) a settings module reads from the environment."""
    text = path.read_text() if path.is_file() else ""
    return (
        set(re.findall(r"env_prefix=\"([A-Z0-9_]+)\"", text)),
        set(re.findall(r"AliasChoices\(\"([A-Z0-9_]+)\"", text)),
    )


def container_env(dep: dict[str, Any], docs: list[dict[str, Any]]) -> set[str]:
    """Every variable a Deployment's containers get: `env` entries and ConfigMap `envFrom`."""
    config_maps = {name_of(c): c.get("data") or {} for c in of_kind(docs, "ConfigMap")}
    spec = dep["spec"]["template"]["spec"]
    names: set[str] = set()
    for c in spec.get("initContainers", []) + spec["containers"]:
        names |= {e["name"] for e in c.get("env", [])}
        for source in c.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef") or {}
            names |= set(config_maps.get(ref.get("name", ""), {}))
    return names


def env_prefix_problems(docs: list[dict[str, Any]], root: Path = ROOT) -> list[str]:
    """Each deployable sets only variables its own settings read: its prefix (WALLET_,
    NOTIFICATIONS_...) or a name they alias, plus the chassis' shared ones (KAFKA_*,
    MONGODB_URI, PORTAL_JWT_*). A copied manifest that kept another service's prefix would
    otherwise be ignored without a word, and the service would run on its defaults."""
    shared_prefixes, shared = env_names_read(root / "chassis/src/portal_chassis/settings.py")
    by_name = {d.name: d for d in deployables(root) if not d.static}
    problems = []
    for dep in of_kind(docs, "Deployment"):
        d = by_name.get(name_of(dep))
        if d is None:
            continue
        own_prefixes, own = env_names_read(settings_file(d, root))
        prefixes = tuple(own_prefixes | shared_prefixes)
        allowed = own | shared | SERVER_ENV.get(d.name, set())
        for var in sorted(container_env(dep, docs)):
            if var not in allowed and not var.startswith(prefixes):
                problems.append(
                    f"Deployment {d.name}: sets {var}, which its settings never read "
                    f"(its prefix is {', '.join(sorted(own_prefixes)) or 'none'})"
                )
    return problems


def kafka_problems(docs: list[dict[str, Any]], env: str, root: Path = ROOT) -> list[str]:
    """Topics per context (kept forever) with DLQs; per-deployable users writing only their
    own topic (and dead letters). Whole-overlay renders only."""
    problems = []
    strict = env == "prod"
    kafkas = of_kind(docs, "Kafka")
    if len(kafkas) != 1:
        return [f"expected one Kafka, found {len(kafkas)}"]
    kafka = kafkas[0]
    annotations = kafka["metadata"].get("annotations", {})
    for key in ("strimzi.io/kraft", "strimzi.io/node-pools"):
        if annotations.get(key) != "enabled":
            problems.append(f"Kafka: annotation {key}=enabled missing")
    if kafka["spec"]["kafka"].get("authorization", {}).get("type") != "simple":
        problems.append("Kafka: authorization is not simple (ACLs would not apply)")
    if kafka["spec"]["kafka"].get("config", {}).get("auto.create.topics.enable") is not False:
        problems.append("Kafka: auto.create.topics.enable must be false (topics are declared)")
    pools = [
        p
        for p in of_kind(docs, "KafkaNodePool")
        if p["metadata"].get("labels", {}).get("strimzi.io/cluster") == name_of(kafka)
    ]
    roles = {r for p in pools for r in p["spec"]["roles"]}
    if roles != {"controller", "broker"}:
        problems.append(
            f"KafkaNodePools: roles {sorted(roles)} (KRaft needs controller and broker)"
        )
    if (
        strict
        and sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"]) < 3
    ):
        problems.append("KafkaNodePools: fewer than 3 controllers in prod")
    if strict and sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) < 3:
        problems.append("KafkaNodePools: fewer than 3 brokers in prod")
    topics = {t["spec"].get("topicName", name_of(t)): t for t in of_kind(docs, "KafkaTopic")}
    for ctx in contexts(root):
        for name in (f"{ctx}.events", f"{ctx}.events.dlq"):
            topic = topics.get(name)
            if topic is None:
                problems.append(f"KafkaTopic {name}: missing")
                continue
            spec, config = topic["spec"], topic["spec"].get("config", {})
            if topic["metadata"].get("labels", {}).get("strimzi.io/cluster") != name_of(kafka):
                problems.append(f"KafkaTopic {name}: not labelled for cluster {name_of(kafka)}")
            if config.get("retention.ms") != -1 or config.get("retention.bytes", -1) != -1:
                problems.append(f"KafkaTopic {name}: not kept forever (retention.ms -1)")
            if config.get("cleanup.policy", "delete") != "delete":
                problems.append(f"KafkaTopic {name}: compaction would drop events")
            if strict and (spec.get("replicas") != 3 or config.get("min.insync.replicas") != 2):
                problems.append(f"KafkaTopic {name}: prod needs replicas 3, min.insync.replicas 2")
    deployments = {name_of(d): d for d in of_kind(docs, "Deployment")}
    users = {name_of(u): u for u in of_kind(docs, "KafkaUser")}
    for d in deployables(root):
        if d.static:
            continue
        user = users.get(f"portal-{d.name}")
        if user is None:
            problems.append(f"KafkaUser portal-{d.name}: missing")
            continue
        if user["metadata"].get("labels", {}).get("strimzi.io/cluster") != name_of(kafka):
            problems.append(f"KafkaUser portal-{d.name}: not labelled for cluster {name_of(kafka)}")
        if user["spec"].get("authentication", {}).get("type") != "scram-sha-512":
            problems.append(f"KafkaUser portal-{d.name}: clients authenticate with SCRAM-SHA-512")
        for acl in user["spec"].get("authorization", {}).get("acls", []):
            res, ops = acl["resource"], set(acl["operations"])
            where = f"KafkaUser portal-{d.name} ACL {res}"
            if acl.get("type", "allow") != "allow":
                continue
            if "All" in ops or (res.get("name") in (None, "*") and res["type"] != "cluster"):
                problems.append(f"{where}: too broad")
            if res["type"] == "topic" and ops & {
                "Write",
                "Create",
                "Delete",
                "Alter",
                "AlterConfigs",
            }:
                own = res.get("name") == d.topic or str(res.get("name", "")).endswith(".dlq")
                if (
                    not own
                    or res.get("patternType", "literal") != "literal"
                    or ops - {"Write", "Describe"}
                ):
                    problems.append(f"{where}: may write {ops} outside its own topic and DLQs")
            if res["type"] == "cluster" and ops - {"Describe", "IdempotentWrite"}:
                problems.append(f"{where}: cluster operations {ops}")
        dep = deployments.get(d.name)
        if dep is not None:
            refs = env_refs(dep)
            if refs.get("KAFKA_SASL_PASSWORD") != (f"portal-{d.name}", "password"):
                problems.append(
                    f"Deployment {d.name}: KAFKA_SASL_PASSWORD is not its KafkaUser's secret"
                )
    return problems


def mongodb_problems(docs: list[dict[str, Any]], env: str, root: Path = ROOT) -> list[str]:
    """A replica set; one user per deployable, with readWrite on its own database only."""
    problems = []
    found = of_kind(docs, "MongoDBCommunity")
    if len(found) != 1:
        return [f"expected one MongoDBCommunity, found {len(found)}"]
    spec = found[0]["spec"]
    if spec.get("type") != "ReplicaSet":
        problems.append("MongoDBCommunity: not a ReplicaSet")
    if env == "prod" and spec.get("members", 0) < 3:
        problems.append("MongoDBCommunity: prod needs 3 members")
    users = {u["name"]: u for u in spec.get("users", [])}
    deployments = {name_of(d): d for d in of_kind(docs, "Deployment")}
    for d in deployables(root):
        if d.static:
            continue
        user = users.get(d.name)
        if user is None:
            problems.append(f"MongoDB user {d.name}: missing")
            continue
        roles = {(r["name"], r["db"]) for r in user.get("roles", [])}
        if roles != {("readWrite", d.database)}:
            problems.append(
                f"MongoDB user {d.name}: roles {sorted(roles)}, want readWrite on {d.database}"
            )
        if not user.get("passwordSecretRef", {}).get("name"):
            problems.append(f"MongoDB user {d.name}: no passwordSecretRef")
        secret = user.get("connectionStringSecretName")
        dep = deployments.get(d.name)
        if dep is not None and env_refs(dep).get("MONGODB_URI") != (
            secret,
            "connectionString.standard",
        ):
            problems.append(
                f"Deployment {d.name}: MONGODB_URI is not its MongoDB user's connection string"
            )
    return problems


def port_problems(docs: list[dict[str, Any]], root: Path = ROOT) -> list[str]:
    problems = []
    by_name = {d.name: d for d in deployables(root)}
    for dep in of_kind(docs, "Deployment"):
        d = by_name.get(name_of(dep))
        if d is None:
            continue
        ports = [
            p["containerPort"]
            for c in dep["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        ]
        expected = [d.port, *([METRICS_PORTS[d.name]] if d.name in METRICS_PORTS else [])]
        if ports != expected:
            problems.append(
                f"Deployment {d.name}: container ports {ports}, its app listens on {d.port}"
            )
        if d.is_service and not SERVICE_PORTS[0] <= d.port <= SERVICE_PORTS[1]:
            problems.append(f"{d.name}: port {d.port} outside the services' range {SERVICE_PORTS}")
    return problems


# --- monitoring: PodMonitors, alert rules, the dashboard, and the metric names they use ----

METRIC_CALL = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary)\(\s*(?:name\s*=\s*)?\"([a-zA-Z_:][a-zA-Z0-9_:]*)\""
)
LITESTAR_METRIC = re.compile(
    r"metric_name\s*=\s*f\"\{self\._config\.prefix\}_(\w+)\".*?\b(Counter|Gauge|Histogram)\(",
    re.S,
)
PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "atan2",
    "inf",
    "nan",
}


def exposed_series(kind: str, name: str) -> set[str]:
    """The sample names prometheus_client exposes for a metric of this kind and name."""
    if kind == "Counter":
        base = name.removesuffix("_total")
        return {f"{base}_total", f"{base}_created"}
    if kind == "Histogram":
        return {f"{name}{s}" for s in ("_bucket", "_sum", "_count", "_created")}
    if kind == "Summary":
        return {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
    return {name}


def registered_metrics(root: Path = ROOT) -> set[str]:
    """Every series name the deployables can expose: the prometheus_client metrics declared
    in the chassis, the gateway and the services, and the HTTP metrics Litestar's Prometheus
    middleware creates under the prefix the chassis gives it (read from Litestar's source)."""
    names: set[str] = set()
    sources = [root / "chassis" / "src", root / "gateway" / "src"]
    sources += sorted((root / "services").glob("*/src"))
    for src in sources:
        for path in sorted(src.rglob("*.py")):
            for kind, name in METRIC_CALL.findall(path.read_text()):
                names |= exposed_series(kind, name)
    web = (root / "chassis" / "src" / "portal_chassis" / "web.py").read_text()
    prefix = re.search(r"PrometheusConfig\(.*?\bprefix=\"(\w+)\"", web, re.S)
    spec = importlib.util.find_spec("litestar.plugins.prometheus.middleware")
    if prefix and spec and spec.origin:
        for suffix, kind in LITESTAR_METRIC.findall(Path(spec.origin).read_text()):
            names |= exposed_series(kind, f"{prefix.group(1)}_{suffix}")
    return names


def promql_metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords,
    label names (in {...}, by/without/on/ignoring(...)) or durations ([...])."""
    text = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`", '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    found = re.findall(
        r"(?<![a-zA-Z0-9_:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:])(?!\s*\()", text
    )
    return {name for name in found if name.lower() not in PROMQL_WORDS}


def promql_problems(where: str, expr: Any, known: set[str]) -> list[str]:
    if not isinstance(expr, str) or not expr.strip():
        return [f"{where}: no PromQL expression"]
    names = promql_metric_names(expr)
    if not names:
        return [f"{where}: no metric in {expr!r}"]
    return [
        f"{where}: metric {name} is not registered by the code (chassis, gateway, services)"
        for name in sorted(names - known)
    ]


def dashboard_exprs(dashboard: dict[str, Any]) -> list[tuple[str, Any]]:
    """(panel title, expr) of every query target, rows' nested panels included."""
    found = []
    for panel in dashboard.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                found.append((str(inner.get("title", "?")), target.get("expr")))
    return found


def rule_problems(rule: dict[str, Any], known: set[str]) -> list[str]:
    problems = []
    where = f"PrometheusRule {name_of(rule)}"
    alerts = set()
    for group in rule.get("spec", {}).get("groups", []):
        for r in group.get("rules", []):
            label = r.get("alert") or r.get("record") or "?"
            alerts.add(r.get("alert"))
            problems += promql_problems(f"{where} rule {label}", r.get("expr"), known)
            if r.get("alert") and "severity" not in r.get("labels", {}):
                problems.append(f"{where} alert {label}: no severity label")
            if r.get("alert") and not r.get("annotations", {}).get("summary"):
                problems.append(f"{where} alert {label}: no summary annotation")
    problems += [f"{where}: no alert {a}" for a in sorted(REQUIRED_ALERTS - alerts)]
    return problems


def dashboard_problems(config_map: dict[str, Any], known: set[str]) -> list[str]:
    problems = []
    for key, text in (config_map.get("data") or {}).items():
        where = f"ConfigMap {name_of(config_map)} {key}"
        try:
            dashboard = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON: {exc}")
            continue
        exprs = dashboard_exprs(dashboard)
        if not exprs:
            problems.append(f"{where}: no panel queries anything")
        for title, expr in exprs:
            problems += promql_problems(f"{where} panel {title!r}", expr, known)
    return problems


def monitoring_problems(
    docs: list[dict[str, Any]], whole: bool, root: Path = ROOT, known: set[str] | None = None
) -> list[str]:
    problems = []
    by_name = {d.name: d for d in deployables(root)}
    monitors = of_kind(docs, "PodMonitor")
    for dep in of_kind(docs, "Deployment"):
        name, labels = name_of(dep), pod_labels(dep)
        d = by_name.get(name)
        if d is None or d.static:
            continue  # nginx serves no metrics
        want = METRICS_PORTS.get(name, d.port)
        ports = {
            p.get("name"): p.get("containerPort")
            for c in dep["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        endpoints = [
            e
            for m in monitors
            if selects(m["spec"].get("selector"), labels)
            for e in m["spec"].get("podMetricsEndpoints", [])
        ]
        if not endpoints:
            problems.append(f"Deployment {name}: no PodMonitor scrapes its pods")
        for e in endpoints:
            if ports.get(e.get("port")) != want or e.get("path", "/metrics") != "/metrics":
                problems.append(
                    f"PodMonitor for {name}: scrapes {e.get('port')!r} {e.get('path')!r}, "
                    f"its metrics are on /metrics port {want}"
                )
        opened = any(
            peer == PROMETHEUS_PEER and any(p.get("port") == want for p in rule.get("ports", []))
            for policy in of_kind(docs, "NetworkPolicy")
            if selects(policy["spec"].get("podSelector"), labels)
            for rule in policy["spec"].get("ingress", [])
            for peer in rule.get("from", [])
        )
        if endpoints and not opened:
            problems.append(f"Deployment {name}: no NetworkPolicy lets Prometheus reach {want}")
    rules = of_kind(docs, "PrometheusRule")
    dashboards = [
        c
        for c in of_kind(docs, "ConfigMap")
        if c.get("metadata", {}).get("labels", {}).get(DASHBOARD_LABEL[0]) == DASHBOARD_LABEL[1]
    ]
    if rules or dashboards:
        known = registered_metrics(root) if known is None else known
        for rule in rules:
            problems += rule_problems(rule, known)
        for config_map in dashboards:
            problems += dashboard_problems(config_map, known)
    if whole and not rules:
        problems.append("no PrometheusRule (base/platform/prometheusrule.yaml)")
    if whole and not dashboards:
        problems.append(f"no ConfigMap labelled {'='.join(DASHBOARD_LABEL)} (Grafana dashboard)")
    return problems


def trusted_proxy_problems(where: str, value: str | None) -> list[str]:
    """The gateway runs behind the web portal's nginx (and an ingress): uvicorn takes the
    client's address from X-Forwarded-For only when the peer is in FORWARDED_ALLOW_IPS, the
    right-most untrusted entry. Unset, every caller shares nginx's address (one rate limit
    for all, sessions listed from nginx); `*` lets any caller write its own address."""
    if not value:
        return [f"{where}: no FORWARDED_ALLOW_IPS (clients would all have the proxy's address)"]
    problems = []
    for entry in (e.strip() for e in value.split(",")):
        try:
            ipaddress.ip_network(entry)
        except ValueError:
            problems.append(f"{where}: FORWARDED_ALLOW_IPS entry {entry!r} is not an address")
    return problems


def gateway_proxy_problems(docs: list[dict[str, Any]]) -> list[str]:
    maps = [m for m in of_kind(docs, "ConfigMap") if name_of(m).startswith("gateway-config")]
    return [
        p
        for m in maps
        for p in trusted_proxy_problems(
            f"ConfigMap {name_of(m)}", m.get("data", {}).get("FORWARDED_ALLOW_IPS")
        )
    ]


def rendered_problems(
    docs: list[dict[str, Any]], env: str, whole: bool, root: Path = ROOT
) -> list[str]:
    problems = (
        deployment_problems(docs, root) + companion_problems(docs) + network_problems(docs, root)
    )
    problems += port_problems(docs, root) + monitoring_problems(docs, whole, root)
    problems += gateway_proxy_problems(docs) + env_prefix_problems(docs, root)
    if whole:
        problems += kafka_problems(docs, env, root) + mongodb_problems(docs, env, root)
        names = {name_of(d) for d in of_kind(docs, "Deployment")}
        problems += [
            f"overlay {env}: no Deployment {d.name}"
            for d in deployables(root)
            if d.name not in names
        ]
    return problems


# --- Dockerfiles and compose -------------------------------------------------------------------


def stages(text: str) -> list[str]:
    body = re.sub(r"\\\n", " ", text)
    parts = re.split(r"(?im)^(?=FROM\s)", body)
    return [p for p in parts if re.match(r"(?i)FROM\s", p)]


def dockerfile_problems(root: Path = ROOT) -> list[str]:
    problems = []
    for d in deployables(root):
        path = root / "deploy" / "docker" / f"{d.name}.Dockerfile"
        if not path.is_file():
            continue  # reported by coverage_problems
        where = f"deploy/docker/{d.name}.Dockerfile"
        text = path.read_text()
        found = stages(text)
        ignore = path.with_name(path.name + ".dockerignore")
        if not ignore.is_file():
            problems.append(f"{where}: no {ignore.name} (the build context is the repository)")
        if len(found) < 2:
            problems.append(f"{where}: not a multi-stage build")
            continue
        if d.static:
            problems += static_dockerfile_problems(d, where, text, root)
            continue
        build, final = "".join(found[:-1]), found[-1]
        if not re.search(r"(?m)^COPY\s.*\buv\.lock\b", build):
            problems.append(f"{where}: the build stage does not copy uv.lock")
        syncs = re.findall(r"uv sync[^\n]*", build)
        if not syncs or not all(
            ("--frozen" in s or "--locked" in s)
            and "--no-dev" in s
            and f"--package {d.package}" in s
            for s in syncs
        ):
            problems.append(
                f"{where}: uv sync must be --frozen/--locked --no-dev --package {d.package}"
            )
        if not any("--no-editable" in s for s in syncs):
            problems.append(
                f"{where}: the final sync must be --no-editable (no source tree at run time)"
            )
        users = re.findall(r"(?im)^USER\s+(\S+)", final)
        if not users or users[-1].split(":")[0] in {"root", "0"}:
            problems.append(f"{where}: the final stage does not switch to a non-root USER")
        if not re.search(r"(?im)^HEALTHCHECK\s", final) or "/health/live" not in final:
            problems.append(f"{where}: no HEALTHCHECK on /health/live")
        if re.search(r"(?im)^RUN\s.*\b(apt-get|apk|pip|uv|gcc|make)\b", final):
            problems.append(f"{where}: the final stage installs or builds something")
        if re.search(r"(?im)^COPY\s+--from=\S+\s+\S*/uv\b", final):
            problems.append(f"{where}: uv is copied into the final image")
        if not re.search(rf"(?im)^EXPOSE\s+{d.port}\b", final):
            problems.append(f"{where}: does not EXPOSE {d.port}")
        cmd = " ".join(re.findall(r"(?im)^CMD\s+(.*)$", final))
        if (
            "uvicorn" not in cmd
            or "--factory" not in cmd
            or d.app not in cmd
            or str(d.port) not in cmd
        ):
            problems.append(f"{where}: CMD is not `uvicorn --factory {d.app}` on port {d.port}")
    return problems


def base_image(stage: str, text: str) -> str:
    """The image a stage starts FROM, with `${ARG}`s replaced by their defaults."""
    defaults = dict(re.findall(r"(?m)^ARG\s+(\w+)=(\S+)", text))
    image = stage.split()[1]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), image)


def static_dockerfile_problems(
    d: Deployable, where: str, text: str, root: Path = ROOT
) -> list[str]:
    """The web portal's image: `npm ci` from the lock in a build stage; the final stage an
    unprivileged nginx (pinned) with the repository's config and the built files only."""
    problems = []
    found = stages(text)
    build, final = "".join(found[:-1]), found[-1]
    if not re.search(r"(?m)^COPY\s.*\bweb/package-lock\.json\b", build):
        problems.append(f"{where}: the build stage does not copy web/package-lock.json")
    installs = re.findall(r"(?m)^RUN\s.*\bnpm\s+(ci|install|i)\b", build)
    if "ci" not in installs or set(installs) != {"ci"}:
        problems.append(f"{where}: dependencies must come from the lock with `npm ci` only")
    if not re.search(r"(?m)^RUN\s.*\bnpm\s+run\s+build\b", build):
        problems.append(f"{where}: the build stage does not `npm run build`")
    image = base_image(found[-1], text)
    name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    if "nginx-unprivileged" not in name or not tag or tag == "latest":
        problems.append(f"{where}: the final stage is not a pinned unprivileged nginx ({image})")
    users = re.findall(r"(?im)^USER\s+(\S+)", final)
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append(f"{where}: the final stage does not switch to a non-root USER")
    if not re.search(rf"(?im)^EXPOSE\s+{d.port}\b", final):
        problems.append(f"{where}: does not EXPOSE {d.port}")
    if not re.search(r"(?im)^HEALTHCHECK\s", final) or STATIC_PROBE not in final:
        problems.append(f"{where}: no HEALTHCHECK on {STATIC_PROBE}")
    conf = f"deploy/docker/{d.name}.nginx.conf"
    if not re.search(rf"(?m)^COPY\s.*\b{re.escape(conf)}\s+/etc/nginx/", final):
        problems.append(f"{where}: the final stage does not copy {conf} into /etc/nginx/")
    elif not (root / conf).is_file():
        problems.append(f"{where}: {conf} does not exist")
    if not re.search(r"(?m)^COPY\s+--from=\S+.*\bdist\s+/usr/share/nginx/html\b", final):
        problems.append(f"{where}: the built files (dist) are not copied to /usr/share/nginx/html")
    if re.search(r"(?im)^RUN\s.*\b(apt-get|apk|npm|npx|node|yarn|pip|gcc|make)\b", final):
        problems.append(f"{where}: the final stage installs or builds something")
    if re.search(r"(?im)^COPY\s.*\b(node_modules|package(-lock)?\.json|web/src)\b", final):
        problems.append(f"{where}: sources or node_modules are copied into the final image")
    return problems


def uv_executable() -> str:
    """The uv running us (`uv run` exports it as UV), else the one on PATH, else where
    `pip install --user` puts it: CI installs uv with pip, which need not be on PATH."""
    for candidate in (os.environ.get("UV"), shutil.which("uv")):
        if candidate:
            return candidate
    return str(Path.home() / ".local" / "bin" / "uv")


def dockerfile_dry_run(d: Deployable, work: Path, root: Path = ROOT) -> list[str]:
    """Replay a Dockerfile's build stage without Docker: its COPY instructions into
    `work/src`, its `uv sync` commands (this Python, the shared uv cache), then import the
    app factory from the resulting virtualenv and make sure no dev tool got in. Catches a
    Dockerfile that misses a workspace package or a lock file that does not cover it."""
    where = f"deploy/docker/{d.name}.Dockerfile"
    text = (root / "deploy" / "docker" / f"{d.name}.Dockerfile").read_text()
    build_stage = "".join(stages(text)[:-1])
    src, venv = work / "src", work / "venv"
    src.mkdir(parents=True, exist_ok=True)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        UV_PROJECT_ENVIRONMENT=str(venv),
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
        UV_LINK_MODE="copy",
        UV_NO_PROGRESS="1",
    )
    for line in re.sub(r"\\\n", " ", build_stage).splitlines():
        words = line.split()
        if not words:
            continue
        if words[0].upper() == "COPY" and not any(w.startswith("--from") for w in words):
            *sources, dest = [w for w in words[1:] if not w.startswith("--")]
            target = src / dest
            for source in sources:
                origin = root / source
                if not origin.exists():
                    return [f"{where}: COPY {source}: no such path in the repository"]
                if origin.is_dir():
                    shutil.copytree(
                        origin,
                        target,
                        dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    )
                else:
                    into = target if dest.endswith("/") or len(sources) > 1 else target.parent
                    into.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, into / origin.name if into == target else target)
        elif words[0].upper() == "RUN" and "uv sync" in line:
            command = line[line.index("uv sync") :].split("&&")[0].split()
            command[0] = uv_executable()
            result = subprocess.run(command, cwd=src, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                return [f"{where}: `{' '.join(command)}` fails:\n{result.stderr[-3000:]}"]
    module, attr = d.app.split(":")
    probe = (
        "import importlib, importlib.util as u, sys\n"
        f"factory = getattr(importlib.import_module({module!r}), {attr!r})\n"
        "assert callable(factory)\n"
        "dev = [m for m in ('pytest', 'mypy', 'ruff', 'hypothesis') if u.find_spec(m)]\n"
        "sys.exit(f'dev tools in the image: {dev}' if dev else 0)\n"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return [f"{where}: the built environment cannot run {d.app}:\n{result.stderr[-3000:]}"]
    return []


def compose_services(root: Path = ROOT) -> dict[str, Any]:
    path = root / "deploy" / "compose.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return dict(data.get("services") or {})


def compose_problems(root: Path = ROOT) -> list[str]:
    path = root / "deploy" / "compose.yaml"
    try:
        services = compose_services(root)
    except yaml.YAMLError as exc:
        return [f"deploy/compose.yaml does not parse: {exc}"]
    if not services:
        return ["deploy/compose.yaml has no services"]
    problems = []
    images = {"kafka": "apache/kafka:", "mongodb": "mongo:"}
    for name, prefix in images.items():
        image = str(services.get(name, {}).get("image", ""))
        if not image.startswith(prefix):
            problems.append(
                f"compose: service {name} must use the official image {prefix}<version>"
            )
    gateway_env = services.get("gateway", {}).get("environment", {})
    problems += trusted_proxy_problems(
        "compose: gateway", gateway_env.get("FORWARDED_ALLOW_IPS") if gateway_env else None
    )
    loop = re.search(r"for ctx in ([a-z0-9 ]+);", str(services.get("kafka-topics", {})))
    created = loop.group(1).split() if loop else []
    missing = [c for c in contexts(root) if c not in created]
    if missing:
        problems.append(f"compose: kafka-topics does not create the topics of {missing}")
    for d in deployables(root):
        svc = services.get(d.name)
        if svc is None:
            continue  # reported by coverage_problems
        if svc.get("read_only") is not True:
            problems.append(f"compose: {d.name} should run with a read-only root file system")
        build = svc.get("build") or {}
        context = (path.parent / str(build.get("context", "."))).resolve()
        if context != root.resolve():
            problems.append(f"compose: {d.name} must build with the repository as context")
        if build.get("dockerfile") != f"deploy/docker/{d.name}.Dockerfile":
            problems.append(f"compose: {d.name} must build deploy/docker/{d.name}.Dockerfile")
        depends = svc.get("depends_on") or {}
        if d.static:
            if "gateway" not in depends:
                problems.append(f"compose: {d.name} does not depend on gateway (it proxies it)")
            continue
        for infra in ("kafka", "mongodb"):
            if infra not in depends:
                problems.append(f"compose: {d.name} does not depend on {infra}")
        env = svc.get("environment") or {}
        for key in ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI"):
            if key not in env:
                problems.append(f"compose: {d.name} has no {key}")
    return problems


# --- main ---------------------------------------------------------------------------------------


def run_all(root: Path = ROOT) -> list[str]:
    problems = coverage_problems(root) + dockerfile_problems(root) + compose_problems(root)
    kustomize, kubeconform = tool("kustomize", root), tool("kubeconform", root)
    overlays = root / "deploy" / "k8s" / "overlays"
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for directory in overlay_dirs(root):
            rel = directory.relative_to(overlays)
            try:
                text = build(kustomize, directory)
            except RuntimeError as exc:
                problems.append(str(exc))
                continue
            out = Path(tmp) / (str(rel).replace("/", "_") + ".yaml")
            out.write_text(text)
            files.append(out)
            env, whole = rel.parts[0], len(rel.parts) == 1
            problems += [f"{rel}: {p}" for p in rendered_problems(load(text), env, whole, root)]
        problems += validate(kubeconform, files, root)
        for d in deployables(root):
            if not d.static and (root / "deploy" / "docker" / f"{d.name}.Dockerfile").is_file():
                problems += dockerfile_dry_run(d, Path(tmp) / f"image-{d.name}", root)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description="Static checks of deploy/ (see module doc).")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args()
    problems = run_all(args.root.resolve())
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"deploy-check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
