//! The OpenAPI document of a service, built from its handlers (utoipa-actix-web), so routes and
//! document cannot disagree; served at `/openapi.json` with Swagger UI at `/docs`, whose assets
//! are compiled in (works offline).

use std::collections::HashMap;

use actix_web::dev::{ResourceDef, ServiceRequest};
use actix_web::{HttpRequest, HttpResponse};
use utoipa::PartialSchema;
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa_actix_web::AppExt;

use crate::error::ApiError;

/// The OpenAPI document of the routes `configure` registers, on top of `base` (title, version,
/// tags), with the bearer security scheme every protected route refers to.
pub fn document<F>(base: OpenApi, configure: F) -> OpenApi
where
    F: FnOnce(&mut utoipa_actix_web::service_config::ServiceConfig),
{
    let (_, mut api) = actix_web::App::new().into_utoipa_app().openapi(base).configure(configure).split_for_parts();
    // utoipa copies the Cargo license field, which is empty here: no license beats a blank one.
    if api.info.license.as_ref().is_some_and(|l| l.name.is_empty()) {
        api.info.license = None;
    }
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /api/v1/auth/login or /api/v1/auth/token"))
                .build(),
        ),
    );
    declare_common_responses(&mut api);
    patterns_for_text_formats(api)
}

/// Formats that name how the services clean free text (trimmed, no control characters); each becomes the
/// `pattern` a client can check before sending. A field written
/// `#[schema(format = "line", max_length = 100)]` documents the whole rule in one place.
pub const TEXT_FORMATS: &[(&str, &str)] = &[
    // One line, not blank: no control characters at all.
    ("line", r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"),
    // One line, or nothing.
    ("line-or-empty", r"^[^\u0000-\u001f\u007f-\u009f]*$"),
    // Text that may span lines (newline, carriage return and tab allowed), not blank.
    (
        "text",
        r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$",
    ),
    // Text that may span lines, or nothing.
    ("text-or-empty", r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"),
];

/// A string schema in one of [`TEXT_FORMATS`], for schemas built by hand: `text_schema("line",
/// 1, 100)` is what `#[schema(format = "line", min_length = 1, max_length = 100)]` derives.
pub fn text_schema(format: &str, min_length: usize, max_length: usize) -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom(format.to_string())))
        .min_length(Some(min_length))
        .max_length(Some(max_length))
        .build()
}

/// What [`crate::extract::IfMatch`] accepts: `*`, or an ETag this API gave (`"7"`, `W/"7"`).
pub const IF_MATCH_PATTERN: &str = r#"^\s*(\*|(W/)?"?[0-9]{1,19}"?)\s*$"#;

fn patterns_for_text_formats(mut api: OpenApi) -> OpenApi {
    use utoipa::openapi::path::ParameterIn;

    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.values_mut().for_each(walk_ref);
    for item in api.paths.paths.values_mut() {
        for operation in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            for parameter in operation.parameters.iter_mut().flatten() {
                let RefOr::T(parameter) = parameter else { continue };
                let if_match =
                    parameter.parameter_in == ParameterIn::Header && parameter.name.eq_ignore_ascii_case("if-match");
                if if_match {
                    // The If-Match extractor's rule. A header is absent or a string: never null.
                    parameter.schema = Some(RefOr::T(Schema::Object(
                        ObjectBuilder::new().schema_type(Type::String).pattern(Some(IF_MATCH_PATTERN)).build(),
                    )));
                }
                parameter.schema.iter_mut().for_each(walk_ref);
            }
            if let Some(RefOr::T(body)) = &mut operation.request_body {
                for content in body.content.values_mut() {
                    if let RefOr::T(content) = content {
                        content.schema.iter_mut().for_each(walk_ref);
                    }
                }
            }
        }
    }
    api
}

fn walk_ref(schema: &mut RefOr<Schema>) {
    if let RefOr::T(schema) = schema {
        walk(schema);
    }
}

fn walk(schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            if object.pattern.is_none()
                && let Some(SchemaFormat::Custom(format)) = &object.format
                && let Some((_, pattern)) = TEXT_FORMATS.iter().find(|(name, _)| name == format)
            {
                object.pattern = Some((*pattern).to_string());
            }
            object.properties.values_mut().for_each(walk_ref);
            if let Some(AdditionalProperties::RefOr(extra)) = object.additional_properties.as_deref_mut() {
                walk_ref(extra);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                walk_ref(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(walk_ref),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(walk_ref),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(walk_ref),
        _ => {}
    }
}

/// The error answers every service can give, declared once in `components.responses` and
/// referred to from each operation they apply to: handlers document their own outcomes, and
/// this adds what the platform's extractors and middleware answer on their behalf.
const COMMON_RESPONSES: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "The request has invalid fields (each named in `errors`) or cannot be read"),
    ("401", "Unauthorized", "No valid credentials: a missing, expired, revoked or malformed token"),
    ("404", "NotFound", "Nothing with that id"),
    ("412", "PreconditionFailed", "The resource changed since the If-Match version"),
    ("413", "PayloadTooLarge", "The body is larger than the service accepts"),
    ("415", "UnsupportedMediaType", "The body is not sent as JSON"),
    ("503", "Unavailable", "A dependency (Redis, a peer service) cannot be reached; retry after Retry-After"),
];

fn declare_common_responses(api: &mut OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON_RESPONSES {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        let response =
            ResponseBuilder::new().description(*description).content(crate::error::PROBLEM_JSON, content).build();
        components.responses.insert((*name).to_string(), RefOr::T(response));
    }
    components.schemas.entry("Problem".into()).or_insert_with(crate::error::Problem::schema);
    components.schemas.entry("FieldError".into()).or_insert_with(crate::error::FieldError::schema);

    for item in api.paths.paths.values_mut() {
        for operation in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            let params = operation.parameters.iter().flatten().filter_map(|p| match p {
                RefOr::T(p) => Some((p.parameter_in.clone(), p.name.to_ascii_lowercase())),
                RefOr::Ref(_) => None,
            });
            let (mut in_path, mut in_query, mut if_match) = (false, false, false);
            for (place, name) in params {
                in_path |= place == ParameterIn::Path;
                in_query |= place == ParameterIn::Query || place == ParameterIn::Header;
                if_match |= name == "if-match";
            }
            let has_body = operation.request_body.is_some();
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let applies = |status: &str| match status {
                "400" => has_body || in_query || in_path,
                "401" => secured,
                "404" => in_path,
                "412" => if_match,
                "413" | "415" => has_body,
                _ => true,
            };
            for (status, name, _) in COMMON_RESPONSES {
                if applies(status) {
                    operation
                        .responses
                        .responses
                        .entry((*status).to_string())
                        .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
                }
            }
        }
    }
}

/// The routes of a document, to tell an unknown path (404) from a known path asked with a
/// method it does not serve (405 with `Allow`), which actix alone does not do.
pub struct KnownRoutes {
    routes: Vec<(ResourceDef, Vec<String>)>,
    /// Paths without parameters and their methods: such a path wins over a pattern that also
    /// matches it (`/incidents/stats` is not an incident called "stats").
    fixed: HashMap<String, Vec<String>>,
}

impl KnownRoutes {
    pub fn new(api: &OpenApi, extra: &[(&str, &[&str])]) -> Self {
        let mut routes: Vec<(String, Vec<String>)> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("HEAD", item.head.is_some()),
                ];
                let allowed = methods.iter().filter(|(_, has)| *has).map(|(m, _)| (*m).to_string()).collect();
                (path.clone(), allowed)
            })
            .collect();
        routes.extend(
            extra
                .iter()
                .map(|(path, methods)| ((*path).to_string(), methods.iter().map(|m| (*m).to_string()).collect())),
        );
        let fixed = routes.iter().filter(|(path, _)| !path.contains('{')).cloned().collect();
        Self { routes: routes.into_iter().map(|(path, methods)| (ResourceDef::new(path), methods)).collect(), fixed }
    }

    /// The methods a path serves: those of the parameterless route when one is exactly this
    /// path, else of every pattern that matches it.
    fn allowed(&self, path: &str) -> Vec<String> {
        if let Some(methods) = self.fixed.get(path) {
            return methods.clone();
        }
        let mut allow: Vec<String> =
            self.routes.iter().filter(|(def, _)| def.is_match(path)).flat_map(|(_, m)| m.clone()).collect();
        allow.sort();
        allow.dedup();
        allow
    }

    /// The problem for a request no route took.
    pub fn unmatched(&self, req: &HttpRequest) -> ApiError {
        let allow = self.allowed(req.path());
        if allow.is_empty() {
            return ApiError::not_found(format!("no route for {} {}", req.method(), req.path()));
        }
        ApiError::MethodNotAllowed { allow }
    }

    /// 405 for a method a parameterless path does not serve, before routing could hand the
    /// request to a pattern beside it (`PATCH /incidents/stats` reaching `PATCH /incidents/{id}`).
    pub fn refuse_before_routing(&self, req: &ServiceRequest) -> Option<ApiError> {
        let methods = self.fixed.get(req.path())?;
        let method = req.method().as_str();
        let served = methods.iter().any(|m| m == method) || (method == "HEAD" && methods.iter().any(|m| m == "GET"));
        (!served).then(|| ApiError::MethodNotAllowed { allow: methods.clone() })
    }
}

/// `GET /docs`: Swagger UI lives under `/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish()
}
