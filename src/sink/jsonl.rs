//! JSON Lines: one object per row; lists stay lists, absent values are null.

use std::io::Write;

use serde::Serialize;

use super::{RecordSink, SinkError, flush_writer, write_error};
use crate::record::Row;

#[derive(Serialize)]
struct JsonRow<'a> {
    ip: String,
    ptr: &'a [String],
    ptr_count: usize,
    forward: Vec<String>,
    fcrdns: &'static str,
    rcode: Option<String>,
    error: Option<&'static str>,
    resolver: Option<String>,
    attempts: u32,
    rtt_ms: Option<f64>,
}

impl<'a> JsonRow<'a> {
    fn from_row(row: &'a Row) -> Self {
        JsonRow {
            ip: row.ip.to_string(),
            ptr: &row.ptr,
            ptr_count: row.ptr.len(),
            forward: row.forward_strings(),
            fcrdns: row.fcrdns.as_str(),
            rcode: row.rcode.map(|r| r.name().into_owned()),
            error: row.error.map(|e| e.as_str()),
            resolver: row.resolver.map(|r| r.to_string()),
            attempts: row.attempts,
            rtt_ms: row.rtt_ms.map(|ms| (ms * 1000.0).round() / 1000.0),
        }
    }
}

pub struct JsonlSink<W: Write + Send> {
    writer: W,
    path: String,
}

impl<W: Write + Send> JsonlSink<W> {
    pub fn new(writer: W, path: String) -> Self {
        JsonlSink { writer, path }
    }
}

impl<W: Write + Send> RecordSink for JsonlSink<W> {
    fn write(&mut self, row: &Row) -> Result<(), SinkError> {
        serde_json::to_writer(&mut self.writer, &JsonRow::from_row(row))
            .map_err(|e| write_error(&self.path)(std::io::Error::other(e)))?;
        self.writer
            .write_all(b"\n")
            .map_err(write_error(&self.path))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        flush_writer(&mut self.writer, &self.path)
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        flush_writer(&mut self.writer, &self.path)
    }
}
