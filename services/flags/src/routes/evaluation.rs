//! Evaluation, served from memory: the reference `GET /flags`, the OpenFeature Remote
//! Evaluation Protocol (single and bulk, with ETags) and the Server-Sent Events change stream.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use platform::ApiError;
use platform::auth::Viewer;
use platform::error::Problem;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::cache::Snapshot;
use crate::evaluate::{Context, EvalError, Evaluation, evaluate};
use crate::routes::AppState;

/// A flag's outcome for one user (the reference shape, plus the typed value and the reason).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserFlag<'a> {
    #[schema(example = "on")]
    pub variation: &'a str,
    pub off: bool,
    #[schema(value_type = Value)]
    pub value: &'a Value,
    pub reason: crate::evaluate::Reason,
}

/// `"<version>-<hash of the request>"`: the same question about the same flags has the same tag.
fn etag_for(version: u64, request: &[u8]) -> String {
    let digest = Sha256::digest(request);
    let hash = platform::hex(&digest[..8]);
    format!("\"{version}-{hash}\"")
}

fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// The context of `GET /flags`; any other query parameter is an attribute too.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FlagsQuery {
    /// The user (targeting key): any text that is not blank.
    #[param(example = "alice", pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
    user: String,
    /// The user's role: any text that is not blank.
    #[param(example = "manager", pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
    role: String,
}

/// The flags for a user: an object mapping each flag id to its variation and whether the flag
/// is off. `user` and `role` are required (the reference contract); any other query parameter
/// (team, email, custom ones) is a context attribute too.
#[utoipa::path(
    tag = "evaluation",
    params(FlagsQuery),
    responses(
        (status = 200, description = "Each flag's variation; `ETag`, and 304 for `If-None-Match`", body = BTreeMap<String, UserFlag<'static>>),
        (status = 304, description = "Unchanged since the ETag sent"),
        (status = 400, description = "user or role missing, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/flags")]
pub async fn user_flags(
    _caller: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    for required in ["user", "role"] {
        if query.get(required).is_none_or(|v| v.trim().is_empty()) {
            errors.push(platform::FieldError::new(required, "is required"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let context = Context {
        targeting_key: query.get("user").cloned(),
        attributes: query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
    };
    let snapshot = state.cache.snapshot();
    let tag = etag_for(snapshot.version, req.query_string().as_bytes());
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let mut out = BTreeMap::new();
    for (id, flag) in &snapshot.flags {
        // The user is the targeting key, so a rollout always has one; the off variation otherwise.
        let e = evaluate(flag, &context).unwrap_or(Evaluation {
            variation: &flag.off_variation,
            value: flag.value_ref(&flag.off_variation),
            reason: crate::evaluate::Reason::Default,
            off: !flag.on,
            rule: None,
        });
        out.insert(id.as_str(), UserFlag { variation: e.variation, off: e.off, value: e.value, reason: e.reason });
    }
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(out))
}

/// An OFREP success.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfrepResult<'a> {
    pub key: &'a str,
    #[schema(value_type = Value)]
    pub value: &'a Value,
    /// STATIC, TARGETING_MATCH, SPLIT, DISABLED or DEFAULT.
    pub reason: crate::evaluate::Reason,
    pub variant: &'a str,
    pub metadata: Metadata,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Metadata {
    /// The flag's version.
    pub version: u64,
}

/// An OFREP failure.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfrepError {
    pub key: String,
    /// FLAG_NOT_FOUND, TARGETING_KEY_MISSING, TYPE_MISMATCH, INVALID_CONTEXT, PARSE_ERROR or GENERAL.
    #[serde(rename = "errorCode")]
    pub error_code: &'static str,
    #[serde(rename = "errorDetails")]
    pub error_details: String,
}

/// One flag of a bulk answer: its result, or why it has none.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Outcome<'a> {
    Ok(OfrepResult<'a>),
    Err(OfrepError),
}

/// A bulk request refused as a whole: OFREP names no flag here.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfrepBulkError {
    /// INVALID_CONTEXT or PARSE_ERROR.
    #[serde(rename = "errorCode")]
    pub error_code: &'static str,
    #[serde(rename = "errorDetails")]
    pub error_details: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfrepBulk {
    /// One result or error per flag.
    #[schema(value_type = Vec<Outcome>)]
    pub flags: Vec<Value>,
}

/// An OFREP evaluation request: a JSON object with the evaluation context.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OfrepRequest {
    context: OfrepContext,
}

/// The evaluation context: the targeting key and any attributes (rules compare them).
#[derive(ToSchema)]
#[schema(example = json!({"targetingKey": "alice", "role": "sre"}))]
#[allow(dead_code)]
pub struct OfrepContext {
    /// The user; percentage rollouts need it.
    #[serde(rename = "targetingKey")]
    targeting_key: Option<String>,
}

/// The OFREP context from a request body: `{"context": {"targetingKey": ..., ...}}`. The body
/// must be a JSON object whose `context` is an object: anything else is `INVALID_CONTEXT`, a body
/// that is not JSON `PARSE_ERROR`.
fn ofrep_context(body: &[u8]) -> Result<Context, (&'static str, String)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(("INVALID_CONTEXT", "the body must be a JSON object with a context object".into()));
    }
    let request: Value =
        serde_json::from_slice(body).map_err(|e| ("PARSE_ERROR", format!("the body is not JSON: {e}")))?;
    let Value::Object(mut request) = request else {
        return Err(("INVALID_CONTEXT", "the body must be a JSON object with a context object".into()));
    };
    let mut attributes = match request.remove("context") {
        Some(Value::Object(o)) => o,
        None => return Err(("INVALID_CONTEXT", "context is required".into())),
        Some(_) => return Err(("INVALID_CONTEXT", "context must be an object".into())),
    };
    let targeting_key = match attributes.remove("targetingKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(("INVALID_CONTEXT", "targetingKey must be a string".into())),
    };
    Ok(Context { targeting_key, attributes })
}

fn ofrep_one<'a>(snapshot: &'a Snapshot, key: &'a str, context: &Context) -> Outcome<'a> {
    let Some(flag) = snapshot.flags.get(key) else {
        return Outcome::Err(OfrepError {
            key: key.to_string(),
            error_code: "FLAG_NOT_FOUND",
            error_details: format!("no flag {key}"),
        });
    };
    match evaluate(flag, context) {
        Ok(e) => Outcome::Ok(OfrepResult {
            key,
            value: e.value,
            reason: e.reason,
            variant: e.variation,
            metadata: Metadata { version: flag.version },
        }),
        Err(EvalError::TargetingKeyMissing) => Outcome::Err(OfrepError {
            key: key.to_string(),
            error_code: "TARGETING_KEY_MISSING",
            error_details: EvalError::TargetingKeyMissing.to_string(),
        }),
    }
}

fn json_response(status: actix_web::http::StatusCode, body: &impl Serialize) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => HttpResponse::build(status).content_type("application/json").body(bytes),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// The type a client expects of a flag's value (any case).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ValueType {
    Boolean,
    String,
    Number,
    Object,
}

/// Evaluate one flag (OpenFeature Remote Evaluation Protocol). OFREP requests do not say which
/// type the caller wants, so SDK providers check it themselves; a client that names it with
/// `?type=` gets `TYPE_MISMATCH` from the server when the value is of another type.
#[utoipa::path(
    tag = "ofrep",
    params(
        ("key" = String, Path, description = "Flag id"),
        ("type" = Option<ValueType>, Query, description = "The type expected: boolean, string, number or object"),
    ),
    request_body(content = OfrepRequest, description = "`{\"context\": {\"targetingKey\": \"alice\", \"role\": \"sre\"}}`"),
    responses(
        (status = 200, description = "Evaluated", body = OfrepResult),
        (status = 400, description = "TARGETING_KEY_MISSING (a rollout needs `context.targetingKey`), INVALID_CONTEXT \
            or PARSE_ERROR (OFREP's answers); a problem naming `type` when it is not a type", content(
            (OfrepError = "application/json"),
            (Problem = "application/problem+json"),
        )),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "FLAG_NOT_FOUND", body = OfrepError),
        (status = 422, description = "TYPE_MISMATCH: the flag's value is not of the `type` asked", body = OfrepError),
    ),
    security(("bearer" = []))
)]
#[post("/ofrep/v1/evaluate/flags/{key}")]
pub async fn ofrep_flag(
    _caller: Viewer,
    state: web::Data<AppState>,
    key: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let expected = match query.get("type").map(|t| t.trim().to_ascii_lowercase()) {
        None => None,
        Some(t) if ["boolean", "string", "number", "object"].contains(&t.as_str()) => Some(t),
        Some(_) => return Err(ApiError::validation("type", "must be one of boolean, string, number, object")),
    };
    let context = match ofrep_context(&body) {
        Ok(c) => c,
        Err((code, details)) => {
            return Ok(HttpResponse::BadRequest().json(OfrepError {
                key: key.clone(),
                error_code: code,
                error_details: details,
            }));
        }
    };
    let snapshot = state.cache.snapshot();
    Ok(match ofrep_one(&snapshot, &key, &context) {
        Outcome::Ok(result) => match expected.filter(|t| t != json_type(result.value)) {
            // A well-formed question the flag cannot answer as asked (OFREP has no `type`).
            Some(wanted) => HttpResponse::UnprocessableEntity().json(OfrepError {
                key: key.clone(),
                error_code: "TYPE_MISMATCH",
                error_details: format!("{key} is a {} flag, not {wanted}", json_type(result.value)),
            }),
            None => json_response(actix_web::http::StatusCode::OK, &result),
        },
        Outcome::Err(e) if e.error_code == "FLAG_NOT_FOUND" => HttpResponse::NotFound().json(e),
        Outcome::Err(e) => HttpResponse::BadRequest().json(e),
    })
}

/// A value's OpenFeature type: boolean, string, number or object (arrays and null included).
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        _ => "object",
    }
}

/// Evaluate every flag at once (OFREP bulk), with `ETag` / `If-None-Match` → 304.
#[utoipa::path(
    tag = "ofrep",
    request_body(content = OfrepRequest, description = "`{\"context\": {\"targetingKey\": \"alice\"}}`"),
    responses(
        (status = 200, description = "Every flag, each a result or an error", body = OfrepBulk),
        (status = 304, description = "Unchanged since the ETag sent"),
        (status = 400, description = "INVALID_CONTEXT or PARSE_ERROR", body = OfrepBulkError),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/ofrep/v1/evaluate/flags")]
pub async fn ofrep_bulk(
    _caller: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let snapshot = state.cache.snapshot();
    let tag = etag_for(snapshot.version, &body);
    if not_modified(&req, &tag) {
        return HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish();
    }
    // Clients poll with the same context: the answer for this version and body is kept.
    if let Some(answer) = state.answers.get(&tag) {
        return HttpResponse::Ok().content_type("application/json").insert_header((header::ETAG, tag)).body(answer);
    }
    let context = match ofrep_context(&body) {
        Ok(c) => c,
        Err((code, details)) => {
            return HttpResponse::BadRequest().json(OfrepBulkError { error_code: code, error_details: details });
        }
    };
    let bytes = web::Bytes::from(bulk_answer(&snapshot, &context));
    state.answers.put(tag.clone(), bytes.clone());
    HttpResponse::Ok().content_type("application/json").insert_header((header::ETAG, tag)).body(bytes)
}

/// The bulk answer for `context`: each flag's prepared answer around its reason, or its error.
fn bulk_answer(snapshot: &Snapshot, context: &Context) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + snapshot.flags.len() * 128);
    out.extend_from_slice(b"{\"flags\":[");
    for (i, ((key, flag), prepared)) in snapshot.flags.iter().zip(&snapshot.prepared).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let fast = evaluate(flag, context)
            .ok()
            .and_then(|e| Some((prepared.iter().find(|p| p.variation == e.variation)?, e.reason)));
        match fast {
            Some((p, reason)) => {
                out.extend_from_slice(p.head.as_bytes());
                out.extend_from_slice(reason.as_str().as_bytes());
                out.extend_from_slice(p.tail.as_bytes());
            }
            // An error, or a variation not prepared: written the slow way.
            None => {
                let _ = serde_json::to_writer(&mut out, &ofrep_one(snapshot, key, context));
            }
        }
    }
    out.extend_from_slice(b"]}");
    out
}

/// One event of `GET /flags/stream`, as an event-stream reader sees it: its name and its data, a
/// JSON document. `ready` comes first, with the version of the flags; then `flags_changed` with
/// each new version and the ids of the flags it added, changed or deleted (none when the stream
/// fell behind: read every flag again).
pub struct FlagStreamEvent;

impl PartialSchema for FlagStreamEvent {
    fn schema() -> RefOr<Schema> {
        let event = |name: &str, description: &str, data: ObjectBuilder| {
            ObjectBuilder::new()
                .description(Some(description))
                .property("event", ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name])))
                .required("event")
                .property(
                    "data",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .content_media_type("application/json")
                        .content_schema(Some(data.schema_type(Type::Object).required("version").build())),
                )
                .required("data")
        };
        let version =
            || ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).description(Some("The flags' version"));
        let ready = ObjectBuilder::new().property("version", version());
        let changed = ObjectBuilder::new().property("version", version()).required("flags").property(
            "flags",
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("Ids of the flags added, changed or deleted")),
        );
        OneOfBuilder::new()
            .item(event("ready", "First: the version the flags are at", ready))
            .item(event("flags_changed", "A new version, and the flags it changed", changed))
            .into()
    }
}

impl ToSchema for FlagStreamEvent {}

/// Server-Sent Events: `ready` with the current version, then `flags_changed` with the new
/// version and the flags it changed, and a comment every 15 s to keep the connection open.
#[utoipa::path(
    tag = "evaluation",
    responses(
        (status = 200, description = "An event stream: `ready`, then `flags_changed` at each change; each event's data is JSON", content_type = "text/event-stream", body = FlagStreamEvent),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/flags/stream")]
pub async fn flag_stream(_caller: Viewer, state: web::Data<AppState>) -> HttpResponse {
    let receiver = state.cache.subscribe();
    let first = format!("event: ready\ndata: {}\n\n", json!({"version": state.cache.snapshot().version}));
    let stop = state.stop.clone();
    let cache = state.cache.clone();
    let events = futures_util::stream::unfold(
        (Some(first), receiver, stop, cache),
        |(pending, mut receiver, stop, cache)| async move {
            if let Some(first) = pending {
                return Some((Ok::<_, actix_web::Error>(web::Bytes::from(first)), (None, receiver, stop, cache)));
            }
            let chunk = tokio::select! {
                () = stop.cancelled() => return None,
                changed = receiver.recv() => match changed {
                    Ok(c) => format!("event: flags_changed\ndata: {}\n\n", json!(c)),
                    // Fell behind: tell the client to read everything again.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => lagged(cache.snapshot().version),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                () = tokio::time::sleep(Duration::from_secs(15)) => ": keep-alive\n\n".to_string(),
            };
            Some((Ok(web::Bytes::from(chunk)), (None, receiver, stop, cache)))
        },
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events)
}

/// The event for a stream that fell behind: the version now, and no flag named, so the client
/// reads every flag again.
fn lagged(version: u64) -> String {
    format!("event: flags_changed\ndata: {}\n\n", json!({"version": version, "flags": []}))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::definition::{FlagDefinition, build};

    fn flags() -> BTreeMap<String, crate::domain::Flag> {
        let definitions = [
            json!({"id": "dark-mode", "on": true}),
            json!({"id": "off-one", "on": false, "kind": "multivar", "variations": ["x", "y"]}),
            json!({"id": "banner", "on": true, "kind": "multivar", "variations": ["plain", "fancy"],
                   "values": {"plain": {"text": "say \"hi\" \\ ünïcode\n"}, "fancy": [1, 2.5, null]},
                   "targets": {"users": {"alice": "fancy"}},
                   "rules": [{"if": {"attr": "role", "op": "eq", "value": "sre"}, "variation": "plain"}]}),
            json!({"id": "split", "on": true, "kind": "multivar", "variations": ["a", "b"],
                   "fallthrough": {"rollout": [{"variation": "a", "weight": 50}, {"variation": "b", "weight": 50}]}}),
        ];
        definitions
            .iter()
            .map(|d| {
                let definition: FlagDefinition = serde_json::from_value(d.clone()).expect("a definition");
                let flag = build(&definition, None, "test", 0).expect("valid");
                (flag.id.clone(), flag)
            })
            .collect()
    }

    #[test]
    fn prepared_bulk_answers_are_what_serialising_each_flag_gives() {
        let snapshot = Snapshot::new(7, flags());
        let contexts = [
            Context { targeting_key: Some("alice".into()), attributes: Default::default() },
            Context {
                targeting_key: Some("bob".into()),
                attributes: [("role".to_string(), json!("sre"))].into_iter().collect(),
            },
            // No targeting key: the rollout answers TARGETING_KEY_MISSING.
            Context::default(),
        ];
        for context in &contexts {
            let fast: Value = serde_json::from_slice(&bulk_answer(&snapshot, context)).expect("valid JSON");
            let outcomes: Vec<Outcome> = snapshot.flags.keys().map(|key| ofrep_one(&snapshot, key, context)).collect();
            let slow = json!({"flags": outcomes});
            assert_eq!(fast, slow, "{context:?}");
        }
        let missing: Value = serde_json::from_slice(&bulk_answer(&snapshot, &contexts[2])).expect("valid JSON");
        assert_eq!(missing["flags"][3]["errorCode"], "TARGETING_KEY_MISSING");
        assert_eq!(missing["flags"][0]["value"], json!({"text": "say \"hi\" \\ ünïcode\n"}));
    }

    #[test]
    fn a_stream_that_fell_behind_is_told_the_version_and_no_flag() {
        let event = lagged(12);
        let data = event.strip_prefix("event: flags_changed\ndata: ").and_then(|d| d.strip_suffix("\n\n"));
        let data: Value = serde_json::from_str(data.expect("one flags_changed event")).expect("JSON data");
        assert_eq!(data, json!({"version": 12, "flags": []}));
    }
}
