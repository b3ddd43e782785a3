//! Parquet: typed columns (lists stay `list<string>`), zstd, written in row
//! groups as the scan goes so memory stays flat and an interrupted scan
//! still closes with a valid footer.

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::table::{Cell, Column, Kind};
use super::{RecordSink, SinkError};

/// Rows buffered in Arrow builders before they go to the Parquet writer.
const ROWS_PER_BATCH: usize = 8192;
/// Rows per row group: a few MiB uncompressed, so readers can skip and
/// parallelise, and the writer holds little in memory.
const ROWS_PER_GROUP: usize = 65_536;

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::Utf8,
        Kind::Int => DataType::Int32,
        Kind::Float => DataType::Float64,
        Kind::Bool => DataType::Boolean,
        Kind::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
    }
}

pub fn schema(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|column| Field::new(column.name, data_type(column.kind), column.nullable))
            .collect::<Vec<_>>(),
    ))
}

enum Builder {
    Text(StringBuilder),
    Int(Int32Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    List(ListBuilder<StringBuilder>),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Int => Builder::Int(Int32Builder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::TextList => Builder::List(ListBuilder::new(StringBuilder::new())),
        }
    }

    /// Appends a cell. A cell of the wrong type becomes null, which the
    /// batch then rejects for a non-nullable column: a schema bug surfaces
    /// as a write error, never as a wrong value.
    fn append(&mut self, cell: &Cell<'_>) {
        match (self, cell) {
            (Builder::Text(builder), Cell::Text(text)) => builder.append_value(text),
            (Builder::Int(builder), Cell::Int(value)) => {
                builder.append_value(i32::try_from(*value).unwrap_or(if *value < 0 {
                    i32::MIN
                } else {
                    i32::MAX
                }))
            }
            (Builder::Float(builder), Cell::Float(value)) => builder.append_value(*value),
            (Builder::Bool(builder), Cell::Bool(value)) => builder.append_value(*value),
            (Builder::List(builder), Cell::List(items)) => {
                for item in items {
                    builder.values().append_value(item);
                }
                builder.append(true);
            }
            (Builder::List(builder), _) => builder.append(true),
            (Builder::Text(builder), _) => builder.append_null(),
            (Builder::Int(builder), _) => builder.append_null(),
            (Builder::Float(builder), _) => builder.append_null(),
            (Builder::Bool(builder), _) => builder.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(builder) => Arc::new(builder.finish()),
            Builder::Int(builder) => Arc::new(builder.finish()),
            Builder::Float(builder) => Arc::new(builder.finish()),
            Builder::Bool(builder) => Arc::new(builder.finish()),
            Builder::List(builder) => Arc::new(builder.finish()),
        }
    }
}

pub struct ParquetSink {
    writer: ArrowWriter<File>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    path: String,
}

impl ParquetSink {
    pub fn new(file: File, path: String, columns: &'static [Column]) -> Result<Self, SinkError> {
        let schema = schema(columns);
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
            builders: columns
                .iter()
                .map(|column| Builder::new(column.kind))
                .collect(),
            rows: 0,
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
        if self.rows == 0 {
            return Ok(());
        }
        self.rows = 0;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch =
            RecordBatch::try_new(Arc::clone(&self.schema), arrays).map_err(|e| self.error(e))?;
        self.writer.write(&batch).map_err(|e| self.error(e))
    }
}

impl RecordSink for ParquetSink {
    fn write(&mut self, cells: &[Cell<'_>]) -> Result<(), SinkError> {
        for (builder, cell) in self.builders.iter_mut().zip(cells) {
            builder.append(cell);
        }
        self.rows += 1;
        if self.rows >= ROWS_PER_BATCH {
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
