"""The SaaS scenario DataSynth names and never built: plans, accounts, subscriptions with churn
and upgrades, invoices, usage events."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import finish, window
from datagen.config import Column, Events, RowsOf, RowsPer, Schema, Table
from datagen.gen import (
    arrivals,
    bernoulli,
    choice,
    expr,
    faker,
    fk,
    poisson,
    sequence,
    switch,
    uniform_int,
    uniform_timestamp,
    zipf,
)


@blueprint("A SaaS business: plans, accounts, subscriptions with churn and upgrades, invoices and usage events")
def saas_subscription(*, accounts: int = 1000, usage_events: int = 20000, churn_rate: float = 0.15,
                      upgrade_rate: float = 0.2, start: str = "2025-01-01", end: str = "2025-12-31",
                      locale: str = "en_US", dirty_rate: float = 0.0, seed: int = 31) -> Schema:
    t0, t1 = window(start, end)
    schema = Schema(name="saas_subscription", description="Plans, accounts, subscriptions, invoices, usage events",
                    seed=seed, tables=[
        Table(name="plans", rows=4, primary_key="plan_id", columns=[
            Column(name="plan_id", type="integer", generator=sequence(1)),
            Column(name="name", type="varchar(12)", unique=True,
                   generator=choice(["free", "starter", "pro", "enterprise"])),
            Column(name="monthly_price", type="numeric(8,2)",
                   generator=expr("case(plan_id == 1, 0.0, plan_id == 2, 19.0, plan_id == 3, 79.0, 499.0)")),
        ]),
        Table(name="accounts", rows=accounts, primary_key="account_id", columns=[
            Column(name="account_id", type="bigint", generator=sequence(1)),
            Column(name="company", type="varchar(80)", generator=faker("company")),
            Column(name="signed_up_at", type="timestamptz", generator=uniform_timestamp(t0, t1)),
            Column(name="seats", type="integer", min=1, max=5000, generator=zipf(1.6)),
        ]),
        Table(name="subscriptions", rows=RowsOf(of="accounts", coverage=1.0), primary_key="subscription_id", columns=[
            Column(name="subscription_id", type="bigint", generator=sequence(1)),
            Column(name="account_id", type="bigint", unique=True, generator=fk("accounts")),
            Column(name="plan_id", type="integer", generator=fk("plans", skew=zipf(1.4))),
            Column(name="started_at", type="timestamptz",
                   generator=expr("account_id.signed_up_at + hours(exponential(48))")),
            Column(name="monthly_price", type="numeric(8,2)", generator=expr("plan_id.monthly_price")),
            Column(name="churned", type="boolean", generator=bernoulli(churn_rate)),
            Column(name="status", type="varchar(10)", generator=expr("if(churned, 'cancelled', 'active')")),
        ]),
        Table(name="plan_changes", rows=RowsPer(per="subscriptions", distribution=bernoulli(upgrade_rate), max=1),
              primary_key="change_id", columns=[
            Column(name="change_id", type="bigint", generator=sequence(1)),
            Column(name="subscription_id", type="bigint", generator=fk("subscriptions")),
            Column(name="from_plan_id", type="integer", generator=expr("subscription_id.plan_id")),
            Column(name="to_plan_id", type="integer", min=1, max=4,
                   generator=expr("min(subscription_id.plan_id + 1, 4)")),
            Column(name="changed_at", type="timestamptz",
                   generator=expr("subscription_id.started_at + days(exponential(60) + 1)")),
            Column(name="kind", type="varchar(10)",
                   generator=expr("if(subscription_id.plan_id == 4, 'renewal', 'upgrade')")),
        ]),
        Table(name="invoices", rows=RowsPer(per="subscriptions", distribution=uniform_int(1, 12), min=1, max=12),
              primary_key="invoice_id", columns=[
            Column(name="invoice_id", type="bigint", generator=sequence(1)),
            Column(name="subscription_id", type="bigint", generator=fk("subscriptions")),
            Column(name="amount", type="numeric(10,2)", min=0,
                   generator=expr("subscription_id.monthly_price")),
            Column(name="paid", type="boolean", generator=switch(
                "subscription_id.churned", {"true": {"type": "bernoulli", "params": {"p": 0.7}},
                                            "false": {"type": "bernoulli", "params": {"p": 0.98}}})),
        ]),
        Table(name="usage_events", rows=usage_events, primary_key="event_id",
              events=Events(time="at", key="account_id", type="action"), columns=[
            Column(name="event_id", type="bigint", generator=sequence(1)),
            Column(name="account_id", type="bigint", generator=fk("accounts", skew=zipf(1.2))),
            Column(name="at", type="timestamptz", generator=arrivals(
                t0, t1, daily=[1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 9, 10, 10, 9, 7, 4, 3, 2, 2, 1, 1],
                weekly=[10, 10, 10, 10, 9, 2, 2])),
            Column(name="action", type="varchar(12)",
                   generator=choice(["login", "api_call", "export", "invite"], [30, 60, 7, 3])),
            Column(name="units", type="integer", min=1, generator=poisson(3, 1)),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
