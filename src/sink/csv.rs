//! CSV: one header line, then one line per row. Lists are joined with `|`
//! (a character that cannot appear in a host name or an address).

use std::io::Write;

use super::{RecordSink, SinkError, write_error};
use crate::record::Row;

pub const HEADER: [&str; 10] = [
    "ip",
    "ptr",
    "ptr_count",
    "forward",
    "fcrdns",
    "rcode",
    "error",
    "resolver",
    "attempts",
    "rtt_ms",
];

pub struct CsvSink {
    writer: csv::Writer<Box<dyn Write + Send>>,
    path: String,
    wrote_header: bool,
}

impl CsvSink {
    pub fn new(output: Box<dyn Write + Send>, path: String) -> Self {
        CsvSink {
            writer: csv::WriterBuilder::new().from_writer(output),
            path,
            wrote_header: false,
        }
    }

    fn map(&self, error: csv::Error) -> SinkError {
        let source = match error.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        };
        write_error(&self.path)(source)
    }
}

/// The CSV fields of a row, in [`HEADER`] order.
pub fn fields(row: &Row) -> [String; 10] {
    [
        row.ip.to_string(),
        row.ptr_joined(),
        row.ptr.len().to_string(),
        row.forward_strings().join("|"),
        row.fcrdns.as_str().to_owned(),
        row.rcode.map(|r| r.name().into_owned()).unwrap_or_default(),
        row.error.map(|e| e.as_str().to_owned()).unwrap_or_default(),
        row.resolver.map(|r| r.to_string()).unwrap_or_default(),
        row.attempts.to_string(),
        row.rtt_ms.map(|ms| format!("{ms:.3}")).unwrap_or_default(),
    ]
}

impl RecordSink for CsvSink {
    fn write(&mut self, row: &Row) -> Result<(), SinkError> {
        if !self.wrote_header {
            self.wrote_header = true;
            self.writer.write_record(HEADER).map_err(|e| self.map(e))?;
        }
        self.writer
            .write_record(fields(row))
            .map_err(|e| self.map(e))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.writer.flush().map_err(write_error(&self.path))
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        if !self.wrote_header {
            self.wrote_header = true;
            self.writer.write_record(HEADER).map_err(|e| self.map(e))?;
        }
        self.writer.flush().map_err(write_error(&self.path))
    }
}
