-- Tracking for exactly-once consumers: a consumer writes its effect and the consumed
-- event id in one transaction, so a redelivered or replayed event is a no-op.

CREATE TABLE IF NOT EXISTS {schema}.consumed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    stream_seq   bigint      NOT NULL,
    consumed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE IF NOT EXISTS {schema}.consumer_positions (
    consumer    text   PRIMARY KEY,
    stream_seq  bigint NOT NULL
);
