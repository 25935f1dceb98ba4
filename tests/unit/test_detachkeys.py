"""Detach keys (shared/detachkeys.py): moby's term.ToBytes and escape proxy, pure."""

from __future__ import annotations

import pytest

from shared.detachkeys import DEFAULT, EscapeProxy, to_bytes


def test_key_names_as_moby_reads_them() -> None:
    assert to_bytes("ctrl-p,ctrl-q") == DEFAULT == b"\x10\x11"
    assert to_bytes("ctrl-a,q") == b"\x01q"
    assert to_bytes("ctrl-@,ctrl-_,DEL") == b"\x00\x1f\x7f"
    assert to_bytes("ctrl-\\,ctrl-]") == b"\x1c\x1d"


@pytest.mark.parametrize("keys, bad", [("ctrl-P", "ctrl-P"), ("foo", "foo"), ("a,", ""),
                                       ("é", "é"), ("ctrl-p,,ctrl-q", ""), (",", "")])
def test_unknown_keys_are_refused_in_mobys_words(keys: str, bad: str) -> None:
    with pytest.raises(ValueError, match=f"^Unknown character: '{bad}'$"):
        to_bytes(keys)


def test_split_sequences_and_false_starts() -> None:
    keys = EscapeProxy()
    assert keys.feed(b"ls\r") == (b"ls\r", False)
    assert keys.feed(b"\x10") == (b"", False)         # held: could be the start
    assert keys.feed(b"x") == (b"\x10x", False)       # was not: let through
    assert keys.feed(b"ab\x10") == (b"ab", False)
    assert keys.feed(b"\x11rest") == (b"", True)


def test_the_byte_that_breaks_a_match_does_not_start_one() -> None:
    # moby's escapeProxy: Ctrl-P Ctrl-P Ctrl-Q is not a detach
    assert EscapeProxy().feed(b"\x10\x10\x11") == (b"\x10\x10\x11", False)


def test_custom_keys() -> None:
    keys = EscapeProxy(to_bytes("ctrl-a,q"))
    assert keys.feed(b"\x10\x11") == (b"\x10\x11", False)
    assert keys.feed(b"a\x01") == (b"a", False)
    assert keys.feed(b"q") == (b"", True)
