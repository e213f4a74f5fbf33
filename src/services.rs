//! The services this workspace ships, in one list that `up`, `openapi` and the deployment
//! checks all read, so adding a service means adding it here once.

/// What the command knows about a service without starting it.
pub struct ServiceInfo {
    /// Name, binary name and OpenAPI file name.
    pub name: &'static str,
    /// Prefix of its environment variables (`USERS__`).
    pub env_prefix: &'static str,
    /// Its commented default settings (`config/base.toml`).
    pub defaults: &'static str,
    /// Builds its OpenAPI document from its routes (the web UI has none).
    pub openapi: Option<fn() -> utoipa::openapi::OpenApi>,
}

pub const SERVICES: &[ServiceInfo] = &[
    ServiceInfo {
        name: users::startup::SERVICE,
        env_prefix: users::settings::ENV_PREFIX,
        defaults: users::settings::DEFAULTS,
        openapi: Some(users::startup::openapi),
    },
    ServiceInfo {
        name: incidents::startup::SERVICE,
        env_prefix: incidents::settings::ENV_PREFIX,
        defaults: incidents::settings::DEFAULTS,
        openapi: Some(incidents::startup::openapi),
    },
    ServiceInfo {
        name: comms::startup::SERVICE,
        env_prefix: comms::settings::ENV_PREFIX,
        defaults: comms::settings::DEFAULTS,
        openapi: Some(comms::startup::openapi),
    },
    ServiceInfo {
        name: csp_ingestor::startup::SERVICE,
        env_prefix: csp_ingestor::settings::ENV_PREFIX,
        defaults: csp_ingestor::settings::DEFAULTS,
        openapi: Some(csp_ingestor::startup::openapi),
    },
    ServiceInfo {
        name: flags::startup::SERVICE,
        env_prefix: flags::settings::ENV_PREFIX,
        defaults: flags::settings::DEFAULTS,
        openapi: Some(flags::startup::openapi),
    },
    ServiceInfo {
        name: frontend::startup::SERVICE,
        env_prefix: frontend::settings::ENV_PREFIX,
        defaults: frontend::settings::DEFAULTS,
        openapi: None,
    },
];
