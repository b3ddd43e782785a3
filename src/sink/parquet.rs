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
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::checkpoint::Durable;

use super::table::{AddrText, Cell, Column, Kind};
use super::{Opening, OutputOptions, RecordSink, SinkError, write_error};

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
            (Builder::List(builder), Cell::List(_) | Cell::Names(_) | Cell::Codes(_)) => {
                for item in cell.list_items().into_iter().flatten() {
                    builder.values().append_value(item);
                }
                builder.append(true);
            }
            (Builder::Text(builder), Cell::Addr(address)) => {
                builder.append_value(AddrText::ip(*address).as_str())
            }
            (Builder::Text(builder), Cell::Endpoint(endpoint)) => {
                builder.append_value(AddrText::endpoint(*endpoint).as_str())
            }
            (Builder::List(builder), Cell::Addrs(addresses)) => {
                for address in *addresses {
                    builder
                        .values()
                        .append_value(AddrText::ip(*address).as_str());
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

/// A part still being written goes to `<part>.partial` and is renamed when
/// its footer is written, so a file with the part's name is always valid.
const PARTIAL_SUFFIX: &str = ".partial";
/// A part closes after this long even if small, bounding what a `kill -9`
/// of a slow (rate-limited) scan can lose.
const PART_MAX_AGE: Duration = Duration::from_secs(300);

/// The file name of part `index`: the output's own name for the first,
/// `stem-0001.ext`, `stem-0002.ext`, … for the rest, so that
/// `read_parquet('stem*.parquet')` reads them all.
pub fn part_path(output: &Path, index: u32) -> PathBuf {
    if index == 0 {
        return output.to_path_buf();
    }
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}-{index:04}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{index:04}"),
    };
    output.with_file_name(name)
}

fn partial_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(PARTIAL_SUFFIX);
    PathBuf::from(name)
}

struct OpenPart {
    writer: ArrowWriter<File>,
    index: u32,
    rows: u64,
    started: Instant,
}

pub struct ParquetSink {
    output: PathBuf,
    part: Option<OpenPart>,
    /// Parts `0..closed_parts` are complete files.
    closed_parts: u32,
    part_rows: u64,
    schema: SchemaRef,
    properties: WriterProperties,
    builders: Vec<Builder>,
    rows: usize,
    path: String,
}

impl ParquetSink {
    /// Fresh: removes parts a previous scan into the same name left.
    /// Resume: continues with the part after the checkpoint's last, after
    /// removing any half-written one.
    pub fn open(
        output: &Path,
        columns: &'static [Column],
        options: OutputOptions,
    ) -> Result<Self, SinkError> {
        let path = output.display().to_string();
        let closed_parts = match options.opening {
            Opening::Fresh => {
                remove_parts_from(output, 0, &path)?;
                0
            }
            Opening::Resume(Durable::Parquet { parts }) => {
                for index in 0..parts {
                    if !part_path(output, index).is_file() {
                        return Err(SinkError::Resume {
                            path: part_path(output, index).display().to_string(),
                            message: "this part of the output is missing".into(),
                        });
                    }
                }
                remove_parts_from(output, parts, &path)?;
                parts
            }
            Opening::Resume(Durable::Text { .. }) => {
                return Err(SinkError::Resume {
                    path,
                    message: "the checkpoint is for CSV or JSON Lines output".into(),
                });
            }
        };
        let schema = schema(columns);
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
            .map_err(|e| parquet_error(&path, e))?;
        for leaf in leaves.columns() {
            let top = leaf.path().parts().first().map(String::as_str);
            if columns.iter().any(|c| c.distinct && Some(c.name) == top) {
                properties = properties.set_column_dictionary_enabled(leaf.path().clone(), false);
            }
        }
        let properties = properties.build();
        let mut sink = ParquetSink {
            output: output.to_path_buf(),
            part: None,
            closed_parts,
            part_rows: options.part_rows.max(1),
            schema,
            properties,
            builders: columns
                .iter()
                .map(|column| Builder::new(column.kind))
                .collect(),
            rows: 0,
            path,
        };
        // Fail now, not after the first rows, if the directory is not writable.
        if options.opening == Opening::Fresh {
            sink.start_part()?;
        }
        Ok(sink)
    }

    fn error(&self, error: impl Into<ParquetError>) -> SinkError {
        parquet_error(&self.path, error.into())
    }

    fn start_part(&mut self) -> Result<(), SinkError> {
        if self.part.is_some() {
            return Ok(());
        }
        let index = self.closed_parts;
        let partial = partial_path(&part_path(&self.output, index));
        let file = File::create(&partial).map_err(|source| SinkError::Create {
            path: partial.display().to_string(),
            source,
        })?;
        let writer = ArrowWriter::try_new(
            file,
            Arc::clone(&self.schema),
            Some(self.properties.clone()),
        )
        .map_err(|e| self.error(e))?;
        self.part = Some(OpenPart {
            writer,
            index,
            rows: 0,
            started: Instant::now(),
        });
        Ok(())
    }

    fn write_buffered(&mut self) -> Result<(), SinkError> {
        if self.rows == 0 {
            return Ok(());
        }
        let rows = self.rows as u64;
        self.rows = 0;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch =
            RecordBatch::try_new(Arc::clone(&self.schema), arrays).map_err(|e| self.error(e))?;
        self.start_part()?;
        let Some(part) = self.part.as_mut() else {
            return Ok(());
        };
        part.rows += rows;
        part.writer
            .write(&batch)
            .map_err(|e| parquet_error(&self.path, e))
    }

    /// Writes the part's footer and gives it its final name.
    fn close_part(&mut self) -> Result<(), SinkError> {
        let Some(part) = self.part.take() else {
            return Ok(());
        };
        let final_path = part_path(&self.output, part.index);
        let partial = partial_path(&final_path);
        if let Err(error) = part.writer.close() {
            // Without its footer the part is unreadable: remove it (a resume
            // scans its rows again).
            let _ = std::fs::remove_file(&partial);
            return Err(parquet_error(&self.path, error));
        }
        std::fs::rename(&partial, &final_path).map_err(write_error(&self.path))?;
        self.closed_parts = part.index + 1;
        Ok(())
    }

    /// A part that cannot be finished is useless: remove it, keep the
    /// closed ones (a resume scans its rows again).
    fn abandon_part(&mut self) {
        if let Some(part) = self.part.take() {
            let partial = partial_path(&part_path(&self.output, part.index));
            drop(part);
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// I/O errors (a full disk) keep their kind, so the message can say what to do.
fn parquet_error(path: &str, error: ParquetError) -> SinkError {
    if let ParquetError::External(inner) = &error
        && let Some(io) = inner.downcast_ref::<std::io::Error>()
    {
        return SinkError::Write {
            path: path.to_owned(),
            source: io
                .raw_os_error()
                .map(std::io::Error::from_raw_os_error)
                .unwrap_or_else(|| std::io::Error::new(io.kind(), io.to_string())),
        };
    }
    SinkError::Parquet {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Removes part files numbered `first` and up (and half-written ones) that
/// an earlier scan into the same name left, so they are not read as ours.
fn remove_parts_from(output: &Path, first: u32, path: &str) -> Result<(), SinkError> {
    let mut index = first;
    loop {
        let part = part_path(output, index);
        let partial = partial_path(&part);
        let mut found = false;
        for file in [&part, &partial] {
            match std::fs::remove_file(file) {
                Ok(()) => found = true,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(SinkError::Create {
                        path: path.to_owned(),
                        source,
                    });
                }
            }
        }
        // Part 0 is the output itself: look further even if it was absent.
        if !found && index > 0 {
            return Ok(());
        }
        index += 1;
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

    fn flush(&mut self) -> Result<Option<Durable>, SinkError> {
        // Row groups close by size; closing tiny ones every second would
        // bloat the file, so a periodic flush moves rows into the writer and
        // closes the part only when it is full or old.
        self.write_buffered()?;
        let due = self.part.as_ref().is_some_and(|part| {
            part.rows >= self.part_rows || part.started.elapsed() >= PART_MAX_AGE
        });
        if !due {
            return Ok(None);
        }
        self.close_part()?;
        Ok(Some(Durable::Parquet {
            parts: self.closed_parts,
        }))
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Durable>, SinkError> {
        let result = self.write_buffered().and_then(|()| {
            let has_rows = self.part.as_ref().is_some_and(|part| part.rows > 0);
            // An empty part is kept only as the first: an empty scan still
            // gives a readable file with the schema.
            if has_rows || self.closed_parts == 0 {
                self.start_part()?;
                self.close_part()
            } else {
                self.abandon_part();
                Ok(())
            }
        });
        match result {
            Ok(()) => Ok(Some(Durable::Parquet {
                parts: self.closed_parts,
            })),
            Err(error) => {
                self.abandon_part();
                Err(error)
            }
        }
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
        let mut sink =
            Box::new(ParquetSink::open(&path, &COLUMNS, OutputOptions::default()).expect("sink"));
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
