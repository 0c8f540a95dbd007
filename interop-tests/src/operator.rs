//! Disruptions a scenario may ask for: cutting the second domain off the
//! network, healing the cut, restarting it. Against a deployment they are
//! commands of the operator's (`docker network disconnect …`); in the
//! in-process run, the test harness does them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A disruption of domain B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// B can no longer be reached by A (nor by clients); what is already
    /// in flight stalls.
    CutB,
    /// B is reachable again.
    HealB,
    /// B's process stops and starts again with its state.
    RestartB,
}

impl Action {
    /// The command-line option that supplies it.
    pub fn option(self) -> &'static str {
        match self {
            Self::CutB => "--cut-b",
            Self::HealB => "--heal-b",
            Self::RestartB => "--restart-b",
        }
    }
}

/// What an [`Operator`] call returns.
pub type OpFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Performs disruptions; returns once the new state holds (a restarted B
/// answers again).
pub trait Operator: Send + Sync + fmt::Debug {
    /// Whether it can perform `action`; scenarios needing one it cannot
    /// are skipped, and say so.
    fn can(&self, action: Action) -> bool;
    /// Performs `action`.
    fn perform(&self, action: Action) -> OpFuture<'_>;
}

/// An operator that can do nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOperator;

impl Operator for NoOperator {
    fn can(&self, _: Action) -> bool {
        false
    }

    fn perform(&self, action: Action) -> OpFuture<'_> {
        Box::pin(async move { Err(format!("no command for {}", action.option())) })
    }
}

/// Shell commands, run with `sh -c`, one per action.
#[derive(Debug, Default, Clone)]
pub struct Commands {
    /// For [`Action::CutB`].
    pub cut_b: Option<String>,
    /// For [`Action::HealB`].
    pub heal_b: Option<String>,
    /// For [`Action::RestartB`]; it must return once B answers again (the
    /// suite also waits for B before going on).
    pub restart_b: Option<String>,
}

impl Commands {
    fn command(&self, action: Action) -> Option<&str> {
        match action {
            Action::CutB => self.cut_b.as_deref(),
            Action::HealB => self.heal_b.as_deref(),
            Action::RestartB => self.restart_b.as_deref(),
        }
    }
}

impl Operator for Commands {
    fn can(&self, action: Action) -> bool {
        self.command(action).is_some()
    }

    fn perform(&self, action: Action) -> OpFuture<'_> {
        let command = self.command(action).map(str::to_owned);
        Box::pin(async move {
            let command = command.ok_or_else(|| format!("no command for {}", action.option()))?;
            let output = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .output()
                .await
                .map_err(|e| format!("{} {command:?}: {e}", action.option()))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{} {command:?} failed ({}): {}",
                    action.option(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
        })
    }
}
