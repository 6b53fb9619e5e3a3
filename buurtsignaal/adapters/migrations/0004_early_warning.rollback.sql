DROP TABLE IF EXISTS pattern_alerts;
