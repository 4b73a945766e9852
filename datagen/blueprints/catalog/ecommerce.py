"""DW Simulator's online shop: customers, products, orders and order items."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import finish, window
from datagen.config import Column, RowsPer, Schema, Table
from datagen.gen import choice, faker, fk, lognormal, poisson, sequence, uniform_timestamp, zipf


@blueprint("An online shop: customers, products, orders and their items (DW Simulator's e-commerce)")
def ecommerce(*, customers: int = 2000, products: int = 300, orders_per_customer: float = 3.0,
              start: str = "2025-01-01", end: str = "2025-12-31", locale: str = "en_US",
              dirty_rate: float = 0.0, seed: int = 101) -> Schema:
    t0, t1 = window(start, end)
    schema = Schema(name="ecommerce", description="Customers, products, orders and order items", seed=seed, tables=[
        Table(name="customers", rows=customers, primary_key="customer_id", columns=[
            Column(name="customer_id", type="bigint", generator=sequence(1)),
            Column(name="name", type="varchar(80)", generator=faker("name")),
            Column(name="email", type="varchar(120)", unique=True, generator=faker("email")),
            Column(name="country", type="varchar(60)", generator=faker("country")),
            Column(name="segment", type="varchar(10)", generator=choice(["consumer", "business"], [4, 1])),
        ]),
        Table(name="products", rows=products, primary_key="product_id", columns=[
            Column(name="product_id", type="integer", generator=sequence(1)),
            Column(name="name", type="varchar(80)", generator=faker("catch_phrase")),
            Column(name="category", type="varchar(20)",
                   generator=choice(["books", "electronics", "garden", "kitchen", "toys"])),
            Column(name="price", type="numeric(10,2)", min=1, max=5000, generator=lognormal(3.5, 0.8)),
        ]),
        Table(name="orders", rows=RowsPer(per="customers", distribution=poisson(orders_per_customer), max=60),
              primary_key="order_id", columns=[
            Column(name="order_id", type="bigint", generator=sequence(1)),
            Column(name="customer_id", type="bigint", generator=fk("customers")),
            Column(name="ordered_at", type="timestamptz", generator=uniform_timestamp(t0, t1)),
            Column(name="status", type="varchar(10)",
                   generator=choice(["delivered", "shipped", "cancelled", "returned"], [80, 12, 5, 3])),
        ]),
        Table(name="order_items", rows=RowsPer(per="orders", distribution=poisson(1.5, 1), min=1, max=12),
              primary_key="item_id", columns=[
            Column(name="item_id", type="bigint", generator=sequence(1)),
            Column(name="order_id", type="bigint", generator=fk("orders")),
            Column(name="product_id", type="integer", generator=fk("products", skew=zipf(1.1))),
            Column(name="quantity", type="smallint", min=1, max=20, generator=poisson(0.7, 1)),
            Column(name="unit_price", type="numeric(10,2)", generator={"type": "expr",
                                                                        "params": {"expr": "product_id.price"}}),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
