//! Pipeline events from GitHub Actions, GitLab and any CI, read into one shape, and what they
//! do: a failed run raises (or adds to) an incident, one per pipeline and branch; a later success
//! resolves it; cancelled and skipped runs are ignored; every deploy is announced in Slack.

use chrono::DateTime;
use platform::FieldError;
use serde_json::{Value, json};

use super::config::CiSource;
use super::posts::Post;
use super::slack::escape;
use crate::state::AppState;
use crate::webhooks::worker::now_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A build or test run.
    Run,
    /// A release going out to an environment.
    Deploy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Cancelled,
    Skipped,
    /// Not finished yet.
    Running,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Cancelled => "cancelled",
            Outcome::Skipped => "skipped",
            Outcome::Running => "running",
        }
    }
}

/// One pipeline event, whatever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiEvent {
    pub stage: Stage,
    pub outcome: Outcome,
    /// The repository or project.
    pub project: String,
    /// The workflow or pipeline (with the branch, what incidents are deduplicated on).
    pub pipeline: String,
    pub branch: String,
    pub environment: Option<String>,
    pub version: Option<String>,
    pub author: Option<String>,
    pub url: Option<String>,
    pub duration_secs: Option<i64>,
    pub commit: Option<String>,
}

/// What a delivery was read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Event(CiEvent),
    /// Valid, but nothing to act on (why).
    Ignored(String),
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    path.split('.').try_fold(v, |v, key| v.get(key)).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn required<'a>(v: &'a Value, path: &str, errors: &mut Vec<FieldError>) -> &'a str {
    at(v, path).unwrap_or_else(|| {
        errors.push(FieldError::new(path, "is required"));
        ""
    })
}

fn seconds_between(from: Option<&str>, to: Option<&str>) -> Option<i64> {
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S %z"))
            .or_else(|_| DateTime::parse_from_str(&s.replace(" UTC", " +0000"), "%Y-%m-%d %H:%M:%S %z"))
            .ok()
    };
    let (from, to) = (parse(from?)?, parse(to?)?);
    Some((to - from).num_seconds()).filter(|s| *s >= 0)
}

fn short(sha: &str) -> String {
    sha.chars().take(8).collect()
}

/// A GitHub webhook delivery (`X-GitHub-Event`).
pub fn github(event: &str, body: &Value) -> Result<Reading, Vec<FieldError>> {
    let mut errors = Vec::new();
    let reading = match event {
        "ping" => return Ok(Reading::Ignored("ping: the webhook is set up".into())),
        "workflow_run" => {
            let action = required(body, "action", &mut errors);
            let run = &body["workflow_run"];
            let name = required(body, "workflow_run.name", &mut errors);
            let branch = at(body, "workflow_run.head_branch").unwrap_or("");
            let project = required(body, "repository.full_name", &mut errors);
            if !errors.is_empty() {
                return Err(errors);
            }
            if action != "completed" {
                return Ok(Reading::Ignored(format!("workflow runs are acted on when completed, not {action}")));
            }
            let outcome = match at(run, "conclusion") {
                Some("success") => Outcome::Success,
                Some("failure" | "timed_out" | "startup_failure") => Outcome::Failure,
                Some("cancelled") => Outcome::Cancelled,
                Some("skipped" | "neutral" | "stale" | "action_required") => Outcome::Skipped,
                Some(other) => {
                    return Err(vec![FieldError::new(
                        "workflow_run.conclusion",
                        format!("`{other}` is not a GitHub conclusion"),
                    )]);
                }
                None => return Err(vec![FieldError::new("workflow_run.conclusion", "is required once completed")]),
            };
            CiEvent {
                stage: Stage::Run,
                outcome,
                project: project.to_string(),
                pipeline: name.to_string(),
                branch: branch.to_string(),
                environment: None,
                version: None,
                author: at(run, "triggering_actor.login")
                    .or(at(run, "actor.login"))
                    .or(at(body, "sender.login"))
                    .map(Into::into),
                url: at(run, "html_url").map(Into::into),
                duration_secs: seconds_between(at(run, "run_started_at"), at(run, "updated_at")),
                commit: at(run, "head_sha").map(short),
            }
        }
        "deployment_status" => {
            let state = required(body, "deployment_status.state", &mut errors);
            let environment = at(body, "deployment_status.environment")
                .or(at(body, "deployment.environment"))
                .unwrap_or_else(|| required(body, "deployment.environment", &mut errors));
            let project = required(body, "repository.full_name", &mut errors);
            if !errors.is_empty() {
                return Err(errors);
            }
            let outcome = match state {
                "success" => Outcome::Success,
                "failure" | "error" => Outcome::Failure,
                "inactive" => Outcome::Skipped,
                "pending" | "queued" | "in_progress" => Outcome::Running,
                other => {
                    return Err(vec![FieldError::new(
                        "deployment_status.state",
                        format!("`{other}` is not a GitHub deployment state"),
                    )]);
                }
            };
            let d = &body["deployment"];
            let git_ref = at(d, "ref");
            let sha = at(d, "sha").map(short);
            CiEvent {
                stage: Stage::Deploy,
                outcome,
                project: project.to_string(),
                pipeline: format!("deploy {environment}"),
                branch: git_ref.unwrap_or("").to_string(),
                environment: Some(environment.to_string()),
                version: git_ref.filter(|r| Some(*r) != at(d, "sha")).map(Into::into).or(sha.clone()),
                author: at(d, "creator.login").or(at(body, "sender.login")).map(Into::into),
                url: at(body, "deployment_status.target_url")
                    .or(at(body, "deployment_status.log_url"))
                    .or(at(body, "deployment_status.environment_url"))
                    .map(Into::into),
                duration_secs: seconds_between(at(d, "created_at"), at(body, "deployment_status.updated_at")),
                commit: sha,
            }
        }
        other => return Ok(Reading::Ignored(format!("{other} events are not acted on"))),
    };
    Ok(Reading::Event(reading))
}

fn gitlab_outcome(status: &str, field: &str) -> Result<Outcome, Vec<FieldError>> {
    match status {
        "success" => Ok(Outcome::Success),
        "failed" => Ok(Outcome::Failure),
        "canceled" | "cancelled" => Ok(Outcome::Cancelled),
        "skipped" | "manual" => Ok(Outcome::Skipped),
        "running" | "pending" | "created" | "waiting_for_resource" | "preparing" | "scheduled" | "blocked" => {
            Ok(Outcome::Running)
        }
        other => Err(vec![FieldError::new(field, format!("`{other}` is not a GitLab status"))]),
    }
}

/// A GitLab webhook delivery (pipeline and deployment hooks).
pub fn gitlab(body: &Value) -> Result<Reading, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = required(body, "object_kind", &mut errors);
    let project = at(body, "project.path_with_namespace").unwrap_or("");
    let author = at(body, "user.username").or(at(body, "user.name")).map(Into::into);
    let event = match kind {
        "pipeline" => {
            let status = required(body, "object_attributes.status", &mut errors);
            let branch = required(body, "object_attributes.ref", &mut errors);
            if project.is_empty() {
                errors.push(FieldError::new("project.path_with_namespace", "is required"));
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            let a = &body["object_attributes"];
            let url = at(a, "url")
                .map(Into::into)
                .or_else(|| Some(format!("{}/-/pipelines/{}", at(body, "project.web_url")?, a["id"].as_u64()?)));
            CiEvent {
                stage: Stage::Run,
                outcome: gitlab_outcome(status, "object_attributes.status")?,
                project: project.to_string(),
                pipeline: project.to_string(),
                branch: branch.to_string(),
                environment: None,
                version: None,
                author,
                url,
                duration_secs: a["duration"].as_i64(),
                commit: at(a, "sha").map(short),
            }
        }
        "deployment" => {
            let status = required(body, "status", &mut errors);
            let environment = required(body, "environment", &mut errors);
            if !errors.is_empty() {
                return Err(errors);
            }
            let git_ref = at(body, "ref").unwrap_or("");
            let sha = at(body, "short_sha").map(short);
            CiEvent {
                stage: Stage::Deploy,
                outcome: gitlab_outcome(status, "status")?,
                project: project.to_string(),
                pipeline: format!("deploy {environment}"),
                branch: git_ref.to_string(),
                environment: Some(environment.to_string()),
                version: match (git_ref, &sha) {
                    ("", s) => s.clone(),
                    (r, Some(s)) => Some(format!("{r} ({s})")),
                    (r, None) => Some(r.to_string()),
                },
                author,
                url: at(body, "deployable_url").map(Into::into),
                duration_secs: None,
                commit: sha,
            }
        }
        "" => return Err(errors),
        other => return Ok(Reading::Ignored(format!("{other} events are not acted on"))),
    };
    Ok(Reading::Event(event))
}

/// The generic JSON body any pipeline can send with curl.
pub fn generic(body: &Value) -> Result<Reading, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !body.is_object() {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    }
    let text = |field: &str, max: usize, errors: &mut Vec<FieldError>| -> Option<String> {
        match &body[field] {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) if s.chars().count() <= max => Some(s.trim().to_string()),
            Value::String(_) => {
                errors.push(FieldError::new(field, format!("must be at most {max} characters")));
                None
            }
            _ => {
                errors.push(FieldError::new(field, "must be a string"));
                None
            }
        }
    };
    let pipeline = text("pipeline", 200, &mut errors);
    let status = text("status", 20, &mut errors);
    let stage = text("kind", 20, &mut errors);
    let event = CiEvent {
        stage: Stage::Run,
        outcome: Outcome::Running,
        project: text("project", 200, &mut errors).unwrap_or_default(),
        pipeline: pipeline.clone().unwrap_or_default(),
        branch: text("branch", 200, &mut errors).unwrap_or_default(),
        environment: text("environment", 100, &mut errors),
        version: text("version", 100, &mut errors),
        author: text("author", 100, &mut errors),
        url: text("url", 2000, &mut errors),
        duration_secs: match &body["duration_secs"] {
            Value::Null => None,
            v => match v.as_i64().filter(|d| *d >= 0) {
                Some(d) => Some(d),
                None => {
                    errors.push(FieldError::new("duration_secs", "must be a whole number of seconds, 0 or more"));
                    None
                }
            },
        },
        commit: text("commit", 64, &mut errors),
    };
    if pipeline.is_none() && !errors.iter().any(|e| e.field == "pipeline") {
        errors.push(FieldError::new("pipeline", "is required"));
    }
    let outcome = match status.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("success" | "succeeded" | "passed") => Some(Outcome::Success),
        Some("failure" | "failed" | "error") => Some(Outcome::Failure),
        Some("cancelled" | "canceled") => Some(Outcome::Cancelled),
        Some("skipped") => Some(Outcome::Skipped),
        Some("running" | "started" | "pending") => Some(Outcome::Running),
        Some(_) => {
            errors.push(FieldError::new("status", "must be one of success, failure, cancelled, skipped, running"));
            None
        }
        None if errors.iter().any(|e| e.field == "status") => None,
        None => {
            errors.push(FieldError::new("status", "is required"));
            None
        }
    };
    let stage = match stage.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("run" | "build" | "test") => Some(Stage::Run),
        Some("deploy" | "release") => Some(Stage::Deploy),
        Some(_) => {
            errors.push(FieldError::new("kind", "must be run or deploy"));
            None
        }
    };
    if stage == Some(Stage::Deploy) && event.environment.is_none() && !errors.iter().any(|e| e.field == "environment") {
        errors.push(FieldError::new("environment", "is required for a deploy"));
    }
    match (outcome, stage, errors.is_empty()) {
        (Some(outcome), Some(stage), true) => Ok(Reading::Event(CiEvent { stage, outcome, ..event })),
        _ => Err(errors),
    }
}

fn duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

/// The Slack message of a deploy.
pub fn deploy_message(e: &CiEvent) -> String {
    let (icon, verb) = if e.outcome == Outcome::Success { (":rocket:", "went out") } else { (":boom:", "failed") };
    let mut text = format!(
        "{icon} *Deploy {verb}*: {}{} to *{}*",
        escape(&e.project),
        e.version.as_deref().map(|v| format!(" {}", escape(v))).unwrap_or_default(),
        escape(e.environment.as_deref().unwrap_or("?")),
    );
    if let Some(author) = &e.author {
        text.push_str(&format!(" by {}", escape(author)));
    }
    if let Some(secs) = e.duration_secs {
        text.push_str(&format!(" in {}", duration(secs)));
    }
    if let Some(url) = &e.url {
        text.push_str(&format!(" · <{url}|details>"));
    }
    text
}

fn run_message(e: &CiEvent, recovered: bool) -> String {
    let (icon, verb) = if recovered { (":white_check_mark:", "recovered") } else { (":x:", "failed") };
    let mut text = format!("{icon} *{}* {verb} on `{}`", escape(&e.pipeline), escape(&e.branch));
    if !e.project.is_empty() {
        text.push_str(&format!(" ({})", escape(&e.project)));
    }
    if let Some(author) = &e.author {
        text.push_str(&format!(" — {}", escape(author)));
    }
    if let Some(url) = &e.url {
        text.push_str(&format!(" · <{url}|run>"));
    }
    text
}

/// The incidents service's dedup key: one incident per source, pipeline and branch.
pub fn dedup_key(source: &str, e: &CiEvent) -> String {
    let key = match e.stage {
        Stage::Run => format!("ci/{source}/{}/{}", e.pipeline, e.branch),
        Stage::Deploy => format!("ci/{source}/deploy/{}", e.environment.as_deref().unwrap_or("")),
    };
    key.chars().take(255).collect()
}

fn severity(sev: u8) -> &'static str {
    match sev {
        1 => "critical",
        2 => "error",
        3 => "warning",
        _ => "info",
    }
}

/// What a delivery did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Handled {
    /// success, failure, cancelled, skipped or running.
    pub outcome: &'static str,
    /// incident_raised, incident_resolved, slack_notified, deploy_announced; empty when ignored.
    pub actions: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    /// Why nothing was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

impl Handled {
    pub fn ignored(why: impl Into<String>) -> Self {
        Self { outcome: "ignored", actions: Vec::new(), dedup_key: None, ignored: Some(why.into()) }
    }
}

/// Applies `source`'s rules to `event`. `delivery` makes Slack messages once per delivery.
pub async fn act(
    state: &AppState,
    source: &CiSource,
    event: &CiEvent,
    delivery: &str,
) -> Result<Handled, super::peers::PeerError> {
    let mut handled = Handled { outcome: event.outcome.as_str(), actions: Vec::new(), dedup_key: None, ignored: None };
    match event.outcome {
        Outcome::Cancelled | Outcome::Skipped | Outcome::Running => {
            handled.ignored = Some(format!("{} runs are ignored", event.outcome.as_str()));
            return Ok(handled);
        }
        Outcome::Success | Outcome::Failure => {}
    }
    if event.stage == Stage::Run && !source.watches(&event.branch) {
        handled.ignored = Some(format!("runs on {} are not watched by this source", event.branch));
        return Ok(handled);
    }
    let key = dedup_key(&source.name, event);
    let failed = event.outcome == Outcome::Failure;
    let watched = source.raise_incidents;
    let mut recovered = false;
    if watched {
        let peers = &state.chatops.peers;
        if failed {
            let what = match event.stage {
                Stage::Run => format!("CI: {} failing on {}", event.pipeline, event.branch),
                Stage::Deploy => format!("Deploy to {} failed", event.environment.as_deref().unwrap_or("?")),
            };
            let summary: String =
                format!("{what} ({})", if event.project.is_empty() { &source.name } else { &event.project })
                    .chars()
                    .take(200)
                    .collect();
            peers
                .alert(json!({
                    "event_action": "trigger",
                    "dedup_key": key,
                    "payload": {
                        "summary": summary,
                        "source": if event.project.is_empty() { source.name.as_str() } else { event.project.as_str() },
                        "severity": severity(source.sev),
                        "component": source.services.first(),
                        "custom_details": {
                            "ci_source": source.name, "pipeline": event.pipeline, "branch": event.branch,
                            "commit": event.commit, "author": event.author, "url": event.url,
                            "version": event.version, "environment": event.environment,
                        },
                    },
                    "client": "PolyStatus CI",
                    "client_url": event.url,
                }))
                .await?;
            state.store.mark_ci_failing(&key).await?;
            handled.actions.push("incident_raised");
        } else {
            recovered = state.store.clear_ci_failing(&key).await?;
            peers.alert(json!({"event_action": "resolve", "dedup_key": key})).await?;
            if recovered {
                handled.actions.push("incident_resolved");
            }
        }
        handled.dedup_key = Some(key);
    }
    if let Some(channel) = &source.slack_channel {
        let message = match event.stage {
            Stage::Deploy if source.announce_deploys => Some((deploy_message(event), "deploy_announced")),
            Stage::Run if source.notify_failures && failed => Some((run_message(event, false), "slack_notified")),
            Stage::Run if source.notify_failures && recovered => Some((run_message(event, true), "slack_notified")),
            _ => None,
        };
        if let Some((text, action)) = message {
            let post = Post::new(format!("ci-{}-{delivery}", source.name), channel, text);
            state.store.enqueue_post(&post, now_ms()).await?;
            handled.actions.push(action);
        }
    }
    if handled.actions.is_empty() {
        handled.ignored = Some(if failed {
            "this source neither raises incidents nor notifies Slack".into()
        } else {
            "nothing was failing".into()
        });
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_times_and_durations_read() {
        assert_eq!(seconds_between(Some("2016-08-12 15:23:28 UTC"), Some("2016-08-12 15:26:29 UTC")), Some(181));
        assert_eq!(seconds_between(Some("2020-01-22T19:30:08Z"), Some("2020-01-22T19:33:08Z")), Some(180));
        assert_eq!(seconds_between(Some("2020-01-22T19:33:08Z"), Some("2020-01-22T19:30:08Z")), None);
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(252), "4m 12s");
        assert_eq!(duration(7380), "2h 3m");
    }

    #[test]
    fn the_generic_body_names_every_bad_field() {
        let errors = generic(&json!({"status": "exploded", "duration_secs": -3, "branch": 7})).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["branch", "duration_secs", "pipeline", "status"]);
        let errors = generic(&json!({"pipeline": "api", "status": "success", "kind": "deploy"})).expect_err("refused");
        assert_eq!(errors[0].field, "environment");
        assert!(generic(&json!([1])).is_err());
        let Ok(Reading::Event(e)) = generic(&json!({"pipeline": "api", "status": "FAILED", "branch": "main"})) else {
            panic!("a valid body")
        };
        assert_eq!((e.stage, e.outcome, e.branch.as_str()), (Stage::Run, Outcome::Failure, "main"));
    }

    #[test]
    fn deploys_read_as_one_line() {
        let e = CiEvent {
            stage: Stage::Deploy,
            outcome: Outcome::Success,
            project: "acme/api".into(),
            pipeline: "deploy production".into(),
            branch: "v1.4.2".into(),
            environment: Some("production".into()),
            version: Some("v1.4.2".into()),
            author: Some("octocat".into()),
            url: Some("https://ci.example.com/1".into()),
            duration_secs: Some(252),
            commit: None,
        };
        assert_eq!(
            deploy_message(&e),
            ":rocket: *Deploy went out*: acme/api v1.4.2 to *production* by octocat in 4m 12s · <https://ci.example.com/1|details>"
        );
    }
}
