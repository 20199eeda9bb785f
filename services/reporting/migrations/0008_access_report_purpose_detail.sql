-- A read's purpose is a code of the vocabulary (runtime/purposes.py) with the reader's
-- own words beside it, optional (docs/adr/0027). Rows of earlier reads have free text in
-- purpose and no detail.
ALTER TABLE {schema}.access_report ADD COLUMN IF NOT EXISTS purpose_detail text;
