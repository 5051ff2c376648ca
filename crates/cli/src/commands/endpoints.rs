//! Which venue a service command talks to: `--venue-url` takes a URL (`http://127.0.0.1:8765`
//! for a `kestrel sim`, `https://...` for a TLS venue) or a name (`binance`,
//! `binance-testnet`); without it the `[venue]` section of the configuration decides.

use anyhow::{Result, bail};
use kestrel_model::config::{VenueConfig, VenueKind};

/// Binance's WebSocket trading API (`../shared/binance-futures.md` §1).
const BINANCE_WS_API: &str = "wss://ws-fapi.binance.com/ws-fapi/v1";

/// Binance's demo-trading WebSocket trading API.
const BINANCE_TESTNET_WS_API: &str = "wss://testnet.binancefuture.com/ws-fapi/v1";

/// A venue's REST and WebSocket base URLs, without trailing slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base, e.g. `https://fapi.binance.com`.
    pub rest: String,
    /// WebSocket base for market streams, e.g. `wss://fstream.binance.com`.
    pub ws: String,
    /// WebSocket trading API, e.g. `wss://ws-fapi.binance.com/ws-fapi/v1`; a simulator or a
    /// custom venue serves it at `{ws}/ws-fapi/v1`.
    pub ws_api: String,
}

impl Endpoints {
    /// Resolves `--venue-url` (a URL or a venue name) against the configured venue.
    ///
    /// # Errors
    /// When the value is neither a known name nor an `http(s)://` URL, or when nothing names a
    /// venue at all.
    pub fn resolve(flag: Option<&str>, venue: &VenueConfig) -> Result<Self> {
        match flag.map(str::trim) {
            Some("binance") => Self::of_kind(VenueKind::Binance),
            Some("binance-testnet") => Self::of_kind(VenueKind::BinanceTestnet),
            Some(url) => Self::from_rest_url(url, "--venue-url"),
            None => Self::from_config(venue),
        }
    }

    /// The endpoints of a venue known by name.
    fn of_kind(kind: VenueKind) -> Result<Self> {
        Self::from_config(&VenueConfig {
            kind,
            ..VenueConfig::default()
        })
    }

    /// A REST URL and the WebSocket base at the same address (`http` → `ws`, `https` → `wss`),
    /// which is how the simulator and Binance-compatible test venues serve both.
    fn from_rest_url(url: &str, origin: &str) -> Result<Self> {
        let rest = url.trim_end_matches('/');
        let ws = if let Some(host) = rest.strip_prefix("http://") {
            format!("ws://{host}")
        } else if let Some(host) = rest.strip_prefix("https://") {
            format!("wss://{host}")
        } else {
            bail!(
                "{origin} {url}: expected an http:// or https:// URL, or one of binance, binance-testnet"
            )
        };
        Ok(Self {
            rest: rest.to_owned(),
            ws_api: format!("{ws}/ws-fapi/v1"),
            ws,
        })
    }

    fn from_config(venue: &VenueConfig) -> Result<Self> {
        match (venue.effective_rest_url(), venue.effective_ws_url()) {
            (Some(rest), Some(ws)) => {
                let ws = ws.trim_end_matches('/').to_owned();
                let ws_api = match venue.kind {
                    VenueKind::Binance => BINANCE_WS_API.to_owned(),
                    VenueKind::BinanceTestnet => BINANCE_TESTNET_WS_API.to_owned(),
                    VenueKind::Sim | VenueKind::Custom => format!("{ws}/ws-fapi/v1"),
                };
                Ok(Self {
                    rest: rest.trim_end_matches('/').to_owned(),
                    ws,
                    ws_api,
                })
            }
            (Some(rest), None) => Self::from_rest_url(rest, "venue.rest_url"),
            _ => bail!(
                "no venue: pass --venue-url (a URL such as http://127.0.0.1:8765 of a `kestrel sim`, or binance, binance-testnet) or set venue.kind / venue.rest_url"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_gives_the_websocket_base_at_the_same_address() {
        let venue = VenueConfig::default();
        let plain = Endpoints::resolve(Some("http://127.0.0.1:8765/"), &venue).unwrap();
        assert_eq!(plain.rest, "http://127.0.0.1:8765");
        assert_eq!(plain.ws, "ws://127.0.0.1:8765");
        assert_eq!(plain.ws_api, "ws://127.0.0.1:8765/ws-fapi/v1");
        let tls = Endpoints::resolve(Some("https://venue.example"), &venue).unwrap();
        assert_eq!(tls.ws, "wss://venue.example");
    }

    #[test]
    fn names_give_binance_production_and_demo_hosts() {
        let venue = VenueConfig::default();
        let prod = Endpoints::resolve(Some("binance"), &venue).unwrap();
        assert_eq!(prod.rest, "https://fapi.binance.com");
        assert_eq!(prod.ws, "wss://fstream.binance.com");
        assert_eq!(prod.ws_api, "wss://ws-fapi.binance.com/ws-fapi/v1");
        let demo = Endpoints::resolve(Some("binance-testnet"), &venue).unwrap();
        assert_eq!(demo.rest, "https://demo-fapi.binance.com");
    }

    #[test]
    fn without_a_flag_the_configured_venue_is_used_and_the_simulator_needs_a_url() {
        let configured = VenueConfig {
            kind: VenueKind::Custom,
            rest_url: Some("http://10.0.0.5:9000".into()),
            ..VenueConfig::default()
        };
        let endpoints = Endpoints::resolve(None, &configured).unwrap();
        assert_eq!(endpoints.ws, "ws://10.0.0.5:9000");
        let error = Endpoints::resolve(None, &VenueConfig::default()).unwrap_err();
        assert!(error.to_string().contains("--venue-url"), "{error}");
    }

    #[test]
    fn other_schemes_are_refused_with_the_flag_named() {
        let error = Endpoints::resolve(Some("ftp://x"), &VenueConfig::default()).unwrap_err();
        assert!(
            error.to_string().starts_with("--venue-url ftp://x"),
            "{error}"
        );
    }
}
