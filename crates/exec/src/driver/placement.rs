//! One placement's task: send, then follow the engine's [`Step`]s until the order is settled
//! (the diagram in [`crate::engine`]). The task never decides anything itself: it sleeps the
//! delays the engine names and reports what the venue said.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;
use crate::answer::OrderAnswer;
use crate::engine::{EngineError, Placement, SendGate, Step};
use crate::journal::Journal;

/// How a query phase ended.
pub(super) enum QueryEnd {
    /// Settled.
    Done(OrderAnswer),
    /// Absent for good with an attempt left: send again after this delay.
    Resend(Duration),
}

/// Places `placement` and hands its answer to the callers waiting for it.
pub(super) async fn run<J: Journal + 'static>(shared: Arc<Shared<J>>, placement: Placement) {
    let answer = place(&shared, &placement).await;
    tracing::debug!(target: "kestrel::exec", %answer, "placement settled");
    shared.settle(&placement.request_id, &answer);
}

/// The send loop.
async fn place<J: Journal + 'static>(shared: &Shared<J>, placement: &Placement) -> OrderAnswer {
    let id = placement.client_order_id.as_str();
    let mut delay = Duration::ZERO;
    loop {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match shared.engine(|e| e.on_sending(id, shared.now())) {
            Ok(SendGate::Go { .. }) => {}
            Ok(SendGate::Stop(answer)) => return answer,
            Err(error) => return local_failure(placement, &error),
        }
        let result = shared.venue.place(&placement.order).await;
        let usage = shared.venue.usage();
        let result = result.map_err(|error| shared.failure(&error));
        let step = shared.engine(|e| e.on_place_answer(id, result, usage, shared.now()));
        let after = match step {
            Ok(Step::Done(answer)) => return answer,
            Ok(Step::Resend { after }) => after,
            Ok(Step::Query { after }) => {
                let lookup = Lookup {
                    client_order_id: id,
                    symbol: &placement.order.symbol,
                    algo: placement.order.is_algo(),
                };
                match query(shared, &lookup, after).await {
                    Ok(QueryEnd::Done(answer)) => return answer,
                    Ok(QueryEnd::Resend(after)) => after,
                    Err(error) => return local_failure(placement, &error),
                }
            }
            Err(error) => return local_failure(placement, &error),
        };
        delay = after;
    }
}

/// What to look up by client order id.
pub(super) struct Lookup<'a> {
    /// The client order id.
    pub(super) client_order_id: &'a str,
    /// Its symbol.
    pub(super) symbol: &'a str,
    /// Whether it is a conditional order (on the algo endpoint).
    pub(super) algo: bool,
}

/// Queries a client order id until the engine settles it or says to resend.
pub(super) async fn query<J: Journal + 'static>(
    shared: &Shared<J>,
    lookup: &Lookup<'_>,
    first_delay: Duration,
) -> Result<QueryEnd, EngineError> {
    let client_order_id = lookup.client_order_id;
    let mut delay = first_delay;
    loop {
        tokio::time::sleep(delay).await;
        let result = shared
            .venue
            .lookup(lookup.symbol, client_order_id, lookup.algo)
            .await
            .map_err(|error| shared.failure(&error));
        if let Err(failure) = &result {
            tracing::warn!(
                target: "kestrel::exec",
                client_order_id,
                error = %failure.message,
                "query by client order id failed; the order's outcome is still unknown"
            );
        }
        match shared.engine(|e| e.on_lookup(client_order_id, result, shared.now()))? {
            Step::Done(answer) => return Ok(QueryEnd::Done(answer)),
            Step::Resend { after } => return Ok(QueryEnd::Resend(after)),
            Step::Query { after } => delay = after,
        }
    }
}

/// The answer when the engine itself failed (the journal): the order was not sent, or its
/// state could not be recorded; the journal keeps what it has for the next start.
fn local_failure(placement: &Placement, error: &EngineError) -> OrderAnswer {
    tracing::error!(target: "kestrel::exec", %error, client_order_id = %placement.client_order_id, "placement stopped by a local failure");
    OrderAnswer::Failed {
        request_id: placement.request_id.clone(),
        client_order_id: placement.client_order_id.clone(),
        code: "journal_error".to_owned(),
        message: error.to_string(),
    }
}
