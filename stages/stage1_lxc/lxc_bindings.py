"""liblxc from Python (Debian's python3-lxc): what lxc-start and lxc-attach do, here.

LXC's tools are thin programs over one library, liblxc; its Python bindings reach the
same calls. With `--lxc-api python` (or WB_LXC_API=python) stage 1 uses them:

    lxc-start -F -n ID -- CMD     Container(ID, lxcpath).start(daemonize=False, cmd=CMD)
    lxc-attach -n ID -- CMD       Container(ID, lxcpath).attach_wait(attach_run_command, CMD)
    lxc-stop -k -n ID             Container(ID, lxcpath).stop()
    lxc-freeze / lxc-unfreeze     Container(ID, lxcpath).freeze() / .unfreeze()

`start` and `attach_wait` still run in a process of their own, this file run as a
script: liblxc's start with daemonize=False makes the calling process the monitor
(it changes its signal mask, cgroups and terminal, and blocks until the container
ends), and attach forks and waits, with the caller's stdin, stdout and stderr as the
attached process's. The daemon is multithreaded and its stdio is not the container's:
a child gives liblxc a process whose stdio are the container's FIFOs or pty, as the
tools have. `stop` is a message to the monitor's command socket: the daemon sends it.

Reading the config: Container(ID, lxcpath) loads `<lxcpath>/<ID>/config`, where the
executor writes it; loading it again (load_config) would append every list key twice.

Importing the bindings. python3-lxc installs `lxc/` and `_lxc.cpython-311-*.so` into
/usr/lib/python3/dist-packages, Debian's, outside the project's venv (made from the
same /usr/bin/python3, so the same ABI). Putting that whole directory on sys.path
(by hand or with a .pth in the venv) would let every import the venv cannot satisfy
fall through to Debian's packages, in the daemon and in anything else the venv runs.
`load` imports exactly these two modules from their files, and nothing else.
Limitation: python3-lxc 5.0 has no LXC_ATTACH_TERMINAL, so an exec with a terminal
(`exec -t`) still goes through lxc-attach, which makes its pty in the container.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def load() -> ModuleType:
    """python3-lxc's `lxc` package (and its `_lxc` extension), from their files."""
    if "lxc" in sys.modules:
        return sys.modules["lxc"]
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    found = glob.glob(os.path.join(DIST_PACKAGES, f"_lxc.{tag}-*.so"))
    package = os.path.join(DIST_PACKAGES, "lxc", "__init__.py")
    if not found or not os.path.exists(package):
        raise ImportError(f"python3-lxc for this Python ({tag}) is not installed "
                          f"(no _lxc.{tag}-*.so and lxc/ in {DIST_PACKAGES})")
    # `lxc/__init__.py` does `import _lxc`: the extension goes into sys.modules first.
    for name, path, locations in (("_lxc", found[0], None),
                                  ("lxc", package, [os.path.dirname(package)])):
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=locations)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules["lxc"]


def unavailable() -> str | None:
    """Why the bindings cannot be used here, or None if they can."""
    try:
        load()
    except ImportError as e:
        return str(e)
    return None


def container(lxcpath: str, name: str) -> Any:  # an lxc.Container (the bindings are untyped)
    lxc = load()
    c = lxc.Container(name, lxcpath)
    if not c.defined:
        raise LookupError(f"no LXC config at {os.path.join(lxcpath, name, 'config')}")
    return c


def stop(lxcpath: str, name: str) -> bool:
    """`lxc-stop -k`: the monitor SIGKILLs the init (the pid namespace dies with it)."""
    return bool(container(lxcpath, name).stop())


def freeze(lxcpath: str, name: str, frozen: bool) -> bool:
    """`lxc-freeze` / `lxc-unfreeze`: the monitor (un)freezes the container's cgroup."""
    c = container(lxcpath, name)
    return bool(c.freeze() if frozen else c.unfreeze())


def set_cgroup_item(lxcpath: str, name: str, key: str, value: str) -> bool:
    """`lxc-cgroup -n NAME KEY VALUE`: the monitor writes one file of the container's
    cgroup (KEY as in the config's lxc.cgroup.KEY / lxc.cgroup2.KEY)."""
    return bool(container(lxcpath, name).set_cgroup_item(key, value))


def argv(*args: str) -> list[str]:
    """The command line that runs this file as a helper (see the docstring). -I -S: the
    helper needs nothing but the standard library and the bindings' two files."""
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), *args]


# ---------------------------------------------------------------- the helper


def start_main(lxcpath: str, name: str, command: list[str]) -> int:
    """Be the container's monitor until it ends, as `lxc-start -F`. The exit code
    says only whether LXC could run it; the init's status is in LXC's log."""
    ok = container(lxcpath, name).start(
        useinit=False, daemonize=False, close_fds=False, cmd=tuple(command))
    return 0 if ok else 1


def attach_main(lxcpath: str, name: str, command: list[str], uid: int, gid: int,
                cwd: str, elevated: bool = False) -> int:
    """Run a command in the container with this helper's own environment (the exec's:
    never on a command line), as `lxc-attach --keep-env`; its exit code is ours (128 + N
    when signal N ended it, as a shell says). `elevated`: keep this helper's
    capabilities instead of dropping to the container's (`lxc-attach -e CAP`)."""
    env = [f"{key}={value}" for key, value in os.environ.items()]
    lxc = load()
    flags = lxc.LXC_ATTACH_DEFAULT
    if elevated:
        flags &= ~lxc.LXC_ATTACH_DROP_CAPABILITIES
    status = container(lxcpath, name).attach_wait(
        lxc.attach_run_command, command, env_policy=lxc.LXC_ATTACH_CLEAR_ENV,
        extra_env_vars=env, uid=uid, gid=gid, initial_cwd=cwd, attach_flags=flags)
    if status < 0:
        return 255  # LXC could not attach (its error is in the container's log)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def main(args: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="liblxc's start and attach, for stage 1")
    p.add_argument("action", choices=["start", "attach"])
    p.add_argument("lxcpath")
    p.add_argument("name")
    p.add_argument("--uid", type=int, default=0)
    p.add_argument("--gid", type=int, default=0)
    p.add_argument("--cwd", default="/")
    p.add_argument("--elevated", action="store_true")
    p.add_argument("command", nargs=argparse.REMAINDER)
    ns = p.parse_args(args)
    command = ns.command[1:] if ns.command[:1] == ["--"] else ns.command
    if ns.action == "start":
        return start_main(ns.lxcpath, ns.name, command)
    return attach_main(ns.lxcpath, ns.name, command, ns.uid, ns.gid, ns.cwd, ns.elevated)


if __name__ == "__main__":
    sys.exit(main())
