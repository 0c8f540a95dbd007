//! A scenario: a stable id, a one-line statement, the disruptions it
//! needs, and the check itself, which fails with a reason.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::ctx::Ctx;
use crate::operator::Action;

/// Why a scenario failed: what was expected and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a scenario's check returns.
pub type Outcome = Result<(), Failure>;

/// A running check.
pub type ScenarioFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// What a scenario needs beyond two deployments; without it, it is
/// skipped and says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A disruption of B; the scenario runs alone, after the others.
    Disrupt(Action),
    /// The signing key of a third domain that B federates with
    /// (`--peer-key`): fan-outs signed as a trusted peer that misbehaves.
    PeerKey,
}

impl Need {
    /// The command-line option that supplies it.
    pub fn option(self) -> &'static str {
        match self {
            Self::Disrupt(action) => action.option(),
            Self::PeerKey => "--peer-key",
        }
    }
}

/// One black-box check.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Stable id: `CS-…`, `FED-…` or `SEC-…`.
    pub id: &'static str,
    /// What it checks, in one line.
    pub statement: &'static str,
    /// What it needs beyond two deployments.
    pub needs: &'static [Need],
    /// The check.
    pub run: fn(Ctx) -> ScenarioFuture,
}

/// Errors of the suite's own calls, turned into failures with context.
pub trait Context<T> {
    /// `Err(e)` becomes a failure "`what`: `e`".
    fn ctx(self, what: impl fmt::Display) -> Result<T, Failure>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl fmt::Display) -> Result<T, Failure> {
        self.map_err(|e| Failure(format!("{what}: {e}")))
    }
}

/// Fails the scenario with a formatted reason unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($reason:tt)+) => {
        if !$cond {
            return Err($crate::scenario::Failure(format!($($reason)+)));
        }
    };
}
pub(crate) use ensure;

/// Declares a scenario from an `async fn(Ctx) -> Outcome`.
macro_rules! scenario {
    ($id:literal, $statement:literal, $check:path) => {
        $crate::scenario::scenario!($id, $statement, $check, [])
    };
    ($id:literal, $statement:literal, $check:path, [$($need:expr),*]) => {
        $crate::scenario::Scenario {
            id: $id,
            statement: $statement,
            needs: &[$($need),*],
            run: |ctx| Box::pin($check(ctx)),
        }
    };
}
pub(crate) use scenario;

/// Every scenario, in the order they are reported.
pub fn all() -> Vec<Scenario> {
    crate::scenarios::all()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::all;

    #[test]
    fn ids_are_unique_and_well_formed_and_statements_one_line() {
        let scenarios = all();
        let mut seen = HashSet::new();
        for s in &scenarios {
            assert!(seen.insert(s.id), "{} twice", s.id);
            assert!(
                ["CS-", "FED-", "SEC-"].iter().any(|p| s.id.starts_with(p)),
                "{}: no CS-/FED-/SEC- prefix",
                s.id
            );
            assert!(
                s.id.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
                "{}: ids are upper case, digits and dashes",
                s.id
            );
            assert!(
                !s.statement.contains('\n') && s.statement.len() <= 120,
                "{}",
                s.id
            );
        }
    }
}
