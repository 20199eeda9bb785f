-- The intake queue's stage_since becomes a business date (docs/adr/0030): waiting
-- begins on the referral's date, each later stage on its event's business date, never
-- on the instant Reitti recorded the event.
--
-- Rows written before this take the Finnish date of the instant they recorded, except a
-- case still waiting for its first invitation (no invitation in its stream), whose wait
-- began on its referral date. Every later write of a case stores the date its events give.
ALTER TABLE {schema}.case_overview
    ALTER COLUMN stage_since TYPE date USING (stage_since AT TIME ZONE 'Europe/Helsinki')::date;

UPDATE {schema}.case_overview o SET stage_since = o.referral_date
WHERE o.stage = 'invitation'
  AND NOT EXISTS (
      SELECT 1 FROM {schema}.events e
      WHERE e.stream_id = o.client_id AND e.event_type = 'InvitedToInfoSession'
  );
