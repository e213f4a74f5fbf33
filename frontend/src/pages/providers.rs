//! Cloud providers: add from the catalogue or by URL, health and active events, refresh now, and
//! the cause-and-effect graph drawn as SVG (behind the `ui-cause-graph` flag).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::{Form, Query, field, form_session, refuse, signed_in};
use crate::api::{Service, encode};
use crate::views::{Graph, KnownProvider, Provider, ProviderEvent};
use crate::{AppState, Features, Layout, after, page, section};

#[derive(Template)]
#[template(path = "providers.html")]
pub struct ProvidersPage {
    pub layout: Layout,
    pub providers: Vec<Provider>,
    pub events: Vec<ProviderEvent>,
    pub catalogue: Vec<KnownProvider>,
    pub unavailable: Option<String>,
    pub features: Features,
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = Some(session.token.as_str());
    let api = &state.api;
    let (providers, events, catalogue, features) = tokio::join!(
        api.get::<Vec<Provider>>(Service::Csp, "/api/v1/csp/providers", token),
        api.get::<Vec<ProviderEvent>>(Service::Csp, "/api/v1/csp/events?active=true", token),
        api.get::<Vec<KnownProvider>>(Service::Csp, "/api/v1/csp/catalogue", token),
        Features::for_user(api, &session),
    );
    let (providers, unavailable) = section(providers);
    let layout = Layout::new("Cloud providers", "providers", Some(&session)).with_messages(&query);
    page(&ProvidersPage {
        layout,
        providers: providers.unwrap_or_default(),
        events: events.unwrap_or_default(),
        catalogue: catalogue.unwrap_or_default(),
        unavailable,
        features,
    })
}

pub async fn add(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut body = json!({"name": field(&form, "name")});
    for optional in ["feed_url", "type", "incident_threshold"] {
        if !field(&form, optional).is_empty() {
            body[optional] = json!(field(&form, optional));
        }
    }
    let outcome = state
        .api
        .post(Service::Csp, "/api/v1/csp/providers", Some(&session.token), &body)
        .await
        .map(|p| format!("Watching {}.", p["display_name"].as_str().unwrap_or("the provider")));
    after("/providers", outcome)
}

pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    form: Form,
) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let path = format!("/api/v1/csp/refresh?provider={}", encode(&name));
    let outcome = state.api.post(Service::Csp, &path, Some(&session.token), &json!({})).await.map(|r| {
        let e = &r["events"];
        match r["outcome"].as_str() {
            Some("failed") => {
                format!("{name}: the feed failed ({})", r["errors"][0].as_str().unwrap_or("unknown reason"))
            }
            Some("not_modified") => format!("{name}: nothing changed."),
            _ => format!(
                "{name}: {} new, {} updated, {} resolved.",
                e["new"].as_u64().unwrap_or(0),
                e["updated"].as_u64().unwrap_or(0),
                e["resolved"].as_u64().unwrap_or(0)
            ),
        }
    });
    after("/providers", outcome)
}

/// The providers as boxes in dependency layers, declared dependencies as grey arrows and the
/// active propagation as red arrows labelled with their confidence.
pub async fn graph_svg(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !Features::for_user(&state.api, &session).await.cause_graph {
        return refuse(
            StatusCode::NOT_FOUND,
            Some(&session),
            "Not available",
            "The cause-and-effect graph is turned off.",
        );
    }
    match state.api.get::<Graph>(Service::Csp, "/api/v1/csp/graph", Some(&session.token)).await {
        Ok(graph) => HttpResponse::Ok().content_type("image/svg+xml").body(draw(&graph)),
        Err(e) => HttpResponse::ServiceUnavailable().content_type("image/svg+xml").body(message_svg(&e.to_string())),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn message_svg(text: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="480" height="60" role="img"><text x="10" y="35" font-family="sans-serif" font-size="14">{}</text></svg>"##,
        escape(text)
    )
}

/// Lays the providers out in columns by dependency depth (providers nothing depends on... to the
/// right) and draws the arrows.
pub fn draw(graph: &Graph) -> String {
    if graph.providers.is_empty() {
        return message_svg("No providers yet.");
    }
    let names: Vec<&str> = graph.providers.iter().map(|p| p.name.as_str()).collect();
    // Depth: 0 for providers depending on nothing; one more than their deepest dependency.
    let mut depth = vec![0usize; names.len()];
    for _ in 0..names.len() {
        for d in &graph.dependencies {
            let (Some(from), Some(to)) =
                (names.iter().position(|n| *n == d.from), names.iter().position(|n| *n == d.to))
            else {
                continue;
            };
            if depth[from] < depth[to] + 1 && depth[to] + 1 < names.len() {
                depth[from] = depth[to] + 1;
            }
        }
    }
    let (box_w, box_h, gap_x, gap_y, margin) = (170, 54, 90, 24, 20);
    let mut rows = vec![0usize; names.len() + 1];
    let mut position = Vec::with_capacity(names.len());
    for d in &depth {
        let row = rows[*d];
        rows[*d] += 1;
        position.push((margin + d * (box_w + gap_x), margin + row * (box_h + gap_y)));
    }
    let width = margin * 2 + (depth.iter().max().copied().unwrap_or(0) + 1) * (box_w + gap_x);
    let height = margin * 2 + rows.iter().max().copied().unwrap_or(1).max(1) * (box_h + gap_y);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Providers, their dependencies and the active propagation of outages"><defs><marker id="grey" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a6"/></marker><marker id="red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker></defs>"##
    );
    let centre = |i: usize| (position[i].0 as i64 + box_w as i64 / 2, position[i].1 as i64 + box_h as i64 / 2);
    let arrow = |from: usize, to: usize, colour: &str, marker: &str, label: &str, dash: &str| {
        // From the right edge of the dependent box's cause... to the left edge of the effect.
        let (x1, y1) = (position[from].0 as i64 + box_w as i64, centre(from).1);
        let (x2, y2) = (position[to].0 as i64, centre(to).1);
        let (x1, x2) =
            if x1 <= x2 { (x1, x2) } else { (position[from].0 as i64, position[to].0 as i64 + box_w as i64) };
        let mut s = format!(
            r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="2" {dash} marker-end="url(#{marker})"/>"##
        );
        if !label.is_empty() {
            s.push_str(&format!(
                r##"<text x="{}" y="{}" font-family="sans-serif" font-size="12" fill="{colour}">{}</text>"##,
                (x1 + x2) / 2,
                (y1 + y2) / 2 - 6,
                escape(label)
            ));
        }
        s
    };
    // Declared dependencies: the cause (dependency) points at the provider running on it.
    for d in &graph.dependencies {
        if let (Some(to), Some(from)) = (names.iter().position(|n| *n == d.from), names.iter().position(|n| *n == d.to))
        {
            svg.push_str(&arrow(from, to, "#8a94a6", "grey", "", r#"stroke-dasharray="5 4""#));
        }
    }
    for link in &graph.propagation {
        let (Some(from), Some(to)) = (
            names.iter().position(|n| *n == link.cause_provider),
            names.iter().position(|n| *n == link.effect_provider),
        ) else {
            continue;
        };
        svg.push_str(&arrow(from, to, "#c62828", "red", &format!("{:.0} %", link.confidence * 100.0), ""));
    }
    for (i, p) in graph.providers.iter().enumerate() {
        let (x, y) = position[i];
        let (fill, stroke) = match (p.active_events, p.health.as_str()) {
            (n, _) if n > 0 => ("#fdecea", "#c62828"),
            (_, "unhealthy") => ("#fff4e5", "#b26a00"),
            _ => ("#eef6ee", "#2e7d32"),
        };
        let status = match (p.active_events, p.health.as_str()) {
            (0, "unhealthy") => "feed failing".to_string(),
            (0, _) => "operational".to_string(),
            (1, _) => "1 active event".to_string(),
            (n, _) => format!("{n} active events"),
        };
        svg.push_str(&format!(
            r##"<g><title>{title}</title><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="2"/><text x="{tx}" y="{ty1}" font-family="sans-serif" font-size="14" font-weight="bold" fill="#1a1a1a">{name}</text><text x="{tx}" y="{ty2}" font-family="sans-serif" font-size="12" fill="#333">{status}</text></g>"##,
            title = escape(&format!("{}: {status}", p.display_name)),
            name = escape(&p.display_name.chars().take(20).collect::<String>()),
            tx = x + 10,
            ty1 = y + 22,
            ty2 = y + 42,
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{Dependency, GraphProvider, Link};

    #[test]
    fn the_graph_draws_every_provider_dependency_and_link_escaped() {
        let graph = Graph {
            providers: vec![
                GraphProvider {
                    name: "cf".into(),
                    display_name: "Cloudflare".into(),
                    health: "healthy".into(),
                    active_events: 1,
                },
                GraphProvider {
                    name: "gh".into(),
                    display_name: "Git<Hub>".into(),
                    health: "unhealthy".into(),
                    active_events: 0,
                },
            ],
            dependencies: vec![Dependency { from: "gh".into(), to: "cf".into() }],
            events: vec![],
            propagation: vec![Link {
                cause_provider: "cf".into(),
                effect_provider: "gh".into(),
                confidence: 0.8,
                ..Link::default()
            }],
        };
        let svg = draw(&graph);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("Git&lt;Hub&gt;") && !svg.contains("Git<Hub>"));
        assert!(svg.contains("80 %") && svg.contains("stroke-dasharray"));
        assert!(svg.contains("1 active event") && svg.contains("feed failing"));
    }
}
