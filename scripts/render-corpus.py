#!/usr/bin/env python3
"""Renders the real-world corpus: public Helm charts through real Helm, each stream stored
gzipped under tests/fixtures/realworld/ for the validator's corpus test.

    python3 scripts/render-corpus.py SOURCES

SOURCES holds the charts' repositories, unpacked (bitnami/charts, prometheus-community/
helm-charts, grafana/helm-charts, argoproj/argo-helm, kubernetes/ingress-nginx,
kubernetes-sigs/metrics-server, cert-manager/cert-manager, hashicorp/vault-helm). Dependencies
are taken from SOURCES by chart name (the registries they name are not reached); an optional
dependency found nowhere is dropped from the copy that is rendered. Helm is the one
scripts/install-test-tools.sh installs. The streams are kept, not rendered in CI: rendering
needs the sources, which are far larger than the streams.
"""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELM = os.path.join(ROOT, ".tools", "bin", "helm")
OUT = os.path.join(ROOT, "tests", "fixtures", "realworld")
KUBE = "1.35.0"

# Every optional object a bitnami chart can add: metrics and their ServiceMonitors, ingress,
# network policies, disruption budgets, autoscalers.
FULL = [
    "--set", "metrics.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
    "--set", "ingress.enabled=true", "--set", "networkPolicy.enabled=true",
    "--set", "pdb.create=true", "--set", "autoscaling.hpa.enabled=true",
    "--set", "metrics.prometheusRule.enabled=true",
]

# (case, chart name, release, extra flags)
CASES = [
    ("kube-prometheus-stack", "kube-prometheus-stack", "monitoring", ["--include-crds"]),
    ("prometheus", "prometheus", "prom", []),
    ("alertmanager", "alertmanager", "am", []),
    ("prometheus-adapter", "prometheus-adapter", "adapter", []),
    ("prometheus-blackbox-exporter", "prometheus-blackbox-exporter", "blackbox", []),
    ("grafana", "grafana", "grafana", []),
    ("grafana-persistence", "grafana", "grafana", ["--set", "persistence.enabled=true", "--set", "ingress.enabled=true"]),
    ("loki-distributed", "loki-distributed", "loki", []),
    ("tempo", "tempo", "tempo", []),
    ("loki", "loki", "loki", ["--set", "loki.storage.type=filesystem", "--set", "deploymentMode=SingleBinary", "--set", "singleBinary.replicas=1", "--set", "loki.commonConfig.replication_factor=1", "--set", "loki.useTestSchema=true", "--set", "backend.replicas=0", "--set", "read.replicas=0", "--set", "write.replicas=0"]),
    ("fluent-bit", "fluent-bit", "fluent-bit", []),
    ("argo-cd", "argo-cd", "argocd", ["--include-crds"]),
    ("argo-cd-ha", "argo-cd", "argocd", ["--set", "controller.replicas=2", "--set", "server.autoscaling.enabled=true", "--set", "repoServer.autoscaling.enabled=true"]),
    ("argo-workflows", "argo-workflows", "argo", ["--include-crds"]),
    ("argo-rollouts", "argo-rollouts", "rollouts", ["--include-crds"]),
    ("argo-events", "argo-events", "events", ["--include-crds"]),
    ("ingress-nginx", "ingress-nginx", "ingress", []),
    ("ingress-nginx-daemonset", "ingress-nginx", "ingress", ["--set", "controller.kind=DaemonSet", "--set", "controller.metrics.enabled=true"]),
    ("cert-manager", "cert-manager", "cert-manager", ["--set", "crds.enabled=true"]),
    ("metrics-server", "metrics-server", "metrics-server", []),
    ("vault", "vault", "vault", []),
    ("vault-ha", "vault", "vault", ["--set", "server.ha.enabled=true", "--set", "server.ha.raft.enabled=true", "--set", "injector.replicas=2"]),
    ("postgresql", "postgresql", "pg", []),
    ("postgresql-replication", "postgresql", "pg", ["--set", "architecture=replication", "--set", "metrics.enabled=true"]),
    ("redis", "redis", "redis", []),
    ("redis-sentinel", "redis", "redis", ["--set", "sentinel.enabled=true"]),
    ("rabbitmq", "rabbitmq", "rabbit", []),
    ("etcd", "etcd", "etcd", ["--set", "replicaCount=3"]),
    ("kafka", "kafka", "kafka", []),
    ("mongodb", "mongodb", "mongo", ["--set", "architecture=replicaset"]),
    ("nginx", "nginx", "web", []),
    ("keycloak", "keycloak", "sso", []),
    ("mariadb", "mariadb", "db", []),
    ("wordpress", "wordpress", "blog", []),
    ("airflow", "airflow", "airflow", []),
    ("minio", "minio", "minio", []),
    ("bitnami-apisix", "bitnami/apisix", "apisix", []),
    ("bitnami-argo-workflows", "bitnami/argo-workflows", "argo-workflo", []),
    ("bitnami-cassandra", "bitnami/cassandra", "cassandra", []),
    ("bitnami-cert-manager", "bitnami/cert-manager", "cert-manager", []),
    ("bitnami-clickhouse", "bitnami/clickhouse", "clickhouse", []),
    ("bitnami-concourse", "bitnami/concourse", "concourse", []),
    ("bitnami-consul", "bitnami/consul", "consul", []),
    ("bitnami-contour", "bitnami/contour", "contour", []),
    ("bitnami-discourse", "bitnami/discourse", "discourse", []),
    ("bitnami-elasticsearch", "bitnami/elasticsearch", "elasticsearc", []),
    ("bitnami-external-dns", "bitnami/external-dns", "external-dns", []),
    ("bitnami-flink", "bitnami/flink", "flink", []),
    ("bitnami-fluentd", "bitnami/fluentd", "fluentd", []),
    ("bitnami-ghost", "bitnami/ghost", "ghost", []),
    ("bitnami-gitea", "bitnami/gitea", "gitea", []),
    ("bitnami-grafana-loki", "bitnami/grafana-loki", "grafana-loki", []),
    ("bitnami-grafana-mimir", "bitnami/grafana-mimir", "grafana-mimi", []),
    ("bitnami-grafana-tempo", "bitnami/grafana-tempo", "grafana-temp", []),
    ("bitnami-harbor", "bitnami/harbor", "harbor", []),
    ("bitnami-influxdb", "bitnami/influxdb", "influxdb", []),
    ("bitnami-jaeger", "bitnami/jaeger", "jaeger", []),
    ("bitnami-jenkins", "bitnami/jenkins", "jenkins", []),
    ("bitnami-jupyterhub", "bitnami/jupyterhub", "jupyterhub", []),
    ("bitnami-keydb", "bitnami/keydb", "keydb", []),
    ("bitnami-kibana", "bitnami/kibana", "kibana", []),
    ("bitnami-kong", "bitnami/kong", "kong", []),
    ("bitnami-kube-prometheus", "bitnami/kube-prometheus", "kube-prometh", []),
    ("bitnami-kubernetes-event-exporter", "bitnami/kubernetes-event-exporter", "kubernetes-e", []),
    ("bitnami-logstash", "bitnami/logstash", "logstash", []),
    ("bitnami-mastodon", "bitnami/mastodon", "mastodon", []),
    ("bitnami-milvus", "bitnami/milvus", "milvus", []),
    ("bitnami-mlflow", "bitnami/mlflow", "mlflow", []),
    ("bitnami-mongodb-sharded", "bitnami/mongodb-sharded", "mongodb-shar", []),
    ("bitnami-mysql", "bitnami/mysql", "mysql", []),
    ("bitnami-nats", "bitnami/nats", "nats", []),
    ("bitnami-neo4j", "bitnami/neo4j", "neo4j", []),
    ("bitnami-nginx-ingress-controller", "bitnami/nginx-ingress-controller", "nginx-ingres", []),
    ("bitnami-oauth2-proxy", "bitnami/oauth2-proxy", "oauth2-proxy", []),
    ("bitnami-opensearch", "bitnami/opensearch", "opensearch", []),
    ("bitnami-postgresql-ha", "bitnami/postgresql-ha", "postgresql-h", []),
    ("bitnami-redis-cluster", "bitnami/redis-cluster", "redis-cluste", []),
    ("bitnami-schema-registry", "bitnami/schema-registry", "schema-regis", []),
    ("bitnami-sealed-secrets", "bitnami/sealed-secrets", "sealed-secre", []),
    ("bitnami-seaweedfs", "bitnami/seaweedfs", "seaweedfs", []),
    ("bitnami-solr", "bitnami/solr", "solr", []),
    ("bitnami-spark", "bitnami/spark", "spark", []),
    ("bitnami-superset", "bitnami/superset", "superset", []),
    ("bitnami-thanos", "bitnami/thanos", "thanos", []),
    ("bitnami-valkey", "bitnami/valkey", "valkey", []),
    ("bitnami-zookeeper", "bitnami/zookeeper", "zookeeper", []),
    ("bitnami-postgresql-full", "bitnami/postgresql", "postgresql", FULL),
    ("bitnami-redis-full", "bitnami/redis", "redis", FULL),
    ("bitnami-rabbitmq-full", "bitnami/rabbitmq", "rabbitmq", FULL),
    ("bitnami-mongodb-full", "bitnami/mongodb", "mongodb", FULL),
    ("bitnami-mariadb-full", "bitnami/mariadb", "mariadb", FULL),
    ("bitnami-kafka-full", "bitnami/kafka", "kafka", FULL),
    ("bitnami-etcd-full", "bitnami/etcd", "etcd", FULL),
    ("bitnami-nginx-full", "bitnami/nginx", "nginx", FULL),
    ("bitnami-mysql-full", "bitnami/mysql", "mysql", FULL),
    ("bitnami-keycloak-full", "bitnami/keycloak", "keycloak", FULL),
    ("bitnami-zookeeper-full", "bitnami/zookeeper", "zookeeper", FULL),
    ("bitnami-cassandra-full", "bitnami/cassandra", "cassandra", FULL),
    ("bitnami-elasticsearch-full", "bitnami/elasticsearch", "elasticsearc", FULL),
    ("bitnami-external-dns-full", "bitnami/external-dns", "external-dns", FULL),
    ("bitnami-ghost-full", "bitnami/ghost", "ghost", FULL),
    ("bitnami-gitea-full", "bitnami/gitea", "gitea", FULL),
    ("bitnami-harbor-full", "bitnami/harbor", "harbor", FULL),
    ("bitnami-jenkins-full", "bitnami/jenkins", "jenkins", FULL),
    ("bitnami-mastodon-full", "bitnami/mastodon", "mastodon", FULL),
    ("bitnami-mlflow-full", "bitnami/mlflow", "mlflow", FULL),
    ("bitnami-nats-full", "bitnami/nats", "nats", FULL),
    ("bitnami-thanos-full", "bitnami/thanos", "thanos", FULL),
    ("bitnami-valkey-full", "bitnami/valkey", "valkey", FULL),
    ("bitnami-wordpress-full", "bitnami/wordpress", "wordpress", FULL),
    ("bitnami-minio-full", "bitnami/minio", "minio", FULL),
    ("bitnami-airflow-full", "bitnami/airflow", "airflow", FULL),
    ("bitnami-apisix-full", "bitnami/apisix", "apisix", FULL),
    ("bitnami-contour-full", "bitnami/contour", "contour", FULL),
    ("bitnami-kube-prometheus-full", "bitnami/kube-prometheus", "kube-prometh", FULL),
    ("kube-state-metrics", "kube-state-metrics", "kube-state-met", []),
    ("prometheus-node-exporter", "prometheus-node-exporter", "node-exporter", []),
    ("prometheus-pushgateway", "prometheus-pushgateway", "pushgateway", []),
    ("prometheus-windows-exporter", "prometheus-windows-exporter", "windows-export", []),
    ("prometheus-redis-exporter", "prometheus-redis-exporter", "redis-exporter", []),
    ("prometheus-mysql-exporter", "prometheus-mysql-exporter", "mysql-exporter", []),
    ("prometheus-elasticsearch-exporter", "prometheus-elasticsearch-exporter", "elasticsearch", []),
    ("prometheus-snmp-exporter", "prometheus-snmp-exporter", "snmp-exporter", []),
    ("prometheus-statsd-exporter", "prometheus-statsd-exporter", "statsd-exporte", []),
    ("prometheus-operator-admission-webhook", "prometheus-operator-admission-webhook", "operator-admis", []),
    ("prom-label-proxy", "prom-label-proxy", "prom-label-pro", []),
    ("prometheus-rabbitmq-exporter", "prometheus-rabbitmq-exporter", "rabbitmq-expor", []),
    ("prometheus-nginx-exporter", "prometheus-nginx-exporter", "nginx-exporter", []),
    ("jiralert", "jiralert", "jiralert", []),
    ("kube-prometheus-stack-full", "kube-prometheus-stack", "monitoring", ["--set", "grafana.ingress.enabled=true", "--set", "prometheus.ingress.enabled=true", "--set", "alertmanager.ingress.enabled=true", "--set", "prometheus.prometheusSpec.replicas=2", "--set", "thanosRuler.enabled=true"]),
    ("cert-manager-monitored", "cert-manager", "cert-manager", ["--set", "prometheus.servicemonitor.enabled=true", "--set", "replicaCount=2", "--set", "podDisruptionBudget.enabled=true", "--set", "webhook.replicaCount=2"]),
    ("ingress-nginx-monitored", "ingress-nginx", "ingress", ["--set", "controller.metrics.enabled=true", "--set", "controller.metrics.serviceMonitor.enabled=true", "--set", "controller.autoscaling.enabled=true", "--set", "defaultBackend.enabled=true"]),
    ("argo-workflows-server", "argo-workflows", "argo", ["--set", "server.ingress.enabled=true", "--set", "controller.metricsConfig.enabled=true", "--set", "controller.serviceMonitor.enabled=true"]),
    ("metrics-server-ha", "metrics-server", "metrics-server", ["--set", "replicas=2", "--set", "podDisruptionBudget.enabled=true", "--set", "serviceMonitor.enabled=true", "--set", "metrics.enabled=true"]),
]


def charts_by_name(sources):
    """Every chart under SOURCES by name (the first found, in path order; bitnami's last, so
    that a chart's own project wins over bitnami's chart of the same name)."""
    found = {}
    walked = sorted(os.walk(sources), key=lambda w: ("/bitnami/" in w[0] + "/", w[0]))
    for top, dirs, files in walked:
        dirs.sort()
        if "Chart.yaml" in files and "/tests/" not in top + "/" and "/ci/" not in top + "/":
            with open(os.path.join(top, "Chart.yaml")) as f:
                meta = yaml.safe_load(f)
            found.setdefault(meta["name"], top)
    return found


def vendor(chart_dir, charts):
    """Copies the dependencies of the chart at `chart_dir` (recursively) into its charts/."""
    path = os.path.join(chart_dir, "Chart.yaml")
    with open(path) as f:
        meta = yaml.safe_load(f)
    kept = []
    for dep in meta.get("dependencies") or []:
        name, repo = dep["name"], dep.get("repository", "")
        local = os.path.join(chart_dir, "charts", name)
        if os.path.isdir(local) or repo.startswith("file://"):
            kept.append(dep)
            continue
        source = charts.get(name)
        if source is None:
            if dep.get("condition"):
                continue  # optional and nowhere to be had: left out
            raise SystemExit(f"{meta['name']}: dependency {name} not found in the sources")
        shutil.copytree(source, local, symlinks=True)
        vendor(local, charts)
        kept.append(dep)
    meta["dependencies"] = kept
    with open(path, "w") as f:
        yaml.safe_dump(meta, f)
    lock = os.path.join(chart_dir, "Chart.lock")
    if os.path.exists(lock):
        os.remove(lock)


def main():
    sources = sys.argv[1]
    charts = charts_by_name(sources)
    os.makedirs(OUT, exist_ok=True)
    version = subprocess.run([HELM, "version", "--short"], capture_output=True, text=True).stdout.strip()
    for case, name, release, flags in CASES:
        at = os.path.join(sources, "bitnami", name)
        if "/" in name and os.path.exists(os.path.join(at, "Chart.yaml")):
            charts[name] = at
        if name not in charts:
            print(f"{case}: no chart {name} in the sources")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            chart = os.path.join(tmp, name.split("/")[-1])
            shutil.copytree(charts[name], chart, symlinks=True)
            vendor(chart, charts)
            with open(os.path.join(chart, "Chart.yaml")) as f:
                chart_version = yaml.safe_load(f).get("version")
            args = [HELM, "template", release, chart, "--kube-version", KUBE, "--namespace", release] + flags
            run = subprocess.run(args, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{case}: helm template failed: {run.stderr.strip()[:400]}")
                continue
            header = (
                f"# {case}: {name} {chart_version}, rendered by helm {version}: "
                f"helm template {release} {name} --kube-version {KUBE} --namespace {release} {' '.join(flags)}\n"
            )
            with gzip.GzipFile(os.path.join(OUT, case + ".yaml.gz"), "wb", mtime=0) as out:
                out.write((header + run.stdout).encode())
            print(f"{case}: {run.stdout.count(chr(10) + '---')} documents")


if __name__ == "__main__":
    main()
