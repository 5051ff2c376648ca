-- Account snapshots (seed 000 FR-AM-001/002/003 "persist balance snapshots"): the account
-- monitor's balances, positions and P&L summary, written periodically.
--
-- The same logical schema as the SQLite migration of the same version. Prices, quantities and
-- percentages are NUMERIC(20, 8) (every Price/Qty/Rate), amounts NUMERIC(39, 16) (every Money),
-- bound as text and read back with ::text; the only float is the Sharpe ratio, a dimensionless
-- statistic. Times are BIGINT milliseconds since the epoch from the monitor's clock.

-- One row per snapshot, with the P&L summary at that moment.
CREATE TABLE account_snapshots (
    id                   BIGINT          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time_ms              BIGINT          NOT NULL,
    -- The asset balances, P&L and margins are counted in (USDT).
    margin_asset         TEXT            NOT NULL,
    realized_pnl         NUMERIC(39, 16) NOT NULL,
    unrealized_pnl       NUMERIC(39, 16) NOT NULL,
    total_pnl            NUMERIC(39, 16) NOT NULL,
    daily_pnl            NUMERIC(39, 16) NOT NULL,
    fees_paid            NUMERIC(39, 16) NOT NULL,
    funding_fees         NUMERIC(39, 16) NOT NULL,
    -- Percent of closed positions that made money net of fees.
    win_rate             NUMERIC(20, 8)  NOT NULL,
    closed_positions     BIGINT          NOT NULL CHECK (closed_positions >= 0),
    sharpe_ratio         DOUBLE PRECISION,
    max_drawdown         NUMERIC(39, 16) NOT NULL,
    max_drawdown_percent NUMERIC(20, 8)  NOT NULL
);

CREATE INDEX account_snapshots_time ON account_snapshots (time_ms);

-- Each asset's balance in a snapshot.
CREATE TABLE account_snapshot_balances (
    snapshot_id       BIGINT          NOT NULL REFERENCES account_snapshots (id) ON DELETE CASCADE,
    asset             TEXT            NOT NULL,
    wallet_balance    NUMERIC(39, 16) NOT NULL,
    available_balance NUMERIC(39, 16) NOT NULL,
    -- Initial margin of open orders.
    in_orders         NUMERIC(39, 16) NOT NULL,
    unrealized_pnl    NUMERIC(39, 16) NOT NULL,
    -- Initial margin of positions and open orders.
    initial_margin    NUMERIC(39, 16) NOT NULL,
    maint_margin      NUMERIC(39, 16) NOT NULL,
    PRIMARY KEY (snapshot_id, asset)
);

-- Each open position leg in a snapshot.
CREATE TABLE account_snapshot_positions (
    snapshot_id       BIGINT          NOT NULL REFERENCES account_snapshots (id) ON DELETE CASCADE,
    symbol            TEXT            NOT NULL,
    position_side     TEXT            NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
    -- Signed: long > 0, short < 0.
    qty               NUMERIC(20, 8)  NOT NULL,
    entry_price       NUMERIC(20, 8)  NOT NULL,
    mark_price        NUMERIC(20, 8),
    liquidation_price NUMERIC(20, 8),
    unrealized_pnl    NUMERIC(39, 16) NOT NULL,
    realized_pnl      NUMERIC(39, 16) NOT NULL,
    leverage          BIGINT          CHECK (leverage > 0),
    margin_used       NUMERIC(39, 16) NOT NULL,
    PRIMARY KEY (snapshot_id, symbol, position_side)
);
