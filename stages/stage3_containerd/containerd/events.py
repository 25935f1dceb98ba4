"""The Events service: everything containerd does, as a stream anyone may watch.

An exchange with one queue per subscriber: `publish` puts an envelope in each, and a
subscriber's gRPC stream drains its own. A slow or vanished subscriber only loses its
own events, never blocks containerd (the queues are bounded; a full one is dropped).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator

import grpc

from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc

QUEUE_SIZE = 1024


class Exchange:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[queue.Queue[pb.Envelope]] = []

    def publish(self, ns: str, topic: str, **event: object) -> None:
        envelope = pb.Envelope(
            timestamp=time.time(), namespace=ns, topic=topic, event=json.dumps(event).encode()
        )
        with self._lock:
            for q in list(self._queues):
                try:
                    q.put_nowait(envelope)
                except queue.Full:
                    self._queues.remove(q)  # a subscriber that does not read: dropped

    def subscribe(self) -> queue.Queue[pb.Envelope]:
        q: queue.Queue[pb.Envelope] = queue.Queue(QUEUE_SIZE)
        with self._lock:
            self._queues.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[pb.Envelope]) -> None:
        with self._lock:
            if q in self._queues:
                self._queues.remove(q)


class EventsService(rpc.EventsServicer):
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def Subscribe(
        self, request: pb.SubscribeRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.Envelope]:
        q = self.exchange.subscribe()
        # The headers, sent now rather than with the first event: they tell the
        # subscriber that its queue is in place, and from then on nothing is missed
        # (the daemon then asks about what happened before: task_exits.py).
        context.send_initial_metadata(())
        try:
            while context.is_active():
                try:
                    yield q.get(timeout=0.5)
                except queue.Empty:
                    continue
        finally:
            self.exchange.unsubscribe(q)
