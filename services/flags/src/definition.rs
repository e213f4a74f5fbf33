//! The `FlagDefinition` a client sends, checked field by field into a [`Flag`].

use std::collections::BTreeMap;

use platform::{FieldError, Fields};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{Condition, Flag, Kind, OPS, Op, Rule, Serve, Targets, Weighted, boolean_name, check_id};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConditionInput {
    #[schema(example = "role")]
    pub attr: String,
    /// eq, neq, in, not_in, contains, starts_with, ends_with, gt, gte, lt, lte, semver_eq,
    /// semver_gt, semver_gte, semver_lt, semver_lte.
    #[schema(example = "eq")]
    pub op: String,
    #[schema(value_type = Value, example = "manager")]
    pub value: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleInput {
    #[serde(rename = "if")]
    pub condition: ConditionInput,
    #[schema(example = "on")]
    pub variation: Option<String>,
    pub rollout: Option<Vec<Weighted>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TargetsInput {
    #[schema(example = json!({"alice": "on", "bob": "off"}))]
    pub users: Option<BTreeMap<String, String>>,
}

/// A flag to create or replace (the reference `FlagDefinition`, plus typed values, rollouts, a
/// description and tags). Left out: `kind` boolean, `variations` ["on", "off"], `fallthrough`
/// the first variation, `off_variation` "off" (or the false / last one).
#[derive(Debug, Deserialize, ToSchema)]
pub struct FlagDefinition {
    #[schema(example = "public_status_enabled")]
    pub id: String,
    pub on: bool,
    /// boolean or multivar.
    #[schema(example = "boolean")]
    pub kind: Option<String>,
    #[schema(example = json!(["on", "off"]))]
    pub variations: Option<Vec<String>>,
    /// Typed value per variation: bool (boolean flags), string, number or JSON.
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    pub values: Option<BTreeMap<String, Value>>,
    pub off_variation: Option<String>,
    pub fallthrough: Option<Serve>,
    pub rules: Option<Vec<RuleInput>>,
    pub targets: Option<TargetsInput>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

fn text(fields: &mut Fields, name: &str, raw: &str, max: usize) -> Option<String> {
    let valid = !raw.trim().is_empty() && raw.chars().count() <= max && !raw.chars().any(char::is_control);
    fields.check(name, if valid { Ok(raw.trim().to_string()) } else { Err(format!("must be 1 to {max} characters")) })
}

fn op(raw: &str) -> Result<Op, String> {
    serde_json::from_value(Value::String(raw.trim().to_ascii_lowercase())).map_err(|_| format!("must be one of {OPS}"))
}

/// Checks a rule's or the fallthrough's serve: a known variation, or a rollout over known ones.
fn serve(fields: &mut Fields, name: &str, serve: &Serve, variations: &[String]) {
    if serve.variation.is_none() && serve.rollout.is_none() {
        fields.0.push(FieldError::new(name, "needs a variation or a rollout"));
    }
    if let Some(v) = &serve.variation
        && !variations.contains(v)
    {
        fields.0.push(FieldError::new(format!("{name}.variation"), format!("{v} is not one of the variations")));
    }
    if let Some(slices) = &serve.rollout {
        let total: u64 = slices.iter().map(|s| u64::from(s.weight)).sum();
        if slices.is_empty() || slices.len() > 100 || total == 0 || total > 1_000_000 {
            fields.0.push(FieldError::new(
                format!("{name}.rollout"),
                "needs 1 to 100 slices weighing 1 to 1,000,000 in all",
            ));
        }
        if let Some(s) = slices.iter().find(|s| !variations.contains(&s.variation)) {
            fields.0.push(FieldError::new(
                format!("{name}.rollout"),
                format!("{} is not one of the variations", s.variation),
            ));
        }
    }
}

fn condition(fields: &mut Fields, name: &str, c: &ConditionInput) -> Option<Condition> {
    let attr = text(fields, &format!("{name}.attr"), &c.attr, 100);
    let op = fields.check(&format!("{name}.op"), op(&c.op));
    let value_ok = match (&op, &c.value) {
        (_, Value::Null | Value::Object(_)) => Err("must be a string, a number, a boolean or a list".to_string()),
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
        (_, Value::Array(items)) if items.len() > 1000 => Err("at most 1000 items".into()),
        _ => Ok(()),
    };
    fields.check(&format!("{name}.value"), value_ok);
    Some(Condition { attr: attr?, op: op?, value: c.value.clone() })
}

/// Builds the flag `input` describes; `base` carries what a replaced flag keeps (creation
/// time, version). Every bad field is named.
pub fn build(input: &FlagDefinition, base: Option<&Flag>, by: &str, now: i64) -> Result<Flag, platform::ApiError> {
    let mut fields = Fields::default();
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
            fields.0.push(FieldError::new("variations", "are required for a multivar flag"));
            Vec::new()
        }
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for (i, v) in list.iter().enumerate() {
                if let Some(v) = text(&mut fields, &format!("variations[{i}]"), v, 100) {
                    if out.contains(&v) {
                        fields.0.push(FieldError::new("variations", format!("{v} appears twice")));
                    }
                    out.push(v);
                }
            }
            if list.is_empty() || list.len() > 100 {
                fields.0.push(FieldError::new("variations", "must hold 1 to 100 variations"));
            }
            if kind == Kind::Boolean && list.len() != 2 {
                fields.0.push(FieldError::new("variations", "a boolean flag has exactly two"));
            }
            out
        }
    };
    let given = input.values.clone().unwrap_or_default();
    for name in given.keys().filter(|k| !variations.contains(k)) {
        fields.0.push(FieldError::new(format!("values.{name}"), "is not one of the variations"));
    }
    let mut values = BTreeMap::new();
    for v in &variations {
        let value = match (given.get(v), kind) {
            (Some(Value::Bool(b)), Kind::Boolean) => Value::Bool(*b),
            (Some(_), Kind::Boolean) => {
                fields.0.push(FieldError::new(format!("values.{v}"), "must be true or false in a boolean flag"));
                continue;
            }
            (None, Kind::Boolean) => match boolean_name(v) {
                Some(b) => Value::Bool(b),
                None => {
                    fields.0.push(FieldError::new(
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
        fields.0.push(FieldError::new("values", "a boolean flag needs one true and one false variation"));
    }
    let off_variation = match &input.off_variation {
        Some(v) if variations.contains(v) => v.clone(),
        Some(v) => {
            fields.0.push(FieldError::new("off_variation", format!("{v} is not one of the variations")));
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
            serve(&mut fields, "fallthrough", f, &variations);
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
        serve(&mut fields, &name, &s, &variations);
        if let Some(c) = condition(&mut fields, &format!("{name}.if"), &r.condition) {
            rules.push(Rule { condition: c, serve: s });
        }
    }
    let users = input.targets.as_ref().and_then(|t| t.users.clone()).unwrap_or_default();
    if users.len() > 10_000 {
        fields.0.push(FieldError::new("targets.users", "at most 10,000 users"));
    }
    for (user, v) in &users {
        if user.is_empty() || user.len() > 200 {
            fields.0.push(FieldError::new("targets.users", "user keys must be 1 to 200 characters"));
        } else if !variations.contains(v) {
            fields
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
    fields.finish()?;
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
