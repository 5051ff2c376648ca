//! The strategy set `kestrel run` trades when the configuration names none: small orders on
//! the first configured symbol, so a newcomer's first run shows every part working — a
//! momentum taker, an inventory-skewed spread maker and a grid.

use kestrel_model::Qty;
use kestrel_model::config::{StrategiesConfig, StrategyInstance};

/// `config` when it has instances; otherwise the default set on `symbols[0]`.
#[must_use]
pub fn strategies_or_default(config: &StrategiesConfig, symbols: &[String]) -> StrategiesConfig {
    if !config.instances.is_empty() {
        return config.clone();
    }
    let Some(symbol) = symbols.first() else {
        return config.clone();
    };
    let mut defaults = config.clone();
    defaults.instances = vec![
        instance(
            "momentum",
            "momentum",
            symbol,
            "lookback = 20\nthreshold = \"0.05\"",
        ),
        instance(
            "spread_maker",
            "spread-maker",
            symbol,
            "spread_bps = \"10\"",
        ),
        instance("grid", "grid", symbol, "spacing = \"20\"\nlevels = 3"),
    ];
    defaults
}

fn instance(kind: &str, name_stem: &str, symbol: &str, parameters: &str) -> StrategyInstance {
    StrategyInstance {
        name: format!("{name_stem}-{}", symbol.to_ascii_lowercase()),
        kind: kind.to_owned(),
        enabled: true,
        symbol: symbol.to_owned(),
        order_size: Qty::from_raw(Qty::ONE.raw() / 1_000 * 2),
        parameters: parameters.parse().unwrap_or_default(),
        ..StrategyInstance::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_instances_are_kept_and_none_gives_the_default_set() {
        let symbols = vec!["BTCUSDT".to_owned()];
        let defaults = strategies_or_default(&StrategiesConfig::default(), &symbols);
        let kinds: Vec<&str> = defaults.instances.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["momentum", "spread_maker", "grid"]);
        assert!(
            defaults
                .instances
                .iter()
                .all(|i| i.symbol == "BTCUSDT" && !i.parameters.is_empty())
        );
        let mut configured = StrategiesConfig::default();
        configured
            .instances
            .push(instance("momentum", "mine", "ETHUSDT", ""));
        assert_eq!(strategies_or_default(&configured, &symbols), configured);
    }
}
