"""Run a stage's cgroup checks on pure cgroup v2, in a small VM, from any host.

    .venv/bin/python -m tests.cgroupv2.vm [--stage stage2] [--junit FILE]

(`make test-cgroup-v2` does this.) See README.md for why a VM, why TCG and why 9p.
The steps, each a function below:

    kernel()     Debian's kernel, downloaded with apt-get and unpacked, never installed:
                 vmlinuz and the few modules the VM needs, kept in the cache dir
    initramfs()  a cpio archive: init.sh as /init, a static busybox, those modules
    boot()       qemu-system-x86_64 with the host's / shared read-only and a results
                 directory shared writable, both over 9p; the console streams here
    report()     the checks' JUnit XML, read back: one line per check and
                 `N passed, N failed, N skipped`; exit status 1 if anything failed

A missing QEMU, kernel or busybox-static is a failure when CI=true, and a skip that
says why everywhere else: never a silent pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.cgroupv2 import checks
from tests.cgroupv2.harness import Result, read_junit, report_line, summary

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("WB_CGROUPV2_CACHE", "/var/cache/whalebones/cgroupv2"))
QEMU = "qemu-system-x86_64"
BUSYBOX = Path("/bin/busybox")  # from busybox-static: it must run with no libc around
KERNEL_META = "linux-image-amd64"  # depends on the current linux-image-6.1.0-NN-amd64
# The modules /init loads, in load order (each after those it depends on): the virtio
# PCI transport, the 9p filesystem over it, and overlayfs for a writable root.
MODULES = [
    "drivers/virtio/virtio_ring", "drivers/virtio/virtio",
    "drivers/virtio/virtio_pci_modern_dev", "drivers/virtio/virtio_pci_legacy_dev",
    "drivers/virtio/virtio_pci", "net/9p/9pnet", "net/9p/9pnet_virtio",
    "fs/netfs/netfs", "fs/fscache/fscache", "fs/9p/9p", "fs/overlayfs/overlay",
    "drivers/block/brd",  # RAM disks (/dev/ram0...): a block device for the I/O limits
]
# cgroup_no_v1=all: no controller may be mounted as v1, so all of them are on v2.
KERNEL_ARGS = "console=ttyS0 quiet panic=-1 cgroup_no_v1=all mitigations=off"
TIMEOUT = 600.0


class Missing(Exception):  # noqa: N818 - `raise Missing("no qemu-system-x86_64")`
    """Something the VM needs is not on this machine (and could not be fetched)."""


# ------------------------------------------------------------------ the kernel


def apt_download(package: str, into: Path) -> Path:
    """`apt-get download` one .deb into `into` (no install, no dependency resolution)."""
    into.mkdir(parents=True, exist_ok=True)
    # As root, apt would drop to the _apt user, who may not write here; say it is fine.
    result = subprocess.run(["apt-get", "download", "-o", "APT::Sandbox::User=root", package],
                            cwd=into, capture_output=True, text=True)
    debs = sorted(into.glob(f"{package}_*.deb"), key=lambda p: p.stat().st_mtime)
    if result.returncode != 0 or not debs:
        raise Missing(f"apt-get download {package}: {result.stderr.strip() or 'no .deb'}")
    return debs[-1]


def kernel() -> Path:
    """A directory with `vmlinuz` and `modules/*.ko`, for Debian's current kernel.

    linux-image-amd64 is a metapackage: its one dependency names the real package
    (linux-image-6.1.0-NN-amd64), which is unpacked once (dpkg-deb -x, no install);
    what the VM needs is copied out and the ~400 MB rest thrown away."""
    debs = CACHE / "debs"
    try:
        meta = apt_download(KERNEL_META, debs)
    except Missing:
        cached = sorted(CACHE.glob("kernel/linux-image-*/vmlinuz"))
        if cached:  # offline: the last kernel we unpacked will do
            print(f"apt-get download {KERNEL_META} failed; using {cached[-1].parent}")
            return cached[-1].parent
        raise
    depends = subprocess.run(["dpkg-deb", "-f", str(meta), "Depends"], capture_output=True,
                             text=True, check=True).stdout
    package = depends.split(",")[0].split()[0]  # "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
    target = CACHE / "kernel" / package
    if (target / "vmlinuz").exists() and all(
            (target / "modules" / f"{Path(m).name}.ko").exists() for m in MODULES):
        return target
    deb = apt_download(package, debs)
    print(f"unpacking {deb.name}")
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        unpacked = Path(tmp)
        staging = Path(tmp) / "staging"
        (staging / "modules").mkdir(parents=True)
        shutil.copy(next(unpacked.glob("boot/vmlinuz-*")), staging / "vmlinuz")
        modules = next(unpacked.glob("lib/modules/*/kernel"))
        for module in MODULES:
            shutil.copy(modules / f"{module}.ko", staging / "modules")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)  # a cache from before a module was added
        staging.rename(target)
    deb.unlink()
    return target


# ------------------------------------------------------------------ the initramfs


def cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
               ino: int = 0) -> bytes:
    """One member of a "newc" cpio archive, the format the kernel unpacks an initramfs
    from: a header of hex fields, the name, the data, each padded to 4 bytes."""
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0]
    header = b"070701" + b"".join(b"%08x" % f for f in fields)

    def pad(b: bytes) -> bytes:
        return b + b"\0" * (-len(b) % 4)

    return pad(header + encoded) + pad(data)


def initramfs(kernel_dir: Path, path: Path) -> None:
    """init.sh as /init, busybox, the modules and their load order, and /dev/console
    (the kernel opens it for init's stdin/out/err before anything is mounted)."""
    S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000
    members: list[tuple[str, int, bytes, tuple[int, int]]] = [
        (d, S_IFDIR | 0o755, b"", (0, 0)) for d in ("bin", "dev", "proc", "sys", "modules")]
    members.append(("dev/console", S_IFCHR | 0o600, b"", (5, 1)))
    members.append(("bin/busybox", S_IFREG | 0o755, BUSYBOX.read_bytes(), (0, 0)))
    members.append(("init", S_IFREG | 0o755, (HERE / "init.sh").read_bytes(), (0, 0)))
    order = "\n".join(Path(m).name for m in MODULES) + "\n"
    members.append(("modules.list", S_IFREG | 0o644, order.encode(), (0, 0)))
    for module in MODULES:
        ko = kernel_dir / "modules" / f"{Path(module).name}.ko"
        members.append((f"modules/{ko.name}", S_IFREG | 0o644, ko.read_bytes(), (0, 0)))
    with open(path, "wb") as f:
        for ino, (name, mode, data, rdev) in enumerate(members, start=1):
            f.write(cpio_entry(name, mode, data, rdev, ino))
        f.write(cpio_entry("TRAILER!!!", 0))


# ------------------------------------------------------------------ the VM


def qemu_command(kernel_dir: Path, initrd: Path, results: Path, stage: str,
                 pytest: list[str]) -> list[str]:
    python = Path(sys.executable)  # the same interpreter (the venv's) runs the checks
    for path in (REPO, python, *pytest):
        if " " in str(path) or "," in str(path):
            raise SystemExit(f"{path}: the kernel command line cannot carry a space")
    share = "security_model=none,multidevs=remap"  # see README.md on multidevs=remap
    params = f"wb.stage={stage} wb.repo={REPO} wb.python={python}"
    if pytest:
        params += f" wb.pytest={','.join(pytest)}"
    return [
        QEMU, "-accel", "tcg", "-m", "2048", "-smp", "2", "-nographic", "-no-reboot",
        "-kernel", str(kernel_dir / "vmlinuz"), "-initrd", str(initrd),
        "-append", f"{KERNEL_ARGS} {params}",
        "-virtfs", f"local,path=/,mount_tag=host,readonly=on,{share}",
        "-virtfs", f"local,path={results},mount_tag=results,{share}",
    ]


def boot(command: list[str], log: Path, timeout: float) -> int:
    """Run QEMU to the end (init powers the VM off), the console copied to our stdout
    and to `log`; killed (it is our child) if it outlives `timeout`."""
    with open(log, "wb") as out:
        qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, qemu.kill)
        timer.start()
        try:
            assert qemu.stdout is not None
            for line in qemu.stdout:
                out.write(line)
                sys.stdout.write("  vm| " + line.decode(errors="replace").rstrip("\r\n") + "\n")
                sys.stdout.flush()
            qemu.wait()
        finally:
            timer.cancel()
            if qemu.poll() is None:
                qemu.kill()
                qemu.wait()
    return qemu.returncode


def report(results: Path, stage: str, why: str) -> list[Result]:
    junit = results / "junit.xml"
    if not junit.exists():
        why = f"the VM wrote no report ({why})"
        for name in ("init-error", "output.log"):
            if (results / name).exists():
                why += f"; {name}: {(results / name).read_text()[-2000:]}"
        return [Result(f"{stage} (vm)", "failed", 0.0, why)]
    found, properties = read_junit(junit)
    print(f"{stage} in the VM: {properties.get('cgroup_description', '?')}")
    return found


def prerequisites() -> None:
    if not shutil.which(QEMU):
        raise Missing(f"no {QEMU} (Debian package qemu-system-x86)")
    if not BUSYBOX.exists():
        raise Missing(f"no {BUSYBOX} (Debian package busybox-static)")
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise Missing("no apt-get/dpkg-deb to fetch Debian's kernel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cgroup v2 checks in a QEMU VM")
    parser.add_argument("--stage", default="stage2", help=f"one of {', '.join(checks.stages())}")
    parser.add_argument("--junit", type=Path, help="copy the VM's JUnit XML report here")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds (default 600)")
    parser.add_argument("--pytest", nargs="+", default=[], metavar="PATH",
                        help="run these pytest tests in the VM instead of the stage's checks "
                             "(slow: pytest alone takes seconds to import under TCG)")
    args = parser.parse_args(argv)
    if args.stage not in checks.stages():
        parser.error(f"no cgroup checks for {args.stage!r}; known: {', '.join(checks.stages())}")

    started = time.monotonic()
    try:
        prerequisites()
        kernel_dir = kernel()
    except Missing as e:
        if os.environ.get("CI") == "true":
            print(f"FAILED   {args.stage} in a cgroup-v2 VM: {e}\n0 passed, 1 failed, 0 skipped")
            return 1
        print(f"SKIPPED  {args.stage} in a cgroup-v2 VM: {e}\n0 passed, 0 failed, 1 skipped")
        return 0
    print(f"kernel {kernel_dir.name} ({time.monotonic() - started:.1f} s)")

    results = CACHE / "results" / args.stage
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    initrd = CACHE / "initrd.cpio"
    initramfs(kernel_dir, initrd)
    command = qemu_command(kernel_dir, initrd, results, args.stage, args.pytest)
    print(" ".join(command), flush=True)
    booted = time.monotonic()
    code = boot(command, results / "console.log", args.timeout)
    vm_seconds = time.monotonic() - booted
    why = (f"killed after {args.timeout:.0f} s" if code == -9 else f"{QEMU} exited {code}")

    found = report(results, args.stage, why)
    print()
    for r in found:
        print(report_line(r))
    if args.junit:
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        if (results / "junit.xml").exists():
            shutil.copy(results / "junit.xml", args.junit)
    print(f"{summary(found)} (cgroup v2 VM, {vm_seconds:.0f} s in the VM, "
          f"{time.monotonic() - started:.0f} s in all; report in {results})")
    return 1 if any(r.outcome == "failed" for r in found) or not found else 0


if __name__ == "__main__":
    sys.exit(main())
