-- Transfer ids are unique per client, not per municipality: guidance's implicit hand-over
-- at opening is "opening" for every client whose route opened the case with social
-- services, so the key must include the client.
ALTER TABLE {schema}.municipal_transfers DROP CONSTRAINT IF EXISTS municipal_transfers_pkey;
ALTER TABLE {schema}.municipal_transfers ADD PRIMARY KEY (municipality, client_id, transfer_id);
