//! Runs a ChatOps command for a Slack user: finds their PolyStatus account, checks their role,
//! makes the change through the incidents service (or comms itself, for announcements) and says
//! what happened.

use platform::auth::Role;

use super::command::{Assignee, Command, help};
use super::config::{SlackConfig, Thread};
use super::peers::{IncidentRef, PeerError, Person};
use super::posts::{PENDING_TS, Post};
use super::slack::escape;
use crate::state::AppState;
use crate::webhooks::worker::now_ms;

/// A command's answer: shown to the whole channel, or only to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub public: bool,
}

impl Reply {
    pub fn private(text: impl Into<String>) -> Self {
        Self { text: text.into(), public: false }
    }

    fn public(text: impl Into<String>) -> Self {
        Self { text: text.into(), public: true }
    }

    /// The body Slack takes as a command's answer.
    pub fn to_slack(&self) -> serde_json::Value {
        let kind = if self.public { "in_channel" } else { "ephemeral" };
        serde_json::json!({"response_type": kind, "text": self.text})
    }
}

/// Where a command was given.
#[derive(Debug, Clone)]
pub struct Origin {
    pub slack_user: String,
    pub channel: String,
    /// The thread of the message that gave it (a mention); none for a slash command.
    pub thread_ts: Option<String>,
}

fn peer_reply(e: &PeerError) -> Reply {
    match e {
        PeerError::Unreachable(peer) => {
            Reply::private(format!(":warning: PolyStatus could not reach {peer}; try again in a moment."))
        }
        PeerError::Refused { status: 404, detail } => Reply::private(format!(":x: {}", escape(detail))),
        PeerError::Refused { detail, .. } => Reply::private(format!(":x: Refused: {}", escape(detail))),
    }
}

/// Finds the PolyStatus user behind a Slack user: an explicit link first, then the email Slack
/// has for them (asked once an hour at most).
pub async fn identify(state: &AppState, config: &SlackConfig, slack_user: &str) -> Result<Person, Reply> {
    let unavailable = || Reply::private(":warning: PolyStatus could not check who you are; try again in a moment.");
    let email = match state.store.slack_link(slack_user).await.map_err(|_| unavailable())? {
        Some(link) => Some(link.email),
        None => match state.store.cached_slack_email(slack_user).await.map_err(|_| unavailable())? {
            Some(email) => Some(email),
            None if config.bot_token.is_empty() => None,
            None => match state.chatops.slack.user_email(&config.bot_token, slack_user).await {
                Ok(Some(email)) => {
                    let _ = state.store.cache_slack_email(slack_user, &email).await;
                    Some(email)
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "Slack users.info failed");
                    return Err(unavailable());
                }
            },
        },
    };
    let not_linked = || {
        Reply::private(
            ":no_entry: Your Slack account is not linked to a PolyStatus user. Ask an admin to link it \
             (PUT /api/v1/chatops/slack/links/{your Slack id}), or use the email of your PolyStatus account in Slack.",
        )
    };
    let email = email.ok_or_else(not_linked)?;
    match state.chatops.peers.person_by_email(&email).await {
        Ok(Some(person)) => Ok(person),
        Ok(None) => Err(not_linked()),
        Err(e) => Err(peer_reply(&e)),
    }
}

/// Checks the channel and the caller, then runs `command`.
pub async fn run(state: &AppState, config: &SlackConfig, origin: &Origin, command: Command) -> Reply {
    if command == Command::Help {
        return Reply::private(help(&config.command));
    }
    if !config.channels.iter().any(|c| c == &origin.channel) {
        return Reply::private(
            ":no_entry: Incident commands are not enabled in this channel. An admin can add it to the allowed channels.",
        );
    }
    let person = match identify(state, config, &origin.slack_user).await {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let needed = command.role();
    if !person.role.includes(needed) {
        return Reply::private(format!(
            ":no_entry: That needs the {needed} role; your PolyStatus role is {}.",
            person.role
        ));
    }
    match execute(state, config, origin, &person, command).await {
        Ok(reply) => reply,
        Err(e) => peer_reply(&e),
    }
}

fn line(i: &IncidentRef) -> String {
    format!("*{}* SEV{} {} — {}", i.id, i.sev, i.status, escape(&i.title))
}

async fn execute(
    state: &AppState,
    config: &SlackConfig,
    origin: &Origin,
    person: &Person,
    command: Command,
) -> Result<Reply, PeerError> {
    let peers = &state.chatops.peers;
    let by = format!("{} via Slack", person.name);
    let reply = match command {
        Command::Help => Reply::private(help(&config.command)),
        Command::List => {
            let open = peers.unresolved().await?;
            if open.is_empty() {
                Reply::private(":white_check_mark: No open incidents.")
            } else {
                Reply::private(open.iter().map(line).collect::<Vec<_>>().join("\n"))
            }
        }
        Command::Declare { title, sev } => {
            let summary = format!("Declared in Slack by {} <{}>.", person.name, person.email);
            let incident = peers.declare(&title, sev, &summary, Some(&person.id)).await?;
            start_thread(state, config, origin, &incident, person).await;
            Reply::public(format!(
                ":rotating_light: <@{}> declared {}. Commander: {}.",
                origin.slack_user,
                line(&incident),
                escape(&person.name)
            ))
        }
        Command::Status { id, status, reason } => {
            let reason = match reason {
                Some(r) => format!("{r} ({by})"),
                None => format!("Set to {status} ({by})"),
            };
            let incident = peers.set_status(&id, &status, &reason).await?;
            Reply::public(format!("{} is now *{}*.", line(&incident), incident.status))
        }
        Command::Assign { id, to } => {
            let commander = match to {
                Assignee::Me => Some(person.clone()),
                Assignee::Nobody => None,
                Assignee::Email(email) => match peers.person_by_email(&email).await? {
                    Some(p) => Some(p),
                    None => return Ok(Reply::private(format!(":x: No active PolyStatus user has the email {email}."))),
                },
                Assignee::Slack(user) => match identify(state, config, &user).await {
                    Ok(p) => Some(p),
                    Err(_) => {
                        return Ok(Reply::private(format!(
                            ":x: <@{user}> is not linked to a PolyStatus user, so they cannot lead an incident yet."
                        )));
                    }
                },
            };
            if let Some(c) = &commander
                && !c.role.includes(Role::Sre)
            {
                return Ok(Reply::private(format!(
                    ":x: {} is a {}; a commander needs the sre role.",
                    escape(&c.name),
                    c.role
                )));
            }
            let incident = peers.assign(&id, commander.as_ref().map(|c| c.id.as_str())).await?;
            let who = commander.map_or("nobody".to_string(), |c| escape(&c.name));
            Reply::public(format!("{} commander: *{who}* (set by {}).", line(&incident), escape(&person.name)))
        }
        Command::Note { id, text } => {
            peers.note(&id, &format!("{text}\n— {by}")).await?;
            Reply::public(format!(":memo: Note added to *{id}* by {}.", escape(&person.name)))
        }
        Command::Announce { id, state: announced, message } => {
            let token = peers.bearer().await?;
            match crate::routes::publish(state, &token, &id, message, announced).await {
                Ok(_) => Reply::public(format!(
                    ":loudspeaker: Public update on *{id}* ({}) published by {}.",
                    announced.as_str(),
                    escape(&person.name)
                )),
                Err(platform::ApiError::NotFound(detail)) => Reply::private(format!(":x: {detail}")),
                Err(e) => {
                    tracing::warn!(error = %e, "announcement from Slack failed");
                    Reply::private(":warning: The announcement could not be published; try again in a moment.")
                }
            }
        }
    };
    Ok(reply)
}

/// Gives a new incident its Slack thread: the thread of the mention that declared it, or a new
/// message in the channel (once the bot token can post it).
async fn start_thread(state: &AppState, config: &SlackConfig, origin: &Origin, incident: &IncidentRef, by: &Person) {
    if let Err(e) = record_thread(state, config, origin, incident, by).await {
        tracing::warn!(error = %e, incident = %incident.id, "the incident's Slack thread was not recorded");
    }
}

async fn record_thread(
    state: &AppState,
    config: &SlackConfig,
    origin: &Origin,
    incident: &IncidentRef,
    by: &Person,
) -> Result<(), crate::store::StoreError> {
    let channel = origin.channel.clone();
    if let Some(ts) = &origin.thread_ts {
        return state.store.save_slack_thread(&incident.id, &Thread { channel, ts: ts.clone() }).await;
    }
    if config.bot_token.is_empty() {
        return Ok(());
    }
    let text = format!(
        ":rotating_light: {} declared by {}. The timeline follows in this thread.",
        line(incident),
        escape(&by.name)
    );
    let mut post = Post::new(format!("{}-thread", incident.id), &channel, text);
    post.starts_thread_of = Some(incident.id.clone());
    state.store.save_slack_thread(&incident.id, &Thread { channel, ts: PENDING_TS.into() }).await?;
    state.store.enqueue_post(&post, now_ms()).await?;
    Ok(())
}
