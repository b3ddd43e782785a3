//! Output: one [`RecordSink`] trait, one module per format, and the writer
//! thread that keeps file I/O and compression off the scan loop.

mod csv;
mod jsonl;
mod parquet;
pub mod summary;
pub mod table;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::lookup::RowOutput;

use table::{Cell, Column, Record};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    Parquet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }

    /// The format a file name implies, if any.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// Where rows go: a file in some format, or CSV on standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File { path: PathBuf, format: Format },
}

impl Destination {
    pub fn describe(&self) -> String {
        match self {
            Destination::Stdout => "standard output".into(),
            Destination::File { path, .. } => path.display().to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot create {path}: {source} (check that the directory exists and is writable)")]
    Create { path: String, source: io::Error },
    #[error("cannot write {path}: {source}{hint}", hint = disk_hint(source))]
    Write { path: String, source: io::Error },
    #[error("cannot write Parquet to {path}: {message}")]
    Parquet { path: String, message: String },
}

fn disk_hint(error: &io::Error) -> &'static str {
    if error.raw_os_error() == Some(libc::ENOSPC) {
        " (the disk is full: free space or write elsewhere with -o; rows already written are kept)"
    } else {
        ""
    }
}

impl SinkError {
    /// A write to standard output whose reader went away (`| head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, SinkError::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Every output format implements this; rows arrive in completion order,
/// as cells in the order of the columns the sink was opened with.
pub trait RecordSink: Send {
    fn write(&mut self, cells: &[Cell<'_>]) -> Result<(), SinkError>;
    /// Makes what was written so far durable enough to be read by another
    /// process (called about once a second).
    fn flush(&mut self) -> Result<(), SinkError>;
    /// Writes any footer and closes. Must be called for the file to be valid.
    fn finish(self: Box<Self>) -> Result<(), SinkError>;
}

/// Opens the destination for rows with these columns.
pub fn open(
    destination: &Destination,
    columns: &'static [Column],
) -> Result<Box<dyn RecordSink>, SinkError> {
    match destination {
        Destination::Stdout => Ok(Box::new(csv::CsvSink::new(
            Box::new(BufWriter::new(io::stdout())),
            "standard output".into(),
            columns,
        ))),
        Destination::File { path, format } => {
            let name = path.display().to_string();
            let file = File::create(path).map_err(|source| SinkError::Create {
                path: name.clone(),
                source,
            })?;
            Ok(match format {
                Format::Csv => Box::new(csv::CsvSink::new(
                    Box::new(BufWriter::new(file)),
                    name,
                    columns,
                )),
                Format::Jsonl => {
                    Box::new(jsonl::JsonlSink::new(BufWriter::new(file), name, columns))
                }
                Format::Parquet => Box::new(parquet::ParquetSink::new(file, name, columns)?),
            })
        }
    }
}

/// Rows per channel message: amortises the channel without delaying rows
/// for long (a partial batch also goes out after `MAX_BATCH_DELAY`).
const ROWS_PER_BATCH: usize = 256;
const MAX_BATCH_DELAY: Duration = Duration::from_millis(200);
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Batches queued before the scan waits for the writer: backpressure from a
/// slow disk instead of unbounded memory.
const QUEUED_BATCHES: usize = 16;

/// Work done on each row in the writer thread, before and after it is
/// written: completing rows off the scan loop (classification, findings)
/// and counting them for the summary.
pub trait Collector<R>: Send + 'static {
    type Summary: Send + 'static;
    /// Completes the row before it is written.
    fn prepare(&mut self, row: &mut R);
    /// Counts a row that was written.
    fn count(&mut self, row: &R);
    fn into_summary(self) -> Self::Summary;
}

/// The scan side of the writer thread.
pub struct RowSender<R> {
    batch: Vec<R>,
    last_send: Instant,
    channel: Option<SyncSender<Vec<R>>>,
}

impl<R> RowOutput<R> for RowSender<R> {
    fn push(&mut self, row: R) -> bool {
        self.batch.push(row);
        if self.batch.len() >= ROWS_PER_BATCH || self.last_send.elapsed() >= MAX_BATCH_DELAY {
            return self.send();
        }
        true
    }
}

impl<R> RowSender<R> {
    fn send(&mut self) -> bool {
        self.last_send = Instant::now();
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(ROWS_PER_BATCH));
        match &self.channel {
            Some(channel) => channel.send(batch).is_ok(),
            None => false,
        }
    }

    /// Sends what is left and closes the channel.
    pub fn close(mut self) -> bool {
        let ok = self.send();
        self.channel = None;
        ok
    }
}

/// What the writer thread reports when it is done.
pub struct WriterReport<S> {
    pub summary: S,
    /// Rows written.
    pub rows: u64,
    pub result: Result<(), SinkError>,
}

pub struct RowWriter<S> {
    handle: JoinHandle<Option<WriterReport<S>>>,
}

impl<S: Send + 'static> RowWriter<S> {
    /// Starts the writer thread on an opened sink.
    pub fn start<R, C>(sink: Box<dyn RecordSink>, collector: C) -> (RowSender<R>, RowWriter<S>)
    where
        R: Record,
        C: Collector<R, Summary = S>,
    {
        let (tx, rx) = sync_channel(QUEUED_BATCHES);
        let handle = std::thread::spawn(move || Some(write_loop(sink, collector, rx)));
        let sender = RowSender {
            batch: Vec::with_capacity(ROWS_PER_BATCH),
            last_send: Instant::now(),
            channel: Some(tx),
        };
        (sender, RowWriter { handle })
    }

    /// Waits for the writer; `None` if it panicked (the file may then lack
    /// its footer, which the caller reports).
    pub fn join(self) -> Option<WriterReport<S>> {
        self.handle.join().ok().flatten()
    }
}

fn write_loop<R: Record, C: Collector<R>>(
    mut sink: Box<dyn RecordSink>,
    mut collector: C,
    rows: Receiver<Vec<R>>,
) -> WriterReport<C::Summary> {
    let mut written = 0u64;
    let mut last_flush = Instant::now();
    let mut failure = None;
    'receive: loop {
        match rows.recv_timeout(FLUSH_EVERY) {
            Ok(batch) => {
                for mut row in batch {
                    collector.prepare(&mut row);
                    if let Err(error) = sink.write(&row.cells()) {
                        failure = Some(error);
                        break 'receive;
                    }
                    written += 1;
                    collector.count(&row);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            last_flush = Instant::now();
            if let Err(error) = sink.flush() {
                failure = Some(error);
                break;
            }
        }
    }
    // Keep what was written readable: close the file properly even after a
    // write error (the first error is the one reported).
    let finished = sink.finish();
    WriterReport {
        summary: collector.into_summary(),
        rows: written,
        result: match failure {
            Some(error) => Err(error),
            None => finished,
        },
    }
}

/// `io::Write` adapter errors carry the path for the message.
pub(crate) fn write_error(path: &str) -> impl Fn(io::Error) -> SinkError + '_ {
    move |source| SinkError::Write {
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn flush_writer(writer: &mut dyn Write, path: &str) -> Result<(), SinkError> {
    writer.flush().map_err(write_error(path))
}
