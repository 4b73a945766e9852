"""``datagen serve``: the HTTP API (FastAPI on uvicorn, the ``service`` extra) — a thin layer.

Every router calls the functions the command line and ``import datagen`` call (``load_schema``,
``resolve_plan``, ``describe``, ``generate``, the importers, the targets), and every run goes
through the same run store, so a run started over HTTP shows in ``datagen runs list``::

    create_app(Settings(...))  ──▶  /api/v1/{schemas,blueprints,targets,runs,import,generate,
                                            streams,health,ready,metrics}, /api/v1/ws/streams/{id}
                                     │
                                     ├─ RunManager: one thread per run → datagen.generate(...)
                                     │  (Recorder, progress callback, cancel flag)
                                     └─ StreamManager: one task per stream → datagen.stream(...)
                                        fanned out to WebSocket subscribers (bounded queues)

See docs/service.md. Only ``create_app`` and ``Settings`` are public; FastAPI is imported here,
so ``import datagen`` never needs it.
"""

from __future__ import annotations

from datagen.service.app import create_app
from datagen.service.settings import Settings

__all__ = ["create_app", "Settings"]
