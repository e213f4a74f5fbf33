//! Schemas the derive cannot spell: the exact patterns of names and feed URLs, and lists whose
//! items are checked one by one. Each says what the checks in `domain` accept, no more, no less.

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Array, Object, RefOr, Required, Schema};

/// What `str::trim` removes (Unicode White_Space), as a regex class.
const SPACE: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// What [`crate::domain::check_name`] accepts: 1 to 50 of a-z, 0-9 and '-', not starting with
/// '-'; letters in either case (kept lower case) and whitespace around (dropped).
pub fn name_pattern() -> String {
    format!("^{SPACE}*[A-Za-z0-9][A-Za-z0-9-]{{0,49}}{SPACE}*$")
}

fn typed(kind: Type, nullable: bool) -> SchemaType {
    if nullable { SchemaType::from_iter([kind, Type::Null]) } else { SchemaType::new(kind) }
}

/// A provider or service name.
pub fn name() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(name_pattern()))
        .description(Some(
            "1 to 50 of a-z, 0-9 and '-', not starting with '-' (upper case is read as lower case, \
             whitespace around is ignored)",
        ))
        .examples(["cloudflare"])
        .build()
}

/// What [`crate::domain::check_url`] accepts, with a host name (a last label starting with a
/// letter, so never read as an IPv4 address), an optional port and printable ASCII after.
pub fn feed_url() -> Object {
    ObjectBuilder::new()
        .schema_type(typed(Type::String, true))
        .pattern(Some(
            r"^[hH][tT][tT][pP][sS]?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?$",
        ))
        .max_length(Some(2000))
        .description(Some("An absolute http or https URL; the catalogue's one when left out for a catalogue name"))
        .examples(["https://status.aws.amazon.com/rss/ec2-us-east-1.rss"])
        .build()
}

/// One short free-text name: a line of 1 to 100 characters.
fn line(max_length: usize) -> Object {
    platform::openapi::text_schema("line", 1, max_length)
}

fn lines(nullable: bool) -> Array {
    ArrayBuilder::new()
        .schema_type(typed(Type::Array, nullable))
        .items(line(100))
        .max_items(Some(50))
        .description(Some("At most 50, each a line of 1 to 100 characters (compared in lower case)"))
        .build()
}

/// Components, regions or provider names: at most 50 lines of 1 to 100 characters.
pub fn short_list() -> Array {
    lines(false)
}

/// The same, where leaving it out (or null) keeps what there is.
pub fn optional_short_list() -> Array {
    lines(true)
}

/// A query or path parameter with one of these schemas (the derive drops `required` and the
/// description of a parameter whose schema is given).
pub fn param(
    name: &str,
    place: ParameterIn,
    required: bool,
    description: &str,
    schema: impl Into<RefOr<Schema>>,
) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(place)
        .required(if required { Required::True } else { Required::False })
        .description(Some(description))
        .schema(Some(schema))
        .build()
}
