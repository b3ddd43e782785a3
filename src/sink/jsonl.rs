//! JSON Lines: one object per row; lists stay lists, absent values are null.

use std::io::{BufWriter, Write};
use std::net::IpAddr;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::checkpoint::Durable;

use super::table::{AddrText, Cell, Column};
use super::{RecordSink, SinkError, TextOutput, write_error};

struct JsonRow<'c, 'v> {
    columns: &'static [Column],
    cells: &'c [Cell<'v>],
}

struct JsonCell<'c, 'v>(&'c Cell<'v>);

/// An address written as text from the stack.
struct AddrCell(IpAddr);

impl Serialize for AddrCell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(AddrText::ip(self.0).as_str())
    }
}

impl Serialize for JsonCell<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Null => serializer.serialize_none(),
            Cell::Text(text) => serializer.serialize_str(text),
            Cell::Int(value) => serializer.serialize_i64(*value),
            // Microsecond precision is all a round-trip time carries.
            Cell::Float(value) => serializer.serialize_f64((value * 1000.0).round() / 1000.0),
            Cell::Bool(value) => serializer.serialize_bool(*value),
            Cell::List(_) | Cell::Names(_) | Cell::Codes(_) => {
                serializer.collect_seq(self.0.list_items().into_iter().flatten())
            }
            // Formatted on the stack: no String per address.
            Cell::Addr(address) => AddrCell(*address).serialize(serializer),
            Cell::Endpoint(endpoint) => {
                serializer.serialize_str(AddrText::endpoint(*endpoint).as_str())
            }
            Cell::Addrs(addresses) => {
                serializer.collect_seq(addresses.iter().map(|address| AddrCell(*address)))
            }
        }
    }
}

impl Serialize for JsonRow<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, cell) in self.columns.iter().zip(self.cells) {
            map.serialize_entry(column.name, &JsonCell(cell))?;
        }
        map.end()
    }
}

const BUFFER_BYTES: usize = 64 * 1024;

pub struct JsonlSink {
    writer: BufWriter<TextOutput>,
    columns: &'static [Column],
    path: String,
}

impl JsonlSink {
    pub(crate) fn new(output: TextOutput, columns: &'static [Column]) -> Self {
        let path = output.path.clone();
        JsonlSink {
            writer: BufWriter::with_capacity(BUFFER_BYTES, output),
            columns,
            path,
        }
    }

    fn flush_all(&mut self) -> Result<Option<Durable>, SinkError> {
        self.writer.flush().map_err(write_error(&self.path))?;
        Ok(self.writer.get_ref().flushed())
    }
}

impl RecordSink for JsonlSink {
    fn write(&mut self, cells: &[Cell<'_>]) -> Result<(), SinkError> {
        let row = JsonRow {
            columns: self.columns,
            cells,
        };
        serde_json::to_writer(&mut self.writer, &row)
            .map_err(|e| write_error(&self.path)(std::io::Error::other(e)))?;
        self.writer
            .write_all(b"\n")
            .map_err(write_error(&self.path))
    }

    fn flush(&mut self) -> Result<Option<Durable>, SinkError> {
        self.flush_all()
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Durable>, SinkError> {
        let result = self.flush_all();
        if result.is_err() {
            self.writer.get_ref().cut_back();
        }
        result
    }
}
