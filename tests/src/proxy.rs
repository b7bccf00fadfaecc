//! A fault-injecting HTTP proxy between ecsd and the emulator, for tests and benchmarks:
//! it forwards one request per connection and, depending on its mode, answers a share of
//! requests with a throttling error or a 503, drops the connection after forwarding (the
//! request took effect but its answer is lost), refuses every connection (an outage), or
//! holds connections without answering (a hung AWS). On top of any mode it can add
//! latency to every request, as AWS's tens of milliseconds, and throttle actions with a
//! token bucket each, as AWS does per account and Region. It can drop one AWS service's
//! requests only (a replica cut off from its lease table), and it keeps a log of every
//! request with its body, when it came and when its answer went back.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What the proxy does with the requests it gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Every `every`-th request gets a fault, in turn: throttled, 503, answer lost.
    Faulty { every: u64 },
    /// Faults at random, each request independently, with these probabilities (0..1).
    Random {
        throttled: f64,
        unavailable: f64,
        answer_lost: f64,
    },
    /// Close every connection at once.
    Down,
    /// Accept connections and never answer.
    BlackHole,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    requests: u64,
    faults: BTreeMap<&'static str, u64>,
    latency: Duration,
    /// Per action (`CreateService`): (burst, per second, tokens, last refill).
    buckets: BTreeMap<String, (f64, f64, f64, std::time::Instant)>,
    /// Requests by action, throttled ones included.
    by_action: BTreeMap<String, u64>,
    /// Requests to services whose `X-Amz-Target` starts with this are dropped unanswered.
    drop_target: Option<String>,
    /// Extra latency for requests whose `X-Amz-Target` starts with the prefix.
    target_latency: Option<(String, Duration)>,
    log: Vec<Logged>,
    rng: u64,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// The operation (`CreateService`, `PutItem`).
    pub action: String,
    /// The `X-Amz-Target` prefix (`DynamoDB_20120810`), or `Query` for the query protocol.
    pub service: String,
    /// When the request had arrived, and when its answer went back (or was dropped).
    pub started: std::time::Instant,
    pub ended: std::time::Instant,
    /// Whether it was forwarded and answered by the emulator.
    pub answered: bool,
    /// The request body (form-encoded for the query protocol, JSON otherwise).
    pub body: String,
    /// The region the request was signed for (its `Authorization` credential scope):
    /// which deployment target it is for, when each has a region of its own.
    pub region: String,
}

impl Logged {
    /// Whether the request changes AWS (ecsd's own lease table and event queue aside).
    pub fn mutates_aws(&self) -> bool {
        !self.service.starts_with("DynamoDB")
            && !self.service.starts_with("AmazonSQS")
            && !["Describe", "List", "Get"]
                .iter()
                .any(|p| self.action.starts_with(p))
    }
}

impl State {
    /// A uniform number in [0, 1) (xorshift; tests need no better).
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether `action`'s bucket has a token for this request (taking it).
    fn admit(&mut self, action: &str) -> bool {
        let Some((burst, rate, tokens, last)) = self.buckets.get_mut(action) else {
            return true;
        };
        let now = std::time::Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * *rate).min(*burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> FaultProxy {
        FaultProxy::start_on("127.0.0.1", upstream)
    }

    /// Starts a proxy listening on `ip` (a Docker network's gateway, for containers).
    pub fn start_on(ip: &str, upstream: &str) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener =
            TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("proxy bind on {ip}: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Pass,
            requests: 0,
            faults: BTreeMap::new(),
            latency: Duration::ZERO,
            buckets: BTreeMap::new(),
            by_action: BTreeMap::new(),
            drop_target: None,
            target_latency: None,
            log: Vec::new(),
            rng: 0x9E37_79B9_7F4A_7C15 ^ u64::from(port),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (s, upstream) = (s.clone(), upstream.clone());
                std::thread::spawn(move || handle(conn, &upstream, &s));
            }
        });
        FaultProxy { port, state, stop }
    }

    /// The URL to point `AWS_ENDPOINT_URL` at.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .mode = mode;
    }

    /// Adds `latency` before every request is forwarded.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Throttles `action` (an operation name, e.g. `CreateService`) with a token bucket
    /// of `burst` tokens refilling at `per_second`, full at first.
    pub fn set_bucket(&self, action: &str, burst: f64, per_second: f64) {
        self.lock().buckets.insert(
            action.to_owned(),
            (burst, per_second, burst, std::time::Instant::now()),
        );
    }

    /// Drops (closes unanswered) every request whose `X-Amz-Target` starts with
    /// `prefix` (`DynamoDB`), or none.
    pub fn drop_target(&self, prefix: Option<&str>) {
        self.lock().drop_target = prefix.map(str::to_owned);
    }

    /// Adds `latency` to the requests whose `X-Amz-Target` starts with `prefix` only
    /// (a slow lease table).
    pub fn set_target_latency(&self, prefix: &str, latency: Duration) {
        self.lock().target_latency = Some((prefix.to_owned(), latency));
    }

    /// Every request so far, in order of arrival.
    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    /// Requests so far by action, throttled ones included.
    pub fn requests_by_action(&self) -> BTreeMap<String, u64> {
        self.lock().by_action.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Faults injected so far, by kind (`throttled`, `unavailable`, `answer_lost`).
    pub fn faults(&self) -> BTreeMap<&'static str, u64> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .faults
            .clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one HTTP request: its head and body.
fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut byte).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        })
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut byte).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&byte[..n]);
    }
    Some((head, body))
}

fn forward(upstream: &str, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).ok()?;
    up.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let head: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let head = head.trim_end_matches("\r\n").to_owned() + "\r\nConnection: close\r\n\r\n";
    up.write_all(head.as_bytes()).ok()?;
    up.write_all(body).ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).ok()?;
    Some(response)
}

fn throttled(head: &str) -> String {
    let json = head.to_ascii_lowercase().contains("x-amz-target:");
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"#.to_owned(),
        )
    } else {
        (
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded (injected)</Message></Error><RequestId>1</RequestId></ErrorResponse>".to_owned(),
        )
    };
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The operation a request calls: from `X-Amz-Target`, or the query protocol's
/// `Action` form field.
fn action_of(head: &str, body: &[u8]) -> String {
    if let Some(t) = target_of(head) {
        return t.rsplit('.').next().unwrap_or_default().to_owned();
    }
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("other")
        .to_owned()
}

/// The region of a SigV4 `Authorization` header's credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`), if any.
fn region_of(head: &str) -> Option<String> {
    let auth = head.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.trim().to_owned())
    })?;
    let scope = auth.split("Credential=").nth(1)?;
    scope.split('/').nth(2).map(str::to_owned)
}

/// The `X-Amz-Target` header of a request head, if any.
fn target_of(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
            .map(|(_, v)| v.trim().to_owned())
    })
}

fn handle(mut conn: TcpStream, upstream: &str, state: &Mutex<State>) {
    let (mode, latency) = {
        let s = state.lock().unwrap_or_else(PoisonError::into_inner);
        (s.mode, s.latency)
    };
    match mode {
        Mode::Down => return,
        Mode::BlackHole => {
            std::thread::sleep(Duration::from_secs(120));
            return;
        }
        Mode::Pass | Mode::Faulty { .. } | Mode::Random { .. } => {}
    }
    let Some((head, body)) = read_request(&mut conn) else {
        return;
    };
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    let action = action_of(&head, &body);
    let service = target_of(&head).map_or_else(
        || "Query".to_owned(),
        |t| t.split('.').next().unwrap_or_default().to_owned(),
    );
    let started = std::time::Instant::now();
    let text = String::from_utf8_lossy(&body).into_owned();
    let region = region_of(&head).unwrap_or_default();
    let record = |answered: bool| {
        state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .log
            .push(Logged {
                action: action.clone(),
                service: service.clone(),
                started,
                ended: std::time::Instant::now(),
                answered,
                body: text.clone(),
                region: region.clone(),
            });
    };
    let (dropped, slow) = {
        let s = state.lock().unwrap_or_else(PoisonError::into_inner);
        let dropped = s
            .drop_target
            .as_ref()
            .is_some_and(|p| service.starts_with(p.as_str()));
        let slow = s
            .target_latency
            .as_ref()
            .filter(|(p, _)| service.starts_with(p.as_str()))
            .map(|(_, d)| *d);
        (dropped, slow)
    };
    if let Some(d) = slow {
        std::thread::sleep(d);
    }
    if dropped {
        record(false);
        return;
    }
    let fault = {
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        s.requests += 1;
        *s.by_action.entry(action.clone()).or_default() += 1;
        let mode = s.mode;
        let admitted = s.admit(&action);
        let fault = match mode {
            _ if !admitted => Some("throttled"),
            Mode::Faulty { every } if every > 0 && s.requests.is_multiple_of(every) => Some(
                ["throttled", "unavailable", "answer_lost"][((s.requests / every) % 3) as usize],
            ),
            Mode::Random {
                throttled,
                unavailable,
                answer_lost,
            } => {
                let r = s.random();
                if r < throttled {
                    Some("throttled")
                } else if r < throttled + unavailable {
                    Some("unavailable")
                } else if r < throttled + unavailable + answer_lost {
                    Some("answer_lost")
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(f) = fault {
            *s.faults.entry(f).or_default() += 1;
        }
        fault
    };
    match fault {
        Some("throttled") => {
            let _ = conn.write_all(throttled(&head).as_bytes());
        }
        Some("unavailable") => {
            let body = "<html>Service Unavailable</html>";
            let _ = conn.write_all(
                format!("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                    .as_bytes(),
            );
        }
        Some(_) => {
            // The request reaches AWS and takes effect; its answer never arrives.
            let _ = forward(upstream, &head, &body);
        }
        None => {
            if let Some(response) = forward(upstream, &head, &body) {
                let _ = conn.write_all(&response);
                record(true);
                return;
            }
        }
    }
    record(false);
}

/// The mutating AWS requests each replica made (its lease table aside).
pub fn writes(proxies: &[FaultProxy]) -> Vec<Vec<Logged>> {
    proxies
        .iter()
        .map(|p| p.log().into_iter().filter(Logged::mutates_aws).collect())
        .collect()
}

/// Pairs of mutating requests of two different replicas in flight at the same time.
pub fn overlapping(writes: &[Vec<Logged>]) -> usize {
    let mut n = 0;
    for (i, a) in writes.iter().enumerate() {
        for b in writes.iter().skip(i + 1) {
            n += a
                .iter()
                .flat_map(|x| b.iter().map(move |y| (x, y)))
                .filter(|(x, y)| x.started < y.ended && y.started < x.ended)
                .count();
        }
    }
    n
}
