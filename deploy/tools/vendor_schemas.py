"""Regenerate the JSON schemas vendored under deploy/k8s/schemas/ (run by hand, not in CI).

Every schema comes from a package in a public registry, through that registry's own client:

- Kubernetes built-in kinds: the PyPI package `kubernetes-validate` (installed with uv into a
  throw-away virtualenv); its `v<K8S>-local-strict` schemas are made standalone (only the
  definitions a kind reaches are kept) for the few kinds the manifests use.
- Strimzi (Kafka, KafkaNodePool, KafkaTopic, KafkaUser): the Maven Central artifacts
  `io.strimzi:api` and `io.strimzi:crd-generator` (resolved with mvn); the CRDs are generated
  exactly as Strimzi's own build does, then their openAPIV3Schema is converted to JSON Schema.
  The generator needs Java 21+ (set JAVA to such a `java`, or have one under /usr/lib/jvm).
- MongoDB Community operator (MongoDBCommunity): the Go module
  `github.com/mongodb/mongodb-kubernetes-operator` (go mod download), config/crd/bases.
- Prometheus operator (PodMonitor, PrometheusRule): the Go module
  `github.com/prometheus-operator/prometheus-operator` (go mod download),
  example/prometheus-operator-crd.

Descriptions are dropped to keep the files small. Schemas are strict: objects reject
properties the schema does not declare (as kubeconform's -strict expects), except where the
CRD preserves unknown fields. CEL rules (x-kubernetes-validations) cannot be checked here.

    uv run python deploy/tools/vendor_schemas.py
    uv run python deploy/tools/vendor_schemas.py --only prometheus   # one source
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "k8s" / "schemas"

KUBERNETES_VALIDATE = "1.37.0"
KUBERNETES_VERSION = "1.35.0"
KUBERNETES_KINDS = [
    "configmap-v1",
    "deployment-apps-v1",
    "horizontalpodautoscaler-autoscaling-v2",
    "namespace-v1",
    "networkpolicy-networking-v1",
    "poddisruptionbudget-policy-v1",
    "secret-v1",
    "service-v1",
    "serviceaccount-v1",
]

STRIMZI = "1.2.0"
STRIMZI_CLASSES = {
    "Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
    "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "KafkaUser": "io.strimzi.api.kafka.model.user.KafkaUser",
}

MONGODB_OPERATOR_MODULE = "github.com/mongodb/mongodb-kubernetes-operator"
MONGODB_OPERATOR = "v0.13.0"
MONGODB_CRD = "config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml"

PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR = "v0.85.0"
PROMETHEUS_OPERATOR_CRDS = [
    "example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",
    "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def strip_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip_descriptions(v) for v in node]
    return node


# --- Kubernetes built-in kinds ---------------------------------------------------------


def inline_refs(node: Any, definitions: dict[str, Any], needed: dict[str, Any]) -> Any:
    """Point every $ref at `#/$defs/...` and collect the definitions reached into `needed`."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                ref = value.split("#/$defs/", 1)[1]
                if ref not in needed:
                    needed[ref] = None  # placeholder against cycles
                    needed[ref] = inline_refs(definitions[ref], definitions, needed)
                result[key] = f"#/$defs/{ref}"
            else:
                result[key] = inline_refs(value, definitions, needed)
        return result
    if isinstance(node, list):
        return [inline_refs(v, definitions, needed) for v in node]
    return node


def kubernetes_schemas(work: Path) -> dict[str, Any]:
    venv = work / "kv-venv"
    run(["uv", "venv", "--quiet", str(venv)])
    run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            str(venv / "bin" / "python"),
            f"kubernetes-validate=={KUBERNETES_VALIDATE}",
        ]
    )
    found = list(venv.glob("lib/python*/site-packages/kubernetes_validate/kubernetes-json-schema"))
    if not found:
        raise SystemExit("kubernetes-validate has no kubernetes-json-schema directory")
    src = found[0] / f"v{KUBERNETES_VERSION}-local-strict"
    definitions = json.loads((src / "_definitions.json").read_text())["$defs"]
    out = OUT / "kubernetes"
    shutil.rmtree(out, ignore_errors=True)
    sources = {}
    for name in KUBERNETES_KINDS:
        kind_file = src / f"{name}.json"
        schema = json.loads(kind_file.read_text())
        schema.pop("$id", None)
        needed: dict[str, Any] = {}
        standalone = inline_refs(strip_descriptions(schema), definitions, needed)
        standalone["$defs"] = {k: strip_descriptions(v) for k, v in sorted(needed.items())}
        write_json(out / f"{name}.json", standalone)
        sources[name] = sha256(kind_file)
    return {
        "package": f"pypi:kubernetes-validate=={KUBERNETES_VALIDATE}",
        "path": f"kubernetes_validate/kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict",
        "definitions_sha256": sha256(src / "_definitions.json"),
        "kinds_sha256": sources,
    }


# --- CRDs --------------------------------------------------------------------------------


def crd_to_json_schema(node: Any, *, strict_object: bool = True) -> Any:
    """openAPIV3Schema -> JSON Schema, as kubeconform's openapi2jsonschema does (strict)."""
    if isinstance(node, list):
        return [crd_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in {
            "description",
            "x-kubernetes-validations",
            "x-kubernetes-map-type",
            "x-kubernetes-list-type",
            "x-kubernetes-list-map-keys",
            "x-kubernetes-embedded-resource",
        }:
            continue
        if key in {"oneOf", "anyOf", "allOf"}:
            # branches only restate required-ness of properties declared beside them
            out[key] = [crd_to_json_schema(v, strict_object=False) for v in value]
        elif key == "not":
            out[key] = crd_to_json_schema(value, strict_object=False)
        elif key in {"properties", "patternProperties"}:
            out[key] = {k: crd_to_json_schema(v) for k, v in value.items()}
        elif key in {"items", "additionalProperties"} and isinstance(value, dict):
            out[key] = crd_to_json_schema(value)
        else:
            out[key] = value
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out.pop("anyOf", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if strict_object and not preserve and "properties" in out:
        out.setdefault("additionalProperties", False)
    return out


def write_crd(crd: dict[str, Any]) -> list[str]:
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    written = []
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = crd_to_json_schema(version["schema"]["openAPIV3Schema"])
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        schema.setdefault("properties", {})
        schema["properties"]["apiVersion"] = {
            "type": "string",
            "enum": [f"{group}/{version['name']}"],
        }
        schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
        name = f"{group}/{kind.lower()}_{version['name']}.json"
        write_json(OUT / "crds" / name, schema)
        written.append(name)
    return written


def find_java21() -> str:
    candidates = [os.environ.get("JAVA", ""), shutil.which("java") or ""]
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/java"))
    for java in filter(None, candidates):
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        match = re.search(r'version "(\d+)', out)
        if match and int(match.group(1)) >= 21:
            return java
    raise SystemExit("the Strimzi CRD generator needs Java 21+: set JAVA=/path/to/java")


def strimzi_crds(work: Path) -> dict[str, Any]:
    project = work / "strimzi"
    project.mkdir()
    deps = "".join(
        f"<dependency><groupId>io.strimzi</groupId><artifactId>{a}</artifactId>"
        f"<version>{STRIMZI}</version></dependency>"
        for a in ("api", "crd-generator")
    )
    (project / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>local</groupId><artifactId>strimzi-crds</artifactId><version>1</version>"
        f"<dependencies>{deps}</dependencies></project>"
    )
    run(["mvn", "-q", "dependency:build-classpath", "-Dmdep.outputFile=cp.txt"], cwd=project)
    classpath = (project / "cp.txt").read_text().strip()
    jars = {Path(p).name: sha256(Path(p)) for p in classpath.split(":") if "strimzi" in p}
    targets = [f"{cls}={project / (kind + '.yaml')}" for kind, cls in STRIMZI_CLASSES.items()]
    run(
        [
            find_java21(),
            "-cp",
            classpath,
            "io.strimzi.crdgenerator.CrdGenerator",
            "--target-kube",
            "1.16+",
            "--crd-api-version",
            "v1",
            "--api-versions",
            "v1",
            "--storage-version",
            "v1",
            "--yaml",
            *targets,
        ],
        cwd=project,
    )
    written = []
    for kind in STRIMZI_CLASSES:
        written += write_crd(yaml.safe_load((project / f"{kind}.yaml").read_text()))
    return {
        "package": f"maven:io.strimzi:api:{STRIMZI} + io.strimzi:crd-generator:{STRIMZI}",
        "jars_sha256": jars,
        "schemas": written,
    }


def go_module(module: str, version: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(
        run(
            ["go", "mod", "download", "-json", f"{module}@{version}"],
            capture_output=True,
            env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"},
        ).stdout
    )
    return info


def mongodb_crd() -> dict[str, Any]:
    info = go_module(MONGODB_OPERATOR_MODULE, MONGODB_OPERATOR)
    crd_file = Path(info["Dir"]) / MONGODB_CRD
    written = write_crd(yaml.safe_load(crd_file.read_text()))
    return {
        "package": f"go:{MONGODB_OPERATOR_MODULE}@{MONGODB_OPERATOR}",
        "module_sum": info["Sum"],
        "path": MONGODB_CRD,
        "sha256": sha256(crd_file),
        "schemas": written,
    }


def prometheus_operator_crds() -> dict[str, Any]:
    info = go_module(PROMETHEUS_OPERATOR_MODULE, PROMETHEUS_OPERATOR)
    written, files = [], {}
    for path in PROMETHEUS_OPERATOR_CRDS:
        crd_file = Path(info["Dir"]) / path
        written += write_crd(yaml.safe_load(crd_file.read_text()))
        files[path] = sha256(crd_file)
    return {
        "package": f"go:{PROMETHEUS_OPERATOR_MODULE}@{PROMETHEUS_OPERATOR}",
        "module_sum": info["Sum"],
        "files_sha256": files,
        "schemas": written,
    }


SOURCES = {
    "kubernetes": kubernetes_schemas,
    "strimzi": strimzi_crds,
    "mongodb": lambda work: mongodb_crd(),
    "prometheus": lambda work: prometheus_operator_crds(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SOURCES), action="append", help="one source")
    args = parser.parse_args()
    chosen = args.only or list(SOURCES)
    index = OUT / "SOURCES.json"
    sources = json.loads(index.read_text()) if args.only and index.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in chosen:
            for old in sources.get(name, {}).get("schemas", []) if args.only else []:
                (OUT / "crds" / old).unlink(missing_ok=True)
        if not args.only:
            shutil.rmtree(OUT / "crds", ignore_errors=True)
        for name in chosen:
            sources[name] = SOURCES[name](work)
    write_json(index, sources)
    print(f"schemas written under {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
