"""Reference pages, generated from what the code itself declares.

    api.md         the Engine API routes: Flask's url_map of shared.api.app.create_app
                   (built with a stand-in engine: routes are declared, never called),
                   and the query parameters each view reads, found in its source
    cli.md         `whalebones --help` and every verb's `--help`, as printed
    grpc.md        the daemon <-> containerd API, from proto/containerd.proto compiled by
                   grpc_tools with its comments (--include_source_info)
    runc.md        the runtime contract (prose: docs/partials/runc_contract.md) and
                   `whalebones-runc --help` for every verb
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from sitegen.common import REPO, Page, fence, link, source_uri

PROTO = "stages/stage3_containerd/proto/containerd.proto"
RUNC = "bin/whalebones-runc"
QUERY_READERS = {"qbool", "qint", "qstr", "qlist"}


def run(args: list[str]) -> str:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    out = subprocess.run(args, capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    return (out.stdout + out.stderr).rstrip()


def code_block(text: str, lang: str = "text") -> str:
    mark = fence(text)
    return f"{mark}{lang}\n{text}\n{mark}\n"


# --- the Engine API -------------------------------------------------------------------


def query_params(view: object) -> list[str]:
    """The query parameters a view reads: qbool("x"), qint("x"), request.args.get("x")."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(view)))  # type: ignore[arg-type]
    except (OSError, TypeError):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in QUERY_READERS:
            found.append(first.value)
        elif (isinstance(func, ast.Attribute) and func.attr in ("get", "getlist")
              and isinstance(func.value, ast.Attribute) and func.value.attr == "args"):
            found.append(first.value)
    return list(dict.fromkeys(found))


def api_page() -> Page:
    uri = "reference/api.md"
    from shared.api.app import create_app
    from shared.api.version import API_VERSION, MIN_API_VERSION

    app = create_app(None)  # type: ignore[arg-type] - the routes are only listed
    rows: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        group = rule.endpoint.split(".")[0] if "." in rule.endpoint else "other"
        path = rule.rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
        methods = ", ".join(sorted(m for m in (rule.methods or ()) if m != "OPTIONS"
                                   and not (m == "HEAD" and "GET" in (rule.methods or ()))))
        params = ", ".join(f"`{p}`" for p in query_params(view))
        file = Path(inspect.getsourcefile(view) or "").resolve()
        try:
            rel = file.relative_to(REPO).as_posix()
            line = inspect.getsourcelines(view)[1]
            where = f"[`{view.__name__}`]({link(uri, source_uri(rel))}#__codelineno-0-{line})"
        except (ValueError, OSError):
            where = f"`{view.__name__}`"
        rows.setdefault(group, []).append(f"| {methods} | `{path}` | {params} | {where} |")
    total = sum(len(r) for r in rows.values())
    out = ["# Engine API: the routes we serve\n",
           f"Generated from the Flask app itself ({total} routes): "
           "`shared.api.app.create_app` is built with a stand-in engine and its `url_map` "
           "listed. Each route also answers under a version prefix, `/v1.45/containers/json` "
           f"as well as `/containers/json`; versions {MIN_API_VERSION} to {API_VERSION} are "
           "accepted ([`VersionPrefix`](" + link(uri, source_uri("shared/api/app.py")) +
           ")). The *query parameters* column lists what each view reads from the query "
           "string, found in its source; bodies are read by the engine. What the real "
           "docker CLI and docker-py send, in order, and what they need back is on "
           "[What real peers expect](contracts.md#engine-api); Docker's own reference "
           "is the authority for each field.\n"]
    for group, lines in rows.items():
        out += [f"## {group}\n", "| method | path | query parameters | view |",
                "|---|---|---|---|", *lines, ""]
    return Page(uri, "\n".join(out))


# --- the CLI --------------------------------------------------------------------------


def cli_page() -> Page:
    uri = "reference/cli.md"
    from shared.client.cli import VERBS

    out = ["# The `whalebones` CLI\n",
           "Generated by running `whalebones --help` and `whalebones VERB --help` for every "
           "verb while the site was built. The CLI speaks the Engine API, like the `docker` "
           "CLI, which works against every stage too. `./run IMAGE CMD` is "
           "`whalebones run --rm -i [-t] IMAGE CMD`. Code: [`shared/client/cli.py`]("
           f"{link(uri, source_uri('shared/client/cli.py'))}), one module per verb under "
           "`shared/client/commands/`.\n",
           code_block(run([sys.executable, "-m", "shared.client", "--help"]))]
    for verb, summary in VERBS.items():
        module = f"shared/client/commands/{verb}.py"
        where = f"[`{module}`]({link(uri, source_uri(module))})"
        out += [f"## {verb}\n", f"{summary}. Code: {where}.\n",
                code_block(run([sys.executable, "-m", "shared.client", verb, "--help"]))]
    return Page(uri, "\n".join(out))


# --- the gRPC API ---------------------------------------------------------------------


def descriptor() -> object:
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory(prefix="wb-docs-proto-") as tmp:
        out = Path(tmp) / "set.pb"
        proto = REPO / PROTO
        status = protoc.main(["protoc", f"-I{proto.parent}", f"--descriptor_set_out={out}",
                              "--include_source_info", str(proto)])
        if status != 0:
            raise RuntimeError(f"protoc {PROTO} failed ({status})")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return files.file[0]


def comments(proto: object) -> dict[tuple[int, ...], str]:
    found = {}
    for loc in proto.source_code_info.location:  # type: ignore[attr-defined]
        text = " ".join(c.strip().replace("\n", " ") for c in
                        (loc.leading_comments, loc.trailing_comments) if c.strip())
        if text:
            found[tuple(loc.path)] = " ".join(text.split()).replace("|", "\\|")
    return found


def type_name(field: object) -> str:
    from google.protobuf import descriptor_pb2 as d

    f = field
    names = {v: k.removeprefix("TYPE_").lower() for k, v in
             d.FieldDescriptorProto.Type.items()}
    t = f.type_name.rsplit(".", 1)[-1] if f.type_name else names[f.type]  # type: ignore[attr-defined]
    if f.label == d.FieldDescriptorProto.LABEL_REPEATED:  # type: ignore[attr-defined]
        return f"repeated {t}"
    return t


def grpc_page() -> Page:
    uri = "reference/grpc.md"
    proto = descriptor()
    notes = comments(proto)
    src = link(uri, source_uri(PROTO))
    out = ["# containerd's gRPC API (daemon → containerd)\n",
           f"Generated from [`{PROTO}`]({src}), compiled with its comments by `grpc_tools` "
           f"when the site was built. Package `{proto.package}`. Every call carries the "  # type: ignore[attr-defined]
           "gRPC metadata `containerd-namespace`. Stages 3 and 4 serve the same API; "
           "stage 4's containerd passes task calls on to the shims, over a protocol of "
           "its own (JSON lines, see [stage 4](../stages/stage4.md)).\n"]
    for s, service in enumerate(proto.service):  # type: ignore[attr-defined]
        out += [f"## service {service.name}\n"]
        if (6, s) in notes:
            out.append(notes[(6, s)] + "\n")
        out += ["| rpc | request | response | notes |", "|---|---|---|---|"]
        for m, method in enumerate(service.method):
            req = method.input_type.rsplit(".", 1)[-1]
            resp = method.output_type.rsplit(".", 1)[-1]
            if method.server_streaming:
                resp = f"stream {resp}"
            out.append(f"| `{method.name}` | [`{req}`](#{req.lower()}) "
                       f"| [`{resp.split()[-1]}`](#{resp.split()[-1].lower()})"
                       f"{' (stream)' if method.server_streaming else ''} "
                       f"| {notes.get((6, s, 2, m), '')} |")
        out.append("")
    out.append("## Messages\n")
    for i, message in enumerate(proto.message_type):  # type: ignore[attr-defined]
        out.append(f"### {message.name}\n")
        if (4, i) in notes:
            out.append(notes[(4, i)] + "\n")
        if not message.field:
            out.append("(no fields)\n")
            continue
        nested_maps = {n.name for n in message.nested_type if n.options.map_entry}
        out += ["| field | type | number | notes |", "|---|---|---|---|"]
        for j, field in enumerate(message.field):
            t = type_name(field)
            entry = field.type_name.rsplit(".", 1)[-1] if field.type_name else ""
            if entry in nested_maps:
                nested = next(n for n in message.nested_type if n.name == entry)
                t = f"map<{type_name(nested.field[0])}, {type_name(nested.field[1])}>"
            out.append(f"| `{field.name}` | `{t}` | {field.number} "
                       f"| {notes.get((4, i, 2, j), '')} |")
        out.append("")
    for e, enum in enumerate(proto.enum_type):  # type: ignore[attr-defined]
        out += [f"### enum {enum.name}\n", notes.get((5, e), ""), "",
                "| value | number |", "|---|---|",
                *(f"| `{v.name}` | {v.number} |" for v in enum.value), ""]
    return Page(uri, "\n".join(out))


# --- the runtime's CLI ----------------------------------------------------------------


def runc_page() -> Page:
    uri = "reference/runc.md"
    prose = (REPO / "docs" / "partials" / "runc_contract.md").read_text()
    main_help = run([str(REPO / RUNC), "--help"])
    verbs = [line.split()[0] for line in main_help.split("verbs:", 1)[-1].splitlines()
             if line.strip()]
    out = [prose, "\n## `whalebones-runc --help`\n",
           f"Generated by running [`{RUNC}`]({link(uri, source_uri(RUNC))}) while the site "
           "was built.\n", code_block(main_help)]
    for verb in verbs:
        module = f"stages/stage3_containerd/runc/{verb}.py"
        where = (f" Code: [`{module}`]({link(uri, source_uri(module))})."
                 if (REPO / module).is_file() else "")
        out += [f"### {verb}\n", where.strip() + "\n",
                code_block(run([str(REPO / RUNC), verb, "--help"]))]
    return Page(uri, "\n".join(out))


def index_page() -> Page:
    return Page("reference/index.md", "\n".join([
        "# Reference\n",
        "Generated from the code at every build, except where noted:\n",
        "- [Engine API](api.md): the routes the daemon serves, from its Flask app.",
        "- [The whalebones CLI](cli.md): every verb's `--help`.",
        "- [containerd's gRPC API](grpc.md): from the `.proto`, with its comments.",
        "- [The runtime contract](runc.md): what containerd expects of `runc` (written), "
        "and `whalebones-runc --help` (generated).",
        "- [What real peers expect](contracts.md): what the docker CLI, docker-py, "
        "containerd, runc and LXC need of us, or do, beside the code that relies on it "
        "(written).",
        "- [Attacks this engine resists](attacks.md): each attack an image, a container, "
        "a local user or a client can make, its defence and the test that makes it "
        "(written).",
        "- [Benchmarks](../benchmarks.md): what `make bench` last measured, and where "
        "each stage's milliseconds go.",
        ""]))


def pages() -> list[Page]:
    return [index_page(), api_page(), cli_page(), grpc_page(), runc_page()]
