-- Orders, fills and the order journal (seed 000 FR-OE-004/005 and NFR-OE-003; seed 001's
-- durable execution without a workflow engine).
--
-- The same logical schema as the PostgreSQL migration of the same version. Money is exact decimal
-- text (Price/Qty Display, eight places; Money Display, sixteen), never REAL. Enums are stored
-- under their serde names, the same spelling the JSON documents use. Times are integer
-- milliseconds since the epoch, taken from the caller's clock (*_ms) or the venue's (time_ms).

-- The write-ahead journal of order intents: written before an order is sent, so that a repeated
-- request id returns the first answer and a restart can resolve every intent that was in flight.
--
-- state: pending (written, not sent) -> sent (bytes may have left; again on a resend) ->
-- acknowledged (the venue took it) | rejected (the venue refused it) | failed (never placed) |
-- adopted (found at the venue by client order id during recovery). pending and sent are
-- unresolved; the other four are final. The store enforces the moves (kestrel_store::journal).
CREATE TABLE order_intents (
    -- Journal order: the order intents were first written in.
    id              INTEGER PRIMARY KEY,
    -- The caller's idempotency key: one intent per request id, ever.
    request_id      TEXT    NOT NULL UNIQUE,
    client_order_id TEXT    NOT NULL UNIQUE,
    symbol          TEXT    NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type      TEXT    NOT NULL,
    quantity        TEXT    NOT NULL,
    -- The whole kestrel_model::order::OrderRequest as JSON; the columns above repeat its key
    -- fields for queries.
    request         TEXT    NOT NULL CHECK (json_valid(request)),
    state           TEXT    NOT NULL
        CHECK (state IN ('pending', 'sent', 'acknowledged', 'rejected', 'failed', 'adopted')),
    venue_order_id  INTEGER CHECK (venue_order_id >= 0),
    -- The venue's error code of a rejection.
    reject_code     INTEGER,
    -- The venue's message of a rejection, or why the intent failed.
    reason          TEXT,
    -- The first answer given to the caller (an OrderResponse as JSON), repeated for a repeat.
    answer          TEXT    CHECK (answer IS NULL OR json_valid(answer)),
    -- How many times the order was handed to the venue (moves to sent).
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    -- A resolved intent has its answer; one the venue holds has its venue id; a rejection its
    -- code.
    CHECK (state IN ('pending', 'sent') OR answer IS NOT NULL),
    CHECK (state NOT IN ('acknowledged', 'adopted') OR venue_order_id IS NOT NULL),
    CHECK (state <> 'rejected' OR reject_code IS NOT NULL)
) STRICT;

-- Start-up recovery reads the unresolved intents only.
CREATE INDEX order_intents_unresolved ON order_intents (id) WHERE state IN ('pending', 'sent');

-- The next client order id sequence number per prefix. Blocks are reserved by adding to
-- next_seq in one statement, so reservations never overlap, across restarts or processes.
CREATE TABLE client_order_sequences (
    prefix   TEXT    PRIMARY KEY,
    next_seq INTEGER NOT NULL CHECK (next_seq >= 0)
) STRICT;

-- The latest known state of each order, upserted as updates arrive.
CREATE TABLE orders (
    client_order_id TEXT    PRIMARY KEY,
    venue_order_id  INTEGER CHECK (venue_order_id >= 0),
    symbol          TEXT    NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type      TEXT    NOT NULL CHECK (order_type IN ('limit', 'market', 'stop_limit',
        'stop_market', 'take_profit_limit', 'take_profit_market', 'trailing_stop_market')),
    time_in_force   TEXT    CHECK (time_in_force IN ('GTC', 'IOC', 'FOK', 'POST_ONLY', 'GTX')),
    position_side   TEXT    NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
    price           TEXT,
    stop_price      TEXT,
    qty             TEXT    NOT NULL,
    executed_qty    TEXT    NOT NULL,
    avg_price       TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('NEW', 'PENDING_SUBMIT', 'SUBMITTED',
        'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED')),
    reduce_only     INTEGER NOT NULL CHECK (reduce_only IN (0, 1)),
    reject_reason   TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
) STRICT;

CREATE INDEX orders_symbol_status ON orders (symbol, status);
CREATE INDEX orders_symbol_venue_id ON orders (symbol, venue_order_id);

-- Every execution of our orders, once. A venue trade id is unique per symbol except for a
-- self-trade, where both of our orders take part in the same trade (one buy, one sell); keying
-- by side as well keeps both legs, while the same fill seen on the user stream and again from
-- REST recovery (same symbol, trade id and side) is stored once.
CREATE TABLE fills (
    symbol           TEXT    NOT NULL,
    trade_id         INTEGER NOT NULL CHECK (trade_id >= 0),
    side             TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    venue_order_id   INTEGER NOT NULL CHECK (venue_order_id >= 0),
    client_order_id  TEXT    NOT NULL,
    price            TEXT    NOT NULL,
    qty              TEXT    NOT NULL,
    commission       TEXT    NOT NULL,
    commission_asset TEXT    NOT NULL,
    is_maker         INTEGER NOT NULL CHECK (is_maker IN (0, 1)),
    -- The venue's realised P&L of the fill, when it reports one.
    realized_pnl     TEXT,
    time_ms          INTEGER NOT NULL,
    PRIMARY KEY (symbol, trade_id, side)
) STRICT;

CREATE INDEX fills_client_order_id ON fills (client_order_id);
CREATE INDEX fills_symbol_time ON fills (symbol, time_ms);
