"""containerd's gRPC server.

Why a child subreaper: `runc create` forks the container's init and exits. An orphan
is adopted by its nearest ancestor that asked to be a subreaper, else by the host's
init. containerd asks (prctl PR_SET_CHILD_SUBREAPER), so every container's init ends
up as containerd's child, and containerd can wait for it and report its exit.

Why many threads: a gRPC Python server serves each call on a thread of its pool, for
as long as the call lasts. Our daemon holds one Events stream, not a Wait per
container, but other clients (ctr, tests, an exec's Wait) may hold a Wait per
process; a pool smaller than that would leave no thread to answer anything else.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from typing import TYPE_CHECKING, Any, Protocol

import grpc

from shared import trace
from shared.privatedirs import make_private_dir

if TYPE_CHECKING:
    from stages.stage3_containerd.containerd.containers import ContainerStore
    from stages.stage3_containerd.containerd.events import Exchange


DEFAULT_NAMESPACE = "whalebones"
MAX_WORKERS = 1024


class Tasks(Protocol):
    """A Tasks service (a TasksServicer: stage 3's, or stage 4's over shims)."""

    def shutdown(self) -> None:
        """containerd is stopping."""


class TraceInterceptor(grpc.ServerInterceptor):
    """Trace mode: every unary call containerd serves is an event (shared/trace.py)."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler  # streams (Events.Subscribe) are not timed
        service, _, name = details.method.rpartition("/")
        what = f"{service.rpartition('.')[2]}.{name}"
        inner = handler.unary_unary

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            with trace.span("containerd", "serve", what):
                return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def namespace(context: grpc.ServicerContext) -> str:
    """The `containerd-namespace` metadata every call carries, as in the real one."""
    for key, value in context.invocation_metadata():
        if key == "containerd-namespace" and isinstance(value, str):  # (bytes: -bin keys)
            return value
    return DEFAULT_NAMESPACE


def main(
    argv: list[str] | None = None,
    make_tasks: Callable[[ContainerStore, str, str, Exchange], Tasks] | None = None,
    subreaper: bool = True,
    prog: str = "python -m stages.stage3_containerd.containerd",
) -> None:
    """Serve containerd's API. Stage 4 reuses this with its own Tasks service
    (`make_tasks(store, state, runtime, events)`) and without being a subreaper."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--address", default="unix:///run/whalebones/containerd.sock")
    p.add_argument("--root", default="/var/lib/whalebones/containerd")
    p.add_argument("--state", default="/run/whalebones/containerd")
    p.add_argument(
        "--runtime",
        default=default_runtime(),
        help="the OCI runtime binary (ours, or Debian's runc)",
    )
    p.add_argument("--pidfile")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s containerd %(levelname)s %(message)s"
    )

    from shared.libc import set_child_subreaper
    from stages.stage3_containerd.containerd.containers import ContainersService, ContainerStore
    from stages.stage3_containerd.containerd.events import EventsService, Exchange
    from stages.stage3_containerd.containerd.tasks import TasksService
    from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc

    if subreaper:
        set_child_subreaper()
    for d in (args.root, args.state):
        # Root's alone: each bundle's config.json holds its container's env.
        make_private_dir(d)
    path = args.address.removeprefix("unix://")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    store = ContainerStore(args.root)
    events = Exchange()
    tasks = (make_tasks or TasksService)(store, args.state, args.runtime, events)
    interceptors: list[grpc.ServerInterceptor] = [TraceInterceptor()] if trace.PATH else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS), interceptors=interceptors
    )
    rpc.add_ContainersServicer_to_server(ContainersService(store, events), server)
    rpc.add_TasksServicer_to_server(tasks, server)
    rpc.add_EventsServicer_to_server(EventsService(events), server)
    old = os.umask(0o117)
    server.add_insecure_port(args.address)
    server.start()
    os.umask(old)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(str(os.getpid()))
    logging.info("listening on %s, runtime %s", args.address, args.runtime)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()
    tasks.shutdown()
    if args.pidfile and os.path.exists(args.pidfile):
        os.unlink(args.pidfile)
    logging.shutdown()
    # Exit now, without joining the gRPC pool's threads: from stage 4 on, some of them
    # sit in a Wait on a shim whose container outlives us, and would never return.
    os._exit(0)


def default_runtime() -> str:
    repo = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    )
    return os.environ.get("RUNTIME") or os.path.join(repo, "bin", "whalebones-runc")
