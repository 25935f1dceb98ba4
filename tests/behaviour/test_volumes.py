"""Bind mounts, named and anonymous volumes, --mount and --volumes-from (issue 17).

What a user sees, through the docker CLI, on every stage and on the reference dockerd:
the host's files inside the container, a volume's data outliving its container, the
image's files copied into a new volume, and the refusals in dockerd's words.
"""

from __future__ import annotations

import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "hello").write_text("from the host\n")
    return d


@pytest.fixture
def shared_dir(host_dir: Path) -> Iterator[Path]:
    """host_dir made a mount of its own in a peer group of its own (`mount
    --make-shared`): a shared or slave bind needs one (dockerd's ensureShared)."""
    subprocess.run(["mount", "--bind", str(host_dir), str(host_dir)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(host_dir)], check=True)
        yield host_dir
    finally:
        subprocess.run(["umount", str(host_dir)], check=True)


@pytest.fixture
def volume_names(clients) -> Iterator[list[str]]:
    """Volumes the test names; removed after it (after its containers: `clients` first)."""
    names: list[str] = []
    yield names
    clients.cleanup()  # their containers first: a volume in use cannot go
    for name in names:
        clients.api("DELETE", f"/volumes/{name}?force=1")


def new_volume(clients, names: list[str], *args: str) -> str:
    name = f"wbvol-{uuid.uuid4().hex[:10]}"
    names.append(name)
    done = clients.docker("volume", "create", *args, name)
    assert done.returncode == 0, done.stderr
    return name


def run(clients, *args: str) -> str:
    done = clients.docker("run", "--rm", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ------------------------------------------------------------------------ binds


def test_bind_mount_shows_and_writes_host_files(clients, host_dir: Path) -> None:
    out = run(clients, "-v", f"{host_dir}:/data", "busybox",
              "sh", "-c", "cat /data/hello; echo back > /data/written")
    assert out == "from the host\n"
    assert (host_dir / "written").read_text() == "back\n"


def test_read_only_bind_refuses_writes(clients, host_dir: Path) -> None:
    out = run(clients, "-v", f"{host_dir}:/data:ro,z", "busybox",
              "sh", "-c", "cat /data/hello; touch /data/x 2>&1; echo $?")
    assert out.splitlines()[0] == "from the host"
    assert "Read-only file system" in out
    assert not (host_dir / "x").exists()


def test_missing_bind_source_is_made_for_v_refused_for_mount(clients, tmp_path: Path) -> None:
    made = tmp_path / "made" / "here"
    run(clients, "-v", f"{made}:/data", "busybox", "true")
    assert made.is_dir()
    missing = tmp_path / "missing"
    done = clients.docker("run", "--rm", "--mount",
                          f"type=bind,source={missing},target=/data", "busybox", "true")
    assert done.returncode == 125
    assert (f'invalid mount config for type "bind": bind source path does not exist: '
            f"{missing}") in done.stderr
    assert not missing.exists()


def test_mount_bind_readonly_and_propagation(clients, shared_dir: Path) -> None:
    out = run(clients, "--mount",
              f"type=bind,source={shared_dir},target=/data,readonly,bind-propagation=rslave",
              "busybox", "sh", "-c",
              "cat /data/hello; touch /data/x 2>&1; grep ' /data ' /proc/self/mountinfo")
    lines = out.splitlines()
    assert lines[0] == "from the host"
    assert "Read-only file system" in lines[1]
    assert "master:" in lines[2]  # a slave of the host's mount: the kernel says so


def test_slave_bind_of_a_private_mount_is_refused(clients, host_dir: Path) -> None:
    """Nothing would propagate: dockerd refuses it at start (ensureSharedOrSlave)."""
    with open("/proc/self/mountinfo") as f:
        root_line = next(line for line in f if line.split()[4] == "/")
    if "shared:" in root_line or "master:" in root_line:
        pytest.skip("this host's / is shared: no private mount to try")
    done = clients.docker("run", "--rm", "-v", f"{host_dir}:/data:rslave", "busybox", "true")
    assert done.returncode != 0
    assert "is mounted on / but it is not a shared or slave mount" in done.stderr


@pytest.mark.parametrize(("spec", "message"), [
    ("/data:ro", "invalid volume specification: '/data:ro'"),
    ("/a:/b:bogus", "invalid mode: bogus"),
    ("/a:/b:ro,rw", "invalid mode: ro,rw"),
    ("/a:relative", "invalid volume specification: '/a:relative': invalid mount config "
                    "for type \"bind\": invalid mount path: 'relative' mount path must be "
                    "absolute"),
    ("/a:/", "invalid volume specification: '/a:/': invalid mount config for type "
             "\"bind\": invalid specification: destination can't be '/'"),
])
def test_bad_volume_specs_are_refused_in_dockerds_words(clients, spec: str,
                                                        message: str) -> None:
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"Binds": [spec]}})
    # dockerd 20.10 answers these with a 500 (its parser's errors had no type then);
    # current moby, and this engine, with a 400
    assert reply.status == 400 or (not clients.engine.ours and reply.status == 500), reply.body
    assert message in reply.message


def test_duplicate_destination_is_refused(clients, host_dir: Path) -> None:
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"],
        "HostConfig": {"Binds": [f"{host_dir}:/data", f"{host_dir}:/data"]}})
    assert reply.status == 400
    assert "Duplicate mount point: /data" in reply.message


def evil_image(clients, tmp_path: Path, link_to: Path) -> str:
    """An image of the static busybox with /evil a symlink to `link_to`, a host path."""
    tar_path = tmp_path / "evil.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add("/bin/busybox", "bin/busybox")
        for name in ("sh", "cat", "ls", "echo"):
            info = tarfile.TarInfo(f"bin/{name}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        info = tarfile.TarInfo("evil")
        info.type, info.linkname = tarfile.SYMTYPE, str(link_to)
        tar.addfile(info)
    name = f"wb-evil-{uuid.uuid4().hex[:8]}"
    done = clients.docker("import", str(tar_path), name)
    assert done.returncode == 0, done.stderr
    return name


@pytest.mark.parametrize("kind", ["bind", "volume"])
def test_destination_symlink_out_of_rootfs_lands_inside(clients, host_dir: Path,
                                                        tmp_path: Path, kind: str,
                                                        volume_names: list[str]) -> None:
    """An image whose mount destination is a symlink to a host path must get the bind
    (or volume) inside its own root (the symlink followed inside it), never on the host."""
    victim = tmp_path / "victim"
    victim.mkdir()
    image = evil_image(clients, tmp_path, victim)
    if kind == "volume":
        source = new_volume(clients, volume_names)
        run(clients, "-v", f"{source}:/v", "busybox", "cp", "/etc/hostname", "/v/hello")
        expected = None
    else:
        source, expected = str(host_dir), "from the host\n"
    try:
        out = run(clients, "-v", f"{source}:/evil/sub", image,
                  "sh", "-c", "cat /evil/sub/hello")
        assert out == expected if expected else out.strip()
        assert list(victim.iterdir()) == []  # nothing made, nothing mounted on the host
        with open("/proc/self/mountinfo") as f:
            assert str(victim) not in f.read()
    finally:
        clients.docker("rmi", "-f", image)


@pytest.fixture
def with_submount(host_dir: Path) -> Iterator[Path]:
    """host_dir with a tmpfs mounted on host_dir/sub holding one file."""
    sub = host_dir / "sub"
    sub.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(sub)], check=True)
    try:
        (sub / "below").write_text("x")
        yield host_dir
    finally:
        subprocess.run(["umount", str(sub)], check=True)


def test_binds_are_recursive_unless_asked_not_to_be(cli, with_submount: Path) -> None:
    done = cli("run", "--rm", "-v", f"{with_submount}:/d", "busybox", "ls", "/d/sub")
    assert (done.returncode, done.stdout) == (0, "below\n"), done.stderr
    done = cli("run", "--rm", "--mount",
               f"type=bind,src={with_submount},dst=/d,bind-nonrecursive", "busybox",
               "ls", "/d/sub")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


def test_tmpfs_mount_with_size_and_mode(clients) -> None:
    out = run(clients, "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m,tmpfs-mode=1770",
              "busybox", "sh", "-c",
              "stat -c %a /scratch; grep ' /scratch ' /proc/self/mountinfo")
    mode, line = out.splitlines()
    assert mode == "1770"
    assert "tmpfs" in line and "size=1024k" in line


# ------------------------------------------------------------------------ named volumes


def test_named_volume_outlives_its_container(clients, volume_names: list[str]) -> None:
    name = new_volume(clients, volume_names, "--label", "team=a")
    run(clients, "-v", f"{name}:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert run(clients, "--mount", f"type=volume,source={name},target=/d,readonly",
               "busybox", "cat", "/d/f") == "kept\n"
    c = clients.name()
    clients.docker("create", "--name", c, "--mount", f"type=volume,src={name},dst=/d",
                   "busybox", "true")
    (mount,) = clients.inspect(c)["Mounts"]
    assert (mount["Type"], mount["Name"], mount["Driver"], mount["Mode"], mount["RW"],
            mount["Propagation"]) == ("volume", name, "local", "z", True, "")
    clients.docker("rm", c)
    info = clients.api("GET", f"/volumes/{name}").json()
    assert (info["Name"], info["Driver"], info["Labels"], info["Scope"]) == \
        (name, "local", {"team": "a"}, "local")
    listed = clients.docker("volume", "ls", "-q", "--filter", "label=team=a").stdout.split()
    assert name in listed
    assert name not in clients.docker("volume", "ls", "-q", "--filter",
                                      "label=team=b").stdout.split()
    assert name in clients.docker("volume", "ls", "-q", "--filter",
                                  "dangling=true").stdout.split()
    assert clients.docker("volume", "rm", name).returncode == 0
    gone = clients.api("GET", f"/volumes/{name}")
    assert gone.status == 404 and gone.message == f"get {name}: no such volume"


def test_new_volume_takes_the_image_files_with_owners(clients, volume_names: list[str]) -> None:
    """Copy-up: /etc of busybox (root-owned; /etc/passwd's mode kept) into a new volume;
    with volume-nocopy it stays empty."""
    name = f"wbvol-{uuid.uuid4().hex[:10]}"
    volume_names.append(name)
    out = run(clients, "-v", f"{name}:/etc", "busybox", "stat", "-c", "%u:%g %a",
              "/etc/passwd")
    assert out == "0:0 644\n"
    empty = f"wbvol-{uuid.uuid4().hex[:10]}"
    volume_names.append(empty)
    # (the daemon's /etc/hosts, hostname and resolv.conf are mounted over it still)
    assert run(clients, "--mount", f"type=volume,source={empty},target=/etc,volume-nocopy",
               "busybox", "ls", "-A", "/etc").split() == ["hostname", "hosts", "resolv.conf"]


def test_volume_in_use_cannot_be_removed(clients, volume_names: list[str]) -> None:
    name = new_volume(clients, volume_names)
    c = clients.name()
    assert clients.docker("create", "--name", c, "-v", f"{name}:/data", "busybox",
                          "true").returncode == 0
    cid = clients.inspect(c)["Id"]
    reply = clients.api("DELETE", f"/volumes/{name}")
    assert reply.status == 409
    assert reply.message == f"remove {name}: volume is in use - [{cid}]"
    # a prune spares it too, and removing the container (even with -v) keeps it
    clients.docker("volume", "prune", "-f")
    assert clients.docker("rm", "-v", c).returncode == 0
    assert clients.api("GET", f"/volumes/{name}").status == 200


def test_prune_removes_only_unused(clients, volume_names: list[str]) -> None:
    used, unused = new_volume(clients, volume_names), new_volume(clients, volume_names)
    c = clients.name()
    clients.docker("create", "--name", c, "-v", f"{used}:/data", "-v", "/anon", "busybox",
                   "true")
    anon = [m["Name"] for m in clients.inspect(c)["Mounts"] if m["Destination"] == "/anon"]
    volume_names.extend(anon)
    done = clients.docker("volume", "prune", "-f")
    assert done.returncode == 0, done.stderr
    assert clients.api("GET", f"/volumes/{used}").status == 200
    assert clients.api("GET", f"/volumes/{anon[0]}").status == 200  # its container is there
    # Docker 23+ (API 1.42) prunes only anonymous volumes without --all; dockerd 20.10,
    # the reference, all unused ones: either is Docker's behaviour for its version.
    if clients.engine.ours:
        assert clients.api("GET", f"/volumes/{unused}").status == 200
        reply = clients.api("POST", '/volumes/prune?filters={"all":["true"]}')
        assert unused in (reply.json()["VolumesDeleted"] or [])
    assert clients.api("GET", f"/volumes/{unused}").status == 404
    assert clients.api("GET", f"/volumes/{used}").status == 200


def test_tmpfs_volume_is_mounted_at_use_and_unmounted_after(clients,
                                                           volume_names: list[str]) -> None:
    name = new_volume(clients, volume_names, "--opt", "type=tmpfs", "--opt", "device=tmpfs",
                      "--opt", "o=size=2m")
    mountpoint = clients.api("GET", f"/volumes/{name}").json()["Mountpoint"]
    out = run(clients, "-v", f"{name}:/data", "busybox", "sh", "-c",
              "grep ' /data ' /proc/self/mountinfo; echo x > /data/f")
    assert " tmpfs " in out and "size=2048k" in out
    with open("/proc/self/mountinfo") as f:
        assert f" {mountpoint} " not in f.read()  # unmounted once its user stopped


def test_bad_volume_options_are_refused(clients) -> None:
    reply = clients.api("POST", "/volumes/create", {"Name": "wbvol-bad",
                                                    "DriverOpts": {"colour": "red"}})
    assert reply.status == 400 and reply.message == 'create wbvol-bad: invalid option: "colour"'
    reply = clients.api("POST", "/volumes/create", {"Name": "wbvol-bad",
                                                    "DriverOpts": {"type": "tmpfs"}})
    assert reply.status == 400 and reply.message == \
        'create wbvol-bad: missing required option: "device"'
    reply = clients.api("POST", "/volumes/create", {"Name": "a"})
    assert reply.status == 400 and "volume name is too short" in reply.message


# ------------------------------------------------------------------------ anonymous


def test_anonymous_volumes_go_with_rm_v_and_named_ones_stay(clients, host_dir: Path,
                                                           volume_names: list[str]) -> None:
    named = new_volume(clients, volume_names)
    c = clients.name()
    done = clients.docker("run", "--name", c, "-v", "/anon", "-v", f"{named}:/named",
                          "-v", f"{host_dir}:/bound", "busybox", "sh", "-c",
                          "echo a > /anon/f; echo n > /named/f")
    assert done.returncode == 0, done.stderr
    mounts = {m["Destination"]: m for m in clients.inspect(c)["Mounts"]}
    anon = mounts["/anon"]
    assert (anon["Type"], anon["Driver"], anon["RW"]) == ("volume", "local", True)
    assert mounts["/named"]["Name"] == named
    assert (anon["Mode"], mounts["/named"]["Mode"], mounts["/bound"]["Mode"]) == ("", "z", "")
    bound = mounts["/bound"]
    assert (bound["Type"], bound["Source"], bound["RW"], bound["Propagation"]) == \
        ("bind", str(host_dir), True, "rprivate")
    assert "Name" not in bound and "Driver" not in bound
    # --volumes-from: the same mounts in another container, read-only here
    out = run(clients, "--volumes-from", f"{c}:ro", "busybox", "sh", "-c",
              "cat /anon/f /named/f /bound/hello; touch /anon/g 2>&1; true")
    assert out.startswith("a\nn\nfrom the host\n") and "Read-only file system" in out
    assert clients.docker("rm", "-v", c).returncode == 0
    assert clients.api("GET", f"/volumes/{anon['Name']}").status == 404
    assert clients.api("GET", f"/volumes/{named}").status == 200
    assert (host_dir / "hello").exists()
    with open("/proc/self/mountinfo") as f:
        assert anon["Name"] not in f.read()


def test_image_volume_gets_an_anonymous_volume_with_its_files(clients, tmp_path: Path) -> None:
    tar_path = tmp_path / "img.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add("/bin/busybox", "bin/busybox")
        for name in ("sh", "cat", "stat"):
            info = tarfile.TarInfo(f"bin/{name}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        seed = tmp_path / "seed"
        seed.write_text("from the image\n")
        directory = tarfile.TarInfo("vol")
        directory.type, directory.mode, directory.uid, directory.gid = \
            tarfile.DIRTYPE, 0o750, 1234, 5678
        tar.addfile(directory)
        info = tar.gettarinfo(str(seed), "vol/seed")
        info.mode, info.uid, info.gid = 0o640, 4321, 8765
        with open(seed, "rb") as f:
            tar.addfile(info, f)
    image = f"wb-vol-{uuid.uuid4().hex[:8]}"
    assert clients.docker("import", "--change", "VOLUME /vol", str(tar_path),
                          image).returncode == 0
    try:
        c = clients.name()
        done = clients.docker("run", "--name", c, image, "sh", "-c",
                              "cat /vol/seed; stat -c '%u:%g %a' /vol /vol/seed")
        # copied up with the image's owners and modes
        assert done.stdout == "from the image\n1234:5678 750\n4321:8765 640\n", done.stderr
        (mount,) = clients.inspect(c)["Mounts"]
        assert (mount["Type"], mount["Destination"]) == ("volume", "/vol")
        assert clients.docker("rm", "-v", c).returncode == 0
        assert clients.api("GET", f"/volumes/{mount['Name']}").status == 404
    finally:
        clients.docker("rmi", "-f", image)


def test_run_rm_takes_its_anonymous_volumes(clients) -> None:
    before = {v["Name"] for v in clients.api("GET", "/volumes").json()["Volumes"] or []}
    run(clients, "-v", "/anon", "busybox", "touch", "/anon/f")
    after = {v["Name"] for v in clients.api("GET", "/volumes").json()["Volumes"] or []}
    assert after <= before


def test_our_cli_and_docker_mount_the_same(cli, host_dir: Path) -> None:
    """-v, --mount and --volumes-from through either CLI."""
    done = cli("run", "--rm", "-v", f"{host_dir}:/a:ro", "--mount",
               f"type=bind,src={host_dir},dst=/b", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m",
               "busybox", "sh", "-c", "cat /a/hello /b/hello; grep -c ' /t ' /proc/self/mountinfo")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "from the host\nfrom the host\n1\n"


def test_volume_commands_of_either_cli(cli, clients, volume_names: list[str]) -> None:
    name = f"wbvol-{uuid.uuid4().hex[:10]}"
    volume_names.append(name)
    done = cli("volume", "create", "--label", "k=v", name)
    assert (done.returncode, done.stdout) == (0, f"{name}\n"), done.stderr
    assert name in cli("volume", "ls", "-q", "--filter", "label=k=v").stdout.split()
    assert cli("volume", "inspect", "-f", "{{.Driver}}", name).stdout == "local\n"
    c = clients.name()
    clients.docker("create", "--name", c, "-v", f"{name}:/d", "busybox", "true")
    done = cli("volume", "rm", name)
    assert done.returncode == 1 and f"remove {name}: volume is in use" in done.stderr
    clients.docker("rm", c)
    assert cli("volume", "rm", name).stdout == f"{name}\n"


def test_system_df_counts_volumes(clients, volume_names: list[str]) -> None:
    name = new_volume(clients, volume_names)
    c = clients.name()
    clients.docker("run", "--name", c, "-v", f"{name}:/d", "busybox", "sh", "-c",
                   "head -c 100000 /dev/zero > /d/f")
    df = clients.api("GET", "/system/df").json()
    (mine,) = [v for v in df["Volumes"] if v["Name"] == name]
    assert mine["UsageData"]["RefCount"] == 1
    assert mine["UsageData"]["Size"] >= 100000
    assert any(i["Containers"] >= 1 for i in df["Images"])
    assert c in [n.lstrip("/") for x in df["Containers"] for n in x["Names"]]
    done = clients.docker("system", "df", "-v")
    assert done.returncode == 0, done.stderr
    assert name in done.stdout


def test_ps_filters_by_volume(clients, host_dir: Path, volume_names: list[str]) -> None:
    name = new_volume(clients, volume_names)
    c = clients.name()
    clients.docker("create", "--name", c, "-v", f"{name}:/data", "-v", f"{host_dir}:/b",
                   "busybox", "true")
    for value in (name, "/data", "/b", str(host_dir)):
        listed = clients.docker("ps", "-a", "--format", "{{.Names}}", "--filter",
                                f"volume={value}").stdout.split()
        assert listed == [c], value
    assert clients.docker("ps", "-a", "-q", "--filter", "volume=/nothing").stdout == ""


def test_a_failed_start_leaves_no_volume_mounted(clients, volume_names: list[str]) -> None:
    """The start recipe undoes what it did: here a tmpfs volume mounted on the host
    before the command turned out not to exist."""
    name = new_volume(clients, volume_names, "--opt", "type=tmpfs", "--opt", "device=tmpfs")
    mountpoint = clients.api("GET", f"/volumes/{name}").json()["Mountpoint"]
    done = clients.docker("run", "--rm", "-v", f"{name}:/d", "busybox", "/no/such/command")
    assert done.returncode == 127
    with open("/proc/self/mountinfo") as f:
        assert f" {mountpoint} " not in f.read()


def test_rshared_bind_propagates_a_mount_back_to_the_host(clients, shared_dir: Path) -> None:
    """`:rshared`: what the container mounts under the bind appears on the host (the
    kernel's peer groups, which the era must not cut), as with Docker."""
    inner = shared_dir / "inner"
    inner.mkdir()
    if clients.engine.name == "stage1":
        # LXC makes every mount a slave of the host's: refused rather than ignored
        done = clients.docker("run", "--rm", "-v", f"{shared_dir}:/d:rshared", "busybox",
                              "true")
        assert done.returncode != 0
        assert "shared propagation is not supported by LXC" in done.stderr
        return
    try:
        # CAP_SYS_ADMIN to mount (not --privileged: dockerd 20.10 cannot make one here)
        out = run(clients, "--cap-add", "SYS_ADMIN", "-v", f"{shared_dir}:/d:rshared",
                  "busybox", "sh",
                  "-c", "mount -t tmpfs tmpfs /d/inner && echo made > /d/inner/f && echo ok")
        assert out == "ok\n"
        assert (inner / "f").read_text() == "made\n"
    finally:
        subprocess.run(["umount", str(inner)], capture_output=True)


def test_a_file_bind_and_rm_without_v_keeps_anonymous_volumes(clients, host_dir: Path,
                                                             volume_names: list[str]) -> None:
    c = clients.name()
    done = clients.docker("run", "--name", c, "-v", f"{host_dir / 'hello'}:/etc/greeting:ro",
                          "-v", "/anon", "busybox", "cat", "/etc/greeting")
    assert done.stdout == "from the host\n", done.stderr
    anon = [m["Name"] for m in clients.inspect(c)["Mounts"] if m["Type"] == "volume"]
    volume_names.extend(anon)
    assert clients.docker("rm", c).returncode == 0
    assert clients.api("GET", f"/volumes/{anon[0]}").status == 200  # dangling, as Docker
    assert anon[0] in clients.docker("volume", "ls", "-q", "-f", "dangling=true").stdout


def test_inspect_shows_a_tmpfs_mount(clients) -> None:
    c = clients.name()
    assert clients.docker("create", "--name", c, "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m",
                          "busybox", "true").returncode == 0
    (mount,) = clients.inspect(c)["Mounts"]
    assert mount == {"Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "",
                     "RW": True, "Propagation": ""}


def test_docker_cp_reaches_into_a_volume_and_a_bind(clients, host_dir: Path, tmp_path: Path,
                                                    volume_names: list[str]) -> None:
    """docker cp into a container's mounts, running and stopped: the file is in the
    volume (seen from another container) and in the bind's host directory."""
    name = new_volume(clients, volume_names)
    c = clients.name()
    started = clients.docker("run", "-d", "--name", c, "-v", f"{name}:/data", "-v",
                             f"{host_dir}:/bound", "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    local = tmp_path / "note"
    local.write_text("copied\n")
    for target in ("/data/running", "/bound/running"):
        done = clients.docker("cp", str(local), f"{c}:{target}")
        assert done.returncode == 0, done.stderr
    clients.docker("stop", "-t", "0", c)
    for target in ("/data/stopped", "/bound/stopped"):
        done = clients.docker("cp", str(local), f"{c}:{target}")
        assert done.returncode == 0, done.stderr
    out = run(clients, "-v", f"{name}:/v", "busybox", "cat", "/v/running", "/v/stopped")
    assert out == "copied\ncopied\n"
    assert (host_dir / "running").read_text() == (host_dir / "stopped").read_text() == "copied\n"
