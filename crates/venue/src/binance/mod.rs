//! The Binance USD-M futures adapter. (Being written.)
