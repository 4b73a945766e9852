"""An HR system: locations, departments, employees with a manager (a key into their own table)
and two keys into locations (where they are based, where they work now)."""

from __future__ import annotations

from datagen.blueprints import blueprint
from datagen.blueprints._common import finish
from datagen.config import Column, RowsPer, Schema, Table
from datagen.gen import choice, expr, faker, fk, gamma, sequence, template, uniform_date, zipf


@blueprint("HR: locations, departments, employees with a manager self-reference and two keys to locations")
def hr(*, locations: int = 8, departments: int = 12, employees: int = 1500, start: str = "2010-01-01",
       end: str = "2025-06-30", locale: str = "en_US", dirty_rate: float = 0.0, seed: int = 61) -> Schema:
    per = max(1, round(employees / departments))
    schema = Schema(name="hr", description="Locations, departments and employees", seed=seed, tables=[
        Table(name="locations", rows=locations, primary_key="location_id", columns=[
            Column(name="location_id", type="integer", generator=sequence(1)),
            Column(name="city", type="varchar(60)", unique=True, generator=faker("city")),
            Column(name="country", type="varchar(60)", generator=faker("country")),
        ]),
        Table(name="departments", rows=departments, primary_key="department_id", columns=[
            Column(name="department_id", type="integer", generator=sequence(1)),
            Column(name="name", type="varchar(40)", unique=True, generator=faker("job")),
            Column(name="location_id", type="integer", generator=fk("locations")),
        ]),
        Table(name="employees", rows=RowsPer(per="departments", total=employees, min=1,
                                             max=max(per * 3, employees)), primary_key="employee_id", columns=[
            Column(name="employee_id", type="bigint", generator=sequence(1)),
            Column(name="department_id", type="integer", generator=fk("departments")),
            Column(name="manager_id", type="bigint", nullable=True, null_rate=0.02,
                   generator=fk("employees", skew=zipf(1.3))),
            Column(name="first_name", type="varchar(40)", generator=faker("first_name")),
            Column(name="last_name", type="varchar(40)", generator=faker("last_name")),
            Column(name="email", type="varchar(120)", unique=True, generator=template(
                "{first_name}.{last_name}.{employee_id}@example.com", lower=True)),
            Column(name="home_location_id", type="integer", generator=fk("locations")),
            Column(name="work_location_id", type="integer", generator=expr("department_id.location_id")),
            Column(name="hired_on", type="date", generator=uniform_date(start, end)),
            Column(name="salary", type="numeric(10,2)", min=20000, max=400000, generator=gamma(6, 11000)),
            Column(name="grade", type="varchar(4)", generator=choice(["G1", "G2", "G3", "G4", "G5"], [30, 30, 20, 15, 5])),
        ]),
    ])
    return finish(schema, locale=locale, dirty_rate=dirty_rate)
