"""A local unprivileged user reaches nothing of the engine's (the class of CVE-2021-41091).

Layers keep their setuid-root files (images need them) and container records keep each
container's env, so the data root must stay closed to other users. The engine's dirs
are made inside a test directory; the test opens that directory to everyone (as
/var/lib is) so that only the engine's own modes stand between user nobody and them.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.behaviour.clients import Clients
from tests.images.tarballs import Entry, layer
from tests.security.hostile import load

# setpriv's own execve still passes root's path checks (its capabilities go at the
# exec), so the command is exec'd by a shell already running as nobody.
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "/bin/sh", "-c", 'exec "$0" "$@"']


def as_nobody(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NOBODY, *command], capture_output=True, text=True, timeout=30)


def found(top: Path, want) -> list[Path]:  # type: ignore[no-untyped-def]
    """Every path under top (walked as root, no symlink followed) for which want(path, st)."""
    hits = []
    for dirpath, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(dirpath, name)
            st = path.lstat()
            if want(path, st):
                hits.append(path)
    return hits


def test_a_local_user_reaches_no_layer_env_or_setuid_file(hostile: Clients) -> None:
    engine = hostile.engine
    os.chmod(engine.workdir, 0o755)  # as /var/lib: only the engine's modes may protect it
    setuid_busybox = Path("/bin/busybox").read_bytes()
    image = load(hostile, "wb-hostile-local:setuid", layer(
        Entry("usr", "dir", mode=0o755), Entry("usr/local", "dir", mode=0o755),
        Entry("usr/local/rootshell", data=setuid_busybox, mode=0o4755)))
    name, secret = hostile.name(), os.urandom(8).hex()
    done = hostile.docker("run", "-d", "--name", name, "-e", f"TOKEN={secret}", image,
                          "sleep", "60", timeout=60)
    assert done.returncode == 0, done.stderr
    cid = done.stdout.strip()

    setuid = found(engine.root, lambda p, st: stat.S_ISREG(st.st_mode)
                   and st.st_mode & stat.S_ISUID and p.name == "rootshell")
    assert setuid, "the setuid file is in a layer under the data root"
    for path in setuid:
        ran = as_nobody(str(path), "id", "-u")
        assert ran.returncode != 0 and ran.stdout.strip() != "0", (path, ran.stdout)
        assert "Permission denied" in ran.stderr

    records = found(engine.root, lambda p, st: p.name == "config.v2.json" and cid in str(p))
    assert records, "the container's record is under the data root"
    for path in records:
        assert secret in path.read_text()
        read = as_nobody("cat", str(path))
        assert read.returncode != 0 and secret not in read.stdout, path

    layers = engine.root / ("images/layers" if engine.ours else "overlay2")
    assert layers.is_dir()
    listed = as_nobody("ls", str(layers))
    assert listed.returncode != 0 and "Permission denied" in listed.stderr
    assert as_nobody("ls", str(engine.root)).returncode != 0
    assert as_nobody("ls", str(engine.exec_root)).returncode != 0


def test_no_file_holding_a_containers_env_is_readable_by_others(hostile: Clients) -> None:
    """Each file that holds the env (the record, the daemon's spec.json, containerd's
    bundle config.json in stages 3-4) is root's alone, whatever dirs it sits in: a
    containerd given its own --root/--state must not rely on the daemon's modes."""
    engine = hostile.engine
    if not engine.ours:
        return  # dockerd's own containerd writes bundles 0644 behind 0711 dirs
    name, secret = hostile.name(), os.urandom(8).hex()
    done = hostile.docker("run", "-d", "--name", name, "-e", f"TOKEN={secret}", "busybox",
                          "sleep", "60", timeout=60)
    assert done.returncode == 0, done.stderr
    device = engine.workdir.stat().st_dev  # not into mounts: the rootfs, the netns files
    holding = found(engine.workdir, lambda p, st: stat.S_ISREG(st.st_mode)
                    and st.st_dev == device and 0 < st.st_size < 1 << 20
                    and secret.encode() in p.read_bytes())
    assert holding, "some file holds the env"
    for path in holding:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is {oct(path.stat().st_mode)}"
