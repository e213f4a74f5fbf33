//! Assembles a service's HTTP server the same way for every service: request ids, metrics,
//! problem+json for every extractor failure, health, metrics and docs routes, 404/405.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::Server;
use actix_web::dev::ServiceRequest;
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpRequest, HttpServer, web};
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::TokenVerifier;
use crate::extract::{BodyLimit, path_error, query_error};
use crate::health::Readiness;
use crate::metrics::Metrics;
use crate::openapi::KnownRoutes;
use crate::settings::ServerSettings;
use crate::{ApiError, health, metrics, openapi};

/// What every service's server carries besides its own routes.
pub struct Common {
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub verifier: TokenVerifier,
}

/// Binds `settings.host:settings.port` (0 picks a free port).
pub fn bind(settings: &ServerSettings) -> std::io::Result<TcpListener> {
    TcpListener::bind((settings.host.as_str(), settings.port))
}

/// Builds the server for `listener`. `configure` registers the service's own routes and state;
/// `base` is its OpenAPI title and tags. Signals are not handled here: the caller stops the
/// server through its handle, so several services can share one process.
pub fn build<F>(
    listener: TcpListener,
    settings: &ServerSettings,
    base: OpenApi,
    common: Common,
    configure: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut utoipa_actix_web::service_config::ServiceConfig) + Clone + Send + 'static,
{
    let api = openapi::document(base, configure.clone());
    let known = Arc::new(KnownRoutes::new(
        &api,
        &[
            ("/health", &["GET"]),
            ("/health/live", &["GET"]),
            ("/health/ready", &["GET"]),
            ("/metrics", &["GET"]),
            ("/openapi.json", &["GET"]),
        ],
    ));
    let body_limit = BodyLimit(settings.body_limit_bytes);
    let metrics = web::Data::new(common.metrics);
    let readiness = web::Data::new(common.readiness);
    let verifier = web::Data::new(common.verifier);
    let server = HttpServer::new(move || {
        let known = Arc::clone(&known);
        let guard = Arc::clone(&known);
        let configure = configure.clone();
        App::new()
            .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
                let refused = guard.refuse_before_routing(&req);
                async move {
                    match refused {
                        Some(problem) => Ok(req.error_response(problem)),
                        None => next.call(req).await,
                    }
                }
            }))
            .wrap(from_fn(metrics::middleware))
            .wrap(from_fn(crate::request_id::middleware))
            .wrap(DefaultHeaders::new().add(("x-content-type-options", "nosniff")))
            .app_data(body_limit)
            .app_data(metrics.clone())
            .app_data(readiness.clone())
            .app_data(verifier.clone())
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit.0)
                    .error_handler(|err, _| ApiError::BadRequest(format!("the body is not valid JSON: {err}")).into()),
            )
            .route("/health/live", web::get().to(health::live))
            .route("/health/ready", web::get().to(health::ready))
            // Load balancers and uptime checkers probe `/health` by habit.
            .route("/health", web::get().to(health::ready))
            .route("/metrics", web::get().to(metrics::handler))
            .route("/docs", web::get().to(openapi::docs_redirect))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api.clone()))
            .configure(move |cfg| {
                let mut cfg = utoipa_actix_web::service_config::ServiceConfig::new(cfg);
                configure(&mut cfg);
            })
            .default_service(web::to(move |req: HttpRequest| {
                let known = Arc::clone(&known);
                async move { Err::<actix_web::HttpResponse, ApiError>(known.unmatched(&req)) }
            }))
    })
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(settings.shutdown_timeout().as_secs())
    .client_request_timeout(Duration::from_secs(10))
    .run();
    Ok(server)
}

/// A running service: its HTTP server and its background workers, stopped together.
#[derive(Clone)]
pub struct ServiceHandle {
    server: actix_web::dev::ServerHandle,
    workers: tokio_util::sync::CancellationToken,
}

impl ServiceHandle {
    pub fn new(server: actix_web::dev::ServerHandle, workers: tokio_util::sync::CancellationToken) -> Self {
        Self { server, workers }
    }

    /// Lets in-flight requests finish, then stops the workers.
    pub async fn stop(&self) {
        self.server.stop(true).await;
        self.workers.cancel();
    }

    /// Stops the service on Ctrl-C or SIGTERM.
    pub fn stop_on_signal(&self) {
        let handle = self.clone();
        tokio::spawn(async move {
            crate::shutdown::signal().await;
            handle.stop().await;
        });
    }
}
