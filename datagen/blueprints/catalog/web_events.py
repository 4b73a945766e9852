"""Web analytics: users, their sessions and each session's page views as events, some late."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import finish, window
from datagen.config import Column, Events, RowsPer, Schema, Table
from datagen.gen import arrivals, bernoulli, choice, expr, faker, fk, poisson, sequence, uniform_timestamp, uuid4


@blueprint("Web analytics: users, sessions per user and page views as events, a share of them late")
def web_events(*, users: int = 2000, sessions_per_user: float = 3.0, views_per_session: float = 5.0,
               late_rate: float = 0.02, start: str = "2025-06-01", end: str = "2025-06-30",
               locale: str = "en_US", dirty_rate: float = 0.0, seed: int = 71) -> Schema:
    t0, t1 = window(start, end)
    schema = Schema(name="web_events", description="Users, sessions and page views", seed=seed, tables=[
        Table(name="users", rows=users, primary_key="user_id", columns=[
            Column(name="user_id", type="uuid", generator=uuid4()),
            Column(name="signed_up_at", type="timestamptz", generator=uniform_timestamp("2023-01-01T00:00:00Z", t0)),
            Column(name="country", type="varchar(60)", generator=faker("country")),
            Column(name="newsletter", type="boolean", generator=bernoulli(0.3)),
        ]),
        Table(name="sessions", rows=RowsPer(per="users", distribution=poisson(sessions_per_user), max=100),
              primary_key="session_id", columns=[
            Column(name="session_id", type="uuid", generator=uuid4()),
            Column(name="user_id", type="uuid", generator=fk("users")),
            Column(name="started_at", type="timestamptz", generator=arrivals(
                t0, t1, daily=[2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 11, 11, 9, 6, 3])),
            Column(name="device", type="varchar(8)", generator=choice(["mobile", "desktop", "tablet"], [6, 3, 1])),
            Column(name="referrer", type="varchar(12)", nullable=True, null_rate=0.4,
                   generator=choice(["search", "social", "email", "ads"], [5, 3, 1, 2])),
        ]),
        Table(name="page_views", rows=RowsPer(per="sessions", distribution=poisson(views_per_session - 1, 1), min=1,
                                              max=200), primary_key="view_id",
              events=Events(time="viewed_at", key="session_id", type="page_view", late_rate=late_rate), columns=[
            Column(name="view_id", type="bigint", generator=sequence(1)),
            Column(name="session_id", type="uuid", generator=fk("sessions")),
            Column(name="viewed_at", type="timestamptz",
                   generator=expr("session_id.started_at + seconds(exponential(90))")),
            Column(name="path", type="varchar(40)",
                   generator=choice(["/", "/search", "/product", "/cart", "/checkout", "/account"],
                                    [20, 25, 35, 10, 5, 5])),
            Column(name="duration_ms", type="integer", min=50, max=3600000,
                   generator={"type": "lognormal", "params": {"mean": 9, "sigma": 1.1}}),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
