-- Account snapshots (seed 000 FR-AM-001/002/003 "persist balance snapshots"): the account
-- monitor's balances, positions and P&L summary, written periodically.
--
-- The same logical schema as the PostgreSQL migration of the same version. Money is exact decimal
-- text (Price/Qty/Rate Display, eight places; Money Display, sixteen), never REAL; the only REAL
-- is the Sharpe ratio, a dimensionless statistic. Times are integer milliseconds since the epoch
-- from the monitor's clock.

-- One row per snapshot, with the P&L summary at that moment.
CREATE TABLE account_snapshots (
    id                   INTEGER PRIMARY KEY,
    time_ms              INTEGER NOT NULL,
    -- The asset balances, P&L and margins are counted in (USDT).
    margin_asset         TEXT    NOT NULL,
    realized_pnl         TEXT    NOT NULL,
    unrealized_pnl       TEXT    NOT NULL,
    total_pnl            TEXT    NOT NULL,
    daily_pnl            TEXT    NOT NULL,
    fees_paid            TEXT    NOT NULL,
    funding_fees         TEXT    NOT NULL,
    -- Percent of closed positions that made money net of fees.
    win_rate             TEXT    NOT NULL,
    closed_positions     INTEGER NOT NULL CHECK (closed_positions >= 0),
    sharpe_ratio         REAL,
    max_drawdown         TEXT    NOT NULL,
    max_drawdown_percent TEXT    NOT NULL
) STRICT;

CREATE INDEX account_snapshots_time ON account_snapshots (time_ms);

-- Each asset's balance in a snapshot.
CREATE TABLE account_snapshot_balances (
    snapshot_id       INTEGER NOT NULL REFERENCES account_snapshots (id) ON DELETE CASCADE,
    asset             TEXT    NOT NULL,
    wallet_balance    TEXT    NOT NULL,
    available_balance TEXT    NOT NULL,
    -- Initial margin of open orders.
    in_orders         TEXT    NOT NULL,
    unrealized_pnl    TEXT    NOT NULL,
    -- Initial margin of positions and open orders.
    initial_margin    TEXT    NOT NULL,
    maint_margin      TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, asset)
) STRICT;

-- Each open position leg in a snapshot.
CREATE TABLE account_snapshot_positions (
    snapshot_id       INTEGER NOT NULL REFERENCES account_snapshots (id) ON DELETE CASCADE,
    symbol            TEXT    NOT NULL,
    position_side     TEXT    NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
    -- Signed: long > 0, short < 0.
    qty               TEXT    NOT NULL,
    entry_price       TEXT    NOT NULL,
    mark_price        TEXT,
    liquidation_price TEXT,
    unrealized_pnl    TEXT    NOT NULL,
    realized_pnl      TEXT    NOT NULL,
    leverage          INTEGER CHECK (leverage > 0),
    margin_used       TEXT    NOT NULL,
    PRIMARY KEY (snapshot_id, symbol, position_side)
) STRICT;
