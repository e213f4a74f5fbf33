//! The Redis `polystatus up` uses: `REDIS_URL` when it answers, otherwise a `redis-server` it
//! starts with append-only persistence under `./data/`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// A Redis the platform can use; stops the embedded server (if any) cleanly when dropped.
pub struct Redis {
    pub url: String,
    embedded: Option<Child>,
}

impl Redis {
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Asks the embedded server to save its append-only file and exit.
    pub async fn shutdown(&mut self) {
        if let Some(mut child) = self.embedded.take() {
            if let Ok(client) = redis::Client::open(self.url.as_str())
                && let Ok(mut conn) = client.get_multiplexed_async_connection().await
            {
                let _: Result<(), _> = redis::cmd("SHUTDOWN").query_async(&mut conn).await;
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill();
        }
    }
}

/// Whether a Redis answers PING at `url` within a second.
pub async fn reachable(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let attempt = async {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.ok()
    };
    matches!(tokio::time::timeout(Duration::from_secs(1), attempt).await, Ok(Some(_)))
}

/// `url` when reachable; otherwise starts `redis-server` on its port with data in `data_dir`.
pub async fn ensure(url: &str, data_dir: &Path) -> anyhow::Result<Redis> {
    if reachable(url).await {
        return Ok(Redis { url: url.to_string(), embedded: None });
    }
    let info = redis::Client::open(url)?.get_connection_info().clone();
    let port = match info.addr() {
        redis::ConnectionAddr::Tcp(_, port) => *port,
        _ => 6379,
    };
    std::fs::create_dir_all(data_dir)?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--appendonly", "yes", "--save", ""])
        .arg("--dir")
        .arg(data_dir)
        .args(["--logfile", "redis.log"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|_| {
            anyhow::anyhow!(
                "no Redis answers at {url} and redis-server is not installed.\n\
                 Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis)\n\
                 or point REDIS_URL at a running Redis."
            )
        })?;
    let local = format!("redis://127.0.0.1:{port}");
    let mut redis = Redis { url: local.clone(), embedded: Some(child) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if reachable(&local).await {
            return Ok(redis);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    redis.shutdown().await;
    anyhow::bail!("redis-server did not come up on port {port} (see {}/redis.log)", data_dir.display())
}
