//! Order signing on the submission hot path (`../shared/binance-futures.md` §2.3, §2.5):
//!
//! - `hmac_only`: HMAC-SHA256 + hex of a typical signed new-order query (the floor);
//! - `rest_new_order`: [`NewOrder::order_params`] + [`Params::signed_encoded`], the exact
//!   query/body text `POST /fapi/v1/order` sends;
//! - `ws_new_order`: [`NewOrder::order_params`] + [`signed_request`], the whole `order.place`
//!   frame of the WebSocket API.
//!
//! Run: `cargo bench -p kestrel-venue --bench signing -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel_model::order::OrderType;
use kestrel_model::order::{PositionSide, TimeInForce, WorkingType};
use kestrel_model::{Price, Qty, Side};
use kestrel_venue::binance::orders::{NewOrder, ResponseType};
use kestrel_venue::binance::signing::{Credentials, Params};
use kestrel_venue::binance::ws_api::signed_request;

fn order() -> NewOrder {
    NewOrder {
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        position_side: PositionSide::Both,
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Some(Qty::parse("0.015").unwrap()),
        price: Some(Price::parse("61800.1").unwrap()),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        working_type: WorkingType::ContractPrice,
        price_protect: false,
        activation_price: None,
        callback_rate: None,
        client_order_id: "kx-7f3c2a91-000042".into(),
        response_type: ResponseType::Ack,
        self_trade_prevention: None,
    }
}

fn signing(c: &mut Criterion) {
    let credentials = Credentials::new(
        "kestrelSimulatorLocalApiKey000000000000000000000000000000000000",
        "kestrelSimulatorLocalApiSecret00000000000000000000000000000000000",
    );
    let order = order();
    let query =
        order
            .order_params()
            .unwrap()
            .signed_encoded(&credentials, 1_700_000_000_000, 5_000);
    let mut group = c.benchmark_group("signing");
    group.bench_function("hmac_only", |b| {
        b.iter(|| credentials.sign(&[black_box(query.as_bytes())]));
    });
    group.bench_function("rest_new_order", |b| {
        b.iter(|| {
            let params: Params = black_box(&order).order_params().unwrap();
            params.signed_encoded(&credentials, black_box(1_700_000_000_000), 5_000)
        });
    });
    group.bench_function("ws_new_order", |b| {
        b.iter(|| {
            let params = black_box(&order).order_params().unwrap();
            signed_request(
                7,
                "order.place",
                params,
                &credentials,
                1_700_000_000_000,
                5_000,
            )
        });
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
