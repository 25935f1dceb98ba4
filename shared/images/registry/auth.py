"""How a client proves to a registry that it may pull or push: Basic and Bearer.

A registry says how it wants to be asked only when it refuses. So a client first
knocks with no credentials at all, `GET /v2/`, and reads the answer:

    200 OK                                    anyone may come in (a local registry)
    401 + WWW-Authenticate: Basic realm="x"   send a username and password
    401 + WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry.example"
                                              fetch a token first (the "token dance")

Basic is simple: every request carries `Authorization: Basic base64(user:pass)`.

Bearer keeps the password away from the registry. The client asks a separate *token
service* (the `realm`) for a token:

    GET https://auth.example/token?service=registry.example&scope=repository:library/busybox:pull
        (with `Authorization: Basic ...` if we have a login; anonymous if not)
    -> {"token": "eyJhbGciOi...", "expires_in": 300}

`service` names the registry the token is for; `scope` says what we want to do, to
which repository ("pull", or "pull,push"). The token is a signed statement ("this
client may pull library/busybox until 12:05") that the registry checks with the token
service's public key, without ever calling it. Every request then carries
`Authorization: Bearer <token>`. Docker Hub works this way, anonymous pulls included.

Who "we" are comes from the `X-Registry-Auth` header of the API call: the docker CLI
reads the user's config.json (dockerconfig.py) and passes the login along.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

import requests

from shared.errors import EngineError, InvalidParameter

TOKEN_TIMEOUT = 30  # seconds


class Unauthorized(EngineError):
    """The registry or its token service refused our credentials (HTTP 401)."""

    status = 401


@dataclass(frozen=True)
class Credentials:
    """A login. `identity_token` is what a registry may give back at login in place
    of the password (an OAuth2 refresh token); we pass it on but do not mint one."""

    username: str = ""
    password: str = ""
    identity_token: str = ""

    def __bool__(self) -> bool:
        return bool(self.username or self.identity_token)


ANONYMOUS = Credentials()


def from_registry_auth(header: str | None) -> Credentials:
    """Decode `X-Registry-Auth`: base64url JSON {username, password, auth, identitytoken}.

    Go writes it with or without padding; `e30=` ({}) and an empty header mean anonymous."""
    if not header:
        return ANONYMOUS
    try:
        padded = header + "=" * (-len(header) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        raise InvalidParameter("invalid X-Registry-Auth header: not base64 JSON") from None
    if not isinstance(fields, dict):
        return ANONYMOUS
    username, password = fields.get("username") or "", fields.get("password") or ""
    if not username and fields.get("auth"):  # "auth" is base64 of "user:pass"
        username, _, password = base64.b64decode(fields["auth"]).decode().partition(":")
    return Credentials(username, password, fields.get("identitytoken") or "")


@dataclass(frozen=True)
class Challenge:
    """A parsed `WWW-Authenticate` header: its scheme and parameters."""

    scheme: str  # "basic" or "bearer", lower-cased
    params: dict[str, str]


# key="quoted value" (which may hold commas: scope="repository:x:pull,push") or key=token
_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="https://x/token",service="y"` -> Challenge("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        key.lower(): quoted if quoted or not bare else bare
        for key, quoted, bare in _PARAM.findall(rest)
    }
    return Challenge(scheme.lower(), params)


def scope(repository: str, actions: tuple[str, ...]) -> str:
    """`repository:library/busybox:pull,push`: the token service's resource grammar."""
    return f"repository:{repository}:{','.join(actions)}"


def basic_header(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def fetch_token(
    session: requests.Session, challenge: Challenge, scopes: list[str], credentials: Credentials
) -> str:
    """The token dance's middle step: ask the token service (the challenge's realm)."""
    realm = challenge.params.get("realm")
    if not realm:
        raise Unauthorized("bearer challenge without a realm: cannot ask for a token")
    query: list[tuple[str, str]] = [("scope", s) for s in scopes]
    if challenge.params.get("service"):
        query.insert(0, ("service", challenge.params["service"]))
    headers = {}
    if credentials.username:
        # The password goes to the token service, which vouches for us; the registry
        # only ever sees the token.
        headers["Authorization"] = basic_header(credentials)
    try:
        reply = session.get(realm, params=query, headers=headers, timeout=TOKEN_TIMEOUT)
    except requests.RequestException as error:
        raise EngineError(f"Get {realm!r}: {error}") from None
    if reply.status_code in (401, 403):
        raise Unauthorized(f"Get {realm!r}: unauthorized: incorrect username or password")
    if reply.status_code != 200:
        raise EngineError(f"Get {realm!r}: token service answered {reply.status_code}")
    try:
        body = reply.json()
    except ValueError:
        raise EngineError(f"Get {realm!r}: token service answered no JSON") from None
    # The spec names it "token"; OAuth2 names it "access_token". Services send either.
    token = body.get("token") or body.get("access_token")
    if not token:
        raise EngineError(f"Get {realm!r}: no token in the token service's answer")
    return token


class Authenticator:
    """The Authorization header for one repository of one registry.

    `challenge(...)` is fed the 401 that `GET /v2/` earned; `header()` is then what
    every request carries. Tokens are fetched once and reused for the whole pull."""

    def __init__(
        self,
        session: requests.Session,
        credentials: Credentials,
        repository: str,
        actions: tuple[str, ...],
    ) -> None:
        self.session = session
        self.credentials = credentials
        self.scopes = [scope(repository, actions)] if repository else []
        self._header: str | None = None

    def header(self) -> dict[str, str]:
        return {"Authorization": self._header} if self._header else {}

    def challenge(self, www_authenticate: str) -> None:
        """Answer a registry's challenge: make the header later requests will carry."""
        challenge = parse_challenge(www_authenticate)
        if challenge is None:
            raise Unauthorized("the registry refused us without saying how to log in")
        if challenge.scheme == "basic":
            if not self.credentials.username:
                raise Unauthorized("no basic auth credentials")
            self._header = basic_header(self.credentials)
        elif challenge.scheme == "bearer":
            token = fetch_token(self.session, challenge, self.scopes, self.credentials)
            self._header = f"Bearer {token}"
        else:
            raise Unauthorized(f"unsupported authentication scheme {challenge.scheme!r}")
