"""Detach keys: the key sequence that leaves a TTY attach while the container runs on.

A user attached to a container's terminal types into the container: Ctrl-C goes to
the container's shell, not to the docker CLI. So leaving needs a key sequence the
attach itself watches for, Ctrl-P Ctrl-Q unless the user chose another
(`--detach-keys`, or "detachKeys" in the CLI's config.json). The daemon watches for it
in what the client sends (moby's term.NewEscapeProxy in its attach copy), so every
client gets it, even one that only writes bytes to the socket; the docker CLI (and
ours) watch too, and simply hang up.

Only a TTY attach watches: without a terminal, input is data, and Ctrl-P is a byte
like any other.

The sequence is written as moby's term.ToBytes reads it: comma-separated keys, each
a single character or `ctrl-<x>` (x one of `@`, a-z, `[`, `\\`, `]`, `^`, `_`) or
`DEL`: "ctrl-p,ctrl-q", "ctrl-a,q".

Shared by the daemon and our CLI; the standard library only (the CLI imports it).
"""

from __future__ import annotations

DEFAULT = b"\x10\x11"  # Ctrl-P Ctrl-Q

# moby/term's ASCII list: ctrl-@ is 0, ctrl-a 1, ... ctrl-_ 31
_CONTROL = ["ctrl-@", *(f"ctrl-{c}" for c in "abcdefghijklmnopqrstuvwxyz"),
            "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_"]


def to_bytes(keys: str) -> bytes:
    """moby's term.ToBytes: "ctrl-p,ctrl-q" -> b"\\x10\\x11"; ValueError with its words.

    A single character stands for itself, but only if it is one byte: Go measures
    the string in bytes, so "é" is refused like any unknown name. Lower-case only
    ("ctrl-P" is refused), and an empty key ("a,") too."""
    codes = bytearray()
    for key in keys.split(","):
        raw = key.encode()
        if len(raw) == 1:
            codes += raw
        elif key in _CONTROL:
            codes.append(_CONTROL.index(key))
        elif key == "DEL":
            codes.append(127)
        else:
            raise ValueError(f"Unknown character: '{key}'")
    return bytes(codes)


class EscapeProxy:
    """Spot the sequence in a stream of input, even split across reads.

    Bytes that might begin the sequence are held back; when the next byte shows they
    do not, they are let through after all (a lone Ctrl-P still reaches vim). As in
    moby's escapeProxy, the byte that broke a partial match is not itself taken as a
    new start: Ctrl-P Ctrl-P Ctrl-Q passes all three through.
    """

    def __init__(self, keys: bytes = DEFAULT) -> None:
        self.keys = keys or DEFAULT
        self.held = 0  # how many bytes of the sequence are held back

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """-> (bytes to pass on, whether the whole sequence has been read). After a
        True, what followed the sequence in `data` is dropped, as moby drops it."""
        out = bytearray()
        for byte in data:
            if byte == self.keys[self.held]:
                self.held += 1
                if self.held == len(self.keys):
                    self.held = 0
                    return bytes(out), True
                continue
            out += self.keys[: self.held]
            out.append(byte)
            self.held = 0
        return bytes(out), False
