//! CSV: one header line, then one line per row. Lists are joined with `|`
//! (a character that cannot appear in a host name, an address or a reason
//! code), booleans are `true`/`false`, absent values are empty.

use crate::checkpoint::Durable;

use super::table::{Cell, Column};
use super::{RecordSink, SinkError, TextOutput, write_error};

/// The CSV writer's own buffer: the only one between rows and the file.
const BUFFER_BYTES: usize = 64 * 1024;

pub struct CsvSink {
    writer: csv::Writer<TextOutput>,
    columns: &'static [Column],
    path: String,
    wrote_header: bool,
    fields: Vec<String>,
}

impl CsvSink {
    /// `resumed`: the file already holds the header and rows.
    pub(crate) fn new(output: TextOutput, columns: &'static [Column], resumed: bool) -> Self {
        let path = output.path.clone();
        CsvSink {
            writer: csv::WriterBuilder::new()
                .buffer_capacity(BUFFER_BYTES)
                .from_writer(output),
            columns,
            path,
            wrote_header: resumed,
            fields: Vec::with_capacity(columns.len()),
        }
    }

    fn flush_all(&mut self) -> Result<Option<Durable>, SinkError> {
        self.writer.flush().map_err(write_error(&self.path))?;
        Ok(self.writer.get_ref().flushed())
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

    fn flush(&mut self) -> Result<Option<Durable>, SinkError> {
        self.flush_all()
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Durable>, SinkError> {
        let result = self.header().and_then(|()| self.flush_all());
        if result.is_err() {
            self.writer.get_ref().cut_back();
        }
        result
    }
}
