//! `polystatus up` as a user runs it: starts its own Redis when none answers, serves, prints how
//! to sign in, and stops cleanly on SIGTERM, Redis included, with its data on disk.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use platform::testing::free_port;

#[tokio::test]
async fn up_starts_everything_serves_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (redis_port, users_port, incidents_port, comms_port) = (free_port(), free_port(), free_port(), free_port());
    let (csp_port, flags_port, ui_port) = (free_port(), free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_polystatus"))
        .args(["up", "--data-dir", "state"])
        .current_dir(dir.path())
        .env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}"))
        .env("USERS__SERVER__PORT", users_port.to_string())
        .env("INCIDENTS__SERVER__PORT", incidents_port.to_string())
        .env("COMMS__SERVER__PORT", comms_port.to_string())
        .env("CSP__SERVER__PORT", csp_port.to_string())
        .env("CSP__POLLING__ENABLED", "false")
        .env("FLAGS__SERVER__PORT", flags_port.to_string())
        .env("FRONTEND__SERVER__PORT", ui_port.to_string())
        .env("POLYSTATUS_ADMIN_EMAIL", "root@example.com")
        .env("POLYSTATUS_ADMIN_PASSWORD", "root password 1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("polystatus starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut banner = Vec::new();
    while !banner.iter().any(|l: &String| l.contains("Press Ctrl-C")) {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => banner.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("no banner within 30 s; got {banner:?}");
            }
        }
    }
    let banner = banner.join("\n");
    assert!(banner.contains(&format!(":{users_port}")) && banner.contains(&format!(":{incidents_port}")), "{banner}");
    assert!(banner.contains("started here"), "an embedded Redis: {banner}");
    assert!(banner.contains("root@example.com") && !banner.contains("root password 1"), "{banner}");

    let login = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{users_port}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "root@example.com", "password": "root password 1"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(login.status(), 200);
    let token = login.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_string();
    let declared = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{incidents_port}/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "smoke", "sev": 3}))
        .send()
        .await
        .expect("sent");
    assert_eq!(declared.status(), 201, "the incidents service trusts the users service's tokens");
    let id = declared.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let providers = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{csp_port}/api/v1/csp/catalogue"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(providers.status(), 200, "the ingestor runs and trusts the users service's tokens");
    let flags = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{flags_port}/flags?user=root&role=admin"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(flags.status(), 200, "the flags service runs and trusts the users service's tokens");
    let status_page = reqwest::get(format!("http://127.0.0.1:{ui_port}/status")).await.expect("sent");
    assert_eq!(status_page.status(), 200, "the web UI serves the public status page");
    let html = status_page.text().await.expect("html");
    assert!(html.contains("<h1 class=\"overall"), "{html}");
    let mut public = false;
    for _ in 0..100 {
        let status: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{comms_port}/api/v1/public/status"))
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        if status.as_array().is_some_and(|a| a.iter().any(|i| i["id"] == id.as_str())) {
            public = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(public, "the incident reached the public status through the event relay");

    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(term.success());
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("still running 10 s after SIGTERM")
    });
    assert!(status.success(), "clean exit: {status}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_err(),
        "the embedded Redis stopped with the platform"
    );
    assert!(dir.path().join("state/appendonlydir").is_dir(), "Redis kept its data in the data dir");
    assert!(dir.path().join("state/users-signing-key.pem").is_file(), "the signing key lives in the data dir");
    assert!(dir.path().join("state/service-api-key").is_file(), "so does the services' API key");
}
