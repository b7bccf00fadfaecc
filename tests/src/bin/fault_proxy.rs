//! `ecsd-fault-proxy`: the tests' fault proxy as a program, for `scripts/bench`.
//!
//! ```text
//! ecsd-fault-proxy UPSTREAM [--latency-ms MS] [--bucket ACTION:BURST:PER_SECOND]...
//!                  [--random THROTTLED,UNAVAILABLE,ANSWER_LOST]
//! ```
//! Prints the URL to point `AWS_ENDPOINT_URL` at, then forwards until killed.

use std::io::Write;
use std::time::Duration;

use ecsd_tests::proxy::{FaultProxy, Mode};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(upstream) = args.first() else {
        usage("missing UPSTREAM");
    };
    let proxy = FaultProxy::start(upstream);
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--latency-ms" => {
                let ms = value
                    .parse()
                    .unwrap_or_else(|_| usage("--latency-ms takes milliseconds"));
                proxy.set_latency(Duration::from_millis(ms));
            }
            "--bucket" => {
                let parts: Vec<&str> = value.split(':').collect();
                let [action, burst, rate] = parts[..] else {
                    usage("--bucket takes ACTION:BURST:PER_SECOND");
                };
                let (Ok(burst), Ok(rate)) = (burst.parse(), rate.parse()) else {
                    usage("--bucket takes ACTION:BURST:PER_SECOND");
                };
                proxy.set_bucket(action, burst, rate);
            }
            "--random" => {
                let p: Vec<f64> = value.split(',').filter_map(|x| x.parse().ok()).collect();
                let [throttled, unavailable, answer_lost] = p[..] else {
                    usage("--random takes THROTTLED,UNAVAILABLE,ANSWER_LOST");
                };
                proxy.set_mode(Mode::Random {
                    throttled,
                    unavailable,
                    answer_lost,
                });
            }
            other => usage(&format!("unknown flag {other}")),
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", proxy.url());
    let _ = out.flush();
    loop {
        std::thread::park();
    }
}

fn usage(problem: &str) -> ! {
    let _ = writeln!(
        std::io::stderr(),
        "ecsd-fault-proxy: {problem}\nusage: ecsd-fault-proxy UPSTREAM [--latency-ms MS] [--bucket ACTION:BURST:PER_SECOND]... [--random T,U,A]"
    );
    std::process::exit(2);
}
