//! The NATS server of the tests that need one: the local `nats-server` at
//! `nats://127.0.0.1:4222`, or `KESTREL_TEST_NATS_URL`. When it is unreachable a test prints why
//! and passes as skipped, unless `KESTREL_REQUIRE_SERVICES=1`, where that is a failure.

/// The server tests use when `KESTREL_TEST_NATS_URL` does not name one.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// The test server's URL, or `None` (after printing `SKIPPED {test}: …`) when it is unreachable
/// and not required.
///
/// # Panics
/// When it is unreachable and `KESTREL_REQUIRE_SERVICES=1`.
pub async fn server(test: &str) -> Option<String> {
    let url =
        std::env::var("KESTREL_TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.to_owned());
    let required = std::env::var("KESTREL_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    match kestrel_bus::nats::connect(&url).await {
        Ok(_) => Some(url),
        Err(error) => {
            assert!(
                !required,
                "{test}: KESTREL_REQUIRE_SERVICES=1 but NATS is unreachable: {error}"
            );
            eprintln!(
                "SKIPPED {test}: {error}. Start nats-server or set KESTREL_TEST_NATS_URL \
                 (KESTREL_REQUIRE_SERVICES=1 turns this into a failure)."
            );
            None
        }
    }
}
