"""Which URL a registry is reached at, in dockerd's order (lookupV2Endpoints): HTTPS
first; plain HTTP only after it, and only for an insecure registry (listed in
insecure-registries, or on loopback); an insecure registry's certificate unchecked.

The servers are real and on 127.0.0.1: FakeRegistry (plain HTTP) and Debian's
docker-registry serving HTTPS with a self-signed certificate. Loopback is always
insecure, so the one test of a *secure* registry fakes the policy (is_insecure says
no for it): labelled where it is done.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.images.registry import client
from shared.images.registry.auth import Credentials
from shared.images.registry.client import RegistryError, Repository
from tests.registry import FakeRegistry, have_registry, start_registry


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The URLs the client asks, in order (the real request is still made)."""
    urls: list[str] = []
    raw = Repository._raw

    def recording(self: Repository, method: str, url: str, **kwargs: object) -> object:
        urls.append(url)
        return raw(self, method, url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Repository, "_raw", recording)
    yield urls


def test_a_plain_http_registry_on_loopback_is_reached_after_https_fails(tried) -> None:
    with FakeRegistry().running() as fake:
        repo = Repository(fake.host, "wb/x", Credentials())
        repo.knock()
    assert tried == [f"https://{fake.host}/v2/", f"http://{fake.host}/v2/"]
    assert repo.base == f"http://{fake.host}"
    assert fake.served == ["/v2/"]  # the TLS hello was no request it could serve


def test_a_registry_not_insecure_gets_no_plain_http(tried, monkeypatch) -> None:
    # FAKE policy: this loopback registry is treated as a secure (remote) one.
    monkeypatch.setattr(client, "is_insecure", lambda registry: False)
    with FakeRegistry().running() as fake:
        repo = Repository(fake.host, "wb/x", Credentials())
        with pytest.raises(RegistryError):
            repo.knock()
    assert tried == [f"https://{fake.host}/v2/"]
    assert fake.served == []


def test_listed_insecure_registries_fall_back_too() -> None:
    try:
        client.configure([], ["registry.example:5000"])
        assert client.endpoints("registry.example:5000") == [
            "https://registry.example:5000", "http://registry.example:5000"]
        assert client.endpoints("registry.example:5001") == ["https://registry.example:5001"]
    finally:
        client.configure([], [])


@pytest.mark.skipif(not have_registry(), reason="docker-registry not installed")
def test_an_insecure_https_registry_is_used_over_tls_its_certificate_unchecked(tried) -> None:
    with start_registry(tls=True) as registry:
        repo = Repository(registry.host, "wb/x", Credentials())
        repo.knock()
    assert tried == [f"https://{registry.host}/v2/"]  # no fallback needed
    assert repo.base == f"https://{registry.host}" and repo.verify is False
