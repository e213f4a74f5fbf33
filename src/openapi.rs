//! `polystatus openapi`: each service's OpenAPI document, generated from its code into
//! `swaggers/<service>.yaml`, and the check that the committed files are current.

use std::path::{Path, PathBuf};

/// Every service's document.
pub fn documents() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    crate::services::SERVICES.iter().filter_map(|s| s.openapi.map(|doc| (s.name, doc()))).collect()
}

fn path(dir: &Path, service: &str) -> PathBuf {
    dir.join(format!("{service}.yaml"))
}

fn render(api: &utoipa::openapi::OpenApi) -> anyhow::Result<String> {
    Ok(api.to_yaml()?)
}

/// Writes every document into `dir`.
pub fn write(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    documents()
        .iter()
        .map(|(service, api)| {
            let file = path(dir, service);
            std::fs::write(&file, render(api)?)?;
            Ok(file)
        })
        .collect()
}

/// The files in `dir` that are missing or differ from the code, with what to run.
pub fn check(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut stale = Vec::new();
    for (service, api) in documents() {
        let file = path(dir, service);
        let expected = render(&api)?;
        match std::fs::read_to_string(&file) {
            Ok(actual) if actual == expected => {}
            Ok(_) => stale.push(format!("{} differs from the code", file.display())),
            Err(_) => stale.push(format!("{} is missing", file.display())),
        }
    }
    Ok(stale)
}
