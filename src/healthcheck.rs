//! `polystatus healthcheck URL`: exits 0 when `URL` answers 2xx. Container images carry no
//! curl; this is what docker-compose health checks run.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Checks an `http://host:port/path` URL with a plain HTTP/1.0 GET.
pub fn check(url: &str, timeout: Duration) -> anyhow::Result<()> {
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow::anyhow!("only http:// URLs are supported"))?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let addr = authority.to_socket_addrs()?.next().ok_or_else(|| anyhow::anyhow!("{authority} does not resolve"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: polystatus-healthcheck\r\n\r\n")?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') { Ok(()) } else { anyhow::bail!("{url} answered {status:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_check() {
        assert!(check("https://example.com/", Duration::from_millis(100)).is_err());
        let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port");
        assert!(check(&format!("http://{closed}/health/ready"), Duration::from_millis(200)).is_err());
    }
}
