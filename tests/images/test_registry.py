"""Pull and push against Debian's real docker-registry on 127.0.0.1: anonymous, Basic
(htpasswd) and bearer tokens (our small token service, tokens the registry verifies);
a multi-platform index; and the credential formats (config.json, X-Registry-Auth)."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from shared.images.busybox import build_busybox
from shared.images.registry import dockerconfig, progress
from shared.images.registry.auth import (
    ANONYMOUS,
    Credentials,
    Unauthorized,
    from_registry_auth,
    parse_challenge,
)
from shared.images.registry.pull import OCI_INDEX, Pull
from shared.images.registry.push import Push
from shared.images.store import OCI_MANIFEST, ImageStore
from tests.images import tarballs
from tests.registry import PASSWORD, USER, have_registry, start_registry, upload

needs_registry = pytest.mark.skipif(not have_registry(), reason="docker-registry not installed")
needs_busybox = pytest.mark.skipif(not os.access("/bin/busybox", os.X_OK),
                                   reason="busybox-static not installed")
LOGIN = Credentials(USER, PASSWORD)


def pull(store: ImageStore, ref: str, credentials: Credentials = ANONYMOUS,
         platform: str | None = None) -> tuple[object, list[dict]]:
    messages: list[dict] = []
    image = Pull(store, ref, credentials, platform).run(progress.Reporter(messages.append))
    return image, messages


def push(store: ImageStore, name: str, tag: str, credentials: Credentials = ANONYMOUS):
    messages: list[dict] = []
    result = Push(store, name, tag, credentials).run(progress.Reporter(messages.append))
    return result, messages


@pytest.fixture
def busybox_store(tmp_path):
    store = ImageStore(str(tmp_path / "source"))
    return store, build_busybox(store)


@needs_registry
@needs_busybox
@pytest.mark.parametrize("auth", [None, "htpasswd", "token"])
def test_push_then_pull_back_same_digest(tmp_path, busybox_store, auth):
    store, image = busybox_store
    with start_registry(auth) as registry:
        name = f"{registry.host}/wb/busybox"
        store.tag(image, f"{name}:v1")
        credentials = LOGIN if auth else Credentials()
        [(tag, digest, _size)], messages = push(store, name, "v1", credentials)
        assert (tag, digest) == ("v1", image.manifest_digest)
        assert {"status": f"v1: digest: {digest} size: {_size}"} in messages
        assert f"{name}@{digest}" in store.resolve(f"{name}:v1").repo_digests

        fresh = ImageStore(str(tmp_path / "pulled"))
        pulled, messages = pull(fresh, f"{name}:v1", credentials)
        assert (pulled.id, pulled.manifest_digest) == (image.id, digest)
        assert pulled.repo_tags == [f"{name}:v1"]
        assert pulled.repo_digests == [f"{name}@{digest}"]
        assert messages[-1]["status"] == f"Status: Downloaded newer image for {name}:v1"
        assert any(m["status"] == "Downloading" for m in messages)

        # Again: nothing downloaded, and it says so.
        _, again = pull(fresh, f"{name}@{digest}", credentials)
        assert not any(m["status"] == "Downloading" for m in again)
        assert any(m["status"] == "Already exists" for m in again)

        if auth == "token":
            asked = registry.token_service.requests
            assert {"user": USER, "service": ["wb-test-registry"],
                    "scope": ["repository:wb/busybox:pull"]} in asked
            assert any(r["scope"] == ["repository:wb/busybox:pull,push"] for r in asked)


@needs_registry
@needs_busybox
@pytest.mark.parametrize("auth", ["htpasswd", "token"])
def test_wrong_or_missing_credentials_are_refused(tmp_path, busybox_store, auth):
    store, image = busybox_store
    with start_registry(auth) as registry:
        name = f"{registry.host}/wb/busybox"
        store.tag(image, f"{name}:v1")
        push(store, name, "v1", LOGIN)
        fresh = ImageStore(str(tmp_path / "pulled"))
        for credentials in (Credentials(), Credentials(USER, "wrong")):
            with pytest.raises(Unauthorized):
                pull(fresh, f"{name}:v1", credentials)
        assert fresh.list() == []


@needs_registry
def test_unknown_manifest_is_404(tmp_path):
    with start_registry() as registry:
        with pytest.raises(Exception) as caught:
            Pull(ImageStore(str(tmp_path)), f"{registry.host}/nosuch:v1", Credentials()).resolve()
        assert caught.value.status == 404
        assert "manifest unknown" in caught.value.message


@needs_registry
def test_index_picks_the_platform_and_skips_attestations(tmp_path):
    """An OCI index with linux/amd64, linux/arm64 and an unknown/unknown attestation."""
    images = {}
    with start_registry() as registry:
        url, repo = registry.url, "wb/multi"
        entries = []
        for arch in ("unknown", "amd64", "arm64"):
            layer = tarballs.layer(tarballs.Entry("arch", data=arch.encode()))
            manifest, config, blobs = tarballs.image(layer)
            config = config.replace(b'"amd64"', f'"{arch}"'.encode())
            parsed = json.loads(manifest)
            parsed["config"].update(digest=tarballs.digest(config), size=len(config))
            manifest = json.dumps(parsed).encode()
            digest = upload(url, repo, [config, *(b.getvalue() for b in blobs)], manifest,
                            tarballs.digest(manifest), OCI_MANIFEST)
            images[arch] = tarballs.digest(config)
            os_name = "unknown" if arch == "unknown" else "linux"  # an attestation's entry
            entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(manifest),
                            "platform": {"os": os_name, "architecture": arch}})
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                            "manifests": entries}).encode()
        upload(url, repo, [], index, "v1", OCI_INDEX)

        store = ImageStore(str(tmp_path / "store"))
        host_default, _ = pull(store, f"{registry.host}/{repo}:v1")
        arm, _ = pull(ImageStore(str(tmp_path / "arm")), f"{registry.host}/{repo}:v1",
                      platform="linux/arm64")
        assert host_default.id == images[host_default.architecture]
        assert (arm.id, arm.architecture) == (images["arm64"], "arm64")
        with pytest.raises(Exception, match="no matching manifest for linux/s390x"):
            pull(ImageStore(str(tmp_path / "s390")), f"{registry.host}/{repo}:v1",
                 platform="linux/s390x")


# ---- credentials, no network -----------------------------------------------------------


def test_challenges_are_parsed():
    challenge = parse_challenge('Bearer realm="https://auth.docker.io/token",'
                                'service="registry.docker.io",scope="repository:a/b:pull,push"')
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.docker.io/token",
                                "service": "registry.docker.io",
                                "scope": "repository:a/b:pull,push"}
    assert parse_challenge('Basic realm="Registry Realm"').scheme == "basic"


def test_x_registry_auth_is_decoded():
    def header(fields: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")

    assert from_registry_auth(None) == Credentials()
    assert from_registry_auth("e30=") == Credentials()
    assert from_registry_auth(header({"username": "u", "password": "p?>"})) == \
        Credentials("u", "p?>")
    assert from_registry_auth(header({"auth": base64.b64encode(b"u:p:q").decode()})) == \
        Credentials("u", "p:q")


def test_config_json_as_docker_writes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    path = dockerconfig.store("127.0.0.1:5000", "user", "pass:word")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        assert json.load(f) == {"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwYXNzOndvcmQ="}}}
    assert dockerconfig.lookup("127.0.0.1:5000") == ("user", "pass:word")
    dockerconfig.store("docker.io", "hub", "secret")
    assert "https://index.docker.io/v1/" in dockerconfig.read_config()["auths"]
    assert dockerconfig.lookup("docker.io") == ("hub", "secret")
    fields = json.loads(base64.urlsafe_b64decode(dockerconfig.registry_auth_header("docker.io")))
    assert (fields["username"], fields["password"]) == ("hub", "secret")
    assert dockerconfig.remove("127.0.0.1:5000") and not dockerconfig.remove("127.0.0.1:5000")
    assert dockerconfig.lookup("127.0.0.1:5000") is None
