"""``/targets``: the named targets of ``--targets-dir`` — list, show, test; never a password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from datagen.service.deps import Context, context
from datagen.service.resolve import find_named_target
from datagen.service.routers.schemas import ERRORS, plain
from shared.io.redact import redact

router = APIRouter(tags=["targets"])


def _info(t) -> dict[str, Any]:
    info = t.info()
    info["file"] = t.path.name if t.path else None  # not the server's own paths
    return redact(plain(info))


@router.get("/targets", response_model=dict[str, list[dict[str, Any]]], responses=ERRORS)
def list_targets(ctx: Context = Depends(context)) -> dict[str, list[dict[str, Any]]]:
    """Every target: id, name, kind, DSN as written (passwords redacted), schema, options."""
    from generators.common.targets import list_targets as all_targets

    return {"targets": [_info(t) for t in all_targets(ctx.settings.targets_dir)]}


@router.get("/targets/{target_id}", response_model=dict[str, Any], responses=ERRORS)
def show_target(target_id: str, ctx: Context = Depends(context)) -> dict[str, Any]:
    """One target's fields, with the problems ``datagen targets validate`` finds."""
    from datagen.targets import check_target

    t = find_named_target(ctx.settings, target_id)
    return {**_info(t), "problems": redact(check_target(t))}


@router.post("/targets/{target_id}/test", response_model=dict[str, Any], responses=ERRORS)
def test_target(target_id: str, ctx: Context = Depends(context)) -> dict[str, Any]:
    """Connect: reachability, latency, server version and the role's rights (``datagen targets
    test``). An unreachable target is a report with ``reachable: false``, not an error."""
    from datagen.targets import test_target as probe

    return redact(plain(probe(find_named_target(ctx.settings, target_id))))
