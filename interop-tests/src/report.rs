//! The outcome of a run: one row per scenario and a summary line.

use std::fmt::Write as _;
use std::time::Duration;

/// What became of one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// A check failed, for this reason.
    Fail(String),
    /// Not run, for this reason (a disruption the operator cannot do).
    Skip(String),
}

/// One scenario's row.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// Its id.
    pub id: &'static str,
    /// Its statement.
    pub statement: &'static str,
    /// Pass, fail or skip.
    pub verdict: Verdict,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Every scenario's row, in the suite's order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The rows.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// Scenarios that passed.
    pub fn passed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Pass))
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Fail(_)))
    }

    /// Scenarios that were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skip(_)))
    }

    fn count(&self, which: impl Fn(&Verdict) -> bool) -> usize {
        self.results.iter().filter(|r| which(&r.verdict)).count()
    }

    /// The table: verdict, id, seconds, statement, and under a failed or
    /// skipped row its reason.
    pub fn table(&self) -> String {
        let width = self.results.iter().map(|r| r.id.len()).max().unwrap_or(2);
        let mut out = String::new();
        let _ = writeln!(out, "{:<4}  {:<width$}  {:>6}  statement", "", "id", "secs");
        for r in &self.results {
            let (tag, reason) = match &r.verdict {
                Verdict::Pass => ("pass", None),
                Verdict::Fail(why) => ("FAIL", Some(why)),
                Verdict::Skip(why) => ("skip", Some(why)),
            };
            let _ = writeln!(
                out,
                "{tag:<4}  {:<width$}  {:>6.1}  {}",
                r.id,
                r.elapsed.as_secs_f64(),
                r.statement
            );
            if let Some(why) = reason {
                let _ = writeln!(out, "{:<4}  {:<width$}  {:>6}  -> {why}", "", "", "");
            }
        }
        out
    }

    /// `conformance: P passed, F failed, S skipped of N`.
    pub fn summary(&self) -> String {
        format!(
            "conformance: {} passed, {} failed, {} skipped of {}",
            self.passed(),
            self.failed(),
            self.skipped(),
            self.results.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &'static str, verdict: Verdict) -> ScenarioResult {
        ScenarioResult {
            id,
            statement: "a statement",
            verdict,
            elapsed: Duration::from_millis(1200),
        }
    }

    #[test]
    fn the_table_shows_every_row_and_reasons_and_the_summary_counts_them() {
        let report = Report {
            results: vec![
                row("CS-A", Verdict::Pass),
                row("SEC-B", Verdict::Fail("accepted".into())),
                row("FED-C", Verdict::Skip("no --restart-b".into())),
            ],
        };
        let table = report.table();
        assert!(table.contains("pass  CS-A"));
        assert!(table.contains("FAIL  SEC-B"));
        assert!(table.contains("-> accepted"));
        assert!(table.contains("-> no --restart-b"));
        assert_eq!(
            report.summary(),
            "conformance: 1 passed, 1 failed, 1 skipped of 3"
        );
    }
}
