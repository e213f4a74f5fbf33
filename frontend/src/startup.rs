//! Builds the web UI: the HTTP server with its security headers, static assets and pages.

use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpResponse, HttpServer, web};
pub use platform::server::ServiceHandle;
use tokio_util::sync::CancellationToken;

use crate::api::Api;
use crate::session::Sessions;
use crate::settings::Settings;
use crate::{AppState, pages};

pub const SERVICE: &str = "frontend";

/// No inline script or style, nothing framed, nothing loaded from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");

pub struct Application {
    port: u16,
    server: Server,
    stop: CancellationToken,
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(CSS)
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(JS)
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.sessions.ping().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable", "redis": "unreachable"}))
    }
}

async fn not_found(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = state.sessions.current(&req, &state.api).await;
    pages::refuse(
        actix_web::http::StatusCode::NOT_FOUND,
        session.as_ref(),
        "Page not found",
        "Nothing lives at this address.",
    )
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let redis = platform::redis::connect_lazy(&settings.redis)?;
        let stop = CancellationToken::new();
        let state = web::Data::new(AppState {
            api: Api::new(settings.services.clone())?,
            public: Default::default(),
            sessions: Sessions::new(
                redis,
                &settings.redis.key_prefix,
                settings.session.cookie_name.clone(),
                settings.session.idle_secs,
                settings.secure_cookies(),
            ),
            stop: stop.clone(),
        });
        let listener = platform::server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        let limit = settings.server.body_limit_bytes;
        let secure = settings.secure_cookies();
        let server = HttpServer::new(move || {
            let mut headers = DefaultHeaders::new()
                .add(("content-security-policy", CONTENT_SECURITY_POLICY))
                .add(("x-content-type-options", "nosniff"))
                .add(("x-frame-options", "DENY"))
                .add(("referrer-policy", "same-origin"))
                .add(("permissions-policy", "camera=(), microphone=(), geolocation=()"));
            if secure {
                headers = headers.add(("strict-transport-security", "max-age=31536000"));
            }
            App::new()
                .app_data(state.clone())
                .app_data(web::FormConfig::default().limit(limit))
                .wrap(Compress::default())
                .wrap(headers)
                .wrap(actix_web::middleware::from_fn(platform::request_id::middleware))
                .route("/static/app.css", web::get().to(css))
                .route("/static/app.js", web::get().to(js))
                .route("/health/live", web::get().to(live))
                .route("/health/ready", web::get().to(ready))
                .configure(pages::configure)
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .disable_signals()
        .run();
        Ok(Self { port, server, stop })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle::new(self.server.handle(), self.stop.clone())
    }

    /// Serves until stopped through [`handle`](Self::handle); live streams end at once.
    pub async fn run(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.stop.cancel();
        served
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.handle().stop_on_signal();
        self.run().await
    }
}
