//! TLS set-up shared by every venue connection (REST through reqwest, streams through
//! tokio-tungstenite, NATS): all of them use rustls, and rustls needs one process-wide crypto
//! provider. Two providers end up linked (aws-lc-rs through reqwest and our own choice, `ring`
//! through other dependencies), and with two present rustls refuses to guess: building a
//! client configuration without an installed default panics. Installing aws-lc-rs first, once,
//! removes the ambiguity.

/// Installs aws-lc-rs as the process's default rustls crypto provider. Call it at the start
/// of `main` (and of tests that open TLS connections); later calls, and a provider installed
/// by someone else first, leave the installed one in place.
pub fn install_crypto_provider() {
    // `Err` only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    #[test]
    fn installing_twice_keeps_one_default_provider() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
