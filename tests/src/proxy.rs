//! A fault-injecting HTTP proxy between ecsd and the emulator, for tests: it forwards
//! one request per connection and, depending on its mode, answers a share of requests
//! with a throttling error or a 503, drops the connection after forwarding (the request
//! took effect but its answer is lost), refuses every connection (an outage), or holds
//! connections without answering (a hung AWS).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What the proxy does with the requests it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Every `every`-th request gets a fault, in turn: throttled, 503, answer lost.
    Faulty { every: u64 },
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
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("proxy bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Pass,
            requests: 0,
            faults: BTreeMap::new(),
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

    pub fn set_mode(&self, mode: Mode) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .mode = mode;
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

fn handle(mut conn: TcpStream, upstream: &str, state: &Mutex<State>) {
    let mode = state.lock().unwrap_or_else(PoisonError::into_inner).mode;
    match mode {
        Mode::Down => return,
        Mode::BlackHole => {
            std::thread::sleep(Duration::from_secs(120));
            return;
        }
        Mode::Pass | Mode::Faulty { .. } => {}
    }
    let Some((head, body)) = read_request(&mut conn) else {
        return;
    };
    let fault = {
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        s.requests += 1;
        let fault = match s.mode {
            Mode::Faulty { every } if every > 0 && s.requests.is_multiple_of(every) => Some(
                ["throttled", "unavailable", "answer_lost"][((s.requests / every) % 3) as usize],
            ),
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
            }
        }
    }
}
