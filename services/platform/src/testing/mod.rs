//! Test support: a private `redis-server` on a free port in a temporary directory, and a fresh
//! key prefix for every app instance, so tests never touch a Redis they did not start.

pub mod load;
pub mod smtp;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A `redis-server` owned by the test process. It stops when dropped, and also when the test
/// process dies without dropping it: a small shell waits on our stdin pipe and kills the server
/// when the pipe closes.
pub struct TestRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<(Child, ChildStdin)>,
}

impl TestRedis {
    /// The server shared by every test of this test binary (started on first use).
    pub fn shared() -> &'static TestRedis {
        static SHARED: OnceLock<TestRedis> = OnceLock::new();
        SHARED.get_or_init(TestRedis::start)
    }

    /// A server of one's own, for tests that stop and restart it.
    pub fn start() -> TestRedis {
        let dir = tempfile::tempdir().expect("a temporary directory for redis-server");
        let port = free_port();
        let mut redis = TestRedis { port, dir, child: None };
        redis.restart();
        redis
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)).
    pub fn restart(&mut self) {
        self.stop();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"redis-server "$@" & pid=$!; read -r _ignored; kill "$pid" 2>/dev/null; wait "$pid""#)
            .arg("sh")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--loglevel", "warning", "--logfile", ""])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the tests (apt-get install -y redis-server)");
        let stdin = child.stdin.take().expect("piped stdin");
        self.child = Some((child, stdin));
        wait_until_ready(self.port);
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some((_, stdin)) = self.child.as_mut() {
            let _ = stdin.write_all(b"\n");
        }
        self.stop();
    }
}

fn wait_until_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("a valid Redis URL");
    while Instant::now() < deadline {
        if let Ok(mut conn) = client.get_connection()
            && redis::cmd("PING").query::<String>(&mut conn).is_ok()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server did not start on port {port} within 10 s");
}

/// A port nobody listens on right now, for a server a test starts later.
///
/// It is picked below the kernel's ephemeral range. A port from that range (what binding port 0
/// hands out) can be taken in the meantime as the local end of any outgoing connection, such as
/// another test's Redis or HTTP client, and the later bind then fails with "address in use".
pub fn free_port() -> u16 {
    let (low, high) = below_ephemeral_range();
    let span = u128::from(high - low);
    for _ in 0..1000 {
        let candidate = low + u16::try_from(uuid::Uuid::new_v4().as_u128() % span).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", candidate)).is_ok() && TcpListener::bind(("0.0.0.0", candidate)).is_ok() {
            return candidate;
        }
    }
    panic!("no free port between {low} and {high}")
}

/// Ports under the ephemeral range (`ip_local_port_range`, 32768 by default), above 10000.
fn below_ephemeral_range() -> (u16, u16) {
    let first_ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u16>().ok()))
        .unwrap_or(32768);
    let high = first_ephemeral.max(4096);
    (if high > 12_000 { 10_000 } else { 1024 }, high)
}

/// A key prefix no other app instance uses.
pub fn unique_prefix(service: &str) -> String {
    format!("test-{}:{service}:", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Sends a request as the API tests do: with `token` as a bearer token and `body` as JSON, when
/// given.
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> reqwest::Response {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request sent")
}

/// The body of a problem response, checking that it is `application/problem+json`.
pub async fn problem(resp: reqwest::Response) -> serde_json::Value {
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(ct, "application/problem+json", "problems are application/problem+json");
    resp.json().await.expect("a problem document")
}

/// The field names a validation problem lists, sorted.
pub fn fields(problem: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    names.sort();
    names
}
