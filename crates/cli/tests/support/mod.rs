// Each test binary that declares `mod support;` uses only a subset of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Running `kestrel` as a user does in the CLI's process tests: child processes killed when
//! the test ends, waits on their output lines, free loopback ports, and plain HTTP reads.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child when the test ends, pass or fail.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(args: &[&str]) -> Running {
    spawn_with(args, &[])
}

/// Starts `kestrel` with extra environment (configuration overrides). Market data is not
/// written to a store unless the test asks for one, so nothing lands in the working directory.
pub fn spawn_with(args: &[&str], env: &[(&str, &str)]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(args)
        .env_remove("KESTREL_CONFIG")
        .env("KESTREL_MARKET_DATA__ENABLE_DATABASE_WRITES", "false")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

/// Reads the child's stdout until a line contains `needle`.
pub fn wait_for_line(child: &mut Running, needle: &str) -> String {
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.find_map(|line| line.ok().filter(|l| l.contains(needle)));
    // Keep reading, as a supervisor would, so later output never meets a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    line.unwrap_or_else(|| panic!("no line with {needle:?}"))
}

/// A plain HTTP/1.1 GET of `http://host:port/path`; returns status and JSON body.
pub fn get(url: &str) -> (u16, serde_json::Value) {
    let (status, body) = request("GET", url, "");
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// One plain HTTP/1.1 request to `http://host:port/path`; returns status and body text.
fn request(method: &str, url: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

pub fn terminate(child: &mut Running) {
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "kestrel exited with {exit}");
}

/// A `kestrel sim` on `symbols` (comma-separated) with its synthetic market running, and its
/// REST base URL.
pub fn start_sim(symbols: &str) -> (Running, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut sim = spawn(&["sim", "--listen", &listen, "--symbols", symbols]);
    wait_for_line(&mut sim, "api key");
    (sim, format!("http://{listen}"))
}

/// Pauses the synthetic market of the simulator at `venue` (`http://host:port`): its book
/// then holds still.
pub fn pause_market(venue: &str) {
    let (status, body) = request("POST", &format!("{venue}/sim/v1/market/pause"), "{}");
    assert_eq!(status, 200, "pause: {body}");
}

/// POSTs `body` as JSON to `url`; returns the status and the JSON answer (`null` when the
/// answer is not JSON).
pub async fn post_json(url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// A price 3 % under the best BTCUSDT bid of the simulator at `venue`, in whole dollars (on
/// any tick): a buy there rests.
pub async fn resting_price(venue: &str) -> String {
    let book: serde_json::Value = reqwest::get(format!("{venue}/sim/v1/book/BTCUSDT?depth=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bid = book["bids"][0][0].as_str().unwrap();
    let whole: u64 = bid.split('.').next().unwrap().parse().unwrap();
    (whole * 97 / 100).to_string()
}
