-- Per-stream order for consumers: the last version applied of each producer's stream.
-- A consumer applies version n of a stream only after n-1, so one client's events take
-- effect in the order they happened even when deliveries are redelivered out of order.
CREATE TABLE IF NOT EXISTS {schema}.stream_positions (
    consumer  text    NOT NULL,
    source    text    NOT NULL,
    stream_id text    NOT NULL,
    version   integer NOT NULL,
    PRIMARY KEY (consumer, source, stream_id)
);
