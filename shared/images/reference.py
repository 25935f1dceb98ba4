"""Image names as Docker reads them: `[registry/]repository[:tag][@digest]`.

`busybox` is short for `docker.io/library/busybox:latest`. Docker calls the long form
the *normalized* name and the short one, which `docker images` prints, the *familiar*
name. The grammar below is the one in Docker's `distribution/reference` package, so
that every name Docker accepts is accepted here and every name it refuses is refused
with its words.

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component [ "/" path-component ]*
    domain     := host [ ":" port ]          (only if it has a "." or ":" or is localhost)
    path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex (32 or more hex digits)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import InvalidParameter

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
OFFICIAL_PREFIX = "library/"  # Docker Hub's namespace for official images
NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

# \Z, not $: Python's $ also matches before a final newline, so "busybox\n" would pass.
# ASCII: Go's \w (Docker's grammar) is [0-9A-Za-z_], Python's also matches "é".
REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?\Z", re.ASCII)
TAG = re.compile(rf"{_TAG}\Z", re.ASCII)
IMAGE_ID = re.compile(r"^(?:sha256:)?([a-f0-9]{64})\Z")


class InvalidReference(InvalidParameter, ValueError):
    """A name Docker would refuse; the message is Docker's (HTTP 400)."""


@dataclass(frozen=True)
class Reference:
    """A parsed, normalized image reference.

    registry:   "docker.io", "localhost:5000", "ghcr.io"...
    repository: the path inside the registry: "library/busybox", "x/y"
    tag:        "latest", or None when only a digest names the image
    digest:     "sha256:<hex>" of the manifest, or None
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The full repository name: docker.io/library/busybox."""
        return f"{self.registry}/{self.repository}"

    def familiar(self) -> str:
        """The repository as `docker images` shows it: busybox, user/app, localhost:5000/x/y."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        if self.repository.startswith(OFFICIAL_PREFIX) and self.repository.count("/") == 1:
            return self.repository[len(OFFICIAL_PREFIX) :]
        return self.repository

    def familiar_string(self) -> str:
        """The whole reference in familiar form: busybox:latest, busybox@sha256:..."""
        return self.familiar() + self._suffix()

    def __str__(self) -> str:
        """The normalized form: docker.io/library/busybox:latest."""
        return self.name + self._suffix()

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, None)


def parse(text: str) -> Reference:
    """Parse a name as `docker pull` and `docker run` do: no tag and no digest means latest.

    >>> str(parse("busybox"))
    'docker.io/library/busybox:latest'
    """
    ref = parse_named(text)
    if ref.tag is None and ref.digest is None:
        return Reference(ref.registry, ref.repository, DEFAULT_TAG, None)
    return ref


def parse_named(text: str) -> Reference:
    """Parse without adding a default tag (`docker save busybox` means every tag)."""
    if IMAGE_ID.match(text) and not text.startswith("sha256:"):
        # A bare 64-hex name would be indistinguishable from an image ID.
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    registry, remainder = _split_registry(text)
    name_part = remainder.split("@", 1)[0]
    colon = name_part.rfind(":")
    repository = name_part[:colon] if colon != -1 else name_part
    if repository.lower() != repository:
        raise InvalidReference(
            f"invalid reference format: repository name ({repository}) must be lowercase"
        )
    match = REFERENCE.match(f"{registry}/{remainder}")
    if match is None:
        raise InvalidReference("invalid reference format")
    if len(match.group(1)) > NAME_MAX:
        raise InvalidReference(f"repository name must not be more than {NAME_MAX} characters")
    return Reference(registry, repository, match.group(2), match.group(3))


def _split_registry(text: str) -> tuple[str, str]:
    """Docker's rule for the first path component: it names a registry only if it has
    a dot or a port, is `localhost`, or has capitals (which no repository may have);
    otherwise it is part of the repository on Docker Hub (`user/app`)."""
    first, slash, rest = text.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, remainder = first, rest
    else:
        registry, remainder = DEFAULT_REGISTRY, text
    if registry == "index.docker.io":
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return registry, remainder
