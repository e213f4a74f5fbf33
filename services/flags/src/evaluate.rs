//! Evaluating a flag for a context: off → the off variation; individual user targets; rules in
//! order; then the fallthrough. A rule or the fallthrough may serve a percentage rollout, bucketed
//! as flagd's `fractional` does so every implementation agrees on who gets what.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{Condition, Flag, Op, Serve, Weighted};

/// Why a variation was chosen (the OpenFeature reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The flag is off.
    Disabled,
    /// A user target or a rule matched.
    TargetingMatch,
    /// A percentage rollout chose it.
    Split,
    /// The fallthrough.
    Default,
    /// The flag has only one variation.
    Static,
}

impl Reason {
    /// As serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Disabled => "DISABLED",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
            Reason::Static => "STATIC",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Evaluation<'a> {
    pub variation: &'a str,
    #[schema(value_type = Value)]
    pub value: &'a Value,
    pub reason: Reason,
    /// The flag is off.
    pub off: bool,
    /// The rule that matched (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("a percentage rollout needs a targeting key (the user)")]
    TargetingKeyMissing,
}

/// What a flag is evaluated for: the targeting key (the user) and any attributes.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub targeting_key: Option<String>,
    pub attributes: serde_json::Map<String, Value>,
}

impl Context {
    /// An attribute; `user` and `targetingKey` are the targeting key.
    fn get(&self, attr: &str) -> Option<Cow<'_, Value>> {
        match attr {
            "user" | "targetingKey" | "key" => self.targeting_key.clone().map(|k| Cow::Owned(Value::String(k))),
            _ => self.attributes.get(attr).map(Cow::Borrowed),
        }
    }
}

/// MurmurHash3 x86 32-bit.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let mut k: u32 = 0;
    for (i, b) in tail.iter().enumerate() {
        k ^= u32::from(*b) << (8 * i);
    }
    if !tail.is_empty() {
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// flagd `fractional`: the variation for `flag_key` + `targeting_key` among weighted slices.
pub fn fractional<'a>(flag_key: &str, targeting_key: &str, slices: &'a [Weighted]) -> Option<&'a str> {
    let total: u64 = slices.iter().map(|s| u64::from(s.weight)).sum();
    if total == 0 {
        return None;
    }
    // Hashed from a stack buffer: evaluation allocates nothing for the usual key sizes.
    let (flag, target) = (flag_key.as_bytes(), targeting_key.as_bytes());
    let mut buffer = [0u8; 256];
    let hash = if flag.len() + target.len() <= buffer.len() {
        buffer[..flag.len()].copy_from_slice(flag);
        buffer[flag.len()..flag.len() + target.len()].copy_from_slice(target);
        murmur3_32(&buffer[..flag.len() + target.len()], 0)
    } else {
        murmur3_32(&[flag, target].concat(), 0)
    };
    let bucket = (u64::from(hash) * total) >> 32;
    let mut cumulative = 0;
    for slice in slices {
        cumulative += u64::from(slice.weight);
        if bucket < cumulative {
            return Some(&slice.variation);
        }
    }
    None
}

/// Evaluates `flag` for `context`.
pub fn evaluate<'a>(flag: &'a Flag, context: &Context) -> Result<Evaluation<'a>, EvalError> {
    let result = |variation: &'a str, reason: Reason, rule: Option<usize>| Evaluation {
        variation,
        value: flag.value_ref(variation),
        reason: if flag.variations.len() == 1 && reason != Reason::Disabled { Reason::Static } else { reason },
        off: !flag.on,
        rule,
    };
    if !flag.on {
        return Ok(result(&flag.off_variation, Reason::Disabled, None));
    }
    if let Some(key) = &context.targeting_key
        && let Some(variation) = flag.targets.users.get(key)
    {
        return Ok(result(variation, Reason::TargetingMatch, None));
    }
    for (i, rule) in flag.rules.iter().enumerate() {
        if matches(&rule.condition, context) {
            let (variation, split) = serve(flag, &rule.serve, context)?;
            return Ok(result(variation, if split { Reason::Split } else { Reason::TargetingMatch }, Some(i)));
        }
    }
    let (variation, split) = serve(flag, &flag.fallthrough, context)?;
    Ok(result(variation, if split { Reason::Split } else { Reason::Default }, None))
}

/// The variation a `Serve` picks, and whether a rollout picked it.
fn serve<'a>(flag: &'a Flag, serve: &'a Serve, context: &Context) -> Result<(&'a str, bool), EvalError> {
    if let Some(slices) = &serve.rollout {
        let key = context.targeting_key.as_deref().filter(|k| !k.is_empty()).ok_or(EvalError::TargetingKeyMissing)?;
        if let Some(v) = fractional(&flag.id, key, slices) {
            return Ok((v, true));
        }
    }
    Ok((serve.variation.as_deref().unwrap_or(&flag.off_variation), false))
}

fn as_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The items of an `in` list: an array, or a comma-separated string.
fn in_items(v: &Value, wanted: &str) -> bool {
    match v {
        Value::Array(a) => a.iter().filter_map(as_text).any(|i| i == wanted),
        Value::String(s) => s.split(',').any(|i| i.trim() == wanted),
        other => as_text(other).is_some_and(|i| i == wanted),
    }
}

/// A semantic version as comparable parts: (major, minor, patch, is release, pre-release).
fn semver(raw: &str) -> Option<(u64, u64, u64, bool, String)> {
    let raw = raw.trim().trim_start_matches('v');
    let raw = raw.split('+').next()?;
    let (core, pre) = match raw.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (raw, None),
    };
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch, pre.is_none(), pre.unwrap_or("").to_string()))
}

/// Whether the context satisfies `condition`. A missing attribute never matches, except `neq`
/// and `not_in`.
pub fn matches(condition: &Condition, context: &Context) -> bool {
    let actual = context.get(&condition.attr);
    let Some(actual) = actual.as_deref() else { return matches!(condition.op, Op::Neq | Op::NotIn) };
    let expected = &condition.value;
    let text = as_text(actual);
    let want = as_text(expected);
    match condition.op {
        Op::Eq => text.is_some() && text == want,
        Op::Neq => text != want,
        Op::In => text.is_some_and(|t| in_items(expected, &t)),
        Op::NotIn => !text.is_some_and(|t| in_items(expected, &t)),
        Op::Contains => match (actual, &want) {
            (Value::Array(a), Some(w)) => a.iter().filter_map(as_text).any(|i| i == *w),
            (_, Some(w)) => text.is_some_and(|t| t.contains(w.as_ref())),
            _ => false,
        },
        Op::StartsWith => text.zip(want).is_some_and(|(t, w)| t.starts_with(w.as_ref())),
        Op::EndsWith => text.zip(want).is_some_and(|(t, w)| t.ends_with(w.as_ref())),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => match (as_number(actual), as_number(expected)) {
            (Some(a), Some(e)) => match condition.op {
                Op::Gt => a > e,
                Op::Gte => a >= e,
                Op::Lt => a < e,
                _ => a <= e,
            },
            _ => false,
        },
        Op::SemverEq | Op::SemverGt | Op::SemverGte | Op::SemverLt | Op::SemverLte => {
            match (text.as_deref().and_then(semver), want.as_deref().and_then(semver)) {
                (Some(a), Some(e)) => match condition.op {
                    Op::SemverEq => a == e,
                    Op::SemverGt => a > e,
                    Op::SemverGte => a >= e,
                    Op::SemverLt => a < e,
                    _ => a <= e,
                },
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::domain::{Kind, Rule, Targets};

    fn weighted(names: &[&str]) -> Vec<Weighted> {
        names.iter().map(|n| Weighted { variation: n.to_string(), weight: 25 }).collect()
    }

    #[test]
    fn the_published_fractional_vectors_are_reproduced() {
        let slices = weighted(&["red", "blue", "green", "yellow"]);
        for (user, hash, bucket, variant) in [
            ("rachel@faas.com", 1_805_633_606_u32, 42, "blue"),
            ("monica@faas.com", 3_314_683_759, 77, "yellow"),
            ("joey@faas.com", 309_582_631, 7, "red"),
            ("ross@faas.com", 1_595_699_981, 37, "blue"),
        ] {
            let h = murmur3_32(format!("headerColor{user}").as_bytes(), 0);
            assert_eq!(h, hash, "{user}");
            assert_eq!((u64::from(h) * 100) >> 32, bucket, "{user}");
            assert_eq!(fractional("headerColor", user, &slices), Some(variant), "{user}");
        }
    }

    #[test]
    fn reasons_read_as_they_serialise() {
        for reason in [Reason::Disabled, Reason::TargetingMatch, Reason::Split, Reason::Default, Reason::Static] {
            assert_eq!(serde_json::to_value(reason).ok(), Some(serde_json::json!(reason.as_str())));
        }
    }

    #[test]
    fn murmur3_matches_the_reference_implementation() {
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_32(b"test", 0), 0xba6b_d213);
        assert_eq!(murmur3_32(b"Hello, world!", 0), 0xc036_3e43);
        assert_eq!(murmur3_32(b"The quick brown fox jumps over the lazy dog", 0), 0x2e4f_f723);
    }

    pub fn flag() -> Flag {
        Flag {
            id: "new-ui".into(),
            on: true,
            kind: Kind::Multivar,
            variations: vec!["a".into(), "b".into(), "c".into()],
            values: BTreeMap::new(),
            off_variation: "c".into(),
            fallthrough: Serve { variation: Some("a".into()), rollout: None },
            rules: vec![],
            targets: Targets::default(),
            description: String::new(),
            tags: vec![],
            version: 1,
            created_at: 0,
            updated_at: 0,
            updated_by: String::new(),
        }
    }

    fn ctx(user: &str, attrs: Value) -> Context {
        let attributes = attrs.as_object().cloned().unwrap_or_default();
        Context { targeting_key: Some(user.into()), attributes }
    }

    fn rule(attr: &str, op: Op, value: Value, variation: &str) -> Rule {
        Rule {
            condition: Condition { attr: attr.into(), op, value },
            serve: Serve { variation: Some(variation.into()), rollout: None },
        }
    }

    #[test]
    fn evaluation_runs_off_targets_rules_then_fallthrough() {
        let mut f = flag();
        f.targets.users.insert("alice".into(), "c".into());
        f.rules = vec![rule("role", Op::Eq, json!("sre"), "b"), rule("role", Op::In, json!(["sre", "admin"]), "c")];
        let e = evaluate(&f, &ctx("alice", json!({"role": "sre"}))).expect("evaluates");
        assert_eq!((e.variation, e.reason), ("c", Reason::TargetingMatch));
        let e = evaluate(&f, &ctx("bob", json!({"role": "sre"}))).expect("evaluates");
        assert_eq!((e.variation, e.reason, e.rule), ("b", Reason::TargetingMatch, Some(0)));
        let e = evaluate(&f, &ctx("bob", json!({"role": "admin"}))).expect("evaluates");
        assert_eq!((e.variation, e.rule), ("c", Some(1)));
        let e = evaluate(&f, &ctx("bob", json!({"role": "viewer"}))).expect("evaluates");
        assert_eq!((e.variation, e.reason), ("a", Reason::Default));
        f.on = false;
        let e = evaluate(&f, &ctx("alice", json!({"role": "sre"}))).expect("evaluates");
        assert_eq!((e.variation, e.reason, e.off), ("c", Reason::Disabled, true));
    }

    #[test]
    fn every_operator() {
        let c = ctx(
            "u",
            json!({"email": "ann@example.com", "team": "core", "age": 42, "app": "1.10.0", "tags": ["x", "y"]}),
        );
        let check = |attr: &str, op: Op, value: Value| matches(&Condition { attr: attr.into(), op, value }, &c);
        assert!(check("team", Op::Eq, json!("core")) && !check("team", Op::Eq, json!("edge")));
        assert!(check("team", Op::Neq, json!("edge")) && check("missing", Op::Neq, json!("x")));
        assert!(check("team", Op::In, json!("edge, core")) && check("team", Op::In, json!(["core"])));
        assert!(check("team", Op::NotIn, json!(["edge"])) && check("missing", Op::NotIn, json!(["x"])));
        assert!(!check("missing", Op::Eq, json!("x")) && !check("missing", Op::In, json!(["x"])));
        assert!(check("email", Op::Contains, json!("@example")) && check("tags", Op::Contains, json!("y")));
        assert!(check("email", Op::StartsWith, json!("ann@")) && check("email", Op::EndsWith, json!(".com")));
        assert!(
            check("age", Op::Gt, json!(41)) && check("age", Op::Gte, json!("42")) && !check("age", Op::Lt, json!(42))
        );
        assert!(check("age", Op::Lte, json!(42.0)) && !check("team", Op::Gt, json!(1)));
        assert!(check("app", Op::SemverGt, json!("1.9.3")) && check("app", Op::SemverEq, json!("v1.10")));
        assert!(check("app", Op::SemverGte, json!("1.10.0-rc.1")) && check("app", Op::SemverLt, json!("2.0.0")));
        assert!(check("app", Op::SemverLte, json!("1.10.0")) && !check("app", Op::SemverGt, json!("not a version")));
        assert!(check("user", Op::Eq, json!("u")), "user is the targeting key");
    }

    #[test]
    fn rollouts_need_a_targeting_key_and_report_split() {
        let mut f = flag();
        f.fallthrough = Serve { variation: None, rollout: Some(vec![Weighted { variation: "b".into(), weight: 1 }]) };
        let e = evaluate(&f, &ctx("someone", json!({}))).expect("evaluates");
        assert_eq!((e.variation, e.reason), ("b", Reason::Split));
        let anonymous = Context { targeting_key: None, attributes: serde_json::Map::new() };
        assert_eq!(evaluate(&f, &anonymous), Err(EvalError::TargetingKeyMissing));
    }
}
