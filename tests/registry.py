"""Registries for the tests, all on 127.0.0.1, all stopped (by PID) when the block ends.

    start_registry()                  Debian's docker-registry (distribution 2.8), anonymous
    start_registry(auth="htpasswd")   ... with Basic auth: user USER, password PASSWORD
    start_registry(auth="token")      ... behind a bearer token service, a small one of
                                      ours (TokenService) with a key and cert made here
    start_registry(tls=True)          ... serving HTTPS only, with a self-signed
                                      certificate made here by openssl
    FakeRegistry                      a *fake*: a few canned answers, for what no honest
                                      registry does (lie about a digest, hang up early)
    upload(url, repo, ...)            put blobs and a manifest into a registry by plain
                                      HTTP (requests), independent of the code under test

Nothing here needs the internet, and nothing is left behind: temp dirs are removed,
the registry process is stopped by its PID, the threads are shut down.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
USER, PASSWORD = "wbuser", "wbpassword"
SERVICE, ISSUER = "wb-test-registry", "wb-test-token-issuer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_registry() -> bool:
    return os.access(REGISTRY, os.X_OK)


@dataclass
class Registry:
    host: str  # "127.0.0.1:PORT": what image names start with
    root: Path
    process: subprocess.Popen[bytes]
    token_service: TokenService | None = None
    tls: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def log(self) -> str:
        return (self.root / "registry.log").read_text(errors="replace")


@contextlib.contextmanager
def start_registry(auth: str | None = None, tls: bool = False) -> Iterator[Registry]:
    """docker-registry serving a fresh temp dir on a free loopback port (over HTTPS
    with `tls`, its certificate self-signed: trusted by nobody)."""
    root = Path(tempfile.mkdtemp(prefix="wb-registry-"))
    stack = contextlib.ExitStack()
    stack.callback(shutil.rmtree, root, ignore_errors=True)
    with stack:
        port = free_port()
        config = [
            "version: 0.1",
            "log:", "  level: warn", "  accesslog:", "    disabled: true",
            "storage:", "  filesystem:", f"    rootdirectory: {root / 'data'}",
            "  delete:", "    enabled: true",
            "http:", f"  addr: 127.0.0.1:{port}", "  secret: wb-test-secret",
        ]
        if tls:
            key, cert = root / "tls.key", root / "tls.crt"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", str(key), "-out", str(cert), "-days", "2",
                            "-subj", "/CN=wb-test-registry",
                            "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
            config += ["  tls:", f"    certificate: {cert}", f"    key: {key}"]
        tokens = None
        if auth == "htpasswd":
            hashed = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True,
                                    capture_output=True, text=True).stdout.strip()
            (root / "htpasswd").write_text(hashed + "\n")
            config += ["auth:", "  htpasswd:", "    realm: wb-test",
                       f"    path: {root / 'htpasswd'}"]
        elif auth == "token":
            tokens = stack.enter_context(TokenService.running(root))
            config += ["auth:", "  token:", f"    realm: {tokens.url}/token",
                       f"    service: {SERVICE}", f"    issuer: {ISSUER}",
                       f"    rootcertbundle: {tokens.cert}"]
        elif auth is not None:
            raise ValueError(f"unknown auth {auth!r}")
        (root / "config.yml").write_text("\n".join(config) + "\n")
        log = open(root / "registry.log", "wb")  # noqa: SIM115 - the child keeps it
        with log:
            process = subprocess.Popen([REGISTRY, "serve", str(root / "config.yml")],
                                       stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        stack.callback(_stop, process)
        registry = Registry(f"127.0.0.1:{port}", root, process, tokens, tls)
        _wait_listening(registry)
        yield registry


def _wait_listening(registry: Registry, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if registry.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {registry.log()}")
        with contextlib.suppress(OSError), socket.create_connection(
            ("127.0.0.1", int(registry.host.rsplit(":", 1)[1])), timeout=1
        ):
            return
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not listen in {timeout} s: {registry.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- a bearer token service ------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """The token half of the token dance, as small as it can be, for the tests.

    GET /token?service=...&scope=repository:NAME:pull,push with Basic auth USER:PASSWORD
    answers {"token": JWT} granting the scope; anonymous callers get a token that grants
    nothing (so the registry refuses them, as Docker Hub refuses private repositories).
    The JWT is RS256-signed by `openssl dgst` with a key made here; its `x5c` header
    carries the certificate, which the registry's `rootcertbundle` trusts.
    """

    def __init__(self, directory: Path) -> None:
        self.key, self.cert = directory / "token.key", directory / "token.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
                        "-subj", "/CN=wb-test-token-issuer"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests: list[dict] = []  # what each token request asked for
        self.url = ""

    @classmethod
    @contextlib.contextmanager
    def running(cls, directory: Path) -> Iterator[TokenService]:
        service = cls(directory)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), service._handler())
        service.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield service
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def token(self, user: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":") if scope.count(":") == 2 else ("", "", "")
            if user and kind == "repository":
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signed = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signed.encode(), check=True,
                                   capture_output=True).stdout
        return f"{signed}.{b64url(signature)}"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                from urllib.parse import parse_qs, urlparse

                query = parse_qs(urlparse(self.path).query)
                user = ""
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if (name, password) != (USER, PASSWORD):
                        self._answer(401, {"details": "incorrect username or password"})
                        return
                    user = name
                service.requests.append({"user": user, "service": query.get("service"),
                                         "scope": query.get("scope", [])})
                token = service.token(user, query.get("scope", []))
                self._answer(200, {"token": token, "access_token": token, "expires_in": 300})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


# ---- putting images into a registry, independently of the code under test --------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(url: str, repository: str, blobs: list[bytes], manifest: bytes, ref: str,
           media_type: str, auth: tuple[str, str] | None = None) -> str:
    """Monolithic blob uploads (POST then PUT ?digest=) and a manifest PUT, by hand."""
    with requests.Session() as s:
        s.auth = auth
        for blob in blobs:
            digest = sha256(blob)
            if s.head(f"{url}/v2/{repository}/blobs/{digest}").status_code == 200:
                continue
            reply = s.post(f"{url}/v2/{repository}/blobs/uploads/")
            reply.raise_for_status()
            location = requests.compat.urljoin(url, reply.headers["Location"])
            sep = "&" if "?" in location else "?"
            s.put(f"{location}{sep}digest={digest}", data=blob,
                  headers={"Content-Type": "application/octet-stream"}).raise_for_status()
        reply = s.put(f"{url}/v2/{repository}/manifests/{ref}", data=manifest,
                      headers={"Content-Type": media_type})
        reply.raise_for_status()
    return sha256(manifest)


# ---- a fake registry -------------------------------------------------------------------


@dataclass
class FakeRegistry:
    """A FAKE registry (http.server): serves `manifests` and `blobs` by path, and does
    to a blob what `tamper` says: "truncate" (promise the full length, send half, hang
    up), "corrupt" (send other bytes of the same length), "slow" (trickle it out)."""

    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # ref -> (bytes, type)
    blobs: dict[str, bytes] = field(default_factory=dict)
    tamper: dict[str, str] = field(default_factory=dict)  # digest -> how
    host: str = ""
    served: list[str] = field(default_factory=list)

    def add_image(self, repository: str, tag: str, manifest: bytes, media_type: str,
                  blobs: list[bytes]) -> None:
        self.manifests[f"{repository}:{tag}"] = (manifest, media_type)
        self.manifests[f"{repository}:{sha256(manifest)}"] = (manifest, media_type)
        for blob in blobs:
            self.blobs[sha256(blob)] = blob

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeRegistry]:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        self.host = f"127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                fake.served.append(self.path)
                parts = self.path.split("/")
                if self.path == "/v2/":
                    return self._send(200, b"{}", "application/json")
                if len(parts) >= 5 and parts[-2] == "manifests":
                    repository = "/".join(parts[2:-2])
                    found = fake.manifests.get(f"{repository}:{parts[-1]}")
                    if found:
                        return self._send(200, found[0], found[1])
                elif len(parts) >= 5 and parts[-2] == "blobs" and parts[-1] in fake.blobs:
                    return self._blob(parts[-1])
                self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":'
                                b'"manifest unknown"}]}', "application/json")

            def _blob(self, digest: str) -> None:
                data, how = fake.blobs[digest], fake.tamper.get(digest, "")
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if how == "truncate":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                elif how == "corrupt":
                    self.wfile.write(bytes(b ^ 0xFF for b in data[:16]) + data[16:])
                elif how == "slow":
                    for i in range(0, len(data), 4096):
                        self.wfile.write(data[i : i + 4096])
                        self.wfile.flush()
                        time.sleep(0.05)
                else:
                    self.wfile.write(data)

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if status == 200 and content_type != "application/octet-stream":
                    self.send_header("Docker-Content-Digest", sha256(body))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def wait_for(predicate: Callable[[], object], timeout: float = 10) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s")
