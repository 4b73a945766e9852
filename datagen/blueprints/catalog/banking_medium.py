"""DataSynth's banking_medium: customers, accounts, cards and transfers between accounts."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import ANOMALIES, finish, window
from datagen.config import Column, RowsPer, Schema, Table
from datagen.gen import (
    bernoulli,
    choice,
    expr,
    faker,
    fk,
    lognormal,
    poisson,
    regex,
    sequence,
    uniform_date,
    uniform_timestamp,
    uuid4,
    zipf,
)


@blueprint("A retail bank: customers, accounts, cards and transactions between accounts (DataSynth's banking_medium)")
def banking_medium(*, customers: int = 5000, accounts_per_customer: float = 0.8, transactions: int = 50000,
                   start: str = "2025-01-01", end: str = "2025-12-31", locale: str = "en_US",
                   dirty_rate: float = 0.0, anomaly_rate: float = 0.0, seed: int = 23) -> Schema:
    t0, t1 = window(start, end)
    schema = Schema(name="banking_medium", description="Customers, accounts, cards and transactions", seed=seed,
                    tables=[
        Table(name="customers", rows=customers, primary_key="customer_id", columns=[
            Column(name="customer_id", type="bigint", generator=sequence(1)),
            Column(name="full_name", type="varchar(80)", generator=faker("name")),
            Column(name="birth_date", type="date", generator=uniform_date("1940-01-01", "2006-12-31")),
            Column(name="risk_rating", type="varchar(6)", generator=choice(["low", "medium", "high"], [80, 17, 3])),
            Column(name="kyc_verified", type="boolean", generator=bernoulli(0.97)),
        ]),
        Table(name="accounts", rows=RowsPer(per="customers", distribution=poisson(accounts_per_customer, 1), min=1,
                                            max=6), primary_key="account_id", columns=[
            Column(name="account_id", type="bigint", generator=sequence(100000)),
            Column(name="customer_id", type="bigint", generator=fk("customers")),
            Column(name="iban", type="varchar(22)", unique=True, pattern="DE[0-9]{20}", generator=regex("DE[0-9]{20}")),
            Column(name="kind", type="varchar(10)", generator=choice(["checking", "savings", "credit"], [6, 3, 1])),
            Column(name="opened_on", type="date", generator=uniform_date("2010-01-01", start)),
        ]),
        Table(name="cards", rows=RowsPer(per="accounts", distribution=poisson(0.6), max=3), primary_key="card_id",
              columns=[
            Column(name="card_id", type="uuid", generator=uuid4()),
            Column(name="account_id", type="bigint", generator=fk("accounts")),
            Column(name="network", type="varchar(10)", generator=choice(["visa", "mastercard"], [3, 2])),
            Column(name="last4", type="char(4)", pattern="[0-9]{4}", generator=regex("[0-9]{4}")),
        ]),
        Table(name="transactions", rows=transactions, primary_key="transaction_id",
              anomalies=ANOMALIES(anomaly_rate, "from_account_id", "booked_at"), columns=[
            Column(name="transaction_id", type="uuid", generator=uuid4()),
            Column(name="from_account_id", type="bigint", generator=fk("accounts", skew=zipf(1.1))),
            Column(name="to_account_id", type="bigint", nullable=True, null_rate=0.4,  # card payments leave the bank
                   generator=fk("accounts", skew=zipf(1.3))),
            Column(name="booked_at", type="timestamptz", generator=uniform_timestamp(t0, t1)),
            Column(name="amount", type="numeric(14,2)", min=0.01, max=1000000, generator=lognormal(4, 1.3)),
            Column(name="channel", type="varchar(8)", generator=choice(["card", "online", "branch", "atm"], [5, 4, 1, 1])),
            Column(name="is_international", type="boolean", generator=expr("uniform(0, 1) < 0.05")),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
