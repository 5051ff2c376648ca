-- Market-data time series (seed 000 FR-MD-005 "Insert into time-series database").
--
-- The same logical schema as the SQLite migration of the same version. Prices and quantities are
-- NUMERIC(20, 8): exact, wide enough for every kestrel_model::Price / Qty (at most 11 integer
-- digits and 8 decimals), and summable in SQL. Kestrel binds them as text and reads them back
-- with ::text, so no float ever touches them. Times are BIGINT: *_ms are venue milliseconds since
-- the epoch, received_wall_ns is Kestrel's wall clock at receipt, received_monotonic_ns its
-- per-host monotonic stamp (differences only).

CREATE TABLE trades (
    symbol                TEXT          NOT NULL,
    trade_id              BIGINT        NOT NULL CHECK (trade_id >= 0),
    price                 NUMERIC(20, 8) NOT NULL,
    qty                   NUMERIC(20, 8) NOT NULL,
    buyer_is_maker        BOOLEAN       NOT NULL,
    trade_time_ms         BIGINT        NOT NULL,
    event_time_ms         BIGINT        NOT NULL,
    received_wall_ns      BIGINT        NOT NULL,
    received_monotonic_ns BIGINT        NOT NULL,
    -- A venue trade id is unique per symbol, so a replayed batch inserts nothing twice.
    PRIMARY KEY (symbol, trade_id)
);

CREATE INDEX trades_symbol_time ON trades (symbol, trade_time_ms);

-- The top-N levels of a book at one update id. `bids` and `asks` are JSON arrays of
-- ["price", "qty"] string pairs, best first; the best_* columns repeat the first level of each
-- side (NULL for an empty side) so the top of book can be queried without parsing JSON.
CREATE TABLE market_data_snapshots (
    symbol                TEXT          NOT NULL,
    -- When Kestrel took the snapshot: received_wall_ns / 1,000,000.
    taken_at_ms           BIGINT        NOT NULL,
    last_update_id        BIGINT        NOT NULL CHECK (last_update_id >= 0),
    event_time_ms         BIGINT        NOT NULL,
    transaction_time_ms   BIGINT        NOT NULL,
    received_wall_ns      BIGINT        NOT NULL,
    received_monotonic_ns BIGINT        NOT NULL,
    best_bid_price        NUMERIC(20, 8),
    best_bid_qty          NUMERIC(20, 8),
    best_ask_price        NUMERIC(20, 8),
    best_ask_qty          NUMERIC(20, 8),
    bids                  JSONB         NOT NULL,
    asks                  JSONB         NOT NULL,
    -- The same book at the same update id and millisecond is the same snapshot: a replay or a
    -- retried batch does not duplicate it.
    PRIMARY KEY (symbol, taken_at_ms, last_update_id)
);
