"""A generator that fails the first attempt of one Spark task (tests/test_spark.py): Spark retries
the task, and the output must hold each row once, as the local engine computes it.

``flaky_sequence``: ``start + row`` like ``sequence``, except that inside a Spark task of
partition 1 on its first attempt it raises. Outside Spark (the local engine, ``validate``'s
replay) it never fails.
"""

from __future__ import annotations

import numpy as np

from shared.distributions.base import Generator, obj, register


@register("flaky_sequence")
class FlakySequence(Generator):
    kinds = frozenset({"int"})
    params_schema = obj((), start={"type": "integer"})
    unique_strategy = "native"

    def generate(self, ctx):
        try:
            from pyspark import TaskContext
        except ImportError:
            task = None
        else:
            task = TaskContext.get()
        if task is not None and task.partitionId() == 1 and task.attemptNumber() == 0:
            raise RuntimeError("flaky_sequence: the first attempt of partition 1 fails on purpose")
        return np.int64(ctx.params.get("start", 1)) + ctx.rows
