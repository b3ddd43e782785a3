//! Wires one scan together: target stream → engine + lookups → writer
//! thread, with progress beside it. Whatever stops the scan (the end, a
//! signal, a network or disk error), the output is closed properly so the
//! rows already obtained stay readable.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::checkpoint::{self, Checkpoint, CheckpointError, Checkpointer, Durable, Fingerprint};
use crate::classify::Classifier;
use crate::config::{ResolverConfig, ScanConfig};
use crate::engine::{Engine, EngineConfig, EngineExit};
use crate::lookup::{FrontEnd, ScanDriver};
use crate::net::NetError;
use crate::progress::Progress;
use crate::record::{Audit, Row};
use crate::sink::summary::{ResolverLine, RunFacts, Tally, render};
use crate::sink::table::Record;
use crate::sink::{
    self, Collector, Destination, Opening, OutputOptions, RowSender, RowWriter, SinkError,
};
use crate::stats::Stats;
use crate::targets::{Positioned, TargetError, TargetStream};

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Targets(#[from] TargetError),
    #[error(transparent)]
    Output(#[from] SinkError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot start the SMTP check: {0}")]
    Smtp(std::io::Error),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// How a scan ended, with everything the caller prints.
pub struct ScanReport {
    pub tally: Tally,
    pub summary: String,
    pub interrupted: bool,
    pub destination: Destination,
    /// A failure after the scan started; the rows written before it are kept.
    pub failure: Option<ScanError>,
    /// The checkpoint left for `--resume` when the scan did not finish.
    pub checkpoint: Option<std::path::PathBuf>,
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

/// The end of a row path: flushes what is queued and closes the channel.
pub trait CloseOutput {
    fn close_output(self) -> bool;
}

impl<R> CloseOutput for RowSender<R> {
    fn close_output(self) -> bool {
        self.close()
    }
}

/// An output that could not be built takes nothing (the run then stops).
impl<O: CloseOutput> CloseOutput for Option<O> {
    fn close_output(self) -> bool {
        self.is_some_and(CloseOutput::close_output)
    }
}

/// What a run shares with the caller: counters, the stop flag, whether to
/// draw progress.
#[derive(Clone, Copy)]
pub struct RunContext<'a> {
    pub stats: &'a Stats,
    pub stop: &'a AtomicBool,
    pub show_progress: bool,
}

/// Where a run's rows go: the destination, how to open it, and the
/// checkpoint to keep beside it (`scan` into a file).
pub struct OutputPlan<'a> {
    pub destination: &'a Destination,
    pub options: OutputOptions,
    pub checkpointer: Option<Checkpointer>,
}

impl<'a> OutputPlan<'a> {
    /// A new output with no checkpoint.
    pub fn fresh(destination: &'a Destination, part_rows: u64) -> Self {
        OutputPlan {
            destination,
            options: OutputOptions {
                opening: Opening::Fresh,
                part_rows,
            },
            checkpointer: None,
        }
    }
}

/// How a pipeline run ended, before it is turned into a report.
pub struct PipelineEnd<S> {
    pub summary: S,
    pub interrupted: bool,
    pub failure: Option<ScanError>,
    pub summary_text: String,
}

/// Runs one front end on the engine with the writer thread beside it and
/// progress on the terminal, then closes everything in order: whatever
/// stops the run, the output is finished so the rows written stay readable.
/// `render` turns the summary and run facts into the printed summary.
pub fn run_pipeline<R, C, D, O>(
    resolvers: &ResolverConfig,
    output: OutputPlan<'_>,
    collector: C,
    context: RunContext<'_>,
    make_driver: impl FnOnce(RowSender<R>) -> D,
    render_summary: impl FnOnce(&C::Summary, &RunFacts<'_>) -> String,
) -> Result<PipelineEnd<C::Summary>, ScanError>
where
    R: Record,
    C: Collector<R>,
    C::Summary: Default,
    D: FrontEnd<O>,
    O: CloseOutput,
{
    let RunContext {
        stats,
        stop,
        show_progress,
    } = context;
    let sink = sink::open(output.destination, R::columns(), output.options)?;
    let engine_config = EngineConfig {
        rate: resolvers.rate,
        retries: resolvers.retries,
        concurrency: resolvers.concurrency,
        ..EngineConfig::new(resolvers.addrs.clone())
    };
    let mut engine = Engine::new(engine_config, stats)?;
    let (sender, writer) = RowWriter::start(sink, collector, output.checkpointer);
    let started = Instant::now();

    let (exit, driver_output_failed, output) = std::thread::scope(|scope| {
        let progress = show_progress.then(|| Progress::start(scope, stats));
        let mut driver = make_driver(sender);
        let exit = engine.run(&mut driver, stop);
        if let Some(progress) = progress {
            progress.finish();
        }
        let failed = driver.output_failed();
        (exit, failed, driver.into_output())
    });
    // After the output is closed: an `mx --smtp` run's probes finish there.
    output.close_output();
    let elapsed = started.elapsed();
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
    let summary_text = render_summary(&report.summary, &facts);
    Ok(PipelineEnd {
        summary: report.summary,
        interrupted,
        failure,
        summary_text,
    })
}

pub fn run(
    config: &ScanConfig,
    stop: &AtomicBool,
    show_progress: bool,
) -> Result<ScanReport, ScanError> {
    let stream = TargetStream::new(config.targets.clone(), config.seed, config.shard)?;
    let (output, resumed) = plan_output(config, &stream)?;
    let checkpoint_path = output
        .checkpointer
        .as_ref()
        .map(|checkpointer| checkpointer.path().to_path_buf());
    let stats = Stats::default();
    let (targets, to_do) = match resumed {
        Some(checkpoint) => {
            let to_do = checkpoint.to_do();
            (
                Positioned::resume(stream, checkpoint.high, checkpoint.missing),
                to_do,
            )
        }
        None => {
            let total = stream.total();
            (Positioned::new(stream), total)
        }
    };
    stats
        .targets_total
        .store(to_do, std::sync::atomic::Ordering::Relaxed);
    let end = run_pipeline(
        &config.resolvers,
        output,
        AuditCollector::new(Tally::new(config.summary_by)),
        RunContext {
            stats: &stats,
            stop,
            show_progress,
        },
        |sender| ScanDriver::new(targets, config.ptr_only, sender, &stats),
        render,
    )?;
    // A finished scan needs no checkpoint; an unfinished one keeps the last
    // one the writer stored, which matches what is on disk.
    let mut failure = end.failure;
    let checkpoint = match checkpoint_path {
        Some(path) if !end.interrupted && failure.is_none() => {
            if let Err(error) = Checkpoint::remove(&path) {
                failure = Some(error.into());
            }
            None
        }
        Some(path) => path.is_file().then_some(path),
        None => None,
    };
    Ok(ScanReport {
        tally: end.summary,
        summary: end.summary_text,
        interrupted: end.interrupted,
        destination: config.destination.clone(),
        failure,
        checkpoint,
    })
}

/// Fresh output, or `--resume` from the checkpoint beside it. A fresh scan
/// refuses to overwrite an output whose scan is unfinished, and a resume
/// refuses a checkpoint of another scan: either would mix two scans' rows.
fn plan_output<'a>(
    config: &'a ScanConfig,
    stream: &TargetStream,
) -> Result<(OutputPlan<'a>, Option<Checkpoint>), ScanError> {
    let mut plan = OutputPlan::fresh(&config.destination, config.part_rows);
    let Destination::File { path, format } = &config.destination else {
        return Ok((plan, None));
    };
    let checkpoint_path = checkpoint::path_for(path);
    let fingerprint = scan_fingerprint(config, stream, format.as_str());
    let existing = Checkpoint::load(&checkpoint_path)?;
    let output = path.display().to_string();
    let shown = checkpoint_path.display().to_string();
    let resumed = match (config.resume, existing) {
        (true, None) => {
            return Err(CheckpointError::NoCheckpoint {
                output,
                path: shown,
            }
            .into());
        }
        (true, Some(checkpoint)) if checkpoint.fingerprint != fingerprint.hex() => {
            return Err(CheckpointError::OtherScan { path: shown }.into());
        }
        (true, Some(checkpoint)) => {
            plan.options.opening = Opening::Resume(checkpoint.durable);
            Some(checkpoint)
        }
        (false, Some(_)) => {
            return Err(CheckpointError::WouldOverwrite {
                output,
                path: shown,
            }
            .into());
        }
        (false, None) => None,
    };
    let empty = match format {
        sink::Format::Parquet => Durable::Parquet { parts: 0 },
        sink::Format::Csv | sink::Format::Jsonl => Durable::Text { bytes: 0 },
    };
    plan.checkpointer = Some(Checkpointer::new(
        checkpoint_path,
        &fingerprint,
        stream.total(),
        empty,
        resumed.as_ref(),
    ));
    Ok((plan, resumed))
}

/// What decides which address has which position and what a row holds.
fn scan_fingerprint(config: &ScanConfig, stream: &TargetStream, format: &str) -> Fingerprint {
    let mut fingerprint = Fingerprint::default();
    fingerprint
        .add(b"scan")
        .add(format.as_bytes())
        .add(&[u8::from(config.ptr_only)])
        .add(&config.seed.to_le_bytes())
        .add(&stream.shard().index.to_le_bytes())
        .add(&stream.shard().count.to_le_bytes())
        .add(&stream.total().to_le_bytes());
    for column in Row::columns() {
        fingerprint.add(column.name.as_bytes());
    }
    for (first, last) in config.targets.v4_ranges() {
        fingerprint.add(&first.octets()).add(&last.octets());
    }
    for (first, last) in config.targets.v6_ranges() {
        fingerprint.add(&first.octets()).add(&last.octets());
    }
    fingerprint
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
