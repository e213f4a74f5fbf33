//! MTTA, MTTM, MTTR and counts over a period.

use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app};

#[tokio::test]
async fn stats_count_and_time_the_incidents_of_a_period() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let old = app.declare(&json!({"title": "old", "sev": 1, "started_at": now - 1000})).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.post(&format!("/api/v1/incidents/{old}/assign"), &app.sre.token, &json!({"commander": app.sre.id})).await;
    app.status(&old, "resolved").await;
    app.declare(&json!({"title": "recent", "sev": 3, "started_at": now - 500})).await;
    app.declare(&json!({"title": "outside", "sev": 2, "started_at": now - 90_000})).await;

    let stats: Value = app
        .get(&format!("/api/v1/incidents/stats?from={}&to={}", now - 2000, now + 10), &app.viewer.token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["by_severity"], json!({"1": 1, "2": 0, "3": 1, "4": 0}));
    assert_eq!(stats["by_status"], json!({"open": 1, "mitigated": 0, "resolved": 1}));
    for measure in ["mtta", "mttm", "mttr"] {
        assert_eq!(stats[measure]["count"], 1, "{measure}");
        let mean = stats[measure]["mean"].as_f64().expect("mean");
        assert!((999.0..1010.0).contains(&mean), "{measure} = {mean}");
    }
    let empty: Value =
        app.get("/api/v1/incidents/stats?from=0&to=1", &app.viewer.token).await.json().await.expect("json");
    assert_eq!((empty["total"].as_u64(), &empty["mttr"]), (Some(0), &Value::Null));
    let bad = app.get("/api/v1/incidents/stats?from=later&to=-5", &app.viewer.token).await;
    assert_eq!(fields(&problem(bad).await), ["from", "to"]);
    let reversed = app.get("/api/v1/incidents/stats?from=100&to=50", &app.viewer.token).await;
    assert_eq!(reversed.status(), 422);
    assert_eq!(fields(&problem(reversed).await), ["from"]);
}
