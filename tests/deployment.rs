//! docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so this reads
//! them and checks them against the services' own settings: every service is there, on its
//! port, with variables its settings actually read, healthy before its dependants start.

use std::collections::BTreeMap;
use std::path::Path;

use polystatus::services::SERVICES;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Compose {
    services: BTreeMap<String, ComposeService>,
    volumes: BTreeMap<String, Option<serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct ComposeService {
    image: Option<String>,
    build: Option<serde_json::Value>,
    command: Option<Vec<String>>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    ports: Vec<String>,
    #[serde(default)]
    volumes: Vec<String>,
    #[serde(default)]
    depends_on: BTreeMap<String, DependsOn>,
    healthcheck: Option<HealthCheck>,
}

#[derive(Debug, Deserialize)]
struct DependsOn {
    condition: String,
}

#[derive(Debug, Deserialize)]
struct HealthCheck {
    test: Vec<String>,
}

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).expect(name)
}

fn compose() -> Compose {
    yaml_serde::from_str(&read("docker-compose.yml")).expect("docker-compose.yml parses")
}

/// The value of `section.key` in a service's default settings, if the key exists.
fn default_setting(defaults: &str, path: &[String]) -> Option<toml::Value> {
    let mut value: toml::Value = toml::from_str(defaults).expect("defaults parse");
    for part in path {
        value = value.get(part.as_str())?.clone();
    }
    Some(value)
}

/// Variables every service reads besides its own prefixed ones.
const SHARED_VARIABLES: &[&str] = &[
    "REDIS_URL",
    "LOG_FORMAT",
    "POLYSTATUS_ADMIN_EMAIL",
    "POLYSTATUS_ADMIN_PASSWORD",
    "NOTIFICATIONS_SLACK_ENABLED",
    "NOTIFICATIONS_SLACK_WEBHOOK_URL",
];

#[test]
fn every_service_is_composed_on_its_port_with_variables_its_settings_read() {
    let compose = compose();
    for service in SERVICES {
        let composed =
            compose.services.get(service.name).unwrap_or_else(|| panic!("{} is in docker-compose.yml", service.name));
        let port = default_setting(service.defaults, &["server".into(), "port".into()])
            .and_then(|v| v.as_integer())
            .expect("a default port");
        assert!(composed.ports.contains(&format!("{port}:{port}")), "{} publishes {port}", service.name);
        assert_eq!(
            composed.command.as_deref(),
            Some(&[service.name.to_string()][..]),
            "{} runs its own binary",
            service.name
        );
        for variable in composed.environment.keys() {
            if SHARED_VARIABLES.contains(&variable.as_str()) {
                continue;
            }
            let path: Vec<String> = variable
                .strip_prefix(service.env_prefix)
                .unwrap_or_else(|| panic!("{variable} is not read by {}", service.name))
                .split("__")
                .map(str::to_lowercase)
                .collect();
            assert!(
                default_setting(service.defaults, &path).is_some(),
                "{variable} names no setting of {}",
                service.name
            );
        }
        let env = |key: &str| composed.environment.get(&format!("{}{key}", service.env_prefix)).map(String::as_str);
        assert_eq!(env("SERVER__PORT"), Some(port.to_string().as_str()));
        assert_eq!(env("SERVER__HOST"), Some("0.0.0.0"), "{} listens outside its container", service.name);
        assert_eq!(composed.environment.get("REDIS_URL").map(String::as_str), Some("redis://redis:6379"));
        assert_eq!(composed.depends_on.get("redis").map(|d| d.condition.as_str()), Some("service_healthy"));
        let health = composed.healthcheck.as_ref().expect("a health check");
        assert!(health.test.iter().any(|t| t == &format!("http://127.0.0.1:{port}/health/ready")), "{:?}", health.test);
        assert!(composed.build.is_some(), "{} is built from the Dockerfile", service.name);
    }
}

#[test]
fn redis_persists_to_a_named_volume_and_reports_health() {
    let compose = compose();
    let redis = &compose.services["redis"];
    assert!(redis.image.as_deref().is_some_and(|i| i.starts_with("redis:")));
    let command = redis.command.as_ref().expect("a command").join(" ");
    assert!(command.contains("--appendonly yes"), "{command}");
    let volume = redis.volumes.iter().find(|v| v.ends_with(":/data")).expect("a data volume");
    let name = volume.split(':').next().expect("volume name");
    assert!(compose.volumes.contains_key(name), "{name} is a named volume");
    assert!(redis.healthcheck.as_ref().is_some_and(|h| h.test.iter().any(|t| t == "ping")));
}

#[test]
fn the_dockerfile_builds_every_binary_compose_runs() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM ")) >= 2, "multi-stage");
    let build = dockerfile.lines().find(|l| l.contains("cargo build --release")).expect("a release build");
    let copy = dockerfile.lines().find(|l| l.starts_with("COPY --from=build")).expect("binaries copied");
    for binary in compose().services.values().filter_map(|s| s.command.as_ref()).filter_map(|c| c.first()) {
        if binary == "redis-server" {
            continue;
        }
        assert!(build.contains(&format!("--bin {binary}")), "the Dockerfile builds {binary}");
        assert!(copy.contains(&format!("/release/{binary}")), "the Dockerfile ships {binary}");
    }
    assert!(dockerfile.contains("USER "), "the runtime does not run as root");
}
