//! The OpenFeature Rust SDK's OFREP provider, from crates.io, against the flags service: what an
//! application using OpenFeature sees.

use open_feature::EvaluationContext;
use open_feature::EvaluationErrorCode;
use open_feature::provider::FeatureProvider;
use open_feature_ofrep::{OfrepOptions, OfrepProvider};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openfeature_ofrep_provider_resolves_typed_values_and_reports_errors() {
    let app = spawn_app().await;
    for flag in [
        json!({"id": "public_status_enabled", "on": true, "fallthrough": {"variation": "off"},
               "rules": [{"if": {"attr": "role", "op": "eq", "value": "manager"}, "variation": "on"}]}),
        json!({"id": "banner-colour", "on": true, "kind": "multivar", "variations": ["red", "blue"],
               "values": {"red": "#d93025", "blue": "#3b82f6"}, "fallthrough": {"variation": "blue"}}),
        json!({"id": "max-items", "on": true, "kind": "multivar", "variations": ["small", "large"],
               "values": {"small": 10, "large": 100}, "fallthrough": {"variation": "large"}}),
    ] {
        assert_eq!(app.admin_post("/admin/flags", &flag).await.status(), 201);
    }
    let token = app.users.machine_token("viewer").await;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).expect("header"));
    let provider = OfrepProvider::new(OfrepOptions { base_url: app.address.clone(), headers, ..Default::default() })
        .await
        .expect("the provider connects");

    let manager = EvaluationContext::default().with_targeting_key("carol").with_custom_field("role", "manager");
    let viewer = EvaluationContext::default().with_targeting_key("dave").with_custom_field("role", "viewer");
    let on = provider.resolve_bool_value("public_status_enabled", &manager).await.expect("resolves");
    assert!(on.value);
    assert_eq!(on.variant.as_deref(), Some("on"));
    assert!(!provider.resolve_bool_value("public_status_enabled", &viewer).await.expect("resolves").value);
    let colour = provider.resolve_string_value("banner-colour", &viewer).await.expect("resolves");
    assert_eq!(colour.value, "#3b82f6");
    let items = provider.resolve_int_value("max-items", &viewer).await.expect("resolves");
    assert_eq!(items.value, 100);

    let missing = provider.resolve_bool_value("no-such-flag", &viewer).await.expect_err("not found");
    assert_eq!(missing.code, EvaluationErrorCode::FlagNotFound);
    // This provider reports a value of the wrong type as a parse error of the answer.
    let mismatch = provider.resolve_bool_value("banner-colour", &viewer).await.expect_err("a string is not a bool");
    assert_eq!(mismatch.code, EvaluationErrorCode::ParseError);
    let no_key = EvaluationContext::default().with_custom_field("role", "viewer");
    let split = json!({"id": "split", "on": true, "fallthrough": {"rollout": [{"variation": "on", "weight": 1}]}});
    assert_eq!(app.admin_post("/admin/flags", &split).await.status(), 201);
    let refused = provider.resolve_bool_value("split", &no_key).await.expect_err("a rollout needs a user");
    assert_eq!(
        refused.code,
        EvaluationErrorCode::InvalidContext,
        "400 TARGETING_KEY_MISSING, as this provider reads it"
    );
}
