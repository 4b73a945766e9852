"""sdgen's IoT scenario: sites, devices per site, and each device's readings as events."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import finish
from datagen.config import Column, Events, RowsPer, Schema, Table
from datagen.gen import choice, expr, faker, fk, normal, random_walk, regex, sequence, switch, uniform_float, uniform_int, uuid4


@blueprint("IoT telemetry: sites, devices per site and each device's drifting readings as events (sdgen's IoT)")
def iot_telemetry(*, sites: int = 20, devices_per_site: int = 10, readings_per_device: int = 100,
                  interval_seconds: int = 60, start: str = "2025-06-01", locale: str = "en_US",
                  dirty_rate: float = 0.0, seed: int = 41) -> Schema:
    schema = Schema(name="iot_telemetry", description="Sites, devices and their readings", seed=seed, tables=[
        Table(name="sites", rows=sites, primary_key="site_id", columns=[
            Column(name="site_id", type="integer", generator=sequence(1)),
            Column(name="city", type="varchar(60)", generator=faker("city")),
            Column(name="latitude", type="float64", min=-60, max=70, generator=uniform_float(-60, 70)),
            Column(name="longitude", type="float64", min=-180, max=180, generator=uniform_float(-180, 180)),
        ]),
        Table(name="devices", rows=RowsPer(per="sites", distribution=uniform_int(devices_per_site, devices_per_site),
                                            min=1),
              primary_key="device_id", columns=[
            Column(name="device_id", type="uuid", generator=uuid4()),
            Column(name="site_id", type="integer", generator=fk("sites")),
            Column(name="model", type="varchar(10)", generator=choice(["TH-100", "TH-200", "AQ-500"], [5, 3, 2])),
            Column(name="firmware", type="varchar(8)", pattern=r"v[1-3]\.[0-9]\.[0-9]", generator=regex(r"v[1-3]\.[0-9]\.[0-9]")),
        ]),
        Table(name="readings", rows=RowsPer(per="devices", distribution=uniform_int(readings_per_device, readings_per_device),
                                            min=1),
              primary_key="reading_id", events=Events(time="ts", key="device_id", type="reading"), columns=[
            Column(name="reading_id", type="bigint", generator=sequence(1)),
            Column(name="device_id", type="uuid", generator=fk("devices")),
            # every device reports on the same clock: reading i of a device at start + i · interval
            Column(name="ts", type="timestamptz", generator=expr(
                f"to_timestamp('{start}T00:00:00Z') + seconds((row() % {readings_per_device}) * {interval_seconds})")),
            Column(name="temperature_c", type="float64", min=-40, max=85,
                   generator=random_walk(start=21.0, step=0.15)),
            Column(name="humidity_pct", type="float64", min=0, max=100, generator=normal(45, 8)),
            Column(name="battery_pct", type="float64", min=0, max=100,
                   generator=random_walk(start=100.0, step=0.05, drift=-0.02)),
            Column(name="signal_dbm", type="smallint", min=-120, max=-30, generator=switch(
                "device_id.model", {"AQ-500": {"type": "normal", "params": {"mean": -70, "std": 6}}},
                {"type": "normal", "params": {"mean": -85, "std": 8}})),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
