//! Output: one [`RecordSink`] trait, one module per format, and the writer
//! thread that keeps file I/O and compression off the scan loop.

mod csv;
mod jsonl;
mod parquet;
pub mod summary;
pub mod table;

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::checkpoint::{CheckpointError, Checkpointer, Durable};
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
    #[error(
        "--resume: cannot continue {path}: {message} (delete it and its checkpoint to start over)"
    )]
    Resume { path: String, message: String },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

fn disk_hint(error: &io::Error) -> &'static str {
    if error.raw_os_error() == Some(libc::ENOSPC) || error.kind() == io::ErrorKind::StorageFull {
        " (the disk is full: free space, or write elsewhere with -o)"
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
    /// Pushes buffered rows out so another process can read them (called
    /// about once a second). Returns where the output is now durable when
    /// every row written so far is (a text file after its buffers are
    /// written; Parquet when this closed a part), else `None`.
    fn flush(&mut self) -> Result<Option<Durable>, SinkError>;
    /// Writes any footer and closes; must be called for the file to be
    /// valid. Returns where the durable output ends (`None` for standard
    /// output). On a write error the file is cut back to its last durable
    /// point, so what stays on disk is whole rows.
    fn finish(self: Box<Self>) -> Result<Option<Durable>, SinkError>;
}

/// Rows per Parquet part file before the next part starts (about 60 MiB).
/// A part is the unit that survives a `kill -9`.
pub const DEFAULT_PART_ROWS: u64 = 1 << 20;

/// How to open the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// Replace whatever is there.
    Fresh,
    /// Continue after the durable point a checkpoint recorded.
    Resume(Durable),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputOptions {
    pub opening: Opening,
    /// Parquet: rows per part file.
    pub part_rows: u64,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            opening: Opening::Fresh,
            part_rows: DEFAULT_PART_ROWS,
        }
    }
}

/// Opens the destination fresh or to continue a checkpointed scan.
pub fn open(
    destination: &Destination,
    columns: &'static [Column],
    options: OutputOptions,
) -> Result<Box<dyn RecordSink>, SinkError> {
    match destination {
        Destination::Stdout => Ok(Box::new(csv::CsvSink::new(
            TextOutput::stdout(),
            columns,
            false,
        ))),
        Destination::File { path, format } => Ok(match format {
            Format::Parquet => Box::new(parquet::ParquetSink::open(path, columns, options)?),
            Format::Csv => {
                let (output, resumed) = TextOutput::open(path, options.opening)?;
                Box::new(csv::CsvSink::new(output, columns, resumed))
            }
            Format::Jsonl => {
                let (output, _) = TextOutput::open(path, options.opening)?;
                Box::new(jsonl::JsonlSink::new(output, columns))
            }
        }),
    }
}

/// A text output (CSV, JSON Lines) with the count of bytes handed to the
/// file, so a flush can say how far the file holds whole rows, and a
/// handle to cut the file back there after a failed write.
pub(crate) struct TextOutput {
    writer: Box<dyn Write + Send>,
    written: u64,
    /// Bytes known to hold whole rows (after the last good flush). A `Cell`
    /// because the CSV writer lends its inner writer only by `&`.
    durable: std::cell::Cell<u64>,
    /// Set once the file was cut back: the buffers in front of this output
    /// flush again when dropped, and must not write past the cut.
    cut: std::cell::Cell<bool>,
    file: Option<File>,
    pub(crate) path: String,
}

impl TextOutput {
    fn stdout() -> Self {
        TextOutput {
            writer: Box::new(io::stdout()),
            written: 0,
            durable: std::cell::Cell::new(0),
            cut: std::cell::Cell::new(false),
            file: None,
            path: "standard output".into(),
        }
    }

    /// Creates the file, or for a resume cuts it back to the checkpoint's
    /// durable point (dropping a row half-written before a crash) and
    /// appends. Returns whether rows were already there.
    fn open(path: &Path, opening: Opening) -> Result<(TextOutput, bool), SinkError> {
        let name = path.display().to_string();
        let create = |source| SinkError::Create {
            path: name.clone(),
            source,
        };
        let (file, start) = match opening {
            Opening::Fresh => (File::create(path).map_err(create)?, 0),
            Opening::Resume(Durable::Text { bytes }) => {
                let mut file = OpenOptions::new().write(true).open(path).map_err(create)?;
                let length = file.metadata().map_err(create)?.len();
                if length < bytes {
                    return Err(SinkError::Resume {
                        path: name,
                        message: format!(
                            "it has {length} bytes but the checkpoint says {bytes} were written"
                        ),
                    });
                }
                file.set_len(bytes).map_err(write_error(&name))?;
                file.seek(SeekFrom::End(0)).map_err(write_error(&name))?;
                (file, bytes)
            }
            Opening::Resume(Durable::Parquet { .. }) => {
                return Err(SinkError::Resume {
                    path: name,
                    message: "the checkpoint is for Parquet output".into(),
                });
            }
        };
        let handle = file.try_clone().map_err(create)?;
        Ok((
            TextOutput {
                writer: Box::new(file),
                written: start,
                durable: std::cell::Cell::new(start),
                cut: std::cell::Cell::new(false),
                file: Some(handle),
                path: name,
            },
            start > 0,
        ))
    }

    /// Called after every buffer in front of this output was flushed into
    /// it (and it flushed): all bytes written so far are whole rows.
    fn flushed(&self) -> Option<Durable> {
        self.durable.set(self.written);
        self.file.as_ref().map(|_| Durable::Text {
            bytes: self.written,
        })
    }

    /// A write failed (disk full, I/O error): cut the file back to whole rows.
    fn cut_back(&self) {
        self.cut.set(true);
        if let Some(file) = &self.file {
            // Best effort: the write error is what gets reported.
            let _ = file.set_len(self.durable.get());
        }
    }
}

impl Write for TextOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.cut.get() {
            return Err(io::Error::other(
                "the output was closed after a write error",
            ));
        }
        let written = self.writer.write(buf)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
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
    /// Emptied batches the writer hands back: a batch is tens of KiB, and
    /// allocating one per send (and freeing it on the other thread) cost
    /// the allocator a consolidation pass each time.
    emptied: Receiver<Vec<R>>,
}

impl<R> RowOutput<R> for RowSender<R> {
    fn push(&mut self, row: R) -> bool {
        self.batch.push(row);
        if self.batch.len() >= ROWS_PER_BATCH {
            return self.send();
        }
        true
    }

    /// A partial batch goes out once it is `MAX_BATCH_DELAY` old. Checked
    /// here, not per row: a clock read per row was a measurable share of
    /// the scan loop.
    fn tick(&mut self, now: Instant) -> bool {
        if !self.batch.is_empty()
            && now.saturating_duration_since(self.last_send) >= MAX_BATCH_DELAY
        {
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
        let next = self
            .emptied
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(ROWS_PER_BATCH));
        let batch = std::mem::replace(&mut self.batch, next);
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
    /// Starts the writer thread on an opened sink; with a checkpointer, the
    /// checkpoint follows every durable point the sink reports.
    pub fn start<R, C>(
        sink: Box<dyn RecordSink>,
        collector: C,
        checkpointer: Option<Checkpointer>,
    ) -> (RowSender<R>, RowWriter<S>)
    where
        R: Record,
        C: Collector<R, Summary = S>,
    {
        let (tx, rx) = sync_channel(QUEUED_BATCHES);
        // Room for every batch that can exist, so handing one back never blocks.
        let (emptied_tx, emptied_rx) = sync_channel(QUEUED_BATCHES + 2);
        let handle = std::thread::spawn(move || {
            Some(write_loop(sink, collector, checkpointer, rx, emptied_tx))
        });
        let sender = RowSender {
            batch: Vec::with_capacity(ROWS_PER_BATCH),
            last_send: Instant::now(),
            channel: Some(tx),
            emptied: emptied_rx,
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
    mut checkpointer: Option<Checkpointer>,
    rows: Receiver<Vec<R>>,
    emptied: SyncSender<Vec<R>>,
) -> WriterReport<C::Summary> {
    let mut written = 0u64;
    let mut last_flush = Instant::now();
    let mut failure = checkpointer
        .as_ref()
        .and_then(|checkpointer| checkpointer.store_start().err())
        .map(SinkError::from);
    'receive: while failure.is_none() {
        match rows.recv_timeout(FLUSH_EVERY) {
            Ok(mut batch) => {
                for mut row in batch.drain(..) {
                    collector.prepare(&mut row);
                    if let Err(error) = sink.write(&row.cells()) {
                        failure = Some(error);
                        break 'receive;
                    }
                    written += 1;
                    if let (Some(checkpointer), Some(position)) =
                        (checkpointer.as_mut(), row.position())
                    {
                        checkpointer.mark(position);
                    }
                    collector.count(&row);
                }
                // Full or gone means the scan side has enough or has ended.
                let _ = emptied.try_send(batch);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            last_flush = Instant::now();
            if let Err(error) = flush_and_checkpoint(&mut *sink, checkpointer.as_ref()) {
                failure = Some(error);
                break;
            }
        }
    }
    // Keep what was written readable: close the file properly even after a
    // write error (the first error is the one reported). After a failure
    // the last checkpoint stays as it was: it matches what is on disk.
    let finished =
        sink.finish().and_then(
            |point| match (failure.is_none(), point, checkpointer.as_ref()) {
                (true, Some(point), Some(checkpointer)) => Ok(checkpointer.store(point)?),
                _ => Ok(()),
            },
        );
    WriterReport {
        summary: collector.into_summary(),
        rows: written,
        result: match failure {
            Some(error) => Err(error),
            None => finished,
        },
    }
}

fn flush_and_checkpoint(
    sink: &mut dyn RecordSink,
    checkpointer: Option<&Checkpointer>,
) -> Result<(), SinkError> {
    if let (Some(point), Some(checkpointer)) = (sink.flush()?, checkpointer) {
        checkpointer.store(point)?;
    }
    Ok(())
}

/// `io::Write` adapter errors carry the path for the message.
pub(crate) fn write_error(path: &str) -> impl Fn(io::Error) -> SinkError + '_ {
    move |source| SinkError::Write {
        path: path.to_owned(),
        source,
    }
}
