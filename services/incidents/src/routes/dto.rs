//! What the API returns for an incident, and small helpers shared by the handlers.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, HttpResponseBuilder};
use platform::ApiError;
use platform::extract::etag;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Incident, IncidentId, Postmortem, ProviderEventLink, Source, Status, TimelineEntry};

/// An incident: the reference fields (`id`, `title`, `sev`, `services`, `summary`, `status`,
/// `started_at`, `commander`) and what PolyStatus tracks besides.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentView {
    #[schema(example = "INC-4F2A9C")]
    pub id: String,
    #[schema(example = "EU API latency")]
    pub title: String,
    /// 1 (worst) to 4.
    #[schema(minimum = 1, maximum = 4, example = 2)]
    pub sev: u8,
    #[schema(example = json!(["api", "db"]))]
    pub services: Vec<String>,
    #[schema(example = "p95 > 2s in eu-west")]
    pub summary: String,
    pub status: Status,
    /// Epoch seconds.
    #[schema(example = 1730073600)]
    pub started_at: i64,
    /// The commander's user id, or null.
    pub commander: Option<String>,
    pub source: Source,
    /// Who declared it (user or API key id).
    pub created_by: String,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub mitigated_at: Option<i64>,
    pub resolved_at: Option<i64>,
    /// User ids following it.
    pub followers: Vec<String>,
    pub provider_events: Vec<ProviderEventLink>,
    /// `none`, `draft` or `published`; with `?expand=postmortem`, the postmortem itself (null
    /// when there is none yet).
    #[schema(schema_with = postmortem_field)]
    pub postmortem: PostmortemField,
    /// Only with `?expand=timeline`: the whole timeline, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub timeline: Option<Vec<TimelineEntry>>,
    /// Changes with every write; also the ETag.
    pub version: u64,
}

impl From<&Incident> for IncidentView {
    fn from(i: &Incident) -> Self {
        IncidentView {
            id: i.id.to_string(),
            title: i.title.clone(),
            sev: i.sev.get(),
            services: i.services.clone(),
            summary: i.summary.clone(),
            status: i.status,
            started_at: i.started_at,
            commander: i.commander.clone(),
            source: i.source,
            created_by: i.created_by.clone(),
            updated_at: i.updated_at,
            acknowledged_at: i.acknowledged_at,
            mitigated_at: i.mitigated_at,
            resolved_at: i.resolved_at,
            followers: i.followers.iter().cloned().collect(),
            provider_events: i.provider_events.clone(),
            postmortem: PostmortemField::State(match &i.postmortem {
                None => "none",
                Some(p) if p.published_at.is_some() => "published",
                Some(_) => "draft",
            }),
            timeline: None,
            version: i.version,
        }
    }
}

/// A service name as requests give it: 1 to 64 letters, digits, `-`, `_` or `.` (stored
/// lower-cased; spaces around are dropped).
pub struct ServiceName;

impl utoipa::PartialSchema for ServiceName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^\s*[A-Za-z0-9._-]{1,64}\s*$"))
            .examples(["api"])
            .into()
    }
}

impl ToSchema for ServiceName {}

/// An incident's `postmortem`: its state, or with `?expand=postmortem` the document.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum PostmortemField {
    State(&'static str),
    Expanded(Option<Box<Postmortem>>),
}

fn postmortem_field() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let state = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["none", "draft", "published"]));
    OneOfBuilder::new()
        .item(state)
        .item(utoipa::openapi::Ref::from_schema_name("Postmortem"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// A response for one incident, with its ETag.
pub fn with_etag(status: StatusCode, incident: &Incident) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::ETAG, etag(incident.version)));
    builder
}

/// The incident id of a path, or 404 (a malformed id names no incident).
pub fn incident_id(raw: &str) -> Result<IncidentId, ApiError> {
    IncidentId::parse(raw).map_err(|_| ApiError::not_found(format!("no incident {raw}")))
}
