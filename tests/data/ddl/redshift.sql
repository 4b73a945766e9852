-- Clickstream warehouse (Amazon Redshift)
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE analytics.dim_user (
    user_key      BIGINT IDENTITY(1,1) ENCODE az64,
    user_id       VARCHAR(36) NOT NULL ENCODE lzo,
    email         VARCHAR(256) ENCODE zstd,
    country       CHAR(2) ENCODE bytedict,
    "plan"        VARCHAR(16) DEFAULT 'free' ENCODE lzo,
    signup_ts     TIMESTAMP WITHOUT TIME ZONE NOT NULL ENCODE az64,
    referrer_key  BIGINT,
    profile       SUPER,
    PRIMARY KEY (user_key),
    UNIQUE (user_id),
    FOREIGN KEY (referrer_key) REFERENCES analytics.dim_user (user_key)
)
DISTSTYLE ALL
SORTKEY (user_key);

CREATE TABLE analytics.fact_event (
    event_id     BIGINT IDENTITY(1,1),
    user_key     BIGINT NOT NULL DISTKEY REFERENCES analytics.dim_user (user_key),
    event_type   VARCHAR(32) NOT NULL,
    event_ts     TIMESTAMPTZ NOT NULL SORTKEY,
    revenue      DECIMAL(12,2),
    session_no   SMALLINT,
    is_mobile    BOOLEAN DEFAULT FALSE,
    PRIMARY KEY (event_id)
)
DISTSTYLE KEY
COMPOUND SORTKEY (event_ts, user_key);

-- composite key: one row per user per day
CREATE TABLE analytics.agg_daily (
    user_key   BIGINT NOT NULL REFERENCES analytics.dim_user (user_key),
    day        DATE NOT NULL,
    events     INTEGER NOT NULL,
    PRIMARY KEY (user_key, day)
) DISTKEY (user_key) SORTKEY (day);

GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO GROUP analysts;
INSERT INTO analytics.dim_user (user_id, signup_ts) VALUES ('u-1', GETDATE());
