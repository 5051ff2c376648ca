//! Bearer-token protection of a service's mutating routes (`dashboard.enable_authentication`
//! and `dashboard.auth_token`): with authentication on, every request other than `GET`,
//! `HEAD` and `OPTIONS` must carry `Authorization: Bearer <token>`, else it is answered 401
//! and never reaches the route. Reads stay open, as the dashboard's are.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use kestrel_model::config::DashboardConfig;
use serde_json::json;

/// `router`, guarded as the dashboard config says (module docs). The config loader has
/// already refused authentication without a token, so `enable_authentication` with no token
/// here refuses every mutating request rather than letting them through.
pub fn guard(router: Router, dashboard: &DashboardConfig) -> Router {
    if !dashboard.enable_authentication {
        return router;
    }
    let token: Arc<str> = dashboard
        .auth_token
        .as_ref()
        .map_or_else(|| Arc::from(""), |t| Arc::from(t.expose()));
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let token = Arc::clone(&token);
        async move { check(&token, request, next).await }
    }))
}

async fn check(token: &str, request: Request, next: Next) -> Response {
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    if reads.contains(request.method()) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(presented) if !token.is_empty() && same(presented.as_bytes(), token.as_bytes()) => {
            next.run(request).await
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({
                "code": "unauthorized",
                "error": "this route changes state: send Authorization: Bearer <dashboard.auth_token>",
            })),
        )
            .into_response(),
    }
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(same(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same(b"0123456789abcdef", b"0123456789abcdeF"));
        assert!(!same(b"0123456789abcdef", b"0123456789abcde"));
    }
}
