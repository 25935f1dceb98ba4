"""What every stage's daemon does at start: flags, the image store, the engine, the API.

A stage's `daemon.py` is a few lines: it names its era and says how to make its
executor. Everything else a daemon is, is here, once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.daemon import daemonconfig
from shared.daemon.daemonconfig import ConfigError, DaemonConfig
from shared.daemon.executor import Executor

if TYPE_CHECKING:
    from shared.daemon.engine import Engine

DEFAULT_ROOT = "/var/lib/whalebones"
DEFAULT_EXEC_ROOT = "/run/whalebones"
DEFAULT_HOST = "unix:///run/whalebones/docker.sock"


def parse_args(
    stage: str,
    argv: list[str] | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=f"python -m stages.{stage}", description=__doc__)
    p.add_argument("--root", default=DEFAULT_ROOT, help="persistent state: images, containers")
    p.add_argument("--exec-root", default=DEFAULT_EXEC_ROOT, help="runtime state: FIFOs, sockets")
    p.add_argument("-H", "--host", default=DEFAULT_HOST, help="API socket, unix:///path")
    p.add_argument("--pidfile", help="write the daemon's pid here")
    p.add_argument("-D", "--debug", action="store_true", help="log every request")
    p.add_argument("--config-file", help="daemon.json: settings as dockerd's (default "
                   f"{daemonconfig.DEFAULT_PATH}, if it exists); SIGHUP reads it again")
    p.add_argument(
        "--live-restore",
        action="store_true",
        help="keep containers running while the daemon is down (stage 3 on)",
    )
    p.add_argument(
        "--net-prefix",
        default="wb",
        help="first letters of every interface (bridge wb0, veths) and iptables chain "
        "(WHALEBONES) of ours; give each daemon on one host its own",
    )
    p.add_argument(
        "--bridge",
        default="",
        help="'none': no bridge networking at all (containers get their own empty "
        "namespace, as with --network none)",
    )
    if add_arguments is not None:
        add_arguments(p)  # what only this stage's daemon takes
    return p.parse_args(argv)


def read_settings(args: argparse.Namespace) -> DaemonConfig:
    """daemon.json (--config-file, else the default path if there), checked against
    the flags given beside it."""
    path = args.config_file or daemonconfig.DEFAULT_PATH
    settings = daemonconfig.read(path, required=bool(args.config_file))
    daemonconfig.check_flags(settings, {"live-restore": args.live_restore,
                                        "debug": args.debug})
    return settings


def reload(engine: Engine, args: argparse.Namespace) -> None:
    """SIGHUP: read daemon.json again and apply what dockerd applies while running
    (live-restore, labels, debug); a file that does not read keeps the old settings."""
    log = logging.getLogger("whalebones")
    path = args.config_file or daemonconfig.DEFAULT_PATH
    try:
        fresh = daemonconfig.read(path, required=bool(args.config_file))
        daemonconfig.check_flags(fresh, {"live-restore": args.live_restore,
                                         "debug": args.debug})
    except ConfigError as e:
        log.error("reload of %s failed, settings kept: %s", path, e)
        return
    if fresh.live_restore and not engine.executor.containers_outlive_daemon:
        log.error("reload: live-restore: the %s executor's containers cannot outlive "
                  "the daemon; settings kept", engine.executor.name)
        return
    settings = engine.settings
    settings.labels, settings.debug = fresh.labels, fresh.debug or args.debug
    engine.live_restore = fresh.live_restore or args.live_restore
    logging.getLogger().setLevel(logging.DEBUG if settings.debug else logging.INFO)
    log.info("reloaded %s: live-restore=%s debug=%s labels=%s", path,
             engine.live_restore, settings.debug, settings.labels)


def run(
    stage: str,
    make_executor: Callable[[argparse.Namespace], Executor],
    argv: list[str] | None = None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    args = parse_args(stage, argv, add_arguments)
    try:
        settings = read_settings(args)
    except ConfigError as e:
        raise SystemExit(str(e)) from None
    # The flags alone stay in args (SIGHUP compares the file with them again).
    live_restore = args.live_restore or settings.live_restore
    settings.debug = args.debug or settings.debug
    from shared.images.registry import client
    client.configure(settings.registry_mirrors, settings.insecure_registries)
    logging.basicConfig(
        level=logging.DEBUG if settings.debug else logging.INFO,
        format=f"%(asctime)s {stage} %(levelname)s %(message)s",
    )
    # Imported here, not at the top: `--help` should not pay for Flask.
    from shared.api.app import create_app
    from shared.api.server import serve
    from shared.daemon.engine import Engine
    from shared.images.store import ImageStore
    from shared.privatedirs import DATA_ROOT, EXEC_ROOT, make_private_dir

    make_private_dir(args.root, DATA_ROOT)
    make_private_dir(args.exec_root, EXEC_ROOT)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(str(os.getpid()))
    executor = make_executor(args)
    images = ImageStore(os.path.join(args.root, "images"))
    if live_restore and not executor.containers_outlive_daemon:
        raise SystemExit(f"live-restore: the {executor.name} executor's containers "
                         "cannot outlive the daemon (their parent and pipes are its own)")
    network = None
    if args.bridge != "none":
        from shared.network.manager import NetworkManager
        from shared.network.names import Names

        # An executor that makes the container's namespace and veths itself, from the
        # plan in the spec (stage 1's LXC), says so; for the others the daemon does.
        network = NetworkManager(os.path.join(args.root, stage),
                                 os.path.join(args.exec_root, stage), Names(args.net_prefix),
                                 executor.makes_network_links)
    engine = Engine(executor, args.root, args.exec_root, stage, images, live_restore,
                    network, settings)
    signal.signal(signal.SIGHUP, lambda *_: reload(engine, args))
    logging.getLogger("whalebones").info(
        "%s daemon (executor %s) listening on %s", stage, executor.name, args.host
    )
    hooks = [engine.shutdown]
    if args.pidfile:
        pidfile: str = args.pidfile

        def remove_pidfile() -> None:
            if os.path.exists(pidfile):
                os.unlink(pidfile)

        hooks.append(remove_pidfile)
    serve(create_app(engine), args.host, hooks)
