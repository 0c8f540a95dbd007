//! The two ways of offering load: closed loop (C requests always in flight,
//! measuring the server's maximum rate) and open loop (requests started on a
//! fixed schedule, measuring latency at that rate, with latency counted from
//! the scheduled start so a slow server cannot hide its queueing).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ds_core::wire::DsResponseBody;
use tokio::sync::mpsc;

use crate::net::Pool;
use crate::stats::Tally;

/// What a phase did: its tally and wall time.
pub struct Phase {
    pub tally: Tally,
    pub elapsed: Duration,
    /// Requests sent.
    pub sent: usize,
}

/// Problems printed so far (the first few of a run are shown).
static SHOWN: AtomicUsize = AtomicUsize::new(0);

/// Whether to print one more problem.
fn show() -> bool {
    SHOWN.fetch_add(1, Ordering::Relaxed) < 5
}

/// Sends one pre-encoded `DSRequest` and records the answer.
pub async fn send_one(pool: &Pool, index: usize, body: Bytes, started: Instant, tally: &mut Tally) {
    let answer = pool.ds_raw(index, body).await;
    let latency = started.elapsed();
    match answer {
        Ok(DsResponseBody::Ok) => {
            tally.accepted += 1;
            tally.latencies.push(latency);
        }
        Ok(DsResponseBody::Error(e)) => {
            if show() {
                eprintln!("load: refused: {e}");
            }
            *tally.refused.entry(format!("{:?}", e.code)).or_default() += 1;
            tally.latencies.push(latency);
        }
        Ok(other) => {
            eprintln!("load: unexpected answer {other:?}");
            tally.failed += 1;
        }
        Err(e) => {
            if show() {
                eprintln!("load: request failed: {e}");
            }
            tally.failed += 1;
        }
    }
}

/// Keeps `concurrency` requests in flight until `requests` run out or
/// `limit` has passed.
pub async fn closed_loop(
    pool: &Pool,
    requests: Arc<Vec<Bytes>>,
    concurrency: usize,
    limit: Duration,
) -> Phase {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + limit;
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (pool, requests, next) = (pool.clone(), Arc::clone(&requests), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= requests.len() || Instant::now() >= deadline {
                    return tally;
                }
                let body = requests[index].clone();
                send_one(&pool, index, body, Instant::now(), &mut tally).await;
            }
        }));
    }
    let mut tally = Tally::default();
    for worker in workers {
        tally.merge(worker.await.expect("closed-loop worker"));
    }
    Phase {
        sent: tally.accepted + tally.refused_total() + tally.failed,
        elapsed: started.elapsed(),
        tally,
    }
}

/// Scheduled start of each request of an open loop, for callers that time
/// more than the answer (push delivery).
pub type Starts = Arc<Mutex<Vec<Option<Instant>>>>;

/// Starts request `i` at `i / rate` seconds, whatever the answers, until
/// all are sent; then waits for the outstanding ones. Each start is
/// recorded in `starts` if given.
pub async fn open_loop(
    pool: &Pool,
    requests: Vec<Bytes>,
    rate: f64,
    starts: Option<Starts>,
) -> Phase {
    let (done, mut results) = mpsc::unbounded_channel::<Tally>();
    let started = Instant::now();
    let total = requests.len();
    let mut requests = requests.into_iter().enumerate();
    let mut sent = 0usize;
    let mut max_in_flight = 0usize;
    let in_flight = Arc::new(AtomicUsize::new(0));
    while sent < total {
        let due = ((started.elapsed().as_secs_f64() * rate) as usize + 1).min(total);
        for (index, body) in requests.by_ref().take(due.saturating_sub(sent)) {
            let scheduled = started + Duration::from_secs_f64(index as f64 / rate);
            if let Some(starts) = &starts {
                starts.lock().expect("starts")[index] = Some(scheduled);
            }
            let (pool, done, in_flight) = (pool.clone(), done.clone(), Arc::clone(&in_flight));
            max_in_flight = max_in_flight.max(in_flight.fetch_add(1, Ordering::Relaxed) + 1);
            tokio::spawn(async move {
                let mut tally = Tally::default();
                send_one(&pool, index, body, scheduled, &mut tally).await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
                let _ = done.send(tally);
            });
            sent += 1;
        }
        let next = started + Duration::from_secs_f64(sent as f64 / rate);
        tokio::time::sleep_until(next.into()).await;
    }
    drop(done);
    let mut tally = Tally::default();
    while let Some(one) = results.recv().await {
        tally.merge(one);
    }
    eprintln!("load: open loop: at most {max_in_flight} requests in flight");
    Phase {
        tally,
        elapsed: started.elapsed(),
        sent,
    }
}
