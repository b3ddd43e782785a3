//! Wires one scan together: target stream → engine + lookups → writer
//! thread, with progress beside it. Whatever stops the scan (the end, a
//! signal, a network or disk error), the output is closed properly so the
//! rows already obtained stay readable.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::classify::Classifier;
use crate::config::ScanConfig;
use crate::engine::{Engine, EngineConfig, EngineExit};
use crate::lookup::ScanDriver;
use crate::net::NetError;
use crate::progress::Progress;
use crate::record::{Audit, Row};
use crate::sink::summary::{ResolverLine, RunFacts, Tally, render};
use crate::sink::table::Record;
use crate::sink::{self, Collector, Destination, RowWriter, SinkError};
use crate::stats::Stats;
use crate::targets::{TargetError, TargetStream};

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Targets(#[from] TargetError),
    #[error(transparent)]
    Output(#[from] SinkError),
    #[error(transparent)]
    Net(#[from] NetError),
}

/// How a scan ended, with everything the caller prints.
pub struct ScanReport {
    pub tally: Tally,
    pub summary: String,
    pub interrupted: bool,
    pub destination: Destination,
    /// A failure after the scan started; the rows written before it are kept.
    pub failure: Option<ScanError>,
}

/// Classifies and assesses each row in the writer thread, then counts it.
pub struct AuditCollector {
    classifier: Classifier,
    tally: Tally,
}

impl AuditCollector {
    pub fn new(tally: Tally) -> Self {
        AuditCollector {
            classifier: Classifier::new(),
            tally,
        }
    }
}

impl Collector<Row> for AuditCollector {
    type Summary = Tally;

    fn prepare(&mut self, row: &mut Row) {
        row.audit = Audit::of(&self.classifier, row.ip, &row.ptr, row.fcrdns, None);
    }

    fn count(&mut self, row: &Row) {
        self.tally.add(row);
    }

    fn into_summary(self) -> Tally {
        self.tally
    }
}

pub fn run(
    config: &ScanConfig,
    stop: &AtomicBool,
    show_progress: bool,
) -> Result<ScanReport, ScanError> {
    let stream = TargetStream::new(config.targets.clone(), config.seed, config.shard)?;
    let stats = Stats::default();
    stats
        .targets_total
        .store(stream.total(), std::sync::atomic::Ordering::Relaxed);
    let sink = sink::open(&config.destination, Row::columns())?;
    let engine_config = EngineConfig {
        rate: config.resolvers.rate,
        retries: config.resolvers.retries,
        concurrency: config.resolvers.concurrency,
        ..EngineConfig::new(config.resolvers.addrs.clone())
    };
    let mut engine = Engine::new(engine_config, &stats)?;
    let (sender, writer) =
        RowWriter::start(sink, AuditCollector::new(Tally::new(config.summary_by)));
    let started = Instant::now();

    let (exit, driver_output_failed, sender) = std::thread::scope(|scope| {
        let progress = show_progress.then(|| Progress::start(scope, &stats));
        let mut driver = ScanDriver::new(stream, config.ptr_only, sender, &stats);
        let exit = engine.run(&mut driver, stop);
        if let Some(progress) = progress {
            progress.finish();
        }
        let failed = driver.output_failed();
        (exit, failed, driver.into_output())
    });
    let elapsed = started.elapsed();
    sender.close();
    let report = writer.join().unwrap_or_else(writer_panicked);

    let mut failure = None;
    let interrupted = match exit {
        Ok(EngineExit::Finished) => false,
        Ok(EngineExit::Stopped { .. }) => true,
        Err(error) => {
            failure = Some(ScanError::Net(error));
            true
        }
    };
    if let Err(error) = report.result {
        failure = Some(ScanError::Output(error));
    }
    let interrupted = interrupted || driver_output_failed;
    let snapshot = stats.snapshot();
    let resolvers = engine
        .pool()
        .iter()
        .map(|r| ResolverLine {
            addr: r.addr.to_string(),
            sent: r.counters.sent,
            answered: r.counters.answered,
            timeouts: r.counters.timeouts,
            servfail: r.counters.servfail,
            refused: r.counters.refused,
            quarantines: r.health.quarantines,
        })
        .collect();
    let facts = RunFacts {
        stats: &snapshot,
        elapsed,
        resolvers,
        interrupted,
    };
    let summary = render(&report.summary, &facts);
    Ok(ScanReport {
        tally: report.summary,
        summary,
        interrupted,
        destination: config.destination.clone(),
        failure,
    })
}

fn writer_panicked<S: Default>() -> sink::WriterReport<S> {
    sink::WriterReport {
        summary: S::default(),
        rows: 0,
        result: Err(SinkError::Write {
            path: "output".into(),
            source: std::io::Error::other("the writer thread panicked"),
        }),
    }
}
