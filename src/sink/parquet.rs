//! Parquet: typed columns (lists stay `list<string>`), zstd, written in row
//! groups as the scan goes so memory stays flat and an interrupted scan
//! still closes with a valid footer.
//!
//! What the writer holds is bounded by a row group, not by the sweep: the
//! Arrow builders hold one small batch, the column writers one row group of
//! pages (no dictionaries for columns of distinct values), and the footer
//! ~15 KB of metadata per row group until the file closes, 3.7 MiB for the
//! 256 row groups of a /8. Statistics are per column chunk only: page-level
//! ones (the column index) would add 2 KB per row group, and in a file whose
//! rows come in a random order they cannot skip pages anyway.

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::table::{Cell, Column, Kind};
use super::{RecordSink, SinkError};

/// Rows buffered in Arrow builders before they go to the Parquet writer:
/// the writer encodes 1024 values at a time anyway, and small builders are
/// reused memory instead of multi-megabyte buffers regrown every batch.
const ROWS_PER_BATCH: usize = 1024;
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
        let parquet_error = |e: parquet::errors::ParquetError| SinkError::Parquet {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
            .set_statistics_enabled(EnabledStatistics::Chunk);
        // A dictionary of distinct values only grows, to its 1 MiB limit per
        // column chunk (which 65,536 addresses do not even reach) and is then
        // given up anyway; plain pages also compress smaller (issue 7: the
        // dictionaries were a third of the writer's memory, the file is 30 %
        // smaller without them).
        let leaves = ArrowSchemaConverter::new()
            .convert(&schema)
            .map_err(parquet_error)?;
        for leaf in leaves.columns() {
            let top = leaf.path().parts().first().map(String::as_str);
            if columns.iter().any(|c| c.distinct && Some(c.name) == top) {
                properties = properties.set_column_dictionary_enabled(leaf.path().clone(), false);
            }
        }
        let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties.build()))
            .map_err(parquet_error)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::Encoding;

    const COLUMNS: [Column; 3] = [
        Column::new("ip", Kind::Text, false).distinct(),
        Column::new("names", Kind::TextList, false).distinct(),
        Column::new("verdict", Kind::Text, false),
    ];

    #[test]
    fn distinct_columns_have_no_dictionary_and_no_page_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rows.parquet");
        let file = File::create(&path).expect("create");
        let mut sink =
            Box::new(ParquetSink::new(file, "rows.parquet".into(), &COLUMNS).expect("sink"));
        for i in 0..3000 {
            let ip = format!("10.0.{}.{}", i / 256, i % 256);
            let name = format!("host-{i}.example");
            let verdict = if i % 3 == 0 { "confirmed" } else { "mismatch" };
            sink.write(&[Cell::text(ip), Cell::list([name]), Cell::text(verdict)])
                .expect("write");
        }
        sink.finish().expect("finish");
        let file = File::open(&path).expect("open");
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("valid parquet");
        let group = builder.metadata().row_group(0);
        assert_eq!(group.num_rows(), 3000);
        for chunk in group.columns() {
            let path = chunk.column_path().string();
            let dictionary = chunk.encodings().any(|e| e == Encoding::RLE_DICTIONARY);
            assert_eq!(dictionary, path == "verdict", "{path}");
            assert!(chunk.statistics().is_some(), "{path}: chunk statistics");
            assert!(chunk.column_index_offset().is_none(), "{path}: page index");
        }
    }
}
