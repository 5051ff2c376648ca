-- The order journal as the execution engine's journal port needs it (kestrel_exec::journal):
--
-- 1. A refusal may end an intent that was never sent (the engine's own validation refuses it
--    while it is pending), and a venue refusal may come without a numeric code (an HTTP error
--    without Binance's body). So a rejected intent no longer needs a reject_code: the code, when
--    the venue gave one, is kept; the answer (always stored for a resolved intent) says the rest.
-- 2. sent_ms: when the intent was last handed to the venue, the start of the venue's acceptance
--    window that recovery judges an absent order by. updated_ms cannot stand in for it once the
--    intent has been resolved. Intents journaled before this migration keep it only while they
--    are still sent (their last change was that send); for the others it is unknown (NULL).
--
-- The same logical schema as the PostgreSQL migration of the same version. SQLite cannot drop a
-- CHECK constraint, so order_intents is rebuilt (same columns, rows, ids and index; no foreign
-- key, trigger or view refers to it).

CREATE TABLE order_intents_0004 (
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
    -- The venue's error code of a rejection, when it gave one.
    reject_code     INTEGER,
    -- The venue's message of a rejection, or why the intent was refused or failed.
    reason          TEXT,
    -- The first answer given to the caller (an OrderResponse as JSON), repeated for a repeat.
    answer          TEXT    CHECK (answer IS NULL OR json_valid(answer)),
    -- How many times the order was handed to the venue (moves to sent).
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    -- When it was last handed to the venue (the last move to sent).
    sent_ms         INTEGER,
    -- A resolved intent has its answer; one the venue holds has its venue id; one handed to the
    -- venue has its send time.
    CHECK (state IN ('pending', 'sent') OR answer IS NOT NULL),
    CHECK (state NOT IN ('acknowledged', 'adopted') OR venue_order_id IS NOT NULL),
    CHECK (state <> 'sent' OR sent_ms IS NOT NULL)
) STRICT;

INSERT INTO order_intents_0004 (id, request_id, client_order_id, symbol, side, order_type,
    quantity, request, state, venue_order_id, reject_code, reason, answer, attempts, created_ms,
    updated_ms, sent_ms)
SELECT id, request_id, client_order_id, symbol, side, order_type, quantity, request, state,
    venue_order_id, reject_code, reason, answer, attempts, created_ms, updated_ms,
    CASE WHEN state = 'sent' THEN updated_ms END
FROM order_intents;

DROP TABLE order_intents;
ALTER TABLE order_intents_0004 RENAME TO order_intents;

-- Start-up recovery reads the unresolved intents only.
CREATE INDEX order_intents_unresolved ON order_intents (id) WHERE state IN ('pending', 'sent');
