"""Image routes: list, inspect, tag, delete (and create, which cannot pull yet)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request

from shared.api.params import current_engine, qbool
from shared.daemon.errors import InvalidParameter, NotFound
from shared.images import store as image_store

bp = Blueprint("images", __name__)


@bp.post("/images/create")
def image_create() -> Response:
    engine = current_engine()
    # Pulling from registries is issue 6; until then an image that is not in the
    # store cannot be had, and the docker CLI shows this message after its own
    # "Unable to find image locally".
    ref = request.args.get("fromImage", "")
    tag = request.args.get("tag")
    if ref and tag and "@" not in ref:
        ref = f"{ref}:{tag}"
    try:
        engine.images.resolve(ref)
    except image_store.ImageNotFound:
        raise NotFound(
            f"pull access denied for {ref.split(':')[0]}: this daemon cannot reach "
            "registries yet; only images in its store can run"
        ) from None
    return Response(
        json.dumps({"status": f"Image is up to date for {ref}"}) + "\r\n",
        mimetype="application/json",
    )


@bp.get("/images/json")
def image_list() -> Response:
    engine = current_engine()
    return jsonify([image_store.to_summary(i) for i in engine.images.list()])


@bp.get("/images/<path:ref>/json")
def image_inspect(ref: str) -> Response:
    engine = current_engine()
    return jsonify(image_store.to_inspect(engine.images.resolve(ref)))


@bp.post("/images/<path:ref>/tag")
def image_tag(ref: str) -> Response:
    engine = current_engine()
    repo, tag = request.args.get("repo", ""), request.args.get("tag") or "latest"
    if not repo:
        raise InvalidParameter("repository name must have at least one component")
    engine.images.tag(engine.images.resolve(ref), f"{repo}:{tag}")
    return Response(status=201)


@bp.delete("/images/<path:ref>")
def image_delete(ref: str) -> Response:
    engine = current_engine()
    def in_use(image_id: str) -> str | None:
        c = engine.image_in_use(image_id)
        return c.id if c else None

    return jsonify(engine.images.delete(ref, force=qbool("force"), in_use=in_use))
