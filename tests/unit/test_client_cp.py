"""Our CLI's `cp` rules that need no daemon (docker's splitCpArg and CopyInfo's
choices of where to unpack), on temporary directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.client.commands import cp


@pytest.mark.parametrize(("arg", "split"), [
    ("ctr:/etc", ("ctr", "/etc")), ("ctr:", ("ctr", "")), ("/abs:x", ("", "/abs:x")),
    ("./rel:x", ("", "./rel:x")), ("file", ("", "file")), ("-", ("", "-")),
])
def test_container_or_local_argument(arg: str, split: tuple[str, str]) -> None:
    assert cp._split(arg) == split


def test_where_a_copy_out_unpacks(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("")
    # into an existing directory, under the source's own name
    assert cp._prepare_local(str(tmp_path / "dir"), True, "d") == (str(tmp_path / "dir"), None)
    # onto a new name: the tar's first component renamed
    assert cp._prepare_local(str(tmp_path / "new"), True, "d") == (str(tmp_path),
                                                                  ("d", "new"))
    assert cp._prepare_local(str(tmp_path / "file"), False, "f") == (str(tmp_path),
                                                                    ("f", "file"))
    with pytest.raises(cp.CopyError):  # a directory onto a file
        cp._prepare_local(str(tmp_path / "file"), True, "d")
    with pytest.raises(cp.CopyError):  # a file into a directory that does not exist
        cp._prepare_local(str(tmp_path / "none") + "/", False, "f")
    with pytest.raises(cp.CopyError):  # a missing parent
        cp._prepare_local(str(tmp_path / "none" / "x"), False, "f")
