-- One schema per service. Migrations create them too (CREATE SCHEMA IF NOT EXISTS);
-- creating them here lets an operator grant per-service roles before the first deploy.
CREATE SCHEMA IF NOT EXISTS intake;
CREATE SCHEMA IF NOT EXISTS dispatch;
CREATE SCHEMA IF NOT EXISTS sla;
CREATE SCHEMA IF NOT EXISTS identity;
