//! CSV: one header line, then one line per row. Lists are joined with `|`
//! (a character that cannot appear in a host name, an address or a reason
//! code), booleans are `true`/`false`, absent values are empty.

use crate::checkpoint::Durable;

use super::table::{AddrText, Cell, Column, write_millis};
use super::{RecordSink, SinkError, TextOutput, write_error};

/// The CSV writer's own buffer: the only one between rows and the file.
const BUFFER_BYTES: usize = 64 * 1024;

pub struct CsvSink {
    writer: csv::Writer<TextOutput>,
    columns: &'static [Column],
    path: String,
    wrote_header: bool,
    /// Reused for lists and numbers: no allocation per row.
    scratch: String,
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
            scratch: String::with_capacity(256),
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

impl CsvSink {
    /// Writes one cell without building a `String` per cell (this runs for
    /// every cell of millions of rows); the tests hold it to the plain
    /// one-`String`-per-cell spelling.
    fn write_cell(&mut self, cell: &Cell<'_>) -> Result<(), csv::Error> {
        match cell {
            Cell::Null => self.writer.write_field(b""),
            Cell::Text(text) => self.writer.write_field(text.as_bytes()),
            Cell::Int(value) => self.writer.write_field(itoa::Buffer::new().format(*value)),
            Cell::Bool(value) => self
                .writer
                .write_field(if *value { "true" } else { "false" }),
            Cell::Float(value) => {
                write_millis(&mut self.scratch, *value);
                self.writer.write_field(self.scratch.as_bytes())
            }
            Cell::List(items) => {
                join_into(&mut self.scratch, items.iter().map(AsRef::as_ref));
                self.writer.write_field(self.scratch.as_bytes())
            }
            Cell::Addr(address) => self.writer.write_field(AddrText::ip(*address).as_str()),
            Cell::Endpoint(endpoint) => self
                .writer
                .write_field(AddrText::endpoint(*endpoint).as_str()),
            Cell::Addrs(addresses) => {
                let texts = addresses.iter().map(|address| AddrText::ip(*address));
                join_into(&mut self.scratch, texts);
                self.writer.write_field(self.scratch.as_bytes())
            }
        }
    }
}

/// Text that can be appended as it is (no formatting machinery).
trait AsText {
    fn text(&self) -> &str;
}

impl AsText for &str {
    fn text(&self) -> &str {
        self
    }
}

impl AsText for AddrText {
    fn text(&self) -> &str {
        self.as_str()
    }
}

/// `items` joined with `|`, into `scratch` (cleared first).
fn join_into(scratch: &mut String, items: impl Iterator<Item = impl AsText>) {
    scratch.clear();
    for (index, item) in items.enumerate() {
        if index > 0 {
            scratch.push('|');
        }
        scratch.push_str(item.text());
    }
}

impl RecordSink for CsvSink {
    fn write(&mut self, cells: &[Cell<'_>]) -> Result<(), SinkError> {
        self.header()?;
        for cell in cells {
            self.write_cell(cell).map_err(|e| self.map(e))?;
        }
        // An empty record call ends the record the fields above began.
        self.writer
            .write_record(None::<&[u8]>)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::table::Kind;
    use proptest::prelude::*;

    /// The plain spelling: one `String` per cell.
    fn field(cell: &Cell<'_>) -> String {
        match cell {
            Cell::Null => String::new(),
            Cell::Text(text) => text.to_string(),
            Cell::Int(value) => value.to_string(),
            // Rounded to the microsecond first, as the JSONL sink does.
            Cell::Float(value) => format!("{:.3}", (value * 1000.0).round() / 1000.0),
            Cell::Bool(value) => value.to_string(),
            Cell::List(items) => items.join("|"),
            Cell::Addr(address) => address.to_string(),
            Cell::Endpoint(endpoint) => endpoint.to_string(),
            Cell::Addrs(addresses) => addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("|"),
        }
    }

    fn cell_strategy() -> impl Strategy<Value = Cell<'static>> {
        let text = "[a-z0-9,\" |.\n-]{0,12}";
        prop_oneof![
            Just(Cell::Null),
            text.prop_map(|t| Cell::Text(t.into())),
            any::<i64>().prop_map(Cell::Int),
            (-1e6f64..1e6).prop_map(Cell::Float),
            (0u64..10_000_000).prop_map(|micros| Cell::Float(micros as f64 / 1000.0)),
            (0f64..1.0).prop_map(|fraction| Cell::Float(fraction / 1000.0)),
            any::<bool>().prop_map(Cell::Bool),
            proptest::collection::vec(text, 0..4)
                .prop_map(|items| Cell::List(items.into_iter().map(Into::into).collect())),
            any::<std::net::IpAddr>().prop_map(Cell::Addr),
            any::<std::net::SocketAddr>().prop_map(Cell::Endpoint),
            proptest::collection::vec(any::<std::net::IpAddr>(), 0..4)
                .prop_map(|addresses| Cell::Addrs(Box::leak(addresses.into_boxed_slice()))),
        ]
    }

    static COLUMNS: [Column; 1] = [Column::new("c", Kind::Text, true)];

    proptest! {
        /// The allocation-free writer gives byte for byte what writing
        /// each cell's `String` gives.
        #[test]
        fn cells_are_written_as_their_plain_spelling(
            rows in (1usize..6).prop_flat_map(|width| proptest::collection::vec(
                proptest::collection::vec(cell_strategy(), width..=width),
                1..5,
            ))
        ) {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("out.csv");
            let (output, _) = TextOutput::open(&path, crate::sink::Opening::Fresh).expect("opens");
            let mut sink = Box::new(CsvSink::new(output, &COLUMNS, true));
            let mut reference = csv::Writer::from_writer(Vec::new());
            for row in &rows {
                sink.write(row).expect("written");
                reference.write_record(row.iter().map(field)).expect("reference");
            }
            sink.finish().expect("finished");
            let want = reference.into_inner().expect("bytes");
            prop_assert_eq!(std::fs::read(&path).expect("read"), want);
        }
    }
}
