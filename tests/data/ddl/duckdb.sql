-- IoT telemetry (DuckDB)
CREATE SEQUENCE seq_sensor START 1;
CREATE TYPE reading_quality AS ENUM ('good', 'suspect', 'bad');

CREATE TABLE sites (
    site_id     INTEGER PRIMARY KEY,
    site_name   VARCHAR NOT NULL UNIQUE,
    country     VARCHAR(2),
    latitude    DOUBLE CHECK (latitude BETWEEN -90 AND 90),
    longitude   DOUBLE CHECK (longitude BETWEEN -180 AND 180)
);

CREATE TABLE sensors (
    sensor_id   BIGINT DEFAULT nextval('seq_sensor') PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites (site_id),
    serial_no   VARCHAR(16) NOT NULL UNIQUE,
    kind        VARCHAR NOT NULL CHECK (kind IN ('temperature', 'humidity', 'pressure')),
    installed   DATE,
    replaced_by BIGINT REFERENCES sensors (sensor_id),
    uid         UUID
);

CREATE TABLE readings (
    sensor_id   BIGINT NOT NULL REFERENCES sensors (sensor_id),
    ts          TIMESTAMP WITH TIME ZONE NOT NULL,
    value       DECIMAL(9,3) NOT NULL,
    quality     reading_quality DEFAULT 'good',
    battery_pct UTINYINT CHECK (battery_pct <= 100),
    tags        VARCHAR[],
    PRIMARY KEY (sensor_id, ts)
);

CREATE VIEW latest AS SELECT sensor_id, max(ts) AS ts FROM readings GROUP BY sensor_id;
INSERT INTO sites VALUES (1, 'Plant A', 'DE', 52.5, 13.4);
