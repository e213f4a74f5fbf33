//! The `FlagDefinition` a client sends, checked field by field into a [`Flag`].
//!
//! A field that breaks its own documented schema is refused with 400; fields that are each well
//! formed but do not fit together (a variation served that the flag does not have, a boolean flag
//! with three variations, rollout weights adding up to more than 1,000,000) with 422. Either way
//! every bad field is named.

use std::collections::BTreeMap;

use platform::{ApiError, FieldError, Fields};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type};
use utoipa::openapi::{Array, Object, Schema};

use crate::domain::{Condition, Flag, Kind, OPS, Op, Rule, Serve, Targets, Weighted, boolean_name, check_id};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConditionInput {
    /// A context attribute: user, role, team, email or any custom one.
    #[schema(example = "role", format = "line", min_length = 1, max_length = 100)]
    pub attr: String,
    /// eq, neq, in, not_in, contains, starts_with, ends_with, gt, gte, lt, lte, semver_eq,
    /// semver_gt, semver_gte, semver_lt, semver_lte (any case).
    #[schema(value_type = Op, example = "eq")]
    pub op: String,
    /// A string, a number, a boolean or a list of at most 1000 items (in / not_in; a string may
    /// also list them comma-separated). Numeric comparisons need a number (or a string holding
    /// one), semver ones a semantic version, else 422.
    #[schema(schema_with = condition_value, example = "manager")]
    pub value: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleInput {
    #[serde(rename = "if", deserialize_with = "platform::objects::object")]
    pub condition: ConditionInput,
    /// One of the flag's variations (else 422).
    #[schema(example = "on")]
    pub variation: Option<String>,
    /// 1 to 100 slices over the flag's variations, weighing 1 to 1,000,000 in all (else 422).
    #[serde(default, deserialize_with = "platform::objects::optional_objects")]
    #[schema(min_items = 1, max_items = 100)]
    pub rollout: Option<Vec<Weighted>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TargetsInput {
    /// User (1 to 200 characters) → one of the flag's variations (else 422); at most 10,000.
    #[schema(schema_with = target_users, example = json!({"alice": "on", "bob": "off"}))]
    pub users: Option<BTreeMap<String, String>>,
}

/// A flag to create or replace (the reference `FlagDefinition`, plus typed values, rollouts, a
/// description and tags). Left out: `kind` boolean, `variations` ["on", "off"], `fallthrough`
/// the first variation, `off_variation` "off" (or the false / last one). Fields that are well
/// formed but do not fit together (a variation named that the flag does not have, a boolean flag
/// without exactly two variations, one true and one false) are refused with 422.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FlagDefinition {
    /// 1 to 100 of letters, digits, `_`, `-` and `.`.
    #[schema(example = "public_status_enabled", pattern = r"^[A-Za-z0-9_.-]{1,100}$")]
    pub id: String,
    pub on: bool,
    /// boolean (default) or multivar, any case.
    #[schema(value_type = Option<Kind>, example = "boolean")]
    pub kind: Option<String>,
    /// 1 to 100 distinct names, each a line of 1 to 100 characters (trimmed); a boolean flag has
    /// exactly two, a multivar flag needs them.
    #[schema(schema_with = variation_names, example = json!(["on", "off"]))]
    pub variations: Option<Vec<String>>,
    /// Typed value per variation: bool (boolean flags), string, number or JSON.
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    pub values: Option<BTreeMap<String, Value>>,
    /// One of the variations.
    pub off_variation: Option<String>,
    #[serde(default, deserialize_with = "platform::objects::optional_object")]
    pub fallthrough: Option<Serve>,
    /// At most 100, tried in order.
    #[serde(default, deserialize_with = "platform::objects::optional_objects")]
    #[schema(max_items = 100)]
    pub rules: Option<Vec<RuleInput>>,
    #[serde(default, deserialize_with = "platform::objects::optional_object")]
    pub targets: Option<TargetsInput>,
    /// At most 2000 characters (trimmed).
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At most 20, each a line of 1 to 50 characters (trimmed).
    #[schema(schema_with = tag_names)]
    pub tags: Option<Vec<String>>,
}

fn nullable(kind: Type) -> SchemaType {
    SchemaType::from_iter([kind, Type::Null])
}

fn line(max_length: usize) -> Object {
    platform::openapi::text_schema("line", 1, max_length)
}

fn variation_names() -> Array {
    ArrayBuilder::new()
        .schema_type(nullable(Type::Array))
        .items(line(100))
        .min_items(Some(1))
        .max_items(Some(100))
        .unique_items(true)
        .description(Some(
            "1 to 100 distinct names, each a line of 1 to 100 characters (trimmed); a boolean flag has exactly \
             two, a multivar flag needs them (else 422)",
        ))
        .examples([serde_json::json!(["on", "off"])])
        .build()
}

fn tag_names() -> Array {
    ArrayBuilder::new()
        .schema_type(nullable(Type::Array))
        .items(line(50))
        .max_items(Some(20))
        .description(Some("At most 20, each a line of 1 to 50 characters (trimmed)"))
        .build()
}

fn target_users() -> Object {
    ObjectBuilder::new()
        .schema_type(nullable(Type::Object))
        .property_names(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(200))))
        .additional_properties(Some(AdditionalProperties::RefOr(ObjectBuilder::new().schema_type(Type::String).into())))
        .max_properties(Some(10_000))
        .description(Some("User (1 to 200 characters) → one of the flag's variations (else 422); at most 10,000"))
        .examples([serde_json::json!({"alice": "on", "bob": "off"})])
        .build()
}

fn condition_value() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                ArrayBuilder::new().items(ObjectBuilder::new().schema_type(SchemaType::AnyValue)).max_items(Some(1000)),
            )
            .description(Some(
                "A string, a number, a boolean or a list of at most 1000 items (in / not_in; a string may also list \
             them comma-separated). Numeric comparisons need a number (or a string holding one), semver ones a \
             semantic version, else 422.",
            ))
            .examples([serde_json::json!("manager")])
            .build(),
    )
}

fn text(fields: &mut Fields, name: &str, raw: &str, max: usize) -> Option<String> {
    let valid = !raw.trim().is_empty() && raw.chars().count() <= max && !raw.chars().any(char::is_control);
    fields.check(name, if valid { Ok(raw.trim().to_string()) } else { Err(format!("must be 1 to {max} characters")) })
}

fn op(raw: &str) -> Result<Op, String> {
    serde_json::from_value(Value::String(raw.trim().to_ascii_lowercase())).map_err(|_| format!("must be one of {OPS}"))
}

/// The most a slice weighs, and all the slices of a rollout together.
pub const MAX_WEIGHT: u32 = 1_000_000;

/// Checks a rule's or the fallthrough's serve: a known variation, or a rollout over known ones.
/// What the schema states goes to `fields`, what only the rest of the flag decides to `broken`.
fn serve(fields: &mut Fields, broken: &mut Fields, name: &str, serve: &Serve, variations: &[String]) {
    if serve.variation.is_none() && serve.rollout.is_none() {
        broken.0.push(FieldError::new(name, "needs a variation or a rollout"));
    }
    if let Some(v) = &serve.variation
        && !variations.contains(v)
    {
        broken.0.push(FieldError::new(format!("{name}.variation"), format!("{v} is not one of the variations")));
    }
    if let Some(slices) = &serve.rollout {
        if slices.is_empty() || slices.len() > 100 {
            fields.0.push(FieldError::new(format!("{name}.rollout"), "needs 1 to 100 slices"));
        }
        for (i, _) in slices.iter().enumerate().filter(|(_, s)| s.weight > MAX_WEIGHT) {
            fields.0.push(FieldError::new(format!("{name}.rollout[{i}].weight"), "must be 0 to 1,000,000"));
        }
        let total: u64 = slices.iter().map(|s| u64::from(s.weight)).sum();
        if !slices.is_empty() && (total == 0 || total > u64::from(MAX_WEIGHT)) {
            broken.0.push(FieldError::new(format!("{name}.rollout"), "the slices must weigh 1 to 1,000,000 in all"));
        }
        if let Some(s) = slices.iter().find(|s| !variations.contains(&s.variation)) {
            broken.0.push(FieldError::new(
                format!("{name}.rollout"),
                format!("{} is not one of the variations", s.variation),
            ));
        }
    }
}

fn condition(fields: &mut Fields, broken: &mut Fields, name: &str, c: &ConditionInput) -> Option<Condition> {
    let attr = text(fields, &format!("{name}.attr"), &c.attr, 100);
    let op = fields.check(&format!("{name}.op"), op(&c.op));
    let well_formed = match &c.value {
        Value::Null | Value::Object(_) => Err("must be a string, a number, a boolean or a list".to_string()),
        Value::Array(items) if items.len() > 1000 => Err("at most 1000 items".into()),
        _ => Ok(()),
    };
    fields.check(&format!("{name}.value"), well_formed)?;
    let value_ok = match (&op, &c.value) {
        (Some(Op::Gt | Op::Gte | Op::Lt | Op::Lte), v) => match v {
            Value::Number(_) => Ok(()),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(()),
            _ => Err("must be a number for a numeric comparison".into()),
        },
        (Some(Op::SemverEq | Op::SemverGt | Op::SemverGte | Op::SemverLt | Op::SemverLte), v) => {
            let probe = Condition { attr: "v".into(), op: Op::SemverEq, value: v.clone() };
            let ctx = crate::evaluate::Context {
                targeting_key: None,
                attributes: [("v".to_string(), v.clone())].into_iter().collect::<serde_json::Map<_, _>>(),
            };
            if crate::evaluate::matches(&probe, &ctx) { Ok(()) } else { Err("must be a semantic version".into()) }
        }
        _ => Ok(()),
    };
    broken.check(&format!("{name}.value"), value_ok);
    Some(Condition { attr: attr?, op: op?, value: c.value.clone() })
}

/// Builds the flag `input` describes; `base` carries what a replaced flag keeps (creation
/// time, version). Every bad field is named: 400 when one breaks its schema (the others are
/// listed too), else 422 when they do not fit together.
pub fn build(input: &FlagDefinition, base: Option<&Flag>, by: &str, now: i64) -> Result<Flag, ApiError> {
    let mut fields = Fields::default();
    let mut broken = Fields::default();
    let id = fields.check("id", check_id(&input.id));
    let kind = match input.kind.as_deref() {
        None => Kind::Boolean,
        Some(raw) => fields
            .check(
                "kind",
                serde_json::from_value(Value::String(raw.trim().to_ascii_lowercase()))
                    .map_err(|_| "must be boolean or multivar".to_string()),
            )
            .unwrap_or(Kind::Boolean),
    };
    let variations: Vec<String> = match &input.variations {
        None if kind == Kind::Boolean => vec!["on".into(), "off".into()],
        None => {
            broken.0.push(FieldError::new("variations", "are required for a multivar flag"));
            Vec::new()
        }
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for (i, raw) in list.iter().enumerate() {
                if let Some(v) = text(&mut fields, &format!("variations[{i}]"), raw, 100) {
                    if out.contains(&v) {
                        // Sent twice (the schema's uniqueItems), or twice once trimmed.
                        let twice = if list[..i].contains(raw) { &mut fields } else { &mut broken };
                        twice.0.push(FieldError::new("variations", format!("{v} appears twice")));
                    }
                    out.push(v);
                }
            }
            if list.is_empty() || list.len() > 100 {
                fields.0.push(FieldError::new("variations", "must hold 1 to 100 variations"));
            }
            if kind == Kind::Boolean && list.len() != 2 {
                broken.0.push(FieldError::new("variations", "a boolean flag has exactly two"));
            }
            out
        }
    };
    let given = input.values.clone().unwrap_or_default();
    for name in given.keys().filter(|k| !variations.contains(k)) {
        broken.0.push(FieldError::new(format!("values.{name}"), "is not one of the variations"));
    }
    let mut values = BTreeMap::new();
    for v in &variations {
        let value = match (given.get(v), kind) {
            (Some(Value::Bool(b)), Kind::Boolean) => Value::Bool(*b),
            (Some(_), Kind::Boolean) => {
                broken.0.push(FieldError::new(format!("values.{v}"), "must be true or false in a boolean flag"));
                continue;
            }
            (None, Kind::Boolean) => match boolean_name(v) {
                Some(b) => Value::Bool(b),
                None => {
                    broken.0.push(FieldError::new(
                        format!("values.{v}"),
                        "is needed: the name is not on/off or true/false",
                    ));
                    continue;
                }
            },
            (Some(value), Kind::Multivar) => value.clone(),
            (None, Kind::Multivar) => Value::String(v.clone()),
        };
        values.insert(v.clone(), value);
    }
    if kind == Kind::Boolean && values.len() == 2 && values.values().filter(|v| **v == Value::Bool(true)).count() != 1 {
        broken.0.push(FieldError::new("values", "a boolean flag needs one true and one false variation"));
    }
    let off_variation = match &input.off_variation {
        Some(v) if variations.contains(v) => v.clone(),
        Some(v) => {
            broken.0.push(FieldError::new("off_variation", format!("{v} is not one of the variations")));
            String::new()
        }
        None => variations
            .iter()
            .find(|v| v.as_str() == "off")
            .or_else(|| variations.iter().find(|v| values.get(*v) == Some(&Value::Bool(false))))
            .or(variations.last())
            .cloned()
            .unwrap_or_default(),
    };
    let fallthrough = match &input.fallthrough {
        Some(f) => {
            serve(&mut fields, &mut broken, "fallthrough", f, &variations);
            f.clone()
        }
        None => {
            let first =
                variations.iter().find(|v| values.get(*v) == Some(&Value::Bool(true))).or(variations.first()).cloned();
            Serve { variation: first, rollout: None }
        }
    };
    let mut rules = Vec::new();
    let given_rules = input.rules.as_deref().unwrap_or_default();
    if given_rules.len() > 100 {
        fields.0.push(FieldError::new("rules", "at most 100 rules"));
    }
    for (i, r) in given_rules.iter().enumerate().take(100) {
        let name = format!("rules[{i}]");
        let s = Serve { variation: r.variation.clone(), rollout: r.rollout.clone() };
        serve(&mut fields, &mut broken, &name, &s, &variations);
        if let Some(c) = condition(&mut fields, &mut broken, &format!("{name}.if"), &r.condition) {
            rules.push(Rule { condition: c, serve: s });
        }
    }
    let users = input.targets.as_ref().and_then(|t| t.users.clone()).unwrap_or_default();
    if users.len() > 10_000 {
        fields.0.push(FieldError::new("targets.users", "at most 10,000 users"));
    }
    for (user, v) in &users {
        if user.is_empty() || user.chars().count() > 200 {
            fields.0.push(FieldError::new("targets.users", "user keys must be 1 to 200 characters"));
        } else if !variations.contains(v) {
            broken
                .0
                .push(FieldError::new(format!("targets.users.{user}"), format!("{v} is not one of the variations")));
        }
    }
    let description = match input.description.as_deref() {
        Some(d) if d.chars().count() > 2000 => {
            fields.0.push(FieldError::new("description", "must be at most 2000 characters"));
            String::new()
        }
        Some(d) => d.trim().to_string(),
        None => base.map(|b| b.description.clone()).unwrap_or_default(),
    };
    let tags = match &input.tags {
        Some(tags) => {
            if tags.len() > 20 {
                fields.0.push(FieldError::new("tags", "at most 20 tags"));
            }
            tags.iter().enumerate().filter_map(|(i, t)| text(&mut fields, &format!("tags[{i}]"), t, 50)).collect()
        }
        None => base.map(|b| b.tags.clone()).unwrap_or_default(),
    };
    if !fields.0.is_empty() {
        fields.0.extend(broken.0);
        return Err(ApiError::Validation(fields.0));
    }
    if !broken.0.is_empty() {
        return Err(ApiError::Unprocessable(broken.0));
    }
    Ok(Flag {
        id: id.unwrap_or_default(),
        on: input.on,
        kind,
        variations,
        values,
        off_variation,
        fallthrough,
        rules,
        targets: Targets { users },
        description,
        tags,
        version: base.map_or(1, |b| b.version + 1),
        created_at: base.map_or(now, |b| b.created_at),
        updated_at: now,
        updated_by: by.to_string(),
    })
}

/// The top-level fields that differ between two versions of a flag.
pub fn changed_fields(before: Option<&Flag>, after: &Flag) -> Vec<String> {
    let Some(before) = before else { return vec!["*".into()] };
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) = (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, v)| !matches!(k.as_str(), "version" | "updated_at" | "updated_by") && b.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}
