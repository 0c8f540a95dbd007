//! Running scenarios: the undisruptive ones a few at a time, then those
//! that cut or restart a domain, one by one; each in its own task (a panic
//! is a failure, not the end of the run) under a time limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::report::{Report, ScenarioResult, Verdict};
use crate::scenario::{Need, Scenario};
use crate::target::Target;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Only scenarios whose id starts with one of these (all if empty).
    pub only: Vec<String>,
    /// Undisruptive scenarios running at once.
    pub parallel: usize,
    /// Longest a scenario may take.
    pub time_limit: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            parallel: 4,
            time_limit: Duration::from_secs(180),
        }
    }
}

/// Waits until both deployments answer (they may still be starting), for
/// at most `within`.
pub async fn wait_until_serving(target: &Target, within: Duration) -> Result<(), String> {
    let raw = ds_federation::PeerClient::new(ds_federation::PeerClientConfig {
        trust_roots: target.trust_roots.clone(),
        peers: target.peers(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
    })
    .map_err(|e| format!("the HTTPS client: {e}"))?;
    for deployment in [&target.a, &target.b] {
        crate::raw::serving(&raw, &deployment.domain, within)
            .await
            .map_err(|e| format!("{e} (dialled at {})", deployment.address))?;
    }
    Ok(())
}

/// Runs the selected scenarios against `target`; every one gets a row.
pub async fn run(target: Target, scenarios: &[Scenario], options: &RunOptions) -> Report {
    let target = Arc::new(target);
    let run_id = run_id();
    let dir = match tempfile::Builder::new()
        .prefix("mimi-conformance-")
        .tempdir()
    {
        Ok(dir) => Arc::new(dir),
        Err(e) => {
            let verdict = Verdict::Fail(format!("no temporary directory for client state: {e}"));
            return Report {
                results: scenarios
                    .iter()
                    .map(|s| row(s, verdict.clone(), Duration::ZERO))
                    .collect(),
            };
        }
    };
    let selected: Vec<(usize, Scenario)> = scenarios
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, s)| {
            options.only.is_empty() || options.only.iter().any(|p| s.id.starts_with(p.as_str()))
        })
        .collect();
    let mut results: Vec<Option<ScenarioResult>> = vec![None; selected.len()];
    let ctx_for = |index: usize| {
        Ctx::new(
            Arc::clone(&target),
            format!("c{run_id}-{index}"),
            dir.path().join(format!("s{index}")),
        )
    };

    let missing = |scenario: &Scenario| -> Vec<&'static str> {
        scenario
            .needs
            .iter()
            .filter(|need| match need {
                Need::Disrupt(action) => !target.operator.can(*action),
                Need::PeerKey => target.peer.is_none(),
            })
            .map(|need| need.option())
            .collect()
    };
    let disrupts = |scenario: &Scenario| {
        scenario
            .needs
            .iter()
            .any(|need| matches!(need, Need::Disrupt(_)))
    };
    for i in 0..selected.len() {
        let lacking = missing(&selected[i].1);
        if !lacking.is_empty() {
            let verdict = Verdict::Skip(format!("needs {}", lacking.join(" ")));
            results[i] = Some(row(&selected[i].1, verdict, Duration::ZERO));
        }
    }
    let pending: Vec<bool> = results.iter().map(Option::is_none).collect();
    let calm: Vec<usize> = (0..selected.len())
        .filter(|&i| pending[i] && !disrupts(&selected[i].1))
        .collect();
    for chunk in calm.chunks(options.parallel.max(1)) {
        let mut running = Vec::new();
        for &i in chunk {
            let (index, scenario) = selected[i];
            running.push((
                i,
                tokio::spawn(check(scenario, ctx_for(index), options.time_limit)),
            ));
        }
        for (i, task) in running {
            results[i] = Some(joined(selected[i].1, task.await));
        }
    }
    let disruptive: Vec<usize> = (0..selected.len())
        .filter(|&i| pending[i] && disrupts(&selected[i].1))
        .collect();
    for i in disruptive {
        let (index, scenario) = selected[i];
        let task = tokio::spawn(check(scenario, ctx_for(index), options.time_limit));
        results[i] = Some(joined(scenario, task.await));
    }
    Report {
        results: results.into_iter().flatten().collect(),
    }
}

async fn check(scenario: Scenario, ctx: Ctx, limit: Duration) -> ScenarioResult {
    let started = Instant::now();
    let verdict = match tokio::time::timeout(limit, (scenario.run)(ctx)).await {
        Ok(Ok(())) => Verdict::Pass,
        Ok(Err(failure)) => Verdict::Fail(failure.0),
        Err(_) => Verdict::Fail(format!("did not finish within {limit:?}")),
    };
    row(&scenario, verdict, started.elapsed())
}

fn joined(
    scenario: Scenario,
    result: Result<ScenarioResult, tokio::task::JoinError>,
) -> ScenarioResult {
    result.unwrap_or_else(|e| {
        let verdict = Verdict::Fail(match e.try_into_panic() {
            Ok(panic) => format!(
                "panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)")
            ),
            Err(e) => format!("its task ended: {e}"),
        });
        row(&scenario, verdict, Duration::ZERO)
    })
}

fn row(scenario: &Scenario, verdict: Verdict, elapsed: Duration) -> ScenarioResult {
    ScenarioResult {
        id: scenario.id,
        statement: scenario.statement,
        verdict,
        elapsed,
    }
}

/// Six random hex digits, so that runs against one deployment never share
/// a user.
fn run_id() -> String {
    let mut bytes = [0u8; 3];
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes()[..3]);
    }
    hex::encode(bytes)
}
