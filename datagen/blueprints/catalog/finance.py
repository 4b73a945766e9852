"""sdgen's finance scenario: customers, accounts, transactions, disputes, and AML cases that
point at both a customer and an account."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import ANOMALIES, finish, window
from datagen.config import Column, RowsOf, RowsPer, Schema, Table
from datagen.gen import choice, expr, faker, fk, lognormal, poisson, sequence, uniform_date, uniform_timestamp, zipf


@blueprint("Retail finance: customers, accounts, transactions, disputes and AML cases with two parents (sdgen's finance)")
def finance(*, customers: int = 3000, transactions: int = 40000, dispute_rate: float = 0.005,
            aml_cases: int = 60, start: str = "2025-01-01", end: str = "2025-12-31", locale: str = "en_US",
            dirty_rate: float = 0.0, anomaly_rate: float = 0.0, seed: int = 53) -> Schema:
    t0, t1 = window(start, end)
    schema = Schema(name="finance", description="Customers, accounts, transactions, disputes and AML cases",
                    seed=seed, tables=[
        Table(name="customers", rows=customers, primary_key="customer_id", columns=[
            Column(name="customer_id", type="bigint", generator=sequence(1)),
            Column(name="name", type="varchar(80)", generator=faker("name")),
            Column(name="country", type="char(2)", generator=choice(["US", "GB", "DE", "FR", "NG", "AE"],
                                                                    [40, 15, 15, 10, 10, 10])),
            Column(name="customer_since", type="date", generator=uniform_date("2005-01-01", start)),
        ]),
        Table(name="accounts", rows=RowsPer(per="customers", distribution=poisson(0.5, 1), min=1, max=5),
              primary_key="account_id", columns=[
            Column(name="account_id", type="bigint", generator=sequence(1)),
            Column(name="customer_id", type="bigint", generator=fk("customers")),
            Column(name="product", type="varchar(10)", generator=choice(["current", "savings", "loan"], [6, 3, 1])),
            Column(name="currency", type="char(3)", generator=choice(["USD", "EUR", "GBP"], [5, 3, 2])),
        ]),
        Table(name="transactions", rows=transactions, primary_key="transaction_id",
              anomalies=ANOMALIES(anomaly_rate, "account_id", "booked_at"), columns=[
            Column(name="transaction_id", type="bigint", generator=sequence(1)),
            Column(name="account_id", type="bigint", generator=fk("accounts", skew=zipf(1.15))),
            Column(name="booked_at", type="timestamptz", generator=uniform_timestamp(t0, t1)),
            Column(name="amount", type="numeric(14,2)", min=0.01, generator=lognormal(3.8, 1.4)),
            Column(name="direction", type="varchar(6)", generator=choice(["debit", "credit"], [3, 2])),
            Column(name="merchant", type="varchar(80)", nullable=True, null_rate=0.3, generator=faker("company")),
        ]),
        Table(name="disputes", rows=RowsOf(of="transactions", coverage=dispute_rate), primary_key="dispute_id",
              columns=[
            Column(name="dispute_id", type="bigint", generator=sequence(1)),
            Column(name="transaction_id", type="bigint", unique=True, generator=fk("transactions")),
            Column(name="opened_at", type="timestamptz",
                   generator=expr("transaction_id.booked_at + days(exponential(10) + 1)")),
            Column(name="reason", type="varchar(16)",
                   generator=choice(["fraud", "not_received", "duplicate", "wrong_amount"], [4, 3, 2, 1])),
            Column(name="outcome", type="varchar(10)", generator=choice(["refunded", "rejected", "open"], [5, 3, 2])),
        ]),
        Table(name="aml_cases", rows=aml_cases, primary_key="case_id", columns=[
            Column(name="case_id", type="bigint", generator=sequence(1)),
            Column(name="customer_id", type="bigint", generator=fk("customers", skew=zipf(1.5))),
            Column(name="account_id", type="bigint", generator=fk("accounts", skew=zipf(1.5))),
            Column(name="typology", type="varchar(20)",
                   generator=choice(["structuring", "rapid_movement", "high_risk_country", "mule"])),
            Column(name="score", type="float64", min=0, max=1, generator={"type": "beta",
                                                                       "params": {"a": 5, "b": 2}}),
            Column(name="opened_at", type="timestamptz", generator=uniform_timestamp(t0, t1)),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
