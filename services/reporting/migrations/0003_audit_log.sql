-- The audit log (docs/adr/0008): every event's metadata, in a hash chain per stream of
-- each event store (source, stream_id): intake's and guidance's streams of one client
-- share the client's id and each has its own versions. The consumer applies a stream's
-- events in version order, so position n is version n unless an invalid event was
-- dead-lettered (then the chain links the events applied, and stream_version shows the gap).
-- hash = sha256(prev_hash || canonical envelope bytes), hex; the first entry's
-- prev_hash is 64 zeros. The envelopes themselves stay in the log (JetStream).
CREATE TABLE IF NOT EXISTS {schema}.audit_log (
    source             text        NOT NULL,
    stream_id          text        NOT NULL,
    position           integer     NOT NULL,
    event_id           uuid        NOT NULL UNIQUE,
    stream_seq         bigint      NOT NULL,
    event_type         text        NOT NULL,
    stream_version     integer     NOT NULL,
    occurred_at        timestamptz NOT NULL,
    actor_person_id    text        NOT NULL,
    actor_role         text        NOT NULL,
    actor_organisation text        NOT NULL,
    correlation_id     uuid        NOT NULL,
    causation_id       uuid,
    prev_hash          text        NOT NULL,
    hash               text        NOT NULL,
    PRIMARY KEY (source, stream_id, position)
);
CREATE INDEX IF NOT EXISTS audit_log_stream ON {schema}.audit_log (stream_id, occurred_at);
CREATE INDEX IF NOT EXISTS audit_log_seq ON {schema}.audit_log (stream_seq);
CREATE INDEX IF NOT EXISTS audit_log_time ON {schema}.audit_log (occurred_at);

-- The head of each chain. Its row is locked while an entry is added, so two entries of
-- one stream can never link to the same predecessor.
CREATE TABLE IF NOT EXISTS {schema}.audit_chain_heads (
    source    text    NOT NULL,
    stream_id text    NOT NULL,
    position  integer NOT NULL,
    hash      text    NOT NULL,
    PRIMARY KEY (source, stream_id)
);
