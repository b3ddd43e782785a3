//! Parquet: typed columns (lists stay `list<string>`), zstd, written in row
//! groups as the scan goes so memory stays flat and an interrupted scan
//! still closes with a valid footer.

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int32Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{RecordSink, SinkError};
use crate::record::Row;

/// Rows buffered in Arrow builders before they go to the Parquet writer.
const ROWS_PER_BATCH: usize = 8192;
/// Rows per row group: a few MiB uncompressed, so readers can skip and
/// parallelise, and the writer holds little in memory.
const ROWS_PER_GROUP: usize = 65_536;

pub fn schema() -> SchemaRef {
    let list_of_strings = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    Arc::new(Schema::new(vec![
        Field::new("ip", DataType::Utf8, false),
        Field::new("ptr", list_of_strings(), false),
        Field::new("ptr_count", DataType::Int32, false),
        Field::new("forward", list_of_strings(), false),
        Field::new("fcrdns", DataType::Utf8, false),
        Field::new("rcode", DataType::Utf8, true),
        Field::new("error", DataType::Utf8, true),
        Field::new("resolver", DataType::Utf8, true),
        Field::new("attempts", DataType::Int32, false),
        Field::new("rtt_ms", DataType::Float64, true),
    ]))
}

struct Columns {
    ip: StringBuilder,
    ptr: ListBuilder<StringBuilder>,
    ptr_count: Int32Builder,
    forward: ListBuilder<StringBuilder>,
    fcrdns: StringBuilder,
    rcode: StringBuilder,
    error: StringBuilder,
    resolver: StringBuilder,
    attempts: Int32Builder,
    rtt_ms: Float64Builder,
    rows: usize,
}

impl Columns {
    fn new() -> Self {
        Columns {
            ip: StringBuilder::new(),
            ptr: ListBuilder::new(StringBuilder::new()),
            ptr_count: Int32Builder::new(),
            forward: ListBuilder::new(StringBuilder::new()),
            fcrdns: StringBuilder::new(),
            rcode: StringBuilder::new(),
            error: StringBuilder::new(),
            resolver: StringBuilder::new(),
            attempts: Int32Builder::new(),
            rtt_ms: Float64Builder::new(),
            rows: 0,
        }
    }

    fn push(&mut self, row: &Row) {
        self.ip.append_value(row.ip.to_string());
        for name in &row.ptr {
            self.ptr.values().append_value(name);
        }
        self.ptr.append(true);
        self.ptr_count
            .append_value(i32::try_from(row.ptr.len()).unwrap_or(i32::MAX));
        for addr in &row.forward {
            self.forward.values().append_value(addr.to_string());
        }
        self.forward.append(true);
        self.fcrdns.append_value(row.fcrdns.as_str());
        self.rcode.append_option(row.rcode.map(|r| r.name()));
        self.error.append_option(row.error.map(|e| e.as_str()));
        self.resolver
            .append_option(row.resolver.map(|r| r.to_string()));
        self.attempts
            .append_value(i32::try_from(row.attempts).unwrap_or(i32::MAX));
        self.rtt_ms.append_option(row.rtt_ms);
        self.rows += 1;
    }

    fn take_batch(&mut self, schema: &SchemaRef) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.ip.finish()),
            Arc::new(self.ptr.finish()),
            Arc::new(self.ptr_count.finish()),
            Arc::new(self.forward.finish()),
            Arc::new(self.fcrdns.finish()),
            Arc::new(self.rcode.finish()),
            Arc::new(self.error.finish()),
            Arc::new(self.resolver.finish()),
            Arc::new(self.attempts.finish()),
            Arc::new(self.rtt_ms.finish()),
        ];
        self.rows = 0;
        RecordBatch::try_new(Arc::clone(schema), columns)
    }
}

pub struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    columns: Columns,
    path: String,
}

impl ParquetSink {
    pub fn new(file: File, path: String) -> Result<Self, SinkError> {
        let schema = schema();
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
            .build();
        let writer =
            ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties)).map_err(|e| {
                SinkError::Parquet {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })?;
        Ok(ParquetSink {
            writer,
            schema,
            columns: Columns::new(),
            path,
        })
    }

    fn error(&self, message: impl ToString) -> SinkError {
        SinkError::Parquet {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    fn write_buffered(&mut self) -> Result<(), SinkError> {
        if self.columns.rows == 0 {
            return Ok(());
        }
        let batch = self
            .columns
            .take_batch(&self.schema)
            .map_err(|e| self.error(e))?;
        self.writer.write(&batch).map_err(|e| self.error(e))
    }
}

impl RecordSink for ParquetSink {
    fn write(&mut self, row: &Row) -> Result<(), SinkError> {
        self.columns.push(row);
        if self.columns.rows >= ROWS_PER_BATCH {
            self.write_buffered()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        // Row groups close by size; closing tiny ones every second would
        // bloat the file, so a periodic flush only moves rows into the writer.
        self.write_buffered()
    }

    fn finish(mut self: Box<Self>) -> Result<(), SinkError> {
        self.write_buffered()?;
        let path = self.path.clone();
        self.writer
            .close()
            .map(|_| ())
            .map_err(|e| SinkError::Parquet {
                path,
                message: e.to_string(),
            })
    }
}
