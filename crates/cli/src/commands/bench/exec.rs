//! `kestrel bench exec`: order request → bytes on the socket, on loopback (ARCHITECTURE.md's
//! budget: p99 < 1 ms).
//!
//! An in-process Kestrel simulator (market paused, its order-count limits raised so the bench
//! measures us, not its throttle; our own copy of the venue limits is raised to match) serves
//! the venue. The order connection — the `ws-fapi`
//! trading connection, or REST with `--transport rest` — goes through a relay on loopback that
//! notes when the first byte of each request reaches it. One order at a time: the clock starts
//! when [`ExecDriver::submit`] is called with a request (what a strategy does; validation,
//! the write-ahead journal — by default the store's, on SQLite, as `kestrel exec` runs —, id
//! assignment, signing and the write are all inside) and stops when
//! the relay sees the first byte. The round trip to the venue's answer is reported beside it.
//! Each order rests far from the market and is cancelled after its answer (not timed).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use hdrhistogram::Histogram;
use kestrel_exec::context::{RefreshConfig, VenueContext};
use kestrel_exec::driver::{DriverConfig, ExecDriver, SystemClock};
use kestrel_exec::engine::{Engine, EngineConfig};
use kestrel_exec::journal::{Journal, MemoryJournal, StoreJournal};
use kestrel_exec::persist::PersistConfig;
use kestrel_exec::ratelimit::VenueLimits;
use kestrel_exec::retry::RetryPolicy;
use kestrel_exec::validate::Validator;
use kestrel_model::config::{ExecutionConfig, RiskConfig, SimConfig, StoreConfig, Transport};
use kestrel_model::order::{ExecutionMode, OrderType, PositionSide, TimeInForce, WorkingType};
use kestrel_model::{OrderRequest, Price, Qty, Side};
use kestrel_sim::server::{self, DEFAULT_API_KEY, DEFAULT_API_SECRET, RunningSim, SimOptions};
use kestrel_venue::binance::rest::{RestClient, RestConfig};
use kestrel_venue::binance::signing::Credentials;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Options of `kestrel bench exec`.
#[derive(Debug, Args)]
pub struct ExecBenchArgs {
    /// Orders to time (after 50 untimed warm-up orders).
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    orders: u32,
    /// The order transport.
    #[arg(long, value_enum, default_value_t = BenchTransport::Ws)]
    transport: BenchTransport,
    /// The order journal written before each send: the store's (SQLite in a temporary
    /// directory, as `kestrel exec` runs) or in memory.
    #[arg(long, value_enum, default_value_t = BenchJournal::Store)]
    journal: BenchJournal,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Which journal the bench's engine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchJournal {
    /// `StoreJournal` on SQLite (the write-ahead is durable before the send).
    Store,
    /// `MemoryJournal`.
    Memory,
}

/// Which connection orders travel on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchTransport {
    /// The WebSocket trading API (`ws-fapi`), the default.
    Ws,
    /// REST (`POST /fapi/v1/order`).
    Rest,
}

/// The figures, ns.
#[derive(Debug, Serialize)]
struct ExecReport {
    transport: &'static str,
    journal: &'static str,
    orders: u64,
    p50_ns: u64,
    p99_ns: u64,
    p999_ns: u64,
    max_ns: u64,
    answer_p50_ns: u64,
    answer_p99_ns: u64,
}

/// Runs the bench and prints its report.
///
/// # Errors
/// When the simulator, the driver or an order fails.
pub fn run(args: &ExecBenchArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(measure(args))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

async fn measure(args: &ExecBenchArgs) -> Result<ExecReport> {
    let sim = start_sim().await?;
    let relay = Relay::start(sim.local_addr()).await?;
    let (to_wire, to_answer) = match args.journal {
        BenchJournal::Memory => {
            let (driver, context) =
                start_driver(&sim, &relay, args.transport, MemoryJournal::new(), None).await?;
            time_orders(driver, &context, &relay, &sim, args.orders).await?
        }
        BenchJournal::Store => {
            let dir = tempfile::tempdir()?;
            let store = StoreConfig {
                data_dir: dir.path().to_path_buf(),
                ..StoreConfig::default()
            };
            let journal = StoreJournal::open(&store, Arc::new(SystemClock::new()))?;
            let (driver, context) =
                start_driver(&sim, &relay, args.transport, journal, Some(&store)).await?;
            time_orders(driver, &context, &relay, &sim, args.orders).await?
        }
    };
    Ok(ExecReport {
        transport: match args.transport {
            BenchTransport::Ws => "ws-fapi",
            BenchTransport::Rest => "rest",
        },
        journal: match args.journal {
            BenchJournal::Memory => "memory",
            BenchJournal::Store => "sqlite",
        },
        orders: to_wire.len(),
        p50_ns: to_wire.value_at_quantile(0.50),
        p99_ns: to_wire.value_at_quantile(0.99),
        p999_ns: to_wire.value_at_quantile(0.999),
        max_ns: to_wire.max(),
        answer_p50_ns: to_answer.value_at_quantile(0.50),
        answer_p99_ns: to_answer.value_at_quantile(0.99),
    })
}

/// Places `orders` timed orders after the warm-up; (to wire, to answer) histograms.
async fn time_orders<J: Journal + 'static>(
    driver: ExecDriver<J>,
    context: &VenueContext,
    relay: &Relay,
    sim: &RunningSim,
    orders: u32,
) -> Result<(Histogram<u64>, Histogram<u64>)> {
    let bid = best_bid(sim).await?;
    let mut to_wire = Histogram::<u64>::new(3)?;
    let mut to_answer = Histogram::<u64>::new(3)?;
    for n in 0..orders + WARM_UP {
        let request = resting_buy(&format!("bench-{n}"), bid);
        let (wire, answer) = one_order(&driver, context, relay, request).await?;
        if n >= WARM_UP {
            to_wire.record(wire)?;
            to_answer.record(answer)?;
        }
    }
    driver.shutdown().await;
    Ok((to_wire, to_answer))
}

/// Untimed orders first: connections warm, code paged in.
const WARM_UP: u32 = 50;

/// Places one order, waits for its answer, cancels it; returns (to wire, to answer) in ns.
async fn one_order<J: Journal + 'static>(
    driver: &ExecDriver<J>,
    context: &VenueContext,
    relay: &Relay,
    request: OrderRequest,
) -> Result<(u64, u64)> {
    relay.arm();
    let start = Instant::now();
    let submitted = context.with_context(&request, 0, |ctx| {
        ctx.map(|c| driver.submit(request.clone(), c))
    });
    let Some(submitted) = submitted else {
        bail!("the bench symbol has no validation context");
    };
    let answer = submitted?.answer().await;
    let answered = start.elapsed();
    let Some(id) = answer.client_order_id().filter(|_| answer.is_accepted()) else {
        bail!("order {} was not accepted: {answer}", request.request_id);
    };
    let Some(wire) = relay.seen() else {
        bail!(
            "the relay saw no bytes for {} ({answer})",
            request.request_id
        );
    };
    if driver.cancel(id).await.is_err() {
        bail!("cannot cancel {id}");
    }
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Ok((
        nanos(wire.saturating_duration_since(start)),
        nanos(answered),
    ))
}

async fn start_sim() -> Result<RunningSim> {
    let config = SimConfig {
        symbols: vec![SYMBOL.to_owned()],
        orders_per_10s: 1_000_000,
        orders_per_minute: 1_000_000,
        request_weight_limit_per_minute: 10_000_000,
        ..SimConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let sim = server::start(SimOptions::local(config), listener)
        .await
        .context("cannot start the simulator")?;
    let url = format!("http://{}/sim/v1/market/pause", sim.local_addr());
    reqwest::Client::new().post(url).body("{}").send().await?;
    Ok(sim)
}

/// The symbol benched.
const SYMBOL: &str = "BTCUSDT";

async fn start_driver<J: Journal + 'static>(
    sim: &RunningSim,
    relay: &Relay,
    transport: BenchTransport,
    journal: J,
    store: Option<&StoreConfig>,
) -> Result<(ExecDriver<J>, Arc<VenueContext>)> {
    let execution = ExecutionConfig {
        transport: match transport {
            BenchTransport::Ws => Transport::Websocket,
            BenchTransport::Rest => Transport::Rest,
        },
        max_orders_per_second: 1_000_000,
        ..ExecutionConfig::default()
    };
    let venue = format!("http://{}", sim.local_addr());
    let credentials = Credentials::new(DEFAULT_API_KEY, DEFAULT_API_SECRET);
    let rest = RestClient::new(RestConfig::new(&venue), credentials.clone())?;
    let context = Arc::new(VenueContext::load(&rest, &[SYMBOL.to_owned()]).await?);
    // Marks refreshed as `kestrel exec` does, so a long run never meets a stale mark; the
    // refresh ends with the runtime.
    let (keep, never) = tokio::sync::watch::channel(false);
    let refresh = Arc::clone(&context).run_refresh(rest, RefreshConfig::default(), never);
    tokio::spawn(async move {
        let _running = keep;
        refresh.await;
    });
    let validator = Validator::from_config(
        &execution,
        &RiskConfig::default(),
        VenueLimits::new(1_000_000, 1_000_000, 10_000_000, 5),
    );
    let engine = Engine::new(
        EngineConfig::new("bench", RetryPolicy::from_config(&execution)),
        validator,
        journal,
    )?;
    let mut config = DriverConfig::new(
        &venue,
        &format!("ws://{}", sim.local_addr()),
        credentials,
        &execution,
    );
    config.ws_api_url = format!("ws://{}/ws-fapi/v1", relay.addr);
    if transport == BenchTransport::Rest {
        config.rest_url = format!("http://{}", relay.addr);
    }
    let driver = match store {
        Some(store) => {
            ExecDriver::start_persisted(config, engine, store, PersistConfig::default()).await?
        }
        None => ExecDriver::start(config, engine).await?,
    };
    Ok((driver, context))
}

async fn best_bid(sim: &RunningSim) -> Result<Price> {
    let url = format!("http://{}/sim/v1/book/{SYMBOL}?depth=1", sim.local_addr());
    let book: serde_json::Value = reqwest::get(url).await?.json().await?;
    let text = book["bids"][0][0]
        .as_str()
        .context("the simulator's book has no bid")?;
    Ok(Price::parse(text)?)
}

/// A buy at 95 % of the bid, in whole dollars: valid, inside the band, never filled.
fn resting_buy(request_id: &str, bid: Price) -> OrderRequest {
    let whole = bid.raw() / Price::ONE.raw() * 95 / 100;
    OrderRequest {
        request_id: request_id.to_owned(),
        symbol: SYMBOL.to_owned(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        price: Some(Price::from_raw(whole * Price::ONE.raw())),
        quantity: Qty::from_raw(Qty::ONE.raw() / 100),
        stop_price: None,
        reduce_only: false,
        close_position: false,
        position_side: PositionSide::Both,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

/// A loopback TCP relay that notes when the first client byte arrives after [`Relay::arm`].
struct Relay {
    addr: SocketAddr,
    seen: Arc<Mutex<Watch>>,
}

#[derive(Debug, Default)]
struct Watch {
    armed: bool,
    at: Option<Instant>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Watch::default()));
        let shared = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                tokio::spawn(relay(client, target, Arc::clone(&shared)));
            }
        });
        Ok(Self { addr, seen })
    }

    fn arm(&self) {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Watch {
            armed: true,
            at: None,
        };
    }

    fn seen(&self) -> Option<Instant> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).at
    }
}

async fn relay(client: TcpStream, target: SocketAddr, seen: Arc<Mutex<Watch>>) {
    let Ok(venue) = TcpStream::connect(target).await else {
        return;
    };
    let _ = venue.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut venue_read, mut venue_write) = venue.into_split();
    let upstream = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(n) = client_read.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            note(&seen);
            if venue_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut venue_read, &mut client_write).await;
    };
    tokio::join!(upstream, downstream);
}

fn note(seen: &Mutex<Watch>) {
    let now = Instant::now();
    let mut watch = seen.lock().unwrap_or_else(PoisonError::into_inner);
    if watch.armed {
        watch.armed = false;
        watch.at = Some(now);
    }
}

fn print_table(report: &ExecReport) {
    println!(
        "order request → bytes on the socket ({}, {} journal, {} orders, loopback)",
        report.transport, report.journal, report.orders
    );
    let (p50, p99, p999, max) = (report.p50_ns, report.p99_ns, report.p999_ns, report.max_ns);
    println!("{}", super::percentile_line(p50, p99, p999, max));
    println!("order request → venue's answer");
    println!(
        "  p50 {}  p99 {}",
        super::micros(report.answer_p50_ns),
        super::micros(report.answer_p99_ns)
    );
}
