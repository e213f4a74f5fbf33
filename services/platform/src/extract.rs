//! Request extractors that answer bad input with a problem document naming the bad fields.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Schema, SchemaType, Type};

use crate::error::{ApiError, FieldError};

/// Largest JSON body accepted, set once per app from the server settings.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body. Unlike `actix_web::web::Json`, every failure is a problem document: a body that
/// is too large (413), not JSON (400), or with fields missing or of the wrong type (400 listing
/// each field, worked out from the type's OpenAPI schema).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(64 * 1024, |l| l.0);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if let Some(ct) = content_type.as_deref()
                && !accepts_as_json(ct)
            {
                return Err(ApiError::UnsupportedMediaType(format!("send the body as application/json, not {ct}")));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json::<T>(&body).map(Json)
        })
    }
}

/// curl sends `-d` bodies as form-encoded unless told otherwise; a JSON API that refused them
/// would only confuse. Bearer-token auth means browsers cannot forge these requests anyway.
fn accepts_as_json(content_type: &str) -> bool {
    matches!(content_type, "application/json" | "text/plain" | "application/x-www-form-urlencoded" | "")
        || content_type.ends_with("+json")
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("the body must be at most {limit} bytes"))
}

/// Parses `body` as a `T`, explaining every bad field when it does not fit.
pub fn parse_json<T: DeserializeOwned + ToSchema>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation("body", "a JSON body is required"));
    }
    let mut value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()))
    })?;
    integral_floats_to_integers(&mut value);
    match serde_path_to_error::deserialize::<_, T>(&value) {
        Ok(parsed) => Ok(parsed),
        Err(err) => {
            let mut errors = schema_errors(&value, &T::schema());
            if errors.is_empty() {
                errors.push(serde_error(&err));
            }
            Err(ApiError::Validation(errors))
        }
    }
}

/// JSON Schema counts `2.0` as the integer 2, and so does every client that writes numbers
/// through a float: such numbers are made integers before typed parsing sees them.
fn integral_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 every integer is exact; beyond, 1e300 is no honest integer.
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// What the schema can tell about `value`: required fields missing, fields of the wrong type,
/// values outside an inline enum.
fn schema_errors(value: &Value, schema: &RefOr<Schema>) -> Vec<FieldError> {
    let RefOr::T(Schema::Object(object)) = schema else {
        return Vec::new();
    };
    let Value::Object(fields) = value else {
        return vec![FieldError::new("body", "must be a JSON object")];
    };
    let mut errors = Vec::new();
    for name in &object.required {
        if fields.get(name).is_none_or(Value::is_null) {
            errors.push(FieldError::new(name.clone(), "is required"));
        }
    }
    for (name, property) in &object.properties {
        let Some(v) = fields.get(name) else { continue };
        let RefOr::T(Schema::Object(prop)) = property else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        if let Some(expected) = type_mismatch(v, &prop.schema_type) {
            errors.push(FieldError::new(name.clone(), format!("must be {expected}")));
        } else if let Some(allowed) = &prop.enum_values
            && !allowed.contains(v)
        {
            let list: Vec<String> = allowed.iter().map(|a| a.as_str().map_or(a.to_string(), str::to_string)).collect();
            errors.push(FieldError::new(name.clone(), format!("must be one of {}", list.join(", "))));
        }
    }
    errors
}

fn type_mismatch(v: &Value, schema_type: &SchemaType) -> Option<&'static str> {
    let types: &[Type] = match schema_type {
        SchemaType::Type(t) => std::slice::from_ref(t),
        SchemaType::Array(ts) => ts,
        SchemaType::AnyValue => return None,
    };
    let fits = |t: &Type| match t {
        Type::String => v.is_string(),
        Type::Integer => v.is_i64() || v.is_u64(),
        Type::Number => v.is_number(),
        Type::Boolean => v.is_boolean(),
        Type::Array => v.is_array(),
        Type::Object => v.is_object(),
        Type::Null => v.is_null(),
    };
    if types.iter().any(fits) {
        return None;
    }
    types.iter().find(|t| **t != Type::Null).map(|t| match t {
        Type::String => "a string",
        Type::Integer => "an integer",
        Type::Number => "a number",
        Type::Boolean => "true or false",
        Type::Array => "an array",
        Type::Object | Type::Null => "an object",
    })
}

fn serde_error(err: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let message = err.inner().to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    let path = err.path().to_string();
    if let Some(missing) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
        let field = if path == "." { missing.to_string() } else { format!("{path}.{missing}") };
        return FieldError::new(field, "is required");
    }
    let field = if path == "." { "body".to_string() } else { path };
    FieldError::new(field, plain_message(&message))
}

/// serde's wording (``invalid type: floating point `2.5`, expected i64``) in the API's words.
pub fn plain_message(serde: &str) -> String {
    let expected = |rest: &str| -> String {
        let wanted = rest.rsplit(", expected ").next().unwrap_or(rest).trim();
        let words = match wanted {
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more",
            "f32" | "f64" => "a number",
            "a boolean" => "true or false",
            "a sequence" => "an array",
            "a map" | "a JSON object" => "an object",
            other if other.starts_with("struct ") || other.starts_with("a map") => "an object",
            other if other.starts_with("a sequence") || other.starts_with("a tuple") => "an array",
            other => return format!("must be {}", other.replace('`', "")),
        };
        format!("must be {words}")
    };
    if let Some(rest) = serde.strip_prefix("invalid type: ").or_else(|| serde.strip_prefix("invalid value: ")) {
        return expected(rest);
    }
    if let Some(rest) = serde.strip_prefix("unknown variant `") {
        let allowed = rest.split("expected ").nth(1).unwrap_or("").replace('`', "").replace("one of ", "");
        return format!("must be one of {allowed}");
    }
    if let Some(rest) = serde.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        return format!("{name} is not a field here");
    }
    if serde.starts_with("invalid length") {
        return expected(serde);
    }
    if serde.contains("out of range") {
        return "is out of range".to_string();
    }
    serde.replace('`', "")
}

/// Turns actix's own query and path errors into problem documents.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let message = message.strip_prefix("Query deserialize error: ").unwrap_or(&message);
    let field = message.split('`').nth(1).filter(|_| message.contains("field")).unwrap_or("query").to_string();
    ApiError::validation(field, plain_message(message)).into()
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::validation("path", err.to_string()).into()
}

/// `If-Match: "7"` (or `W/"7"`): the version the client last read. `None` when absent or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(v) => match v.to_str().map(str::trim) {
                Ok("*") => Ok(IfMatch(None)),
                Ok(s) => parse_etag(s)
                    .map(|v| IfMatch(Some(v)))
                    .ok_or_else(|| ApiError::validation("If-Match", "must be an ETag this API returned, like \"3\"")),
                Err(_) => Err(ApiError::validation("If-Match", "must be ASCII")),
            },
        };
        std::future::ready(parsed)
    }
}

/// The entity tag of a version: `"7"`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// The rule the OpenAPI documents state as `IF_MATCH_PATTERN`: digits, optionally quoted and
/// weak; nothing else (no sign, no spaces inside).
fn parse_etag(s: &str) -> Option<u64> {
    let s = s.strip_prefix("W/").unwrap_or(s);
    let s = s.strip_prefix('"').unwrap_or(s);
    let s = s.strip_suffix('"').unwrap_or(s);
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, ToSchema)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        email: String,
        age: Option<u32>,
        #[schema(inline)]
        kind: Option<SampleKind>,
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    enum SampleKind {
        Red,
        Blue,
    }

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn every_missing_and_mistyped_field_is_named() {
        let err = parse_json::<Sample>(br#"{"age": "old"}"#).expect_err("must be refused");
        let mut names = fields(err);
        names.sort();
        assert_eq!(names, ["age", "email", "name"]);
    }

    #[test]
    fn an_enum_value_outside_the_list_is_named() {
        let err = parse_json::<Sample>(br#"{"name":"a","email":"b","kind":"green"}"#).expect_err("must be refused");
        assert_eq!(fields(err), ["kind"]);
    }

    #[test]
    fn not_json_and_empty_bodies_are_400s() {
        assert!(matches!(parse_json::<Sample>(b"{nope"), Err(ApiError::BadRequest(_))));
        assert_eq!(fields(parse_json::<Sample>(b"  ").expect_err("must be refused")), ["body"]);
        assert_eq!(fields(parse_json::<Sample>(b"[1,2]").expect_err("must be refused")), ["body"]);
    }

    #[test]
    fn a_good_body_parses() {
        let s = parse_json::<Sample>(br#"{"name":"a","email":"b","kind":"red"}"#).expect("parses");
        assert_eq!(s.name, "a");
    }

    #[test]
    fn an_integral_float_is_an_integer_and_messages_name_what_was_expected() {
        let s = parse_json::<Sample>(br#"{"name":"a","email":"b","age":30.0}"#).expect("2.0 is an integer");
        assert_eq!(s.age, Some(30));
        match parse_json::<Sample>(br#"{"name":"a","email":"b","age":30.5}"#) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors[0].field, "age");
                assert!(!errors[0].message.contains("floating point"), "{:?}", errors[0]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert_eq!(plain_message("invalid type: floating point `20893.5`, expected i64"), "must be an integer");
        assert_eq!(plain_message("invalid value: integer `-1`, expected u32"), "must be a whole number, 0 or more");
        assert_eq!(plain_message("invalid type: string \"x\", expected a sequence"), "must be an array");
        assert_eq!(plain_message("unknown variant `x`, expected one of `a`, `b`"), "must be one of a, b");
    }

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(12)), Some(12));
        assert_eq!(parse_etag("W/\"4\""), Some(4));
        assert_eq!(parse_etag("\"x\""), None);
        assert_eq!(parse_etag("+7"), None);
        assert_eq!(parse_etag("null"), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = parse_json::<Sample>(&bytes);
        }
    }
}
