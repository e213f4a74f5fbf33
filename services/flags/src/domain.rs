//! A feature flag: the reference `FlagDefinition` (id, on, kind, variations, fallthrough,
//! rules, targets) plus typed values, percentage rollouts, a description, tags and a version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Boolean,
    Multivar,
}

/// How a rule compares a context attribute with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Neq,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    /// Numeric comparisons.
    Gt,
    Gte,
    Lt,
    Lte,
    /// Semantic version comparisons (`1.4.0-beta.2`).
    SemverEq,
    SemverGt,
    SemverGte,
    SemverLt,
    SemverLte,
}

pub const OPS: &str = "eq, neq, in, not_in, contains, starts_with, ends_with, gt, gte, lt, lte, semver_eq, \
                       semver_gt, semver_gte, semver_lt, semver_lte";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Condition {
    /// A context attribute: user, role, team, email or any custom one.
    #[schema(example = "role")]
    pub attr: String,
    pub op: Op,
    /// A string (a list for in / not_in, also comma-separated), or a number.
    #[schema(value_type = Value, example = "manager")]
    pub value: Value,
}

/// One slice of a percentage rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Weighted {
    /// One of the flag's variations.
    pub variation: String,
    /// Its share: 0 to 1,000,000; the slices of a rollout weigh 1 to 1,000,000 in all.
    #[schema(maximum = 1_000_000)]
    pub weight: u32,
}

/// What a rule or the fallthrough serves: one variation, or a percentage rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Serve {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "on")]
    pub variation: Option<String>,
    /// Split by flagd's `fractional` bucketing on flag key + user, sticky per user: 1 to 100
    /// slices over the flag's variations, weighing 1 to 1,000,000 in all.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "platform::objects::optional_objects"
    )]
    #[schema(min_items = 1, max_items = 100)]
    pub rollout: Option<Vec<Weighted>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rule {
    #[serde(rename = "if")]
    pub condition: Condition,
    #[serde(flatten)]
    pub serve: Serve,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Targets {
    /// User → variation.
    #[schema(example = json!({"alice": "on", "bob": "off"}))]
    pub users: BTreeMap<String, String>,
}

/// A flag as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Flag {
    #[schema(example = "public_status_enabled")]
    pub id: String,
    pub on: bool,
    pub kind: Kind,
    #[schema(example = json!(["on", "off"]))]
    pub variations: Vec<String>,
    /// The typed value of each variation (bool, string, number or JSON).
    #[schema(value_type = Value)]
    pub values: BTreeMap<String, Value>,
    /// Served while the flag is off.
    pub off_variation: String,
    pub fallthrough: Serve,
    pub rules: Vec<Rule>,
    pub targets: Targets,
    pub description: String,
    pub tags: Vec<String>,
    pub version: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Flag {
    /// The typed value of a variation (every variation has one: the definition fills them in).
    pub fn value_ref(&self, variation: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.values.get(variation).unwrap_or(&NULL)
    }
}

/// A flag id: 1 to 100 of letters, digits, `_`, `-` and `.`.
pub fn check_id(raw: &str) -> Result<String, String> {
    let valid = !raw.is_empty()
        && raw.len() <= 100
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid { Ok(raw.to_string()) } else { Err("must be 1 to 100 of letters, digits, '_', '-' and '.'".into()) }
}

/// The boolean a variation name stands for in a boolean flag without explicit values.
pub fn boolean_name(name: &str) -> Option<bool> {
    match name.to_ascii_lowercase().as_str() {
        "on" | "true" | "enabled" | "yes" => Some(true),
        "off" | "false" | "disabled" | "no" => Some(false),
        _ => None,
    }
}
