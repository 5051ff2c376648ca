//! `kestrel md` as a user runs it: against a `kestrel sim` process, it serves a healthy
//! `/health` and the book, and `kestrel md tail` in a third process reads its ring.

// Test code: a panic is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(args)
        .env_remove("KESTREL_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

/// Reads the child's stdout until a line contains `needle`.
fn wait_for_line(child: &mut Running, needle: &str) -> String {
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.find_map(|line| line.ok().filter(|l| l.contains(needle)));
    line.unwrap_or_else(|| panic!("no line with {needle:?}"))
}

/// A plain HTTP/1.1 GET of `http://host:port/path`; returns status and JSON body.
fn get(url: &str) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn md_follows_the_simulator_serves_its_book_and_publishes_on_the_ring() {
    let (venue, http) = (free_port(), free_port());
    let mut sim = spawn(&[
        "sim",
        "--listen",
        &format!("127.0.0.1:{venue}"),
        "--symbols",
        "BTCUSDT,ETHUSDT",
    ]);
    wait_for_line(&mut sim, "api key");
    let dir = tempfile::tempdir().unwrap();
    let ring = dir.path().join("ring");
    let ring_arg = ring.to_str().unwrap();
    let venue_url = format!("http://127.0.0.1:{venue}");
    let mut md = spawn(&[
        "md",
        "--venue-url",
        &venue_url,
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--http",
        &format!("127.0.0.1:{http}"),
        "--ring",
        ring_arg,
    ]);
    wait_for_line(&mut md, "kestrel md following");

    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let (status, body) = get(&format!("http://127.0.0.1:{http}/health"));
        if status == 200 && body["status"] == "healthy" || Instant::now() > deadline {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(health["connections"]["ETHUSDT"], "connected");
    let (status, book) = get(&format!(
        "http://127.0.0.1:{http}/api/v1/orderbook/BTCUSDT?depth=5"
    ));
    assert_eq!(status, 200);
    assert_eq!(book["bids"].as_array().map(Vec::len), Some(5), "{book}");
    assert!(book["lastUpdateId"].as_u64().unwrap() > 0 && book["bids"][0][0].is_string());
    let (missing, _) = get(&format!(
        "http://127.0.0.1:{http}/api/v1/orderbook/NOPEUSDT"
    ));
    assert_eq!(missing, 404);

    let tail = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args([
            "md", "tail", "--ring", ring_arg, "--symbol", "ETHUSDT", "--count", "5",
        ])
        .output()
        .unwrap();
    assert!(
        tail.status.success(),
        "{}",
        String::from_utf8_lossy(&tail.stderr)
    );
    let events: Vec<serde_json::Value> = String::from_utf8(tail.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 5);
    assert!(
        events
            .iter()
            .all(|e| e["symbol"] == "ETHUSDT" && (e["kind"] == "depth" || e["kind"] == "trade")),
        "{events:?}"
    );
}
