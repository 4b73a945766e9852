"""DataSynth's retail_small: a few companies with their stores, products, customers and sales."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import ANOMALIES, finish, window
from datagen.config import Column, Events, RowsPer, Schema, Table
from datagen.gen import bernoulli, choice, expr, faker, fk, lognormal, poisson, sequence, uniform_int, uniform_timestamp, zipf


@blueprint("A small retailer: companies, stores, products, customers and sales transactions (DataSynth's retail_small)")
def retail_small(*, companies: int = 3, transactions: int = 5000, products: int = 200, customers: int = 800,
                 start: str = "2025-01-01", end: str = "2025-12-31", locale: str = "en_US",
                 dirty_rate: float = 0.0, anomaly_rate: float = 0.0, seed: int = 11) -> Schema:
    t0, t1 = window(start, end)
    schema = Schema(name="retail_small", description="Companies, stores, products, customers and sales", seed=seed,
                    tables=[
        Table(name="companies", rows=companies, primary_key="company_id", columns=[
            Column(name="company_id", type="integer", generator=sequence(1)),
            Column(name="name", type="varchar(80)", unique=True, generator=faker("company")),
            Column(name="currency", type="char(3)", generator=choice(["USD", "EUR", "GBP"])),
        ]),
        Table(name="stores", rows=RowsPer(per="companies", distribution=uniform_int(2, 6), min=1),
              primary_key="store_id", columns=[
            Column(name="store_id", type="integer", generator=sequence(1)),
            Column(name="company_id", type="integer", generator=fk("companies")),
            Column(name="city", type="varchar(60)", generator=faker("city")),
            Column(name="format", type="varchar(12)", generator=choice(["mall", "high street", "outlet"], [3, 5, 2])),
        ]),
        Table(name="products", rows=products, primary_key="product_id", columns=[
            Column(name="product_id", type="integer", generator=sequence(1)),
            Column(name="sku", type="varchar(12)", unique=True, generator={"type": "template",
                                                                          "params": {"template": "SKU-{_row:06d}"}}),
            Column(name="category", type="varchar(16)",
                   generator=choice(["grocery", "apparel", "home", "electronics", "beauty"], [5, 3, 2, 1, 2])),
            Column(name="price", type="numeric(9,2)", min=0.5, max=2000, generator=lognormal(2.5, 0.9)),
        ]),
        Table(name="customers", rows=customers, primary_key="customer_id", columns=[
            Column(name="customer_id", type="bigint", generator=sequence(1)),
            Column(name="name", type="varchar(80)", generator=faker("name")),
            Column(name="loyalty_member", type="boolean", generator=bernoulli(0.4)),
        ]),
        Table(name="transactions", rows=transactions, primary_key="transaction_id",
              anomalies=ANOMALIES(anomaly_rate, "store_id", "sold_at"),
              events=Events(time="sold_at", key="store_id", type="sale"), columns=[
            Column(name="transaction_id", type="bigint", generator=sequence(1)),
            Column(name="store_id", type="integer", generator=fk("stores", skew=zipf(1.1))),
            Column(name="customer_id", type="bigint", nullable=True, null_rate=0.3,  # walk-in customers
                   generator=fk("customers", skew=zipf(1.05))),
            Column(name="product_id", type="integer", generator=fk("products", skew=zipf(1.2))),
            Column(name="sold_at", type="timestamptz", generator=uniform_timestamp(
                t0, t1, daily=[0, 0, 0, 0, 0, 0, 0, 1, 3, 5, 6, 7, 8, 7, 6, 6, 7, 8, 8, 6, 3, 1, 0, 0],
                weekly=[5, 5, 5, 6, 8, 10, 4])),
            Column(name="quantity", type="smallint", min=1, max=24, generator=poisson(0.8, 1)),
            Column(name="amount", type="numeric(12,2)", min=0, generator=expr("round(product_id.price * quantity, 2)")),
            Column(name="payment", type="varchar(8)", generator=choice(["card", "cash", "mobile"], [6, 2, 2])),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
