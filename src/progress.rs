//! The progress line on standard error (only when it is a terminal):
//! done/total, rate, queries in flight, retries, ETA. Reads the counters;
//! never touches the scan loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ScopedJoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::stats::Stats;

pub struct Progress<'scope> {
    done: Arc<AtomicBool>,
    handle: ScopedJoinHandle<'scope, ()>,
}

impl<'scope> Progress<'scope> {
    pub fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        stats: &'env Stats,
    ) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let handle = scope.spawn(move || draw_until(stats, &flag));
        Progress { done, handle }
    }

    pub fn finish(self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

fn draw_until(stats: &Stats, done: &AtomicBool) {
    let total = stats.targets_total.load(Ordering::Relaxed);
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(5));
    let style = ProgressStyle::with_template(
        "{bar:30} {human_pos}/{human_len} addresses  {per_sec}  {msg}  ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    while !done.load(Ordering::Relaxed) {
        let snapshot = stats.snapshot();
        bar.set_position(snapshot.rows_done);
        bar.set_message(format!(
            "in flight {}  retries {}",
            snapshot.in_flight, snapshot.retries
        ));
        std::thread::sleep(Duration::from_millis(200));
    }
    bar.finish_and_clear();
}
