"""shared/libc.py: the one handle on the C library, its error check, the subreaper.
Real calls (no fakes), none of which needs root."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys

import pytest

from shared.libc import check, libc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_check_names_the_operation_and_the_errno() -> None:
    result = libc.umount2(b"/nonexistent/whalebones-test", 0)
    with pytest.raises(OSError) as info:
        check(result, "umount /nonexistent/whalebones-test")
    assert info.value.errno in (errno.ENOENT, errno.EPERM)
    name = errno.errorcode[info.value.errno]
    assert f"umount /nonexistent/whalebones-test: {name} (" in str(info.value)
    assert check(0, "anything") == 0


def test_set_child_subreaper_marks_the_calling_process() -> None:
    # In a process of its own: the test runner must not become a subreaper.
    code = (
        "import ctypes; from shared.libc import libc, set_child_subreaper\n"
        "flag = ctypes.c_int(-1)\n"
        "libc.prctl(37, ctypes.byref(flag), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER\n"
        "before = flag.value; set_child_subreaper()\n"
        "libc.prctl(37, ctypes.byref(flag), 0, 0, 0)\n"
        "print(before, flag.value)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout.split()
    assert out == ["0", "1"]


def test_one_handle() -> None:
    from shared.images import snapshots
    from shared.network import netns

    assert snapshots.libc is libc and netns.libc is libc
    assert isinstance(libc, ctypes.CDLL)
