"""POST /commit: `docker commit`, a container's changes made into an image
(shared/daemon/commit.py). moby's postCommit: the name and the changes are checked
before the container is touched; the answer is 201 {"Id": "sha256:..."}."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from shared.api.params import _body_bytes, current_engine, json_body
from shared.build.builder import apply_change
from shared.daemon.commit import commit_container
from shared.errors import InvalidParameter
from shared.images import reference

bp = Blueprint("commit", __name__)


def repo_tag(repo: str, tag: str) -> str | None:
    """moby's RepoTagReference: no repo, no name (a tag alone is ignored)."""
    if not repo:
        return None
    ref = reference.parse(repo)
    if ref.digest is not None:
        raise InvalidParameter("cannot import digest reference")
    return str(ref.with_tag(tag)) if tag else str(ref)


@bp.post("/commit")
def commit() -> Response:
    engine = current_engine()
    # The body is a container Config to commit instead of the container's (moby's
    # decodeCommitRequest); empty or JSON null: the container's own.
    raw = _body_bytes().strip()
    body = {} if raw in (b"", b"null") else json_body()
    config = body.get("Config") if "Config" in body else (body or None)
    if config is not None and not isinstance(config, dict):
        raise InvalidParameter("invalid JSON: Config must be an object")
    tag = repo_tag(request.args.get("repo", ""), request.args.get("tag", ""))
    c = engine.containers.get(request.args.get("container", ""))
    pause = request.args.get("pause")
    image = commit_container(
        engine, c, apply_change=apply_change, changes=request.args.getlist("changes"),
        config=config or None, tag=tag, author=request.args.get("author", ""),
        comment=request.args.get("comment", ""),
        pause=pause is None or pause.strip().lower() not in ("", "0", "no", "false", "none"))
    if tag:
        engine.events.image("tag", image.id, reference.parse(tag).familiar_string())
    return Response(jsonify({"Id": image.id}).get_data(), status=201,
                    mimetype="application/json")
