"""The Containers service: what a container *is* before it runs, its id and OCI spec.

Metadata only, kept per namespace on disk, so a restarted containerd still knows it.
"""

from __future__ import annotations

import json
import os
import threading

import grpc

from shared.privatedirs import private_file
from stages.stage3_containerd.containerd.events import Exchange
from stages.stage3_containerd.containerd.server import namespace
from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc


class ContainerStore:
    def __init__(self, root: str) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _path(self, ns: str, cid: str) -> str:
        return os.path.join(self.root, ns, "containers", f"{cid}.json")

    def put(self, ns: str, c: pb.Container) -> None:
        path = self._path(ns, c.id)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with private_file(path + ".tmp") as f:  # root's alone: the spec holds the env
            json.dump({"id": c.id, "spec": c.spec.decode(), "labels": dict(c.labels)}, f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename: the metadata outlives a crash
        os.rename(path + ".tmp", path)

    def get(self, ns: str, cid: str) -> pb.Container | None:
        try:
            with open(self._path(ns, cid)) as f:
                data = json.load(f)
        except FileNotFoundError:
            return None
        return pb.Container(id=data["id"], spec=data["spec"].encode(), labels=data["labels"])

    def list(self, ns: str) -> list[pb.Container]:
        directory = os.path.join(self.root, ns, "containers")
        names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
        found = [self.get(ns, n[: -len(".json")]) for n in names if n.endswith(".json")]
        return [c for c in found if c is not None]

    def delete(self, ns: str, cid: str) -> bool:
        try:
            os.unlink(self._path(ns, cid))
            return True
        except FileNotFoundError:
            return False


class ContainersService(rpc.ContainersServicer):
    def __init__(self, store: ContainerStore, events: Exchange) -> None:
        self.store = store
        self.events = events

    def Create(self, request: pb.Container, context: grpc.ServicerContext) -> pb.Container:
        ns = namespace(context)
        with self.store._lock:
            if self.store.get(ns, request.id) is not None:
                context.abort(
                    grpc.StatusCode.ALREADY_EXISTS, f"container {request.id}: already exists"
                )
            self.store.put(ns, request)
        self.events.publish(ns, "/containers/create", id=request.id)
        return request

    def Update(self, request: pb.Container, context: grpc.ServicerContext) -> pb.Container:
        ns = namespace(context)
        with self.store._lock:
            if self.store.get(ns, request.id) is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"container {request.id}: not found")
            self.store.put(ns, request)  # a new spec reaches the next task, not a running one
        self.events.publish(ns, "/containers/update", id=request.id)
        return request

    def Get(self, request: pb.ContainerRequest, context: grpc.ServicerContext) -> pb.Container:
        c = self.store.get(namespace(context), request.id)
        if c is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"container {request.id}: not found")
        return c

    def List(self, request: pb.Empty, context: grpc.ServicerContext) -> pb.ListContainersResponse:
        return pb.ListContainersResponse(containers=self.store.list(namespace(context)))

    def Delete(self, request: pb.ContainerRequest, context: grpc.ServicerContext) -> pb.Empty:
        ns = namespace(context)
        if not self.store.delete(ns, request.id):
            context.abort(grpc.StatusCode.NOT_FOUND, f"container {request.id}: not found")
        self.events.publish(ns, "/containers/delete", id=request.id)
        return pb.Empty()
