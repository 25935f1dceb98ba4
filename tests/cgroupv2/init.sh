#!/bin/busybox sh
# PID 1 of the test VM: the whole "distribution" is this script and a static busybox.
#
# It boots a root that is the host's own filesystem, read-only over 9p, with a tmpfs
# overlay on top so the tests can write; gives it a pure cgroup-v2 /sys/fs/cgroup
# (the kernel was booted with cgroup_no_v1=all, so every controller is on v2); runs
# the checks in it; and leaves their report on a second, writable 9p share.
#
# Parameters come on the kernel command line: wb.stage= wb.repo= wb.python=, and
# wb.pytest=PATH[,PATH] to run those pytest tests instead of the stage's checks.

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for arg in $(cat /proc/cmdline); do
    case "$arg" in
        wb.stage=*) STAGE="${arg#wb.stage=}" ;;
        wb.repo=*) REPO="${arg#wb.repo=}" ;;
        wb.python=*) PYTHON="${arg#wb.python=}" ;;
        wb.pytest=*) PYTEST="$(echo "${arg#wb.pytest=}" | tr , ' ')" ;;
    esac
done

fail() {
    echo "init: $*"
    echo "init: $*" >> /results/init-error 2>/dev/null
    poweroff -f
}

# The drivers for virtio and 9p are modules in Debian's kernel; no udev here, so
# they go in by hand, each after the modules it needs (the list is in order).
for module in $(cat /modules.list); do
    insmod "/modules/$module.ko" || fail "insmod $module"
done

# The results share first, so that every later failure can be reported on it.
mkdir -p /results /host /overlay /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /results \
    || fail "mount the results share"

# The host's root, read-only. cache=loose lets the guest keep what it read (Python
# reads thousands of files at start-up; each trip to the host is slow under TCG).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro host /host \
    || fail "mount the host's root"
# Writes go to memory, in an overlay above it: the host is never changed.
mount -t tmpfs -o size=1g tmpfs /overlay
mkdir -p /overlay/upper /overlay/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work \
    /newroot || fail "mount the overlay root"

# What a booted system would have mounted: proc, sys and dev (moved over from here),
# and the cgroup2 tree at /sys/fs/cgroup, where every controller now is. /tmp and /run
# get a tmpfs of their own: the daemon mounts overlays there, and an overlay's upper
# dir cannot be an overlay.
cd /newroot
mount --move /proc proc
mount --move /sys sys
mount --move /dev dev
mount -t cgroup2 -o nsdelegate cgroup2 sys/fs/cgroup || fail "mount cgroup2"
mkdir -p dev/pts dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts dev/pts
mount -t tmpfs tmpfs dev/shm
# The repository may itself live under /tmp or /run (CI clones it wherever it likes):
# keep it in sight when those two get a tmpfs of their own.
case "$REPO" in
    /tmp/*|/run/*) mkdir -p /repo && mount --bind ".$REPO" /repo || fail "keep $REPO" ;;
esac
mount -t tmpfs tmpfs tmp
mount -t tmpfs tmpfs run
case "$REPO" in
    /tmp/*|/run/*) mkdir -p ".$REPO" && mount --move /repo ".$REPO" || fail "put back $REPO" ;;
esac
mkdir -p run/results
mount --move /results run/results
ip link set lo up 2>/dev/null

echo "init: cgroup controllers: $(cat sys/fs/cgroup/cgroup.controllers)"
if [ -n "$PYTEST" ]; then
    echo "init: running pytest $PYTEST in $REPO"
    RUN="-m pytest -q -p no:cacheprovider --junitxml /run/results/junit.xml $PYTEST"
else
    echo "init: running the $STAGE checks in $REPO"
    RUN="-m tests.cgroupv2.checks --stage $STAGE --junit /run/results/junit.xml"
fi
# switch_root, not chroot: the overlay must become the mount namespace's real root.
# (The initramfs can never be pivoted away from, only emptied and stepped over; in a
# mere chroot, a container's pivot_root would look fine, but a process that later
# joins its mount namespace with setns, like `exec`, would land in the initramfs.)
# The pipe hides the exit status: the host reads the JUnit report instead.
exec switch_root /newroot /bin/sh -c "cd '$REPO' && \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root PYTHONPATH='$REPO' PYTHONDONTWRITEBYTECODE=1 '$PYTHON' $RUN \
    2>&1 | /bin/busybox tee /run/results/output.log; \
    sync; /bin/busybox umount /run/results; /bin/busybox poweroff -f"
