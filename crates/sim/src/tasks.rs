//! Background work on the shared state: churn at the configured rate, and dropping watches
//! at the configured fault rate.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::state::Shared;

/// Run `n` changes now; returns how many were made.
pub(crate) fn run_steps(sh: &Shared, n: usize) -> usize {
    let mut churn = sh.churn.lock();
    let mut done = 0;
    for _ in 0..n {
        let changed = sh.mutate(|w| churn.step(w));
        if changed {
            done += 1;
        }
    }
    done
}

/// Background task making [`Shared::churn_rate`] changes per second until shutdown; the rate
/// can change at any time (0 pauses).
pub(crate) async fn churn_loop(sh: Arc<Shared>) {
    let mut shutdown = sh.shutdown.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = tokio::time::Instant::now();
    let mut budget = 0.0f64;
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = tokio::time::Instant::now();
        let dt = now.duration_since(last).as_secs_f64();
        last = now;
        let rate = sh.churn_rate();
        if rate <= 0.0 {
            budget = 0.0;
            continue;
        }
        // Never carry more than one second of backlog.
        budget = (budget + dt * rate).min(rate.max(1.0));
        let n = budget.floor();
        if n >= 1.0 {
            budget -= n;
            let sh2 = sh.clone();
            let _ = tokio::task::spawn_blocking(move || run_steps(&sh2, n as usize)).await;
        }
    }
}

/// Background task: drop random watches at the configured rate.
pub(crate) async fn watch_dropper(sh: Arc<Shared>) {
    let mut shutdown = sh.shutdown.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut budget = 0.0f64;
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let rate = sh.faults.lock().watch_drop_per_sec;
        if rate <= 0.0 {
            budget = 0.0;
            continue;
        }
        budget += rate * 0.02;
        while budget >= 1.0 {
            budget -= 1.0;
            let watches = sh.watches.lock();
            if watches.is_empty() {
                break;
            }
            let mut ids: Vec<u64> = watches.keys().copied().collect();
            ids.sort_unstable();
            let pick = sh.fault_rng.lock().gen_range(0..ids.len());
            if let Some(n) = watches.get(&ids[pick]) {
                n.close();
            }
        }
    }
}
