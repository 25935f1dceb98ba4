"""Unit tests (no root, no container): users.resolve against hostile /etc files.

The same attacks run end to end, through the API on every engine, in tests/security.
"""

from __future__ import annotations

import os

import pytest

from shared.oci import users
from shared.oci.runtime_spec import SpecError, User


def test_a_numeric_user_is_a_uid_never_a_name(tmp_path) -> None:
    """CVE-2016-3697: a passwd entry *named* 1000 with uid 0 must not make -u 1000 root."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("1000:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:\n")
    (etc / "group").write_text("1000:x:0:\nbobs:x:1000:\n")
    assert users.resolve(str(tmp_path), "1000") == User(1000, 1000, (), "/home/bob")
    assert users.resolve(str(tmp_path), "bob:1000").gid == 1000
    (etc / "passwd").write_text("1000:x:0:0:root:/root:/bin/sh\n")
    assert users.resolve(str(tmp_path), "1000") == User(1000, 0, (), "/")
    assert users.resolve(str(tmp_path), "1000:1000").gid == 1000  # the group "1000" is gid 0


def test_users_files_are_read_only_when_regular_and_small(tmp_path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    os.mkfifo(etc / "passwd")  # an open without O_PATH would block here for good
    assert users.resolve(str(tmp_path), "1000") == User(1000, 0, (), "/")
    assert users.resolve(str(tmp_path), "") == User(0, 0, (), "/")
    (etc / "passwd").unlink()
    (etc / "passwd").write_bytes(b"#" * (users.MAX_USER_FILE + 1))
    with pytest.raises(SpecError, match="exceeds"):
        users.resolve(str(tmp_path), "")
