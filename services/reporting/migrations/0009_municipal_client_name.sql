-- The receiving social services see the client's name while a consent names them
-- (issue 14; docs/adr/0031 explains the closure, this the name): sealed with the
-- client's key like every personal value in reporting's tables (docs/adr/0020).
ALTER TABLE {schema}.municipal_clients ADD COLUMN IF NOT EXISTS name text;
