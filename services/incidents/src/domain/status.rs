use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an incident is in its life: open → mitigated → resolved, and back to open on reopen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Mitigated,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Open, Status::Mitigated, Status::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Mitigated => "mitigated",
            Status::Resolved => "resolved",
        }
    }

    /// The statuses this one may move to.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Open => &[Status::Mitigated, Status::Resolved],
            Status::Mitigated => &[Status::Resolved, Status::Open],
            Status::Resolved => &[Status::Open],
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| "must be one of open, mitigated, resolved".to_string())
    }
}

/// A permitted change of status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
}

impl Transition {
    /// Back to open from mitigated or resolved.
    pub fn is_reopen(self) -> bool {
        self.to == Status::Open
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not a move the lifecycle allows; `allowed` says which are.
    NotAllowed { from: Status, to: Status, allowed: Vec<Status> },
    /// Reopening needs a reason.
    ReasonRequired,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionError::NotAllowed { from, to, allowed } => {
                let allowed: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                write!(f, "an incident cannot go from {from} to {to}; from {from} it can go to: {}", allowed.join(", "))
            }
            TransitionError::ReasonRequired => f.write_str("reopening an incident needs a reason"),
        }
    }
}

impl Status {
    /// Checks a status change: it must be one the lifecycle allows, and a reopen needs a reason.
    pub fn transition_to(self, to: Status, reason: Option<&str>) -> Result<Transition, TransitionError> {
        if !self.next().contains(&to) {
            return Err(TransitionError::NotAllowed { from: self, to, allowed: self.next().to_vec() });
        }
        let t = Transition { from: self, to };
        if t.is_reopen() && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(TransitionError::ReasonRequired);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    #[test]
    fn the_lifecycle() {
        assert!(Status::Open.transition_to(Status::Mitigated, None).is_ok());
        assert!(Status::Mitigated.transition_to(Status::Resolved, None).is_ok());
        assert!(Status::Open.transition_to(Status::Resolved, None).is_ok());
        assert_eq!(Status::Resolved.transition_to(Status::Open, None), Err(TransitionError::ReasonRequired));
        assert!(Status::Resolved.transition_to(Status::Open, Some("it came back")).is_ok());
        let err = Status::Resolved.transition_to(Status::Mitigated, None).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "an incident cannot go from resolved to mitigated; from resolved it can go to: open"
        );
    }

    proptest! {
        /// Any walk through the lifecycle only ever takes allowed steps, never stays in place, and a
        /// reopen always carried a reason.
        #[test]
        fn walks_only_take_allowed_steps(steps in prop::collection::vec((any_status(), any::<bool>()), 0..50)) {
            let mut current = Status::Open;
            for (to, with_reason) in steps {
                let reason = with_reason.then_some("because");
                match current.transition_to(to, reason) {
                    Ok(t) => {
                        prop_assert_ne!(t.from, t.to);
                        prop_assert!(current.next().contains(&to));
                        prop_assert!(!t.is_reopen() || with_reason);
                        current = to;
                    }
                    Err(TransitionError::NotAllowed { allowed, .. }) => {
                        prop_assert!(!allowed.contains(&to));
                        prop_assert_eq!(allowed.as_slice(), current.next());
                    }
                    Err(TransitionError::ReasonRequired) => prop_assert!(to == Status::Open && !with_reason),
                }
            }
        }

        #[test]
        fn every_status_can_eventually_be_resolved(start in any_status()) {
            let mut current = start;
            for _ in 0..3 {
                if current == Status::Resolved { break; }
                current = if current.next().contains(&Status::Resolved) { Status::Resolved } else { current.next()[0] };
            }
            prop_assert_eq!(current, Status::Resolved);
        }
    }
}
