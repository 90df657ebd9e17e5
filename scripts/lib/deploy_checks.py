"""Checks of the deployment files that no schema expresses (run by
scripts/check-deploy.sh inside its venv, which has PyYAML).

  deploy_checks.py kustomization DIR
      every file kustomization.yaml names exists, every manifest in DIR is
      named, and its `images` are the images the Deployments run;
  deploy_checks.py ingress DIR REPO
      every route of both services (their `#[oai(path = ...)]` attributes)
      is either public and routed by DIR/ingress.yaml to its own service,
      or internal and not routed at all;
  deploy_checks.py compose-env COMPOSE ENV_EXAMPLE
      every variable COMPOSE needs without a default is set in ENV_EXAMPLE,
      and ENV_EXAMPLE sets nothing COMPOSE does not use;
  deploy_checks.py config-reference README REPO
      every variable the services' config modules read has a row in the
      README's "Configuration reference".

Each exits 1 with one line a problem when something is wrong.
"""

import pathlib
import re
import sys

import yaml

# Routes that stay inside the cluster: probes, documentation and metrics
# (served by both services at the same paths), and auth-service's routes
# for configured service clients only.
INTERNAL = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/api/v1/auth/token/service",
    "/api/v1/users",
    "/api/v1/oauth",
    "/api/v1/revocations",
]
SERVICES = ["auth-service", "kanban-service"]

# Paths both services serve, and the service the one public host gives
# them to: seed 003's POST /login (auth-service) and seed 000's (kanban,
# the seed-000 frontend's only base URL).
SHARED = {"/login": "kanban-service"}


def fail(problems):
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


def documents(path):
    with open(path, encoding="utf-8") as file:
        return [doc for doc in yaml.safe_load_all(file) if doc]


def check_kustomization(folder):
    folder = pathlib.Path(folder)
    problems = []
    kustomization = documents(folder / "kustomization.yaml")[0]
    listed = kustomization.get("resources", [])
    for name in listed:
        if not (folder / name).is_file():
            problems.append(f"kustomization.yaml names {name}, which does not exist")
    for path in sorted(folder.glob("*.y*ml")):
        if path.name != "kustomization.yaml" and path.name not in listed:
            problems.append(f"{path.name} is not named in kustomization.yaml")
    used = set()
    for name in listed:
        if (folder / name).is_file():
            for doc in documents(folder / name):
                if doc.get("kind") == "Deployment":
                    for container in doc["spec"]["template"]["spec"]["containers"]:
                        used.add(container["image"].rsplit(":", 1)[0])
    for image in kustomization.get("images", []):
        if image["name"] not in used:
            problems.append(f"kustomization.yaml sets image {image['name']}, which no Deployment runs")
    fail(problems)


def routes(repo, service):
    """The path templates of a service's routes, from its handlers."""
    found = set()
    for source in (pathlib.Path(repo) / service / "src" / "api").rglob("*.rs"):
        for path in re.findall(r'#\[oai\(\s*path\s*=\s*"([^"]+)"', source.read_text(encoding="utf-8")):
            found.add(re.sub(r":([a-z_]+)", r"{\1}", path))
    return found


def segments(path):
    return [part for part in path.split("/") if part]


def matches(rule_path, kind, path):
    """Whether an Ingress path of `kind` matches `path` (Prefix: whole segments)."""
    if kind == "Exact":
        return rule_path == path
    rule = segments(rule_path)
    return segments(path)[: len(rule)] == rule


def route_of(ingress, path):
    """The service the Ingress sends `path` to (the longest match), or None."""
    best = None
    for rule in ingress["spec"].get("rules", []):
        for entry in rule.get("http", {}).get("paths", []):
            if matches(entry["path"], entry.get("pathType", "Prefix"), path):
                length = len(segments(entry["path"]))
                if best is None or length > best[0]:
                    best = (length, entry["backend"]["service"]["name"])
    return best and best[1]


def internal(path):
    return any(matches(prefix, "Prefix", path) for prefix in INTERNAL)


def check_ingress(folder, repo):
    ingress = next(
        doc for doc in documents(pathlib.Path(folder) / "ingress.yaml") if doc.get("kind") == "Ingress"
    )
    problems = []
    owners = {path: None for path in INTERNAL}
    for service in SERVICES:
        found = routes(repo, service)
        if not found:
            problems.append(f"no routes found in {service}/src/api")
        owners.update({path: SHARED.get(path, service) for path in found})
    for path, service in sorted(owners.items()):
        target = route_of(ingress, path)
        if internal(path):
            if target is not None:
                problems.append(f"{path} is internal but the Ingress sends it to {target}")
        elif target != service:
            problems.append(f"{service} route {path} is sent to {target or 'nothing'} by the Ingress")
    fail(problems)


def check_compose_env(compose, env_example):
    text = pathlib.Path(compose).read_text(encoding="utf-8")
    needed, used = set(), set()
    for name, modifier in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+]?)", text):
        used.add(name)
        if modifier in ("", ":?", "?"):
            needed.add(name)
    defined = set()
    for line in pathlib.Path(env_example).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            defined.add(line.split("=", 1)[0].strip())
    problems = [f"{compose} needs {name}, which {env_example} does not set" for name in sorted(needed - defined)]
    problems += [f"{env_example} sets {name}, which {compose} does not use" for name in sorted(defined - used)]
    fail(problems)


PREFIXES = {"auth-service": "AUTH", "kanban-service": "KANBAN"}


def check_config_reference(readme, repo):
    text = pathlib.Path(readme).read_text(encoding="utf-8")
    start = text.find("## Configuration reference")
    section = text[start : text.find("\n## ", start + 1)] if start >= 0 else ""
    problems = [] if section else [f"{readme} has no Configuration reference section"]
    for service, prefix in PREFIXES.items():
        # A service's own settings, and the shared ones it reads under its prefix.
        config = "".join(
            (pathlib.Path(repo) / path).read_text(encoding="utf-8")
            for path in (
                f"{service}/src/config.rs",
                "shared/src/connections.rs",
                "shared/src/http.rs",
            )
        )
        names = set(
            re.findall(
                r'env\s*\.(?:parse|string|get|seconds|list|key|switch|database_url|redis_url|http_url)\(\s*"([A-Z0-9_]+)"',
                config,
            )
        )
        # shared::config's log_json() reads LOG_FORMAT under the prefix.
        if re.search(r"env\.log_json\(\)", config):
            names.add("LOG_FORMAT")
        if not names:
            problems.append(f"no settings found in {service}/src/config.rs")
        for name in sorted(names):
            if f"`{prefix}_{name}`" not in section:
                problems.append(f"{prefix}_{name} has no row in the Configuration reference of {readme}")
    fail(problems)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {
        "kustomization": check_kustomization,
        "ingress": check_ingress,
        "compose-env": check_compose_env,
        "config-reference": check_config_reference,
    }[command](*args)
