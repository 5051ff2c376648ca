//! The journal's statements in both dialects (see `db::dialect`).

use crate::db::dialect::Sql;

/// The `order_intents` columns an [`IntentRow`](super::rows::IntentRow) reads, in SQLite.
macro_rules! intent_columns_sqlite {
    () => {
        "request_id, client_order_id, symbol, request, state, venue_order_id, reject_code, \
         reason, answer, attempts, created_ms, updated_ms, sent_ms"
    };
}

/// The `order_intents` columns an [`IntentRow`](super::rows::IntentRow) reads, in PostgreSQL
/// (JSONB read back as text).
macro_rules! intent_columns_postgres {
    () => {
        "request_id, client_order_id, symbol, request::text AS request, state, venue_order_id, \
         reject_code, reason, answer::text AS answer, attempts, created_ms, updated_ms, sent_ms"
    };
}

/// Writes a pending intent unless its request id is already journaled; returns the new row,
/// or nothing for a repeat. `$8` is both the created and the updated time.
pub(super) const INSERT_INTENT: Sql = Sql {
    sqlite: concat!(
        "INSERT INTO order_intents (request_id, client_order_id, symbol, side, order_type, \
         quantity, request, state, attempts, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) \
         ON CONFLICT (request_id) DO NOTHING RETURNING ",
        intent_columns_sqlite!()
    ),
    postgres: concat!(
        "INSERT INTO order_intents (request_id, client_order_id, symbol, side, order_type, \
         quantity, request, state, attempts, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::jsonb, 'pending', 0, $8, $8) \
         ON CONFLICT (request_id) DO NOTHING RETURNING ",
        intent_columns_postgres!()
    ),
};

/// The intent of a request id.
pub(super) const BY_REQUEST_ID: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        intent_columns_sqlite!(),
        " FROM order_intents WHERE request_id = $1"
    ),
    postgres: concat!(
        "SELECT ",
        intent_columns_postgres!(),
        " FROM order_intents WHERE request_id = $1"
    ),
};

/// The intent of a client order id.
pub(super) const BY_CLIENT_ID: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        intent_columns_sqlite!(),
        " FROM order_intents WHERE client_order_id = $1"
    ),
    postgres: concat!(
        "SELECT ",
        intent_columns_postgres!(),
        " FROM order_intents WHERE client_order_id = $1"
    ),
};

/// Pending and sent intents, in journal order.
pub(super) const UNRESOLVED: Sql = Sql {
    sqlite: concat!(
        "SELECT ",
        intent_columns_sqlite!(),
        " FROM order_intents WHERE state IN ('pending', 'sent') ORDER BY id"
    ),
    postgres: concat!(
        "SELECT ",
        intent_columns_postgres!(),
        " FROM order_intents WHERE state IN ('pending', 'sent') ORDER BY id"
    ),
};

/// Moves one intent to state `$1` if it is in state `$9` or `$10`, in one statement (so two
/// racing moves cannot both pass the check), and returns it. A value left NULL keeps the
/// stored one; the answer is only ever set once, by the first move that gives one; a move to
/// `sent` records its time `$7` as the send time.
pub(super) const TRANSITION: Sql = Sql {
    sqlite: concat!(
        "UPDATE order_intents SET state = $1, venue_order_id = COALESCE($2, venue_order_id), \
         reject_code = COALESCE($3, reject_code), reason = COALESCE($4, reason), \
         answer = COALESCE(answer, $5), attempts = attempts + $6, updated_ms = $7, \
         sent_ms = CASE WHEN $1 = 'sent' THEN $7 ELSE sent_ms END \
         WHERE client_order_id = $8 AND state IN ($9, $10) RETURNING ",
        intent_columns_sqlite!()
    ),
    postgres: concat!(
        "UPDATE order_intents SET state = $1, venue_order_id = COALESCE($2, venue_order_id), \
         reject_code = COALESCE($3, reject_code), reason = COALESCE($4, reason), \
         answer = COALESCE(answer, $5::jsonb), attempts = attempts + $6, updated_ms = $7, \
         sent_ms = CASE WHEN $1 = 'sent' THEN $7 ELSE sent_ms END \
         WHERE client_order_id = $8 AND state IN ($9, $10) RETURNING ",
        intent_columns_postgres!()
    ),
};

/// Reserves `$2` sequence numbers for prefix `$1` (the row starts at 0) unless that would pass
/// `$3` = `i64::MAX - $2`; returns the new next sequence, or nothing when exhausted.
pub(super) const RESERVE_SEQUENCE: Sql = Sql::both(
    "INSERT INTO client_order_sequences (prefix, next_seq) VALUES ($1, $2) \
     ON CONFLICT (prefix) DO UPDATE SET next_seq = client_order_sequences.next_seq + $2 \
     WHERE client_order_sequences.next_seq <= $3 \
     RETURNING next_seq",
);

/// Raises prefix `$1`'s next sequence to at least `$2`; returns the next sequence.
pub(super) const RAISE_SEQUENCE: Sql = Sql::both(
    "INSERT INTO client_order_sequences (prefix, next_seq) VALUES ($1, $2) \
     ON CONFLICT (prefix) DO UPDATE \
     SET next_seq = CASE WHEN client_order_sequences.next_seq < $2 THEN $2 \
     ELSE client_order_sequences.next_seq END \
     RETURNING next_seq",
);
