"""The daemon <-> containerd API: containerd.proto, compiled at build time.

`make venv` runs `python -m stages.stage3_containerd.proto.build`, which writes
containerd_pb2.py and containerd_pb2_grpc.py beside the .proto (not committed:
generated code is an output of the build, like a compiled binary).
"""
