-- Marketing attribution (BigQuery)
CREATE SCHEMA IF NOT EXISTS `acme-prod.marketing`;

CREATE TABLE `acme-prod.marketing.campaigns` (
  campaign_id INT64 NOT NULL OPTIONS(description="surrogate key"),
  name STRING(120) NOT NULL,
  channel STRING NOT NULL,
  budget NUMERIC(12, 2),
  start_date DATE NOT NULL,
  end_date DATE,
  PRIMARY KEY (campaign_id) NOT ENFORCED
)
OPTIONS(description="one row per campaign", labels=[("team", "growth")]);

CREATE TABLE `acme-prod.marketing.clicks` (
  click_id STRING NOT NULL,
  campaign_id INT64 NOT NULL,
  clicked_at TIMESTAMP NOT NULL,
  landing_url STRING,
  cost FLOAT64,
  device STRING,
  is_bot BOOL,
  payload JSON,
  PRIMARY KEY (click_id) NOT ENFORCED,
  FOREIGN KEY (campaign_id) REFERENCES `acme-prod.marketing.campaigns` (campaign_id) NOT ENFORCED
)
PARTITION BY DATE(clicked_at)
CLUSTER BY campaign_id
OPTIONS(partition_expiration_days=365);

CREATE TABLE `acme-prod.marketing.daily_spend` (
  campaign_id INT64 NOT NULL,
  day DATE NOT NULL,
  spend BIGNUMERIC,
  impressions INT64,
  PRIMARY KEY (campaign_id, day) NOT ENFORCED,
  FOREIGN KEY (campaign_id) REFERENCES `acme-prod.marketing.campaigns` (campaign_id) NOT ENFORCED
);

CREATE VIEW `acme-prod.marketing.v_ctr` AS SELECT campaign_id, COUNT(*) AS clicks FROM `acme-prod.marketing.clicks` GROUP BY 1;
INSERT INTO `acme-prod.marketing.campaigns` (campaign_id, name, channel, start_date) VALUES (1, 'Spring', 'search', '2024-03-01');
