//! CSV: one header line, then one line per row. Lists are joined with `|`
//! (a character that cannot appear in a host name, an address or a reason
//! code), booleans are `true`/`false`, absent values are empty.

use std::io::Write;

use super::table::{Cell, Column};
use super::{RecordSink, SinkError, write_error};

pub struct CsvSink {
    writer: csv::Writer<Box<dyn Write + Send>>,
    columns: &'static [Column],
    path: String,
    wrote_header: bool,
    fields: Vec<String>,
}

impl CsvSink {
    pub fn new(output: Box<dyn Write + Send>, path: String, columns: &'static [Column]) -> Self {
        CsvSink {
            writer: csv::WriterBuilder::new().from_writer(output),
            columns,
            path,
            wrote_header: false,
            fields: Vec::with_capacity(columns.len()),
        }
    }

    fn map(&self, error: csv::Error) -> SinkError {
        let source = match error.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        };
        write_error(&self.path)(source)
    }

    fn header(&mut self) -> Result<(), SinkError> {
        if !self.wrote_header {
            self.wrote_header = true;
            let names = self.columns.iter().map(|column| column.name);
            self.writer.write_record(names).map_err(|e| self.map(e))?;
        }
        Ok(())
    }
}

/// A cell as CSV text.
pub fn field(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Text(text) => text.to_string(),
        Cell::Int(value) => value.to_string(),
        Cell::Float(value) => format!("{value:.3}"),
        Cell::Bool(value) => value.to_string(),
        Cell::List(items) => items.join("|"),
    }
}

impl RecordSink for CsvSink {
    fn write(&mut self, cells: &[Cell<'_>]) -> Result<(), SinkError> {
        self.header()?;
        self.fields.clear();
        self.fields.extend(cells.iter().map(field));
        self.writer
            .write_record(&self.fields)
            .map_err(|e| self.map(e))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.writer.flush().map_err(write_error(&self.path))
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        self.header()?;
        self.writer.flush().map_err(write_error(&self.path))
    }
}
