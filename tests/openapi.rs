//! The committed OpenAPI documents match the code, and keep every path and method of the
//! reference contract.

use std::path::Path;

#[test]
fn committed_documents_match_the_code() {
    let stale =
        polystatus::openapi::check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("swaggers")).expect("check runs");
    assert!(stale.is_empty(), "{}\nrun: cargo run -- openapi --write", stale.join("\n"));
}

/// Every path and method of the reference swaggers, by service.
const REFERENCE: &[(&str, &str, &str)] = &[
    ("users", "/api/v1/users", "post"),
    ("users", "/api/v1/users", "get"),
    ("users", "/api/v1/users/{id}", "get"),
    ("users", "/api/v1/users/{id}", "put"),
    ("users", "/api/v1/auth/login", "post"),
    ("incidents", "/api/v1/incidents", "post"),
    ("incidents", "/api/v1/incidents", "get"),
    ("incidents", "/api/v1/incidents/{id}", "get"),
    ("incidents", "/api/v1/incidents/{id}/assign", "post"),
    ("incidents", "/api/v1/incidents/{id}/status", "post"),
    ("incidents", "/api/v1/incidents/{id}/timeline", "post"),
    ("incidents", "/api/v1/incidents/{id}/postmortem", "post"),
    ("comms", "/api/v1/public/announce", "post"),
    ("comms", "/api/v1/public/status", "get"),
    ("comms", "/api/v1/webhooks", "post"),
    ("comms", "/api/v1/subscriptions/email", "post"),
    ("csp-ingestor", "/api/v1/csp/providers", "post"),
    ("csp-ingestor", "/api/v1/csp/refresh", "post"),
    ("csp-ingestor", "/api/v1/csp/events", "get"),
    ("flags", "/flags", "get"),
    ("flags", "/admin/flags", "get"),
    ("flags", "/admin/flags", "post"),
    // The reference writes `/admin/toggle/{id}` but names the parameter `key`; the path is the same.
    ("flags", "/admin/toggle/{key}", "post"),
];

#[test]
fn every_reference_path_and_method_is_served() {
    let docs = polystatus::openapi::documents();
    for (service, path, method) in REFERENCE {
        let (_, api) = docs.iter().find(|(name, _)| name == service).expect("a document per service");
        let api = serde_json::to_value(api).expect("json");
        assert!(api["paths"][path][method].is_object(), "{service}: {method} {path}");
    }
}

#[test]
fn the_reference_user_operations_keep_their_ids_and_fields() {
    let docs = polystatus::openapi::documents();
    let (_, users) = docs.iter().find(|(name, _)| *name == "users").expect("users document");
    let reference = [
        ("/api/v1/users", "post", "createUser"),
        ("/api/v1/users", "get", "listUsers"),
        ("/api/v1/users/{id}", "get", "getUser"),
        ("/api/v1/users/{id}", "put", "updateUser"),
        ("/api/v1/auth/login", "post", "loginUser"),
    ];
    let api = serde_json::to_value(users).expect("json");
    for (path, method, operation_id) in reference {
        assert_eq!(api["paths"][path][method]["operationId"], operation_id, "{method} {path}");
    }
    let user = &api["components"]["schemas"]["User"]["properties"];
    for field in ["id", "name", "email", "role", "team", "created_at"] {
        assert!(user[field].is_object(), "User.{field}");
    }
    let login = &api["components"]["schemas"]["LoginResponse"]["properties"];
    assert!(login["token"].is_object() && login["user_id"].is_object());
}
