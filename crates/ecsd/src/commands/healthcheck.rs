//! `ecsd healthcheck`: the container health check of `ecsd run` (`GET /healthz` on the
//! local port, or `--url`), so the image needs no curl.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;

use crate::cli::HealthcheckArgs;

pub(crate) fn run(args: &HealthcheckArgs) -> ExitCode {
    match check(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::from(1)
        }
    }
}

fn check(args: &HealthcheckArgs) -> Result<(), String> {
    let (host, port, path) = target(args)?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, args.timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let io = |e: std::io::Error| format!("{addr}: {e}");
    stream.set_read_timeout(Some(args.timeout)).map_err(io)?;
    stream.set_write_timeout(Some(args.timeout)).map_err(io)?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .map_err(io)?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(io)?;
    let line = String::from_utf8_lossy(&head[..n]);
    match line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        other => Err(format!(
            "GET {path} answered {}",
            other.unwrap_or("nothing")
        )),
    }
}

/// Host, port and path to ask: from `--url`, else `/healthz` on the port of `--listen`.
fn target(args: &HealthcheckArgs) -> Result<(String, u16, String), String> {
    let port_of = |hostport: &str| {
        hostport
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
    };
    match &args.url {
        None => {
            let (_, port) = port_of(&args.listen)
                .ok_or_else(|| format!("--listen {} has no port", args.listen))?;
            Ok(("127.0.0.1".to_owned(), port, "/healthz".to_owned()))
        }
        Some(url) => {
            let rest = url
                .strip_prefix("http://")
                .ok_or_else(|| format!("--url {url}: only http:// URLs"))?;
            let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
            let (host, port) = port_of(hostport).unwrap_or((hostport.to_owned(), 80));
            Ok((host, port, format!("/{path}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn args(listen: &str, url: Option<&str>) -> HealthcheckArgs {
        HealthcheckArgs {
            listen: listen.to_owned(),
            url: url.map(str::to_owned),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_target_is_healthz_on_the_listen_port_unless_a_url_says_otherwise() {
        assert_eq!(
            target(&args("0.0.0.0:9090", None)),
            Ok(("127.0.0.1".to_owned(), 9090, "/healthz".to_owned()))
        );
        assert_eq!(
            target(&args("0.0.0.0:9090", Some("http://127.0.0.1:9191/readyz"))),
            Ok(("127.0.0.1".to_owned(), 9191, "/readyz".to_owned()))
        );
        assert!(target(&args("0.0.0.0", None)).is_err());
        assert!(target(&args("0.0.0.0:9090", Some("https://x/healthz"))).is_err());
    }
}
