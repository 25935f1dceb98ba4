"""libcontainer's hooks.py on its own: reading `hooks`, and running one hook.

No root and no container: the hooks are real programs (Debian's /bin/sh) run by
hooks.run in this process. Where each kind runs is checked with real containers in
tests/runtime/test_hooks.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from stages.stage2_libcontainer.libcontainer import hooks


def sh(script: str, **entry: object) -> dict:
    return {"path": "/bin/sh", "args": ["sh", "-c", script], **entry}


def test_from_spec_keeps_the_kinds_in_order() -> None:
    spec = {"hooks": {"poststop": [sh("a")], "prestart": [sh("b"), {"path": "/bin/true"}]}}
    read = hooks.from_spec(spec)
    assert list(read) == ["prestart", "poststop"]
    assert [h.args for h in read["prestart"]] == [["sh", "-c", "b"], ["/bin/true"]]


@pytest.mark.parametrize("entry, field", [
    ({"path": "bin/true"}, "hooks.prestart[0].path"),
    ({"path": "/bin/true", "timeout": 0}, "hooks.prestart[0].timeout"),
    ({"path": "/bin/true", "timeout": -1}, "hooks.prestart[0].timeout"),
    ({"path": "/bin/true", "env": "A=1"}, "hooks.prestart[0].env"),
])
def test_from_spec_refuses_a_bad_entry(entry: dict, field: str) -> None:
    with pytest.raises(ValueError) as e:
        hooks.from_spec({"hooks": {"prestart": [entry]}})
    assert e.value.args[0] == field


def test_a_hook_gets_the_state_on_stdin_and_only_its_env(tmp_path: Path) -> None:
    out = tmp_path / "out"
    hook = hooks.from_spec({"hooks": {"poststart": [
        sh(f'cat > {out}.json; echo "$A|$HOME" > {out}', env=["A=1"])]}})["poststart"][0]
    hooks.run(hook, {"id": "x", "status": "running"})
    assert json.loads(Path(f"{out}.json").read_text()) == {"id": "x", "status": "running"}
    assert out.read_text() == "1|\n"


def test_a_failing_hook_names_its_exit_status() -> None:
    hook = hooks.Hook("/bin/sh", ["sh", "-c", "exit 3"], [], 0)
    with pytest.raises(hooks.HookError, match="exit status 3"):
        hooks.run_all({"prestart": [hook]}, "prestart", {})


def test_a_hook_past_its_timeout_is_killed() -> None:
    hook = hooks.Hook("/bin/sh", ["sh", "-c", "sleep 30"], [], 1)
    started = time.monotonic()
    with pytest.raises(hooks.HookError, match="timed out"):
        hooks.run(hook, {})
    assert time.monotonic() - started < 5


def test_warnings_do_not_stop_the_next_hook(tmp_path: Path) -> None:
    done = tmp_path / "done"
    listed = {"poststop": [hooks.Hook("/bin/sh", ["sh", "-c", "exit 1"], [], 0),
                           hooks.Hook("/bin/sh", ["sh", "-c", f"touch {done}"], [], 0)]}
    warnings: list[str] = []
    hooks.run_all_warning(listed, "poststop", {}, warnings.append)
    assert done.exists()
    assert len(warnings) == 1 and warnings[0].startswith("poststop hook #0")
