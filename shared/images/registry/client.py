"""One repository of one registry, over HTTP: the OCI distribution API.

Everything a pull or a push needs is a handful of URLs under /v2/:

    GET  /v2/                                     who are you? (see auth.py)
    GET  /v2/<name>/manifests/<tag or digest>     the manifest, or an index of them
    GET  /v2/<name>/blobs/<digest>                a config or a layer (may redirect)
    HEAD /v2/<name>/blobs/<digest>                do you have it? (push)
    POST /v2/<name>/blobs/uploads/                start an upload -> Location
    PATCH <location>                              the bytes
    PUT  <location>?digest=<digest>               done: check it and keep it
    PUT  /v2/<name>/manifests/<tag>               the manifest, last

Registries often answer a blob GET with a redirect to a storage service (S3, a CDN)
whose URL is already signed. Our Authorization header must not follow it there: that
server has no business with our registry token. So redirects are followed by hand.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
from collections.abc import Iterator
from urllib.parse import urljoin

import requests
import urllib3

from shared.errors import EngineError, NotFound
from shared.images.reference import DEFAULT_REGISTRY
from shared.images.registry.auth import Authenticator, Credentials, Unauthorized
from shared.images.store import Reader

DOCKER_HUB_API = "registry-1.docker.io"  # where docker.io's API really lives
MAX_REDIRECTS = 10
TIMEOUT = (10, 60)  # seconds: to connect, and between two reads of one answer
USER_AGENT = "whalebones (docker-compatible; python-requests)"
# An insecure registry's certificate is not checked, by the user's choice (see
# endpoints): urllib3 would warn at each request.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


class RegistryError(EngineError):
    """The registry said no, or could not be reached; the message says which."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


# daemon.json's registry-mirrors (URLs, tried in order before docker.io) and
# insecure-registries (host[:port] or CIDR): set once at daemon start, and by tests.
MIRRORS: list[str] = []
INSECURE: list[str] = []


def configure(mirrors: list[str], insecure: list[str]) -> None:
    MIRRORS[:] = mirrors
    INSECURE[:] = insecure


def is_insecure(registry: str) -> bool:
    """Docker speaks plain HTTP to registries on loopback (127.0.0.0/8, ::1, localhost)
    and HTTPS to every other unless told (insecure-registries); so do we."""
    host = registry.rsplit(":", 1)[0] if not registry.endswith("]") else registry
    host = host.strip("[]")
    if host == "localhost" or registry in INSECURE or host in INSECURE:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_loopback:
        return True
    for entry in INSECURE:
        with contextlib.suppress(ValueError):
            if "/" in entry and address in ipaddress.ip_network(entry, strict=False):
                return True
    return False


def endpoints(registry: str) -> list[str]:
    """Where to reach a registry, in the order to try, as dockerd's lookupV2Endpoints:
    HTTPS always first. For an insecure registry (listed in insecure-registries, or on
    loopback) its certificate is not checked, and plain HTTP comes second, tried only if
    HTTPS fails. A registry not listed is never spoken to in clear text: a network
    that answers HTTPS with an error must not make us send credentials unencrypted."""
    if registry == DEFAULT_REGISTRY:
        registry = DOCKER_HUB_API
    urls = [f"https://{registry}"]
    if is_insecure(registry):
        urls.append(f"http://{registry}")
    return urls


def base_url(registry: str) -> str:
    """The first endpoint: what a registry's URLs start with until it has answered."""
    return endpoints(registry)[0]


def host_of(url: str) -> str:
    return url.partition("://")[2].split("/")[0]


def registry_errors(response: requests.Response) -> str:
    """A registry's error body, `{"errors": [{"code": "MANIFEST_UNKNOWN", "message":
    "manifest unknown"}]}`, in Docker's words: "manifest unknown: manifest unknown"."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    texts = [
        f"{str(e.get('code', '')).lower().replace('_', ' ')}: {e.get('message', '')}"
        for e in errors
        if isinstance(e, dict)
    ]
    return "; ".join(texts) or f"{response.status_code} {response.reason}"


class Repository:
    """`registry/repository`, authenticated for `actions` ("pull", or "pull", "push")."""

    def __init__(
        self,
        registry: str,
        repository: str,
        credentials: Credentials,
        actions: tuple[str, ...] = ("pull",),
        session: requests.Session | None = None,
        base: str | None = None,
    ) -> None:
        self.registry = registry
        self.repository = repository
        # `base`: a mirror's URL, its scheme given (dockerd adds no HTTP fallback to a
        # mirror); otherwise HTTPS, then HTTP for an insecure registry (knock tries them).
        self._endpoints = [base] if base else endpoints(registry)
        self.base = self._endpoints[0]
        self.session = session or requests.Session()
        # dockerd's InsecureSkipVerify: to an insecure registry TLS still, but any
        # certificate (self-signed, or for another name) is taken. Per request, not on
        # the session: a pull's session goes on to docker.io after a mirror.
        self.verify = not is_insecure(host_of(self.base))
        self.session.headers["User-Agent"] = USER_AGENT
        self.auth = Authenticator(self.session, credentials, repository, actions)
        self._knocked = False

    # ---- the conversation ---------------------------------------------------------

    def knock(self) -> None:
        """`GET /v2/` with no credentials, to learn how this registry wants us to log
        in; then get ready (a token, or Basic) before the first real request. Asking
        first matters for uploads: a streamed body cannot be sent a second time."""
        if self._knocked:
            return
        for i, base in enumerate(self._endpoints):
            self.base = base
            url = f"{base}/v2/"
            try:
                reply = self._raw("GET", url)
                break
            except RegistryError:
                # No HTTPS there (a plain HTTP server answers a TLS hello with garbage):
                # the next endpoint, if this registry has one (dockerd's fallback).
                if i == len(self._endpoints) - 1:
                    raise
        if reply.status_code == 401:
            self.auth.challenge(reply.headers.get("WWW-Authenticate", ""))
            # Check the answer now, so a wrong password is reported as such.
            reply = self._raw("GET", url, headers=self.auth.header())
            if reply.status_code == 401:
                raise Unauthorized(
                    f"login attempt to {url} failed with status: 401 Unauthorized"
                )
        if reply.status_code >= 400 and reply.status_code != 404:
            raise RegistryError(f"Get {url!r}: {registry_errors(reply)}", reply.status_code)
        self._knocked = True

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | Reader | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """A request with our credentials; redirects followed without them."""
        self.knock()
        url = urljoin(self.base + "/", path)
        reply = self._raw(method, url, headers={**(headers or {}), **self.auth.header()},
                          data=data, stream=stream)
        for _ in range(MAX_REDIRECTS):
            if not reply.is_redirect:
                return reply
            url = urljoin(url, reply.headers["Location"])
            reply.close()
            # Not our Authorization: the redirect may point at another server entirely.
            reply = self._raw(method, url, headers=headers, stream=stream)
        raise RegistryError(f"{method} {url}: more than {MAX_REDIRECTS} redirects")

    def _raw(self, method: str, url: str, *, headers: dict[str, str] | None = None,
             data: bytes | Reader | None = None, stream: bool = False) -> requests.Response:
        try:
            return self.session.request(method, url, headers=headers, data=data,
                                        stream=stream, allow_redirects=False, timeout=TIMEOUT,
                                        verify=self.verify)
        except requests.ConnectionError as error:
            raise RegistryError(f'{method} "{url}": {_reason(error)}') from None
        except requests.RequestException as error:
            raise RegistryError(f'{method} "{url}": {error}') from None

    def path(self, kind: str, ref: str = "") -> str:
        return f"/v2/{self.repository}/{kind}/{ref}"

    # ---- reading --------------------------------------------------------------------

    def manifest(self, ref: str, accept: list[str], limit: int) -> requests.Response:
        """GET a manifest by tag or digest; the body is read by the caller, up to
        `limit` bytes (a registry may not make us hold a gigabyte "manifest")."""
        reply = self.request("GET", self.path("manifests", ref),
                             headers={"Accept": ", ".join(accept)}, stream=True)
        if reply.status_code == 404:
            raise NotFound(f"manifest for {ref} not found: {registry_errors(reply)}")
        self._check(reply, f"manifest {ref}")
        return reply

    def blob(self, digest: str) -> requests.Response:
        """GET a blob, streamed: the caller reads (and verifies) it piece by piece."""
        reply = self.request("GET", self.path("blobs", digest), stream=True)
        if reply.status_code == 404:
            raise NotFound(f"blob {digest} not found: {registry_errors(reply)}")
        self._check(reply, f"blob {digest}")
        return reply

    def has_blob(self, digest: str) -> bool:
        reply = self.request("HEAD", self.path("blobs", digest))
        if reply.status_code == 404:
            return False
        self._check(reply, f"blob {digest}")
        return True

    # ---- writing --------------------------------------------------------------------

    def upload_blob(self, digest: str, body: Reader) -> None:
        """POST, PATCH, PUT: the three steps of a blob upload. The registry computes
        the digest itself on the PUT and refuses the blob if it is not `digest`."""
        reply = self.request("POST", self.path("blobs", "uploads/"))
        self._check(reply, f"blob upload of {digest}", expect=202)
        location = urljoin(self.base + "/", reply.headers["Location"])
        reply = self.request("PATCH", location, data=body,
                             headers={"Content-Type": "application/octet-stream"})
        self._check(reply, f"blob upload of {digest}", expect=202)
        location = urljoin(location, reply.headers.get("Location", location))
        separator = "&" if "?" in location else "?"
        reply = self.request("PUT", f"{location}{separator}digest={digest}")
        self._check(reply, f"blob upload of {digest}", expect=201)

    def put_manifest(self, tag: str, data: bytes, media_type: str) -> str:
        """PUT the manifest's exact bytes; return the digest the registry computed."""
        reply = self.request("PUT", self.path("manifests", tag), data=data,
                             headers={"Content-Type": media_type})
        self._check(reply, f"manifest {tag}", expect=201)
        return reply.headers.get("Docker-Content-Digest", "")

    def _check(self, reply: requests.Response, what: str, expect: int | None = None) -> None:
        if reply.status_code in (401, 403):
            raise Unauthorized(f"{what}: {registry_errors(reply)}")
        bad = reply.status_code != expect if expect else reply.status_code >= 400
        if bad:
            raise RegistryError(f"{what}: {registry_errors(reply)}", reply.status_code)


def read_limited(reply: requests.Response, limit: int, what: str) -> bytes:
    """The whole body, refusing more than `limit` bytes."""
    data = b""
    for piece in reply.iter_content(65536):
        data += piece
        if len(data) > limit:
            reply.close()
            raise RegistryError(f"{what}: larger than {limit} bytes")
    return data


def iter_raw(reply: requests.Response, size: int = 1 << 16) -> Iterator[bytes]:
    """The body as it came over the wire: `decode_content=False` keeps requests from
    un-gzipping a layer served with `Content-Encoding: gzip`, which would change the
    bytes that the digest covers."""
    while piece := reply.raw.read(size, decode_content=False):
        yield piece


def _reason(error: requests.ConnectionError) -> str:
    """"connection refused", not a page of urllib3 internals."""
    text = str(error)
    for known in ("Connection refused", "Name or service not known", "timed out",
                  "No route to host"):
        if known in text:
            return known.lower()
    return text


def as_json(data: bytes, what: str) -> dict:
    try:
        parsed = json.loads(data)
    except ValueError:
        raise RegistryError(f"{what}: not JSON") from None
    if not isinstance(parsed, dict):
        raise RegistryError(f"{what}: not a JSON object")
    return parsed
