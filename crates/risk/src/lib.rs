//! Kestrel's risk manager: pre-trade checks, limits, kill switch, trading circuit breakers.
