"""Schemathesis hooks for scripts/fuzz.sh: how the fuzzer signs in.

Every token comes from the running account manager (FUZZ_AUTH_URL), never
from a fixture. Tokens are fetched again whenever an answer is 401: the
fuzzer itself logs out, disables accounts, changes passwords and ends
sessions, so a cached token dies during the run by design.

- Routes under /api/v1/admin/ get the first account's token (the admin,
  registered by scripts/fuzz.sh before the run).
- The service-client routes (/api/v1/users, /api/v1/users/lookup,
  /api/v1/revocations/feed) get a service token of kanban's client.
- Seed 003's GET /api/v1/user gets an X-Access-Token.
- Every other route that declares a security requirement gets the access
  token of a fresh account of its own, registered on demand.
"""

import itertools
import os
import uuid

import requests
import schemathesis

AUTH = os.environ["FUZZ_AUTH_URL"]
ADMIN_EMAIL = os.environ["FUZZ_ADMIN_EMAIL"]
PASSWORD = os.environ["FUZZ_PASSWORD"]
CLIENT_ID = os.environ["FUZZ_CLIENT_ID"]
CLIENT_SECRET = os.environ["FUZZ_CLIENT_SECRET"]

SERVICE_PATHS = ("/api/v1/users", "/api/v1/users/lookup", "/api/v1/revocations/feed")
_serial = itertools.count()


def _check(response: requests.Response) -> dict:
    if response.status_code >= 300:
        raise RuntimeError(f"sign-in for the fuzzer failed: {response.status_code} {response.text}")
    return response.json()


def _admin_token() -> str:
    answer = requests.post(
        f"{AUTH}/api/v1/auth/login/email",
        json={"email": ADMIN_EMAIL, "password": PASSWORD},
        timeout=30,
    )
    return _check(answer)["token"]


def _service_token() -> str:
    answer = requests.post(
        f"{AUTH}/api/v1/auth/token/service",
        json={"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET},
        timeout=30,
    )
    return _check(answer)["token"]


def _user_token() -> str:
    email = f"fuzz-{next(_serial)}-{uuid.uuid4().hex[:12]}@example.com"
    answer = requests.post(
        f"{AUTH}/api/v1/auth/register/email",
        json={"email": email, "password": PASSWORD, "password2": PASSWORD},
        timeout=30,
    )
    return _check(answer)["token"]


def _kind(case, context=None) -> str:
    path = case.operation.path
    if path.startswith("/api/v1/admin/"):
        return "admin"
    if path in SERVICE_PATHS:
        return "service"
    return "user"


@schemathesis.auth(cache_by_key=_kind)
class SignIn:
    def get(self, case, context):
        kind = _kind(case)
        if kind == "admin":
            return _admin_token()
        if kind == "service":
            return _service_token()
        return _user_token()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        if case.operation.path == "/api/v1/user":
            case.headers["X-Access-Token"] = data
        else:
            case.headers["Authorization"] = f"Bearer {data}"
