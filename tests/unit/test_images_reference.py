"""Image references parsed by Docker's rules (pure functions, no fakes needed)."""

from __future__ import annotations

import pytest

from shared.errors import InvalidParameter
from shared.images.reference import parse, parse_named

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "familiar"),
    [
        ("busybox", "docker.io", "library/busybox", "latest", None, "busybox"),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None, "busybox"),
        ("library/busybox", "docker.io", "library/busybox", "latest", None, "busybox"),
        ("docker.io/busybox", "docker.io", "library/busybox", "latest", None, "busybox"),
        ("index.docker.io/busybox", "docker.io", "library/busybox", "latest", None, "busybox"),
        ("user/app:v1", "docker.io", "user/app", "v1", None, "user/app"),
        ("localhost:5000/x/y:t", "localhost:5000", "x/y", "t", None, "localhost:5000/x/y"),
        ("localhost/x", "localhost", "x", "latest", None, "localhost/x"),
        ("ghcr.io/a/b-c_d.e", "ghcr.io", "a/b-c_d.e", "latest", None, "ghcr.io/a/b-c_d.e"),
        (f"busybox@{DIGEST}", "docker.io", "library/busybox", None, DIGEST, "busybox"),
        (f"busybox:1@{DIGEST}", "docker.io", "library/busybox", "1", DIGEST, "busybox"),
    ],
)
def test_parse(text, registry, repository, tag, digest, familiar):
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.familiar() == familiar


def test_string_forms():
    ref = parse("busybox")
    assert str(ref) == "docker.io/library/busybox:latest"
    assert ref.familiar_string() == "busybox:latest"
    assert parse(f"x/y@{DIGEST}").familiar_string() == f"x/y@{DIGEST}"
    assert parse_named("busybox").tag is None  # `docker save busybox`: every tag


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Busybox",
            "invalid reference format: repository name (library/Busybox) must be lowercase",
        ),
        ("localhost:5000/X", "invalid reference format: repository name (X) must be lowercase"),
        ("busybox:", "invalid reference format"),
        ("bu sy", "invalid reference format"),
        ("-busybox", "invalid reference format"),
        ("a//b", "invalid reference format"),
        ("busybox:" + "t" * 129, "invalid reference format"),
        ("busybox@sha256:12", "invalid reference format"),
        ("", "invalid reference format"),
        (
            "a" * 64,
            f"invalid repository name ({'a' * 64}), cannot specify 64-byte hexadecimal strings",
        ),
    ],
)
def test_invalid(text, message):
    with pytest.raises(ValueError) as err:
        parse(text)
    assert str(err.value) == message
    assert isinstance(err.value, InvalidParameter) and err.value.status == 400
