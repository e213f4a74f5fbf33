//! The UI in a real browser: headless Chromium (Debian's `chromium` package) driven by
//! playwright-core (`frontend/browser`, installed with `npm ci` by `scripts/test-all`). The
//! journey script also takes a screenshot of each main page into `target/screenshots`; with
//! `UPDATE_SCREENSHOTS=1` they replace the README's in `docs/screenshots`.

use std::path::Path;
use std::process::Command;

use crate::helpers::start;

#[tokio::test]
async fn the_ui_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scripts = root.join("browser");
    assert!(
        scripts.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci` in frontend/browser (scripts/test-all does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing: apt-get install chromium (scripts/test-all does)");

    let platform = start(false).await;
    let sre = platform.users.user("sre").await;
    let shots = root.join("../target/screenshots");
    let (ui, incidents) = (platform.ui.clone(), platform.incidents.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("journey.mjs")
            .current_dir(&scripts)
            .env("UI", ui)
            .env("EMAIL", users::testing::ADMIN_EMAIL)
            .env("PASSWORD", users::testing::ADMIN_PASSWORD)
            .env("API", incidents)
            .env("TOKEN", sre.token)
            .env("SHOTS", &shots)
            .env("CHROMIUM", chromium)
            .output()
    })
    .await
    .expect("joined")
    .expect("node runs");
    assert!(
        output.status.success(),
        "the browser journey failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = root.join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("docs/screenshots");
        for entry in std::fs::read_dir(root.join("../target/screenshots")).expect("screenshots") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, docs.join(path.file_name().expect("a name"))).expect("copied");
        }
    }
}
