//! CSV: one header line, then one line per row. Lists are joined with `|`
//! (a character that cannot appear in a host name, an address or a reason
//! code), booleans are `true`/`false`, absent values are empty.

use std::io::Write as _;

use crate::checkpoint::Durable;

use super::table::{AddrText, Cell, Column, write_millis};
use super::{RecordSink, SinkError, TextOutput, write_error};

/// Rows are gathered in this buffer and written out whole once it holds
/// this much: the only buffer between rows and the file.
const BUFFER_BYTES: usize = 64 * 1024;

/// Writes RFC 4180 records by hand: the `csv` crate's writer checked and
/// copied every field through its state machine, about a tenth of the
/// writer thread's time. The tests hold this writer to the crate's output
/// byte for byte (quoting only where needed: a delimiter, a quote, CR or LF;
/// quotes doubled; a record of one empty field written as `""`).
pub struct CsvSink {
    output: TextOutput,
    buffer: Vec<u8>,
    columns: &'static [Column],
    wrote_header: bool,
    /// A write failed: how much of the buffer reached the file is unknown,
    /// so nothing more is written and `finish` cuts the file back.
    failed: bool,
    /// Reused for lists and numbers: no allocation per row.
    scratch: String,
}

impl CsvSink {
    /// `resumed`: the file already holds the header and rows.
    pub(crate) fn new(output: TextOutput, columns: &'static [Column], resumed: bool) -> Self {
        CsvSink {
            output,
            buffer: Vec::with_capacity(BUFFER_BYTES + 4096),
            columns,
            wrote_header: resumed,
            failed: false,
            scratch: String::with_capacity(256),
        }
    }

    /// Writes the buffered rows into the output.
    fn drain(&mut self) -> Result<(), SinkError> {
        if self.failed {
            return Err(write_error(&self.output.path)(std::io::Error::other(
                "an earlier write to it failed",
            )));
        }
        let written = self.output.write_all(&self.buffer);
        self.buffer.clear();
        self.failed = written.is_err();
        written.map_err(write_error(&self.output.path))
    }

    fn flush_all(&mut self) -> Result<Option<Durable>, SinkError> {
        self.drain()?;
        self.output
            .flush()
            .map_err(write_error(&self.output.path))?;
        Ok(self.output.flushed())
    }

    fn header(&mut self) {
        if !self.wrote_header {
            self.wrote_header = true;
            for (index, column) in self.columns.iter().enumerate() {
                if index > 0 {
                    self.buffer.push(b',');
                }
                push_field(&mut self.buffer, column.name.as_bytes());
            }
            end_record(&mut self.buffer, self.columns.len());
        }
    }

    /// Writes one cell without building a `String` per cell (this runs for
    /// every cell of millions of rows); the tests hold it to the plain
    /// one-`String`-per-cell spelling.
    fn write_cell(&mut self, cell: &Cell<'_>) {
        let buffer = &mut self.buffer;
        match cell {
            Cell::Null => {}
            Cell::Text(text) => push_field(buffer, text.as_bytes()),
            Cell::Int(value) => {
                buffer.extend_from_slice(itoa::Buffer::new().format(*value).as_bytes())
            }
            Cell::Bool(value) => buffer.extend_from_slice(if *value { b"true" } else { b"false" }),
            Cell::Float(value) => {
                write_millis(&mut self.scratch, *value);
                push_field(buffer, self.scratch.as_bytes());
            }
            Cell::List(_) | Cell::Names(_) | Cell::Codes(_) => {
                join_into(&mut self.scratch, cell.list_items().into_iter().flatten());
                push_field(buffer, self.scratch.as_bytes());
            }
            Cell::Addr(address) => push_field(buffer, AddrText::ip(*address).as_str().as_bytes()),
            Cell::Endpoint(endpoint) => {
                push_field(buffer, AddrText::endpoint(*endpoint).as_str().as_bytes());
            }
            Cell::Addrs(addresses) => {
                let texts = addresses.iter().map(|address| AddrText::ip(*address));
                join_into(&mut self.scratch, texts);
                push_field(buffer, self.scratch.as_bytes());
            }
        }
    }
}

/// Bytes that make a field need quotes.
fn needs_quotes(field: &[u8]) -> bool {
    field
        .iter()
        .any(|&byte| matches!(byte, b',' | b'"' | b'\r' | b'\n'))
}

/// One field, quoted (with quotes doubled) only when it must be.
fn push_field(buffer: &mut Vec<u8>, field: &[u8]) {
    if !needs_quotes(field) {
        buffer.extend_from_slice(field);
        return;
    }
    buffer.push(b'"');
    for part in field.split_inclusive(|&byte| byte == b'"') {
        buffer.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            buffer.push(b'"');
        }
    }
    buffer.push(b'"');
}

/// Ends a record of `fields` fields; a lone empty field is written `""`
/// so that the line is not read as an empty record.
fn end_record(buffer: &mut Vec<u8>, fields: usize) {
    if fields == 1 && buffer.last().is_none_or(|&byte| byte == b'\n') {
        buffer.extend_from_slice(b"\"\"");
    }
    buffer.push(b'\n');
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
        if self.failed {
            return self.drain();
        }
        self.header();
        for (index, cell) in cells.iter().enumerate() {
            if index > 0 {
                self.buffer.push(b',');
            }
            self.write_cell(cell);
        }
        end_record(&mut self.buffer, cells.len());
        if self.buffer.len() >= BUFFER_BYTES {
            self.drain()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<Option<Durable>, SinkError> {
        self.flush_all()
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Durable>, SinkError> {
        self.header();
        let result = self.flush_all();
        if result.is_err() {
            self.output.cut_back();
        }
        result
    }
}

/// Rows still buffered when the sink is dropped without `finish` (the scan
/// stopped on an error elsewhere) go out as well: they are whole rows, and
/// after a write error the output refuses them.
impl Drop for CsvSink {
    fn drop(&mut self) {
        if !self.buffer.is_empty() && !self.failed {
            let _ = self.output.write_all(&self.buffer);
            let _ = self.output.flush();
        }
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
            Cell::Names(items) => items.join("|"),
            Cell::Codes(items) => items.join("|"),
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
        let text = "[a-z0-9,\" |.\r\n-]{0,12}";
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
            proptest::collection::vec(text, 0..4)
                .prop_map(|items| Cell::Names(Box::leak(items.into_boxed_slice()))),
            proptest::collection::vec(
                prop_oneof![Just("token:dyn"), Just("a,b"), Just("q\"")],
                0..4
            )
            .prop_map(|items| Cell::Codes(Box::leak(items.into_boxed_slice()))),
            any::<std::net::IpAddr>().prop_map(Cell::Addr),
            any::<std::net::SocketAddr>().prop_map(Cell::Endpoint),
            proptest::collection::vec(any::<std::net::IpAddr>(), 0..4)
                .prop_map(|addresses| Cell::Addrs(Box::leak(addresses.into_boxed_slice()))),
        ]
    }

    static COLUMNS: [Column; 1] = [Column::new("c", Kind::Text, true)];

    /// A file that takes `room` more bytes, the last write only in part,
    /// then fails as a full disk does.
    struct FillingFile {
        file: std::fs::File,
        room: usize,
    }

    impl std::io::Write for FillingFile {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let taken = buf.len().min(self.room);
            self.room -= taken;
            self.file.write(&buf[..taken])
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Regression: after a write that reached the file only in part, the
    /// sink fails from then on and `finish` cuts the file back to the last
    /// durable point, so a full disk leaves whole rows (scripts/integration
    /// caught a cut row when `finish` reported success instead).
    #[test]
    fn a_failed_write_leaves_only_whole_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.csv");
        let file = std::fs::File::create(&path).expect("created");
        let output = TextOutput {
            writer: Box::new(FillingFile {
                file: file.try_clone().expect("clone"),
                room: BUFFER_BYTES + BUFFER_BYTES / 2,
            }),
            written: 0,
            durable: std::cell::Cell::new(0),
            cut: std::cell::Cell::new(false),
            file: Some(file),
            path: path.display().to_string(),
        };
        let mut sink = Box::new(CsvSink::new(output, &COLUMNS, false));
        let row = [Cell::text("a row of some length, quoted")];
        for _ in 0..BUFFER_BYTES / 32 {
            sink.write(&row).expect("fits");
        }
        let durable = sink.flush().expect("flushed");
        let mut failed = false;
        for _ in 0..4 * BUFFER_BYTES / 32 {
            if sink.write(&row).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "the disk never filled");
        assert!(
            sink.write(&row).is_err(),
            "a write after the failure succeeded"
        );
        assert!(sink.finish().is_err(), "finish reported success");
        let Some(Durable::Text { bytes }) = durable else {
            panic!("no durable point: {durable:?}");
        };
        let kept = std::fs::read(&path).expect("read");
        assert_eq!(
            kept.len() as u64,
            bytes,
            "file not cut back to the durable point"
        );
        assert!(kept.ends_with(b"\n"), "a row was cut");
    }

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
