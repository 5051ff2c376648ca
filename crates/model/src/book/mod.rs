//! The L2 order book and Binance depth-stream sequencing. (Being written.)
