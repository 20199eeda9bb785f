-- The event store and outbox of one write service, in that service's own schema.
-- {schema} is replaced by the (quoted) schema name.

CREATE TABLE IF NOT EXISTS {schema}.events (
    -- A global order for reading this store back in insert order; never used to tail
    -- the store (a bigserial read by a tailer skips late commits: see runtime/relay.py).
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    stream_id       text        NOT NULL,
    stream_version  integer     NOT NULL CHECK (stream_version >= 1),
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    envelope        jsonb       NOT NULL,
    -- Optimistic concurrency: a second writer of the same version fails right here.
    PRIMARY KEY (stream_id, stream_version)
);

CREATE INDEX IF NOT EXISTS events_global_position ON {schema}.events (global_position);

-- Rows wait here until the relay has a JetStream ack for them, then leave.
CREATE TABLE IF NOT EXISTS {schema}.outbox (
    outbox_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   uuid  NOT NULL UNIQUE,
    subject    text  NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
