"""config-linux.md: Devices, Default Devices, and the device allowlist of the cgroup.

Every bundle here has runc spec's `linux.resources.devices`: one rule, deny all.
"""

from __future__ import annotations

from tests.runtime.conftest import Runtime, xfail_on

DEFAULT_DEVICES = {  # path: (major, minor), as the kernel numbers them (devices.txt)
    "null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9),
    "tty": (5, 0),
}


def test_default_devices_exist(rt: Runtime, bundle) -> None:
    """config-linux.md Default Devices: "In addition to any devices configured with this
    setting, the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random,
    /dev/urandom, /dev/tty ... /dev/ptmx. A bind-mount or symlink of the container's
    /dev/pts/ptmx"."""
    names = " ".join(DEFAULT_DEVICES)
    b = bundle(["sh", "-c", f"cd /dev; stat -c '%n %F %t %T' {names}; "
                "test -e /dev/ptmx && echo ptmx"])
    code, out = rt.run(b)
    expected = [f"{n} character special file {major:x} {minor:x}"
                for n, (major, minor) in DEFAULT_DEVICES.items()]
    assert (code, out.splitlines()) == (0, expected + ["ptmx"])


def test_default_devices_usable_with_deny_all(rt: Runtime, bundle) -> None:
    """config-linux.md Default Devices: "the runtime MUST also supply" them: supplied
    means usable, so the cgroup's allowlist lets them through even when
    linux.resources.devices says only "deny all" (runc adds allow rules for them)."""
    script = ("echo x > /dev/null && echo null; "
              "head -c 3 /dev/zero | wc -c; head -c 3 /dev/urandom | wc -c; "
              "head -c 3 /dev/random | wc -c; "
              "echo x 2>/dev/null > /dev/full || echo full-is-full; "
              "exec 3<>/dev/ptmx && echo ptmx")
    b = bundle(["sh", "-c", script])
    code, out = rt.run(b)
    assert (code, out.split()) == (0, ["null", "3", "3", "3", "full-is-full", "ptmx"])


def test_deny_all_denies_other_devices(rt: Runtime, bundle) -> None:
    """config-linux.md Device allowlist: "devices (array of objects, OPTIONAL) configures
    the device allowlist. The runtime MUST apply entries in the listed order": with
    only "deny all", a node the container makes itself cannot be opened."""
    b = bundle(["sh", "-c", "mknod /tmp/loop b 7 0; (exec 3</tmp/loop) 2>/dev/null || echo denied"])
    for kind in ("bounding", "effective", "permitted"):
        b.config["process"]["capabilities"][kind].append("CAP_MKNOD")
    code, out = rt.run(b)
    assert (code, out) == (0, "denied\n")


def test_devices_created_with_type_mode_and_owner(rt: Runtime, bundle) -> None:
    """config-linux.md Devices: "devices (array of objects, OPTIONAL) lists devices that
    MUST be available in the container"; "type (string, REQUIRED) - type of device: c,
    b, u or p"; "fileMode", "uid (uint32, OPTIONAL) - id of device owner in the
    container namespace", "gid"."""
    b = bundle(["sh", "-c", "cd /dev; stat -c '%n|%F|%t|%T|%a|%u|%g' mynull mymem myloop "
                "myfifo"])
    b.linux["devices"] = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o620,
         "uid": 1000, "gid": 1001},
        {"path": "/dev/mymem", "type": "u", "major": 1, "minor": 5, "fileMode": 0o666},
        {"path": "/dev/myloop", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600,
         "uid": 0, "gid": 6},
        {"path": "/dev/myfifo", "type": "p", "fileMode": 0o640, "uid": 2, "gid": 3},
    ]
    code, out = rt.run(b)
    assert code == 0
    assert out.splitlines() == [
        "mynull|character special file|1|3|620|1000|1001",
        "mymem|character special file|1|5|666|0|0",
        "myloop|block special file|7|0|600|0|6",
        "myfifo|fifo|0|0|640|2|3",
    ]


@xfail_on("runc", "runc 1.1 allows only resources.devices rules and its own defaults "
          "(Docker adds a rule for each --device itself)")
@xfail_on("crun", "crun 1.8 allows only resources.devices rules and its own defaults")
def test_devices_usable_with_deny_all(rt: Runtime, bundle) -> None:
    """config-linux.md Devices: "lists devices that MUST be available in the container":
    available with runc spec's deny-all allowlist, so the runtime allows them in the
    cgroup (a FIFO needs no rule: the device cgroup knows only c and b)."""
    script = ("echo x > /dev/mynull && echo c-ok; head -c 2 /dev/myzero | wc -c; "
              "exec 3</dev/myloop && echo b-ok; "
              "(echo fifo-ok > /dev/myfifo &); cat /dev/myfifo")
    b = bundle(["sh", "-c", script])
    b.linux["devices"] = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3},
        {"path": "/dev/myzero", "type": "u", "major": 1, "minor": 5},
        {"path": "/dev/myloop", "type": "b", "major": 7, "minor": 0},
        {"path": "/dev/myfifo", "type": "p"},
    ]
    code, out = rt.run(b)
    assert (code, out.split()) == (0, ["c-ok", "2", "b-ok", "fifo-ok"])


def test_devices_outside_dev(rt: Runtime, bundle) -> None:
    """config-linux.md Devices: "The path MAY be anywhere in the container filesystem,
    notably outside of /dev"."""
    b = bundle(["sh", "-c", "echo x > /opt/devnull && stat -c %t:%T /opt/devnull"])
    b.linux["devices"] = [{"path": "/opt/devnull", "type": "c", "major": 1, "minor": 3}]
    code, out = rt.run(b)
    assert (code, out) == (0, "1:3\n")


@xfail_on("runc", "runc 1.1 keeps whatever is at the path (createDeviceNode ignores EEXIST)")
@xfail_on("crun", "crun 1.8 keeps whatever is at the path")
def test_device_path_taken_by_another_file_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Devices: "If a file already exists at path that does not match the
    requested device, the runtime MUST generate an error"."""
    b = bundle(["true"])
    b.linux["devices"] = [{"path": "/etc/passwd", "type": "c", "major": 1, "minor": 3}]
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0
