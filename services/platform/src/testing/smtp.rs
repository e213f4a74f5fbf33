//! A small SMTP server on loopback for the tests: it speaks enough SMTP for a real client
//! (lettre) to deliver, keeps what it receives, and can refuse chosen recipients.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// While set, recipients containing "flaky" are refused with 550.
    pub refuse_flaky: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let sink = SmtpSink { port: listener.local_addr().expect("addr").port(), ..Default::default() };
        let server = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().session(stream));
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Mails received for `address` (waits up to 5 s for at least `n`).
    pub async fn mails_to(&self, address: &str, n: usize) -> Vec<Received> {
        for _ in 0..100 {
            let mails: Vec<Received> =
                self.received().into_iter().filter(|m| m.to.iter().any(|t| t == address)).collect();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.received().into_iter().filter(|m| m.to.iter().any(|t| t == address)).collect()
    }

    async fn session(self, stream: tokio::net::TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
        let mut to = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("MAIL FROM") {
                to.clear();
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO") {
                let address = line[8..].trim().trim_start_matches(':').trim().trim_matches(['<', '>']).to_string();
                if address.contains("flaky") && self.refuse_flaky.load(Ordering::SeqCst) {
                    b"550 no such mailbox\r\n"
                } else {
                    to.push(address);
                    b"250 OK\r\n"
                }
            } else if upper == "DATA" {
                let _ = write.write_all(b"354 end with .\r\n").await;
                let mut data = String::new();
                while let Ok(Some(l)) = lines.next_line().await {
                    if l == "." {
                        break;
                    }
                    data.push_str(&l);
                    data.push('\n');
                }
                if let Ok(mut received) = self.received.lock() {
                    received.push(Received { to: to.clone(), data });
                }
                b"250 queued\r\n"
            } else if upper == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 OK\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

/// The value of a `token=` link parameter in a mail (bodies arrive quoted-printable).
pub fn token_in(data: &str, path: &str) -> String {
    let unfolded = data.replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find(&format!("{path}?token=")).expect("the link") + path.len() + 7;
    unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect()
}
