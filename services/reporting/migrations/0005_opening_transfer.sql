-- A case opened by the route to rehabilitative work activity is handed to social services
-- at opening (guidance's implicit transfer "opening"): it has no activation plan yet.
ALTER TABLE {schema}.municipal_transfers ALTER COLUMN plan_start DROP NOT NULL;
ALTER TABLE {schema}.municipal_transfers ALTER COLUMN plan_months DROP NOT NULL;
ALTER TABLE {schema}.municipal_transfers ALTER COLUMN days_per_week DROP NOT NULL;
ALTER TABLE {schema}.municipal_transfers ALTER COLUMN hours_per_day DROP NOT NULL;
ALTER TABLE {schema}.municipal_transfers ALTER COLUMN place DROP NOT NULL;
