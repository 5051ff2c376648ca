-- Market-data time series (seed 000 FR-MD-005 "Insert into time-series database").
--
-- Prices and quantities are exact decimal text (kestrel_model::Price / Qty Display), never REAL:
-- SQLite has no exact decimal type, and text round-trips bit for bit. Sum them in Rust, not SQL.
-- Times are integers: *_ms are venue milliseconds since the epoch, received_wall_ns is Kestrel's
-- wall clock at receipt, received_monotonic_ns its per-host monotonic stamp (differences only).

CREATE TABLE trades (
    symbol                TEXT    NOT NULL,
    trade_id              INTEGER NOT NULL CHECK (trade_id >= 0),
    price                 TEXT    NOT NULL,
    qty                   TEXT    NOT NULL,
    buyer_is_maker        INTEGER NOT NULL CHECK (buyer_is_maker IN (0, 1)),
    trade_time_ms         INTEGER NOT NULL,
    event_time_ms         INTEGER NOT NULL,
    received_wall_ns      INTEGER NOT NULL,
    received_monotonic_ns INTEGER NOT NULL,
    -- A venue trade id is unique per symbol, so a replayed batch inserts nothing twice.
    PRIMARY KEY (symbol, trade_id)
) STRICT;

CREATE INDEX trades_symbol_time ON trades (symbol, trade_time_ms);

-- The top-N levels of a book at one update id. `bids` and `asks` are JSON arrays of
-- ["price", "qty"] string pairs, best first; the best_* columns repeat the first level of each
-- side (NULL for an empty side) so the top of book can be queried without parsing JSON.
CREATE TABLE market_data_snapshots (
    symbol                TEXT    NOT NULL,
    -- When Kestrel took the snapshot: received_wall_ns / 1,000,000.
    taken_at_ms           INTEGER NOT NULL,
    last_update_id        INTEGER NOT NULL CHECK (last_update_id >= 0),
    event_time_ms         INTEGER NOT NULL,
    transaction_time_ms   INTEGER NOT NULL,
    received_wall_ns      INTEGER NOT NULL,
    received_monotonic_ns INTEGER NOT NULL,
    best_bid_price        TEXT,
    best_bid_qty          TEXT,
    best_ask_price        TEXT,
    best_ask_qty          TEXT,
    bids                  TEXT    NOT NULL CHECK (json_valid(bids)),
    asks                  TEXT    NOT NULL CHECK (json_valid(asks)),
    -- The same book at the same update id and millisecond is the same snapshot: a replay or a
    -- retried batch does not duplicate it.
    PRIMARY KEY (symbol, taken_at_ms, last_update_id)
) STRICT;
