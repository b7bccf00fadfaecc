//! A receiver of ecsd's notifications for tests: an HTTP/1.1 server on 127.0.0.1 that
//! records every POST (path, headers, body, and what it answered) and answers as the
//! test says: a status code, or never (it reads the request and holds the connection).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// Read the request, never answer, keep the connection open.
    Never,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub at: Instant,
    pub answered: Answer,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {}", self.body))
    }

    pub fn delivered(&self) -> bool {
        matches!(self.answered, Answer::Status(s) if (200..300).contains(&s))
    }
}

#[derive(Debug)]
struct State {
    answer: Answer,
    received: Vec<Received>,
    held: Vec<TcpStream>,
}

/// The running receiver (its threads end with the test process).
#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let port = listener.local_addr().expect("its address").port();
        let state = Arc::new(Mutex::new(State {
            answer: Answer::Status(200),
            received: Vec::new(),
            held: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Receiver { port, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_answer(&self, answer: Answer) {
        self.lock().answer = answer;
    }

    /// Every request so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The requests to paths starting with `prefix` that were answered 2xx.
    pub fn delivered(&self, prefix: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.delivered() && r.path.starts_with(prefix))
            .collect()
    }

    /// A URL to it with `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(reader_stream) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader_stream);
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        let answered = s.answer;
        s.received.push(Received {
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
            answered,
        });
        match answered {
            Answer::Never => {
                if let Ok(held) = stream.try_clone() {
                    s.held.push(held);
                }
                return;
            }
            Answer::Status(code) => {
                drop(s);
                let response = format!(
                    "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
                );
                if stream.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

/// Checks webhook bodies against the documented schema (docs/schema/notification-v1.json)
/// with python-jsonschema (Draft 2020-12, formats checked), independent of ecsd.
pub fn assert_documented(bodies: &[serde_json::Value]) {
    let file = crate::scratch_dir("notify-bodies").join("bodies.json");
    std::fs::write(&file, serde_json::Value::Array(bodies.to_vec()).to_string()).expect("write");
    let check = std::process::Command::new(crate::repo_root().join(".venv/bin/python"))
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())\n\
             for b in json.load(open(sys.argv[2])):\n    v.validate(b)\n",
        ])
        .arg(crate::repo_root().join("docs/schema/notification-v1.json"))
        .arg(&file)
        .output()
        .expect("run python");
    assert!(
        check.status.success(),
        "a body the schema refuses: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}
