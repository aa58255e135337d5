"""Static checks of deploy/: kustomize overlays, schemas, Dockerfiles, compose (no cluster).

The checks themselves live in deploy/tools/check.py (also `make deploy-check`); kustomize and
kubeconform are built once with Go by deploy/tools/k8s-tools.sh and cached in .cache/.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "portal_deploy_check", ROOT / "deploy/tools/check.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check = _load_check()


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    return {"kustomize": check.tool("kustomize"), "kubeconform": check.tool("kubeconform")}


@pytest.fixture(scope="session")
def rendered(tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`kustomize build` of every overlay and every overlay leaf, keyed 'prod', 'prod/wallet'..."""
    out = tmp_path_factory.mktemp("rendered")
    base = ROOT / "deploy/k8s/overlays"
    files = {}
    for directory in check.overlay_dirs():
        rel = str(directory.relative_to(base))
        path = out / (rel.replace("/", "_") + ".yaml")
        path.write_text(check.build(tools["kustomize"], directory))
        files[rel] = path
    return files


def docs(path: Path) -> list[dict[str, Any]]:
    return check.load(path.read_text())


# --- every deployable is covered --------------------------------------------------------------


def test_deployables_include_every_service_the_gateway_the_projector_and_the_web_portal() -> None:
    names = [d.name for d in check.deployables()]
    services = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
    assert names == [*services, "gateway", "projector", "web"]
    assert [d.name for d in check.deployables() if d.static] == ["web"]
    assert all(d.port for d in check.deployables()), "a service without a port default"


def test_every_deployable_has_a_base_overlay_leaves_a_dockerfile_and_a_compose_service() -> None:
    assert check.coverage_problems() == []


def _fake_repo(tmp_path: Path) -> Path:
    """A copy of the repository layout that matters here (deploy/, services/ metadata, and
    the chassis' and gateway's code, which declares the metrics the alerts may use)."""
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("local"))
    for package in ("chassis", "gateway"):
        shutil.copytree(
            ROOT / package / "src",
            tmp_path / package / "src",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    for pyproject in (ROOT / "services").glob("*/pyproject.toml"):
        name = pyproject.parent.name
        target = tmp_path / "services" / name
        (target / "src" / f"portal_{name}").mkdir(parents=True)
        shutil.copy2(pyproject, target / "pyproject.toml")
        settings = pyproject.parent / "src" / f"portal_{name}" / "settings.py"
        shutil.copy2(settings, target / "src" / f"portal_{name}" / "settings.py")
    return tmp_path


def _add_fake_service(repo: Path, name: str, port: int) -> None:
    package = repo / "services" / name / "src" / f"portal_{name}"
    package.mkdir(parents=True)
    (repo / "services" / name / "pyproject.toml").write_text(f'[project]\nname = "portal-{name}"\n')
    # Like every service's settings: its own prefix (the deploy check allows only that).
    (package / "settings.py").write_text(
        f'class S:\n    model_config = SettingsConfigDict(env_prefix="{name.upper()}_")\n'
        f"    port: int = {port}\n"
    )


def test_a_new_service_without_deploy_files_fails_the_check(tmp_path: Path) -> None:
    repo = _fake_repo(tmp_path)
    assert check.coverage_problems(repo) == []
    _add_fake_service(repo, "loyalty", 8150)
    problems = check.coverage_problems(repo)
    assert any("loyalty: no kustomize base" in p for p in problems), problems
    assert any("loyalty: no Dockerfile" in p for p in problems), problems
    assert any("loyalty: no service in deploy/compose.yaml" in p for p in problems), problems
    assert any("loyalty: no overlay leaf deploy/k8s/overlays/prod/loyalty" in p for p in problems)


def test_the_scaffold_gives_a_new_service_everything_the_check_asks_for(
    tmp_path: Path, tools: dict[str, str]
) -> None:
    repo = _fake_repo(tmp_path)
    _add_fake_service(repo, "loyalty", 8150)
    spec = importlib.util.spec_from_file_location(
        "portal_new_service", repo / "deploy/tools/new_service.py"
    )
    assert spec is not None and spec.loader is not None
    scaffold = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scaffold)
    scaffold.scaffold("loyalty", 8150)
    assert check.coverage_problems(repo) == []
    assert check.dockerfile_problems(repo) == []
    assert check.compose_problems(repo) == []
    for env in check.ENVS:
        text = check.build(tools["kustomize"], repo / "deploy/k8s/overlays" / env)
        rendered = check.load(text)
        assert check.rendered_problems(rendered, env, True, repo) == []
        out = tmp_path / f"{env}.yaml"
        out.write_text(text)
        assert check.validate(tools["kubeconform"], [out], repo) == []


# --- kustomize build + schema validation ------------------------------------------------------


def test_every_overlay_and_leaf_builds(rendered: dict[str, Path]) -> None:
    assert {"dev", "prod"} <= set(rendered)
    for d in check.deployables():
        assert f"dev/{d.name}" in rendered and f"prod/{d.name}" in rendered
    for path in rendered.values():
        assert docs(path), f"{path.name} renders nothing"


def test_every_rendered_object_validates_against_the_vendored_schemas(
    rendered: dict[str, Path], tools: dict[str, str]
) -> None:
    assert check.validate(tools["kubeconform"], rendered.values()) == []


def test_the_validator_is_strict_and_knows_only_vendored_kinds(
    tmp_path: Path, tools: dict[str, str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers:
        - name: x
          image: img
          livenessProbe: {httpGet: {path: /health/live, port: 80}, periodSecond: 3}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata: {name: t}
spec: {partitions: six, replicas: 3}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaUser
metadata: {name: u}
spec:
  authentication: {type: scram-sha-512}
  authorization: {type: simple, acls: [{resource: {type: topic, name: a}, operation: Write}]}
---
apiVersion: mongodbcommunity.mongodb.com/v1
kind: MongoDBCommunity
metadata: {name: m}
spec: {members: 3, type: ReplicaSet, version: "8.0.12", bogus: 1,
       security: {authentication: {modes: [SCRAM]}}, users: []}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
"""
    )
    out = "\n".join(check.validate(tools["kubeconform"], [bad]))
    assert "periodSecond" in out
    assert "KafkaTopic t is invalid" in out
    assert "KafkaUser u is invalid" in out
    assert "'bogus' not allowed" in out
    assert "could not find schema for Pod" in out


# --- what the rendered objects must say ----------------------------------------------------


@pytest.mark.parametrize("env", check.ENVS)
def test_whole_overlay_policies(rendered: dict[str, Path], env: str) -> None:
    assert check.rendered_problems(docs(rendered[env]), env, whole=True) == []


def test_each_leaf_stands_on_its_own(rendered: dict[str, Path]) -> None:
    problems = []
    for rel, path in rendered.items():
        if "/" in rel:
            env = rel.split("/")[0]
            problems += [
                f"{rel}: {p}" for p in check.rendered_problems(docs(path), env, whole=False)
            ]
    assert problems == []


def test_every_deployment_has_probes_limits_and_a_non_root_security_context(
    rendered: dict[str, Path],
) -> None:
    for env in check.ENVS:
        deployments = check.of_kind(docs(rendered[env]), "Deployment")
        assert {check.name_of(d) for d in deployments} == {d.name for d in check.deployables()}
        assert check.deployment_problems(docs(rendered[env])) == []
        for dep in deployments:
            pod = dep["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            static = check.name_of(dep) == "web"  # nginx's own /healthz: /health/ is proxied
            for c in pod["containers"]:
                live, ready = ("/healthz",) * 2 if static else ("/health/live", "/health/ready")
                assert c["livenessProbe"]["httpGet"]["path"] == live
                assert c["readinessProbe"]["httpGet"]["path"] == ready
                assert set(c["resources"]["limits"]) >= {"cpu", "memory"}
                assert c["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_policy_check_rejects_a_deployment_without_probes_or_limits(
    rendered: dict[str, Path],
) -> None:
    objects = docs(rendered["prod/wallet"])
    dep = check.of_kind(objects, "Deployment")[0]
    container = dep["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"]
    del container["resources"]["limits"]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    dep["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot")
    problems = "\n".join(check.deployment_problems(objects))
    assert "readinessProbe is not an HTTP GET of /health/ready" in problems
    assert "no cpu in resources.limits" in problems
    assert "readOnlyRootFilesystem is not true" in problems
    assert "runAsNonRoot is not true" in problems


def test_dev_is_one_small_replica_and_prod_three_with_autoscaling(
    rendered: dict[str, Path],
) -> None:
    dev, prod = docs(rendered["dev"]), docs(rendered["prod"])
    for dep in check.of_kind(dev, "Deployment"):
        assert dep["spec"]["replicas"] == 1
        assert (
            dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
            == "384Mi"
        )
    for dep in check.of_kind(prod, "Deployment"):
        assert dep["spec"]["replicas"] == 3
        assert dep["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert all(
        h["spec"]["minReplicas"] == 3 for h in check.of_kind(prod, "HorizontalPodAutoscaler")
    )
    assert all(p["spec"]["minAvailable"] == 2 for p in check.of_kind(prod, "PodDisruptionBudget"))
    pools = check.of_kind(dev, "KafkaNodePool")
    assert [(p["spec"]["replicas"], sorted(p["spec"]["roles"])) for p in pools] == [
        (1, ["broker", "controller"])
    ]
    assert check.of_kind(dev, "MongoDBCommunity")[0]["spec"]["members"] == 1


def test_kafka_topics_are_kept_forever_with_dead_letter_topics(rendered: dict[str, Path]) -> None:
    topics = {
        check.name_of(t): t["spec"] for t in check.of_kind(docs(rendered["prod"]), "KafkaTopic")
    }
    for ctx in check.CONTEXTS:
        for name in (f"{ctx}.events", f"{ctx}.events.dlq"):
            assert topics[name]["config"]["retention.ms"] == -1
            assert topics[name]["replicas"] == 3
            assert topics[name]["config"]["min.insync.replicas"] == 2


def test_each_kafka_user_writes_only_its_own_topic(rendered: dict[str, Path]) -> None:
    users = check.of_kind(docs(rendered["prod"]), "KafkaUser")
    for user in users:
        name = check.name_of(user).removeprefix("portal-")
        for acl in user["spec"]["authorization"]["acls"]:
            if acl["resource"]["type"] == "topic" and "Write" in acl["operations"]:
                topic = acl["resource"]["name"]
                assert topic == f"{name}.events" or topic.endswith(".dlq"), (name, topic)
    objects = docs(rendered["prod"])
    wallet = next(
        u for u in check.of_kind(objects, "KafkaUser") if check.name_of(u) == "portal-wallet"
    )
    wallet["spec"]["authorization"]["acls"].append(
        {"resource": {"type": "topic", "name": "identity.events"}, "operations": ["Write"]}
    )
    assert any("may write" in p for p in check.kafka_problems(objects, "prod"))


def test_only_the_gateway_reaches_the_services_and_only_the_portal_reaches_the_data(
    rendered: dict[str, Path],
) -> None:
    objects = docs(rendered["prod"])
    assert check.network_problems(objects) == []
    policy = next(
        p for p in check.of_kind(objects, "NetworkPolicy") if check.name_of(p) == "wallet"
    )
    policy["spec"]["ingress"].append({"ports": [{"port": 8101}]})
    policy["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})
    problems = "\n".join(check.network_problems(objects))
    assert "ingress open to every source" in problems
    assert "egress to {'ipBlock'" in problems


def test_one_mongodb_user_and_database_per_deployable(rendered: dict[str, Path]) -> None:
    objects = docs(rendered["prod"])
    assert check.mongodb_problems(objects, "prod") == []
    users = check.of_kind(objects, "MongoDBCommunity")[0]["spec"]["users"]
    assert sorted(u["name"] for u in users) == sorted(
        d.name for d in check.deployables() if not d.static
    )


# --- images and compose -----------------------------------------------------------------------


def test_dockerfiles_are_multi_stage_uv_builds_from_the_lock_running_as_non_root() -> None:
    assert check.dockerfile_problems() == []


@pytest.mark.parametrize(
    "deployable", [d for d in check.deployables() if not d.static], ids=lambda d: d.name
)
def test_dockerfile_build_stage_replayed_without_docker(deployable: Any, tmp_path: Path) -> None:
    assert check.dockerfile_dry_run(deployable, tmp_path) == []


def test_the_replay_catches_a_dockerfile_that_forgets_a_workspace_package(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for entry in ("pyproject.toml", "uv.lock", "chassis", "contracts", "services", "gateway"):
        source = ROOT / entry
        if source.is_dir():
            (repo / entry).symlink_to(source, target_is_directory=True)
        else:
            shutil.copy2(source, repo / entry)
    (repo / "deploy" / "docker").mkdir(parents=True)
    text = (ROOT / "deploy/docker/wallet.Dockerfile").read_text()
    broken = "\n".join(line for line in text.splitlines() if "COPY chassis/src" not in line)
    (repo / "deploy/docker/wallet.Dockerfile").write_text(broken)
    wallet = next(d for d in check.deployables() if d.name == "wallet")
    problems = check.dockerfile_dry_run(wallet, tmp_path / "work", repo)
    assert problems and "wallet.Dockerfile" in problems[0]


WEB_DOCKERFILE_BREAKAGES = {
    "runs as root": (("USER 101:101", "USER root"), "does not switch to a non-root USER"),
    "unlocked install": (("npm ci --no-audit", "npm install --no-audit"), "with `npm ci` only"),
    "floating base": (
        ("nginx-unprivileged:1.28.0-alpine", "nginx-unprivileged:latest"),
        "not a pinned unprivileged nginx",
    ),
    "privileged base": (("nginxinc/nginx-unprivileged:", "nginx:"), "unprivileged nginx"),
    "tools in the final stage": (
        ("USER 101:101", "RUN apk add --no-cache nodejs npm\nUSER 101:101"),
        "the final stage installs or builds something",
    ),
    "no nginx config": (
        ("COPY --chown=root:root deploy/docker/web.nginx.conf /etc/nginx/nginx.conf\n", ""),
        "does not copy deploy/docker/web.nginx.conf",
    ),
    "no health check": (("/healthz", "/"), "no HEALTHCHECK on /healthz"),
    "wrong port": (("EXPOSE 8080", "EXPOSE 80"), "does not EXPOSE 8080"),
    "single stage": (("FROM ${NODE_IMAGE} AS build", "RUN true"), "not a multi-stage build"),
}


@pytest.mark.parametrize("breakage", WEB_DOCKERFILE_BREAKAGES)
def test_the_web_image_check_rejects_a_broken_web_dockerfile(breakage: str, tmp_path: Path) -> None:
    (old, new), expected = WEB_DOCKERFILE_BREAKAGES[breakage]
    repo = _fake_repo(tmp_path)
    dockerfile = repo / "deploy/docker/web.Dockerfile"
    assert check.dockerfile_problems(repo) == []
    assert old in dockerfile.read_text()
    dockerfile.write_text(dockerfile.read_text().replace(old, new))
    problems = check.dockerfile_problems(repo)
    assert any(p.startswith("deploy/docker/web.Dockerfile") and expected in p for p in problems), (
        problems
    )


def test_the_web_portal_reaches_only_the_gateway_which_lets_it_in(
    rendered: dict[str, Path],
) -> None:
    objects = docs(rendered["prod"])
    assert check.network_problems(objects) == []
    policies = {check.name_of(p): p for p in check.of_kind(objects, "NetworkPolicy")}
    web, gateway = policies["web"]["spec"], policies["gateway"]["spec"]
    assert web["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]
    web["egress"].append(
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "wallet"}}}],
            "ports": [{"port": 8101}],
        }
    )
    # the gateway's public port narrowed to the ingress controller, the web pods forgotten
    gateway["ingress"] = [
        {**rule, "from": [{"namespaceSelector": {"matchLabels": {"name": "ingress"}}}]}
        if "from" not in rule
        else rule
        for rule in gateway["ingress"]
        if rule.get("from", [{}])[0].get("podSelector", {}).get("matchLabels")
        != {"app.kubernetes.io/name": "web"}
    ]
    problems = "\n".join(check.network_problems(objects))
    assert "NetworkPolicy web (for web): egress to {'podSelector'" in problems
    assert "Deployment gateway: no NetworkPolicy lets web's pods in" in problems
    web["egress"] = [r for r in web["egress"] if r["to"] == [check.DNS_PEER]]
    problems = "\n".join(check.network_problems(objects))
    assert "Deployment web: no NetworkPolicy lets it reach the gateway" in problems


def test_the_web_portal_is_probed_on_nginx_itself_not_on_the_proxied_gateway(
    rendered: dict[str, Path],
) -> None:
    objects = docs(rendered["prod/web"])
    assert check.rendered_problems(objects, "prod", whole=False) == []
    container = check.of_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["path"] = "/health/live"
    problems = check.deployment_problems(objects)
    assert problems == [
        "Deployment web container web: livenessProbe is not an HTTP GET of /healthz"
    ], problems


def test_compose_parses_and_names_every_service() -> None:
    assert check.compose_problems() == []
    services = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["mongodb"]["image"].startswith("mongo:")
    for d in check.deployables():
        assert services[d.name]["build"]["dockerfile"] == f"deploy/docker/{d.name}.Dockerfile"
    assert "8000" in services["gateway"]["ports"][0]
    assert "8080" in services["web"]["ports"][0]


def test_compose_starts_the_web_portal_after_the_gateway_it_proxies(tmp_path: Path) -> None:
    repo = _fake_repo(tmp_path)
    compose = repo / "deploy/compose.yaml"
    data = yaml.safe_load(compose.read_text())
    assert "gateway" in data["services"]["web"]["depends_on"]
    data["services"]["web"]["depends_on"] = {}
    data["services"]["web"]["read_only"] = False
    compose.write_text(yaml.safe_dump(data))
    problems = check.compose_problems(repo)
    assert "compose: web does not depend on gateway (it proxies it)" in problems
    assert "compose: web should run with a read-only root file system" in problems


def test_runbook_covers_the_operations_the_issue_lists() -> None:
    text = (ROOT / "docs/operations.md").read_text()
    for needle in (
        "kubectl apply -k deploy/k8s/overlays/prod/wallet",
        "rollout undo deployment/wallet",
        "python -m portal_gateway.projector rebuild",
        "partitions",
        "keys/rotate",
        "portal_outbox_pending_commits",
        "portal_projection_lag_seconds",
        "portal_events_consumed_total",
        "portal_events_dead_lettered_total",
        "portal_outbox_relay_leader",
        "portal_events_appended_total",
        "PodMonitor",
        "grafana_dashboard",
        *sorted(check.REQUIRED_ALERTS),
    ):
        assert needle in text, needle


# --- monitoring: PodMonitors, alert rules, the Grafana dashboard ----------------------------

PLATFORM = ROOT / "deploy/k8s/base/platform"


def test_every_metric_the_dashboard_and_the_alerts_query_is_registered_by_the_code() -> None:
    known = check.registered_metrics()
    # the chassis' own metrics and Litestar's HTTP ones (read from its source) are both found
    assert {"portal_outbox_pending_commits", "portal_http_requests_total"} <= known
    assert "portal_http_request_duration_seconds_bucket" in known
    dashboard = json.loads((PLATFORM / "dashboards/portal-overview.json").read_text())
    rule = yaml.safe_load((PLATFORM / "prometheusrule.yaml").read_text())
    exprs = check.dashboard_exprs(dashboard)
    used = set().union(*(check.promql_metric_names(e) for _, e in exprs))
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            used |= check.promql_metric_names(r["expr"])
    assert used - known == set()
    # what the issue asks the dashboard to show, each by an existing metric
    assert {
        "portal_http_requests_total",
        "portal_http_requests_error_total",
        "portal_http_request_duration_seconds_bucket",
        "portal_events_appended_total",
        "portal_outbox_relayed_events_total",
        "portal_events_consumed_total",
        "portal_events_dead_lettered_total",
        "portal_projection_lag_seconds",
        "portal_outbox_pending_commits",
        "portal_outbox_relay_leader",
    } <= used
    assert check.rule_problems(rule, known) == []


def test_promql_names_are_told_from_functions_labels_and_durations() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (path, le) (rate(a_bucket{path=~"/v1/(x|y)"}'
        "[$__rate_interval]))) / ignoring(le) group_left sum(b offset 5m) > bool 1e3"
        " and deriv(max by (service) (c)[10m:1m]) > 0"
    )
    assert check.promql_metric_names(expr) == {"a_bucket", "b", "c"}


def test_a_metric_the_code_never_registers_fails_the_check(rendered: dict[str, Path]) -> None:
    objects = docs(rendered["prod/platform"])
    rule = check.of_kind(objects, "PrometheusRule")[0]
    rule["spec"]["groups"][0]["rules"][0]["expr"] = "portal_projection_lag_secs > 60"
    rule["spec"]["groups"][0]["rules"][1]["alert"] = "Renamed"
    dashboard = next(c for c in check.of_kind(objects, "ConfigMap") if "data" in c)
    key = next(iter(dashboard["data"]))
    dashboard["data"][key] = dashboard["data"][key].replace(
        "portal_outbox_relay_leader", "portal_relay_is_leader"
    )
    problems = "\n".join(check.monitoring_problems(objects, whole=True))
    assert "metric portal_projection_lag_secs is not registered" in problems
    assert "metric portal_relay_is_leader is not registered" in problems
    assert "no alert PortalOutboxPendingGrowing" in problems


def test_every_deployable_is_scraped_on_the_port_it_serves_metrics_on(
    rendered: dict[str, Path],
) -> None:
    for env in check.ENVS:
        objects = docs(rendered[env])
        monitors = {check.name_of(m): m for m in check.of_kind(objects, "PodMonitor")}
        assert set(monitors) == {d.name for d in check.deployables() if not d.static}
        endpoint = monitors["gateway"]["spec"]["podMetricsEndpoints"][0]
        assert endpoint["port"] == "metrics"  # 8191: never the public port
        assert check.monitoring_problems(objects, whole=True) == []


def test_the_monitoring_check_rejects_an_unscraped_or_misdirected_deployable(
    rendered: dict[str, Path],
) -> None:
    objects = docs(rendered["prod"])
    gateway = next(
        m for m in check.of_kind(objects, "PodMonitor") if m["metadata"]["name"] == "gateway"
    )
    gateway["spec"]["podMetricsEndpoints"][0]["port"] = "http"
    objects = [
        o for o in objects if not (o["kind"] == "PodMonitor" and check.name_of(o) == "wallet")
    ]
    problems = "\n".join(check.monitoring_problems(objects, whole=True))
    assert "Deployment wallet: no PodMonitor scrapes its pods" in problems
    assert "PodMonitor for gateway: scrapes 'http'" in problems


async def _client_seen(trusted: str, peer: str, forwarded_for: str) -> str:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    scope = {
        "type": "http",
        "client": (peer, 40000),
        "headers": [(b"x-forwarded-for", forwarded_for.encode())],
    }
    await ProxyHeadersMiddleware(app, trusted_hosts=trusted)(scope, None, None)  # type: ignore[arg-type]
    return str(seen["client"][0])


async def test_the_gateway_sees_the_real_client_behind_nginx_and_the_ingress(
    rendered: dict[str, Path],
) -> None:
    objects = docs(rendered["prod"])
    gateway_config = next(
        m for m in check.of_kind(objects, "ConfigMap") if check.name_of(m).startswith("gateway")
    )
    trusted = gateway_config["data"]["FORWARDED_ALLOW_IPS"]
    # nginx (10.0.6.6) appends the ingress pod (10.0.5.5), which appended the client.
    assert await _client_seen(trusted, "10.0.6.6", "203.0.113.9, 10.0.5.5") == "203.0.113.9"
    # An address the caller wrote itself is left of the real one and never taken.
    spoofed = "192.0.2.1, 203.0.113.9, 10.0.5.5"
    assert await _client_seen(trusted, "10.0.6.6", spoofed) == "203.0.113.9"
    # A direct caller outside the pod network is not a proxy: its header is ignored.
    assert await _client_seen(trusted, "198.51.100.7", "192.0.2.1") == "198.51.100.7"


def test_the_proxy_check_rejects_a_missing_or_wildcard_trust(rendered: dict[str, Path]) -> None:
    objects = docs(rendered["prod"])
    assert check.gateway_proxy_problems(objects) == []
    gateway_config = next(
        m for m in check.of_kind(objects, "ConfigMap") if check.name_of(m).startswith("gateway")
    )
    gateway_config["data"]["FORWARDED_ALLOW_IPS"] = "*"
    assert "entry '*' is not an address" in "\n".join(check.gateway_proxy_problems(objects))
    del gateway_config["data"]["FORWARDED_ALLOW_IPS"]
    assert "no FORWARDED_ALLOW_IPS" in "\n".join(check.gateway_proxy_problems(objects))


# --- environment variables ----------------------------------------------------------------------


def test_each_deployable_sets_only_its_own_prefix_and_the_shared_variables(
    rendered: dict[str, Path],
) -> None:
    problems = []
    for rel, path in rendered.items():
        problems += [f"{rel}: {p}" for p in check.env_prefix_problems(docs(path))]
    assert problems == []


def test_the_prefix_check_rejects_another_services_prefix(rendered: dict[str, Path]) -> None:
    objects = docs(rendered["prod"])
    config = next(
        m
        for m in check.of_kind(objects, "ConfigMap")
        if check.name_of(m).startswith("notifications-config")
    )
    config["data"]["WALLET_LOG_LEVEL"] = "INFO"  # the copy-paste slip the review found
    notifications = next(
        d for d in check.of_kind(objects, "Deployment") if check.name_of(d) == "notifications"
    )
    notifications["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "BILLING_WALLET_URL", "value": "http://wallet:8101"}
    )
    problems = check.env_prefix_problems(objects)
    assert [p.split(",")[0] for p in problems] == [
        "Deployment notifications: sets BILLING_WALLET_URL",
        "Deployment notifications: sets WALLET_LOG_LEVEL",
    ]
    assert all("its prefix is NOTIFICATIONS_" in p for p in problems)
