"""Compile containerd.proto into Python with grpcio-tools (the protoc it ships).

The repository root is the include path, so the generated gRPC module imports its
messages as `stages.stage3_containerd.proto.containerd_pb2`: a package import.
"""

from __future__ import annotations

import os
import sys

from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PROTO = "stages/stage3_containerd/proto/containerd.proto"


def main() -> int:
    return protoc.main(
        [
            "protoc",
            f"-I{ROOT}",
            f"--python_out={ROOT}",
            f"--pyi_out={ROOT}",
            f"--grpc_python_out={ROOT}",
            os.path.join(ROOT, PROTO),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
