//! Reading audits back: `scan` and `mx` outputs in CSV, JSON Lines or
//! Parquet, one file, several, shard globs or a Parquet output's part files,
//! streamed one row at a time into a reused [`AuditRow`].
//!
//! Columns are found by name, so extra columns (a user's own, ones later
//! versions add) and another column order are fine; a file without one of
//! the columns a report needs is refused with one line naming the file and
//! the column. Parquet files are read with only the needed columns
//! projected, one batch at a time.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::classify::PtrClass;
use crate::findings::{Finding, Severity};
use crate::record::Fcrdns;
use crate::sink::Format;

/// What a report or a diff cannot go on without: one line, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("no file matches {0} (check the path; quote a glob so the shell leaves it alone)")]
    NoMatch(String),
    #[error("invalid glob {pattern}: {message}")]
    BadGlob { pattern: String, message: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {message}")]
    Unreadable { path: String, message: String },
    #[error(
        "{path} is not ptrscan scan or mx output: it has no `{column}` column (found: {found})"
    )]
    MissingColumn {
        path: String,
        column: &'static str,
        found: String,
    },
    #[error("{path}: column `{column}` is {found}, not {want}")]
    ColumnType {
        path: String,
        column: &'static str,
        found: String,
        want: &'static str,
    },
    #[error("{path}: row {row}: {message}")]
    BadValue {
        path: String,
        row: u64,
        message: String,
    },
    #[error(
        "{first} is {first_kind} output but {other} is {other_kind} output: report them separately"
    )]
    MixedKinds {
        first: String,
        first_kind: &'static str,
        other: String,
        other_kind: &'static str,
    },
}

/// Which command wrote the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    Scan,
    Mx,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Scan => "scan",
            AuditKind::Mx => "mx",
        }
    }
}

/// The columns every audit row is read from.
pub const SCAN_REQUIRED: [&str; 8] = [
    "ip",
    "ptr",
    "fcrdns",
    "generic",
    "ptr_class",
    "severity",
    "findings",
    "score",
];
/// The further columns of an `mx` output.
pub const MX_REQUIRED: [&str; 3] = ["domain", "mx_status", "mx_host"];

/// One audit row, as much of it as reports and diffs use. Reused from row
/// to row: its strings keep their capacity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditRow {
    /// `mx` only: the domain, its MX status and the mail host.
    pub domain: String,
    pub mx_status: String,
    pub mx_host: String,
    /// `None` only for an `mx` row of a domain without any address.
    pub ip: Option<IpAddr>,
    /// PTR names joined by `|` (the CSV spelling; names cannot hold `|`).
    pub ptr: String,
    /// `None` only with `ip`.
    pub fcrdns: Option<Fcrdns>,
    pub generic: Option<bool>,
    pub class: Option<PtrClass>,
    pub severity: Option<Severity>,
    /// Bit `i` set for `Finding::ALL[i]`.
    pub findings: u8,
    pub score: Option<u8>,
}

impl AuditRow {
    fn clear(&mut self) {
        self.domain.clear();
        self.mx_status.clear();
        self.mx_host.clear();
        self.ip = None;
        self.ptr.clear();
        self.fcrdns = None;
        self.generic = None;
        self.class = None;
        self.severity = None;
        self.findings = 0;
        self.score = None;
    }

    /// The PTR names, in file order.
    pub fn ptr_names(&self) -> impl Iterator<Item = &str> {
        self.ptr.split('|').filter(|name| !name.is_empty())
    }

    pub fn has_ptr(&self) -> bool {
        !self.ptr.is_empty()
    }

    /// The findings, in report order.
    pub fn finding_list(&self) -> impl Iterator<Item = Finding> + '_ {
        Finding::ALL
            .into_iter()
            .enumerate()
            .filter(|(bit, _)| self.findings & (1 << bit) != 0)
            .map(|(_, finding)| finding)
    }

    fn push_name(&mut self, name: &str) {
        if name.is_empty() {
            return;
        }
        if !self.ptr.is_empty() {
            self.ptr.push('|');
        }
        self.ptr.push_str(name);
    }
}

pub fn parse_fcrdns(text: &str) -> Option<Fcrdns> {
    Fcrdns::ALL.into_iter().find(|value| value.as_str() == text)
}

pub fn parse_class(text: &str) -> Option<PtrClass> {
    PtrClass::ALL
        .into_iter()
        .find(|class| class.as_str() == text)
}

pub fn parse_severity(text: &str) -> Option<Severity> {
    [Severity::High, Severity::Medium, Severity::Low]
        .into_iter()
        .find(|severity| severity.as_str() == text)
}

/// The bit of a finding code; unknown codes (a later version's) have none.
pub fn finding_bit(code: &str) -> u8 {
    Finding::ALL
        .iter()
        .position(|finding| finding.code() == code)
        .map_or(0, |index| 1 << index)
}

/// Fills the fields of `row` from their text, checking them; shared by the
/// three formats (Parquet's lists and booleans arrive already typed).
struct Fields<'a> {
    ip: Option<&'a str>,
    fcrdns: Option<&'a str>,
    ptr_class: Option<&'a str>,
    severity: Option<&'a str>,
}

fn fill_checked(row: &mut AuditRow, fields: Fields<'_>) -> Result<(), String> {
    match fields.ip.filter(|ip| !ip.is_empty()) {
        Some(text) => {
            row.ip = Some(
                text.parse()
                    .map_err(|_| format!("ip {text:?} is not an address"))?,
            );
            let verdict = fields.fcrdns.unwrap_or("");
            row.fcrdns = Some(
                parse_fcrdns(verdict)
                    .ok_or_else(|| format!("fcrdns {verdict:?} is not a ptrscan verdict"))?,
            );
        }
        None => {
            row.ip = None;
            row.fcrdns = None;
        }
    }
    row.class = match fields.ptr_class.filter(|text| !text.is_empty()) {
        Some(text) => Some(
            parse_class(text).ok_or_else(|| format!("ptr_class {text:?} is not a PTR class"))?,
        ),
        None => None,
    };
    row.severity = match fields.severity.filter(|text| !text.is_empty()) {
        Some(text) => Some(
            parse_severity(text).ok_or_else(|| format!("severity {text:?} is not a severity"))?,
        ),
        None => None,
    };
    Ok(())
}

fn score_of(value: i64) -> Result<u8, String> {
    u8::try_from(value)
        .ok()
        .filter(|score| *score <= crate::findings::MAX_SCORE)
        .ok_or_else(|| format!("score {value} is not 0-25"))
}

/// One input file and its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    pub format: Format,
}

/// Expands the arguments into files: globs (`out-*.parquet`), plain paths,
/// and for a plain `X.parquet` also its part files `X-0001.parquet`, … as
/// `scan` writes them. Each file once, in argument order (a glob's matches
/// sorted).
pub fn expand(arguments: &[String]) -> Result<Vec<Source>, InputError> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for argument in arguments {
        if argument.contains(['*', '?', '[']) {
            let matches = glob::glob(argument).map_err(|error| InputError::BadGlob {
                pattern: argument.clone(),
                message: error.to_string(),
            })?;
            let mut found: Vec<PathBuf> = matches
                .filter_map(Result::ok)
                .filter(|path| path.is_file())
                .collect();
            if found.is_empty() {
                return Err(InputError::NoMatch(argument.clone()));
            }
            found.sort();
            paths.extend(found);
        } else {
            let path = PathBuf::from(argument);
            let metadata = std::fs::metadata(&path).map_err(|source| InputError::Io {
                path: argument.clone(),
                source,
            })?;
            if metadata.is_dir() {
                return Err(InputError::Unreadable {
                    path: argument.clone(),
                    message: "is a directory (name the files, or a glob such as DIR/*.parquet)"
                        .into(),
                });
            }
            let parts = if Format::from_extension(&path) == Some(Format::Parquet) {
                part_files(&path)
            } else {
                Vec::new()
            };
            paths.push(path);
            paths.extend(parts);
        }
    }
    let mut seen = HashSet::new();
    let mut sources = Vec::new();
    for path in paths {
        let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.insert(identity) {
            continue;
        }
        let format = match Format::from_extension(&path) {
            Some(format) => format,
            None => sniff(&path)?,
        };
        sources.push(Source { path, format });
    }
    Ok(sources)
}

/// `X-0001.parquet`, `X-0002.parquet`, … beside `X.parquet`, sorted.
fn part_files(first: &Path) -> Vec<PathBuf> {
    let (Some(stem), Some(extension)) = (
        first.file_stem().and_then(|s| s.to_str()),
        first.extension().and_then(|s| s.to_str()),
    ) else {
        return Vec::new();
    };
    let directory = match first.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&directory) else {
        return Vec::new();
    };
    let prefix = format!("{stem}-");
    let suffix = format!(".{extension}");
    let mut parts: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let digits = name.strip_prefix(&prefix)?.strip_suffix(&suffix)?;
            (digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| first.with_file_name(&name))
        })
        .collect();
    parts.sort();
    parts
}

/// The format of a file whose name does not say: Parquet's magic, a JSON
/// object, else CSV.
fn sniff(path: &Path) -> Result<Format, InputError> {
    let mut head = [0u8; 4];
    let mut file = File::open(path).map_err(|source| InputError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let read = file.read(&mut head).map_err(|source| InputError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(if &head[..read] == b"PAR1" {
        Format::Parquet
    } else if head[..read].first() == Some(&b'{') {
        Format::Jsonl
    } else {
        Format::Csv
    })
}

/// Opened audits: every file's columns checked, all of one kind.
#[derive(Debug)]
pub struct Audit {
    pub sources: Vec<Source>,
    pub kind: AuditKind,
}

impl Audit {
    /// Expands the arguments and checks every file's columns before any
    /// row is read, so a wrong file fails at once.
    pub fn open(arguments: &[String]) -> Result<Audit, InputError> {
        let sources = expand(arguments)?;
        let mut kind: Option<(AuditKind, String)> = None;
        for source in &sources {
            let Some(columns) = columns_of(source)? else {
                continue;
            };
            let this = check_columns(source, &columns)?;
            match &kind {
                None => kind = Some((this, source.path.display().to_string())),
                Some((first_kind, first)) if *first_kind != this => {
                    return Err(InputError::MixedKinds {
                        first: first.clone(),
                        first_kind: first_kind.as_str(),
                        other: source.path.display().to_string(),
                        other_kind: this.as_str(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Audit {
            kind: kind.map_or(AuditKind::Scan, |(kind, _)| kind),
            sources,
        })
    }

    /// Every row of every file, in file order, through `each`.
    pub fn for_each_row<E: From<InputError>>(
        &self,
        mut each: impl FnMut(&AuditRow) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut row = AuditRow::default();
        let mut total = 0;
        for source in &self.sources {
            total += match source.format {
                Format::Csv => read_csv(source, self.kind, &mut row, &mut each)?,
                Format::Jsonl => read_jsonl(source, self.kind, &mut row, &mut each)?,
                Format::Parquet => read_parquet(source, self.kind, &mut row, &mut each)?,
            };
        }
        Ok(total)
    }

    /// The files, as the report names them.
    pub fn file_names(&self) -> Vec<String> {
        self.sources
            .iter()
            .map(|source| source.path.display().to_string())
            .collect()
    }
}

/// The column names of a file; `None` for an empty JSON Lines file (no row
/// says what it is, and it adds nothing).
fn columns_of(source: &Source) -> Result<Option<Vec<String>>, InputError> {
    let name = source.path.display().to_string();
    let io = |source| InputError::Io {
        path: name.clone(),
        source,
    };
    match source.format {
        Format::Csv => {
            let mut reader =
                csv::Reader::from_path(&source.path).map_err(|error| InputError::Unreadable {
                    path: name.clone(),
                    message: error.to_string(),
                })?;
            let headers = reader.headers().map_err(|error| InputError::Unreadable {
                path: name.clone(),
                message: error.to_string(),
            })?;
            Ok(Some(headers.iter().map(str::to_owned).collect()))
        }
        Format::Jsonl => {
            let file = File::open(&source.path).map_err(io)?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(io)?;
                if line.trim().is_empty() {
                    continue;
                }
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&line).map_err(|error| InputError::Unreadable {
                        path: name.clone(),
                        message: format!("the first line is not a JSON object ({error})"),
                    })?;
                return Ok(Some(object.keys().cloned().collect()));
            }
            Ok(None)
        }
        Format::Parquet => {
            let file = File::open(&source.path).map_err(io)?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|error| {
                InputError::Unreadable {
                    path: name.clone(),
                    message: format!("not a readable Parquet file ({error})"),
                }
            })?;
            Ok(Some(
                builder
                    .schema()
                    .fields()
                    .iter()
                    .map(|field| field.name().clone())
                    .collect(),
            ))
        }
    }
}

fn check_columns(source: &Source, columns: &[String]) -> Result<AuditKind, InputError> {
    let has = |name: &str| columns.iter().any(|column| column == name);
    let kind = if has("domain") && has("mx_status") {
        AuditKind::Mx
    } else {
        AuditKind::Scan
    };
    let required = SCAN_REQUIRED.iter().chain(match kind {
        AuditKind::Mx => MX_REQUIRED.as_slice(),
        AuditKind::Scan => &[],
    });
    for column in required {
        if !has(column) {
            let mut found = columns.join(", ");
            if found.chars().count() > 120 {
                found = found.chars().take(117).collect::<String>() + "...";
            }
            if found.is_empty() {
                found = "none".into();
            }
            return Err(InputError::MissingColumn {
                path: source.path.display().to_string(),
                column,
                found,
            });
        }
    }
    Ok(kind)
}

fn bad_value(source: &Source, row: u64, message: String) -> InputError {
    InputError::BadValue {
        path: source.path.display().to_string(),
        row,
        message,
    }
}

fn read_csv<E: From<InputError>>(
    source: &Source,
    kind: AuditKind,
    row: &mut AuditRow,
    each: &mut impl FnMut(&AuditRow) -> Result<(), E>,
) -> Result<u64, E> {
    let name = source.path.display().to_string();
    let unreadable = |error: csv::Error| InputError::Unreadable {
        path: name.clone(),
        message: error.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 16)
        .from_path(&source.path)
        .map_err(unreadable)?;
    let headers = reader.byte_headers().map_err(unreadable)?.clone();
    let index = |column: &str| {
        headers
            .iter()
            .position(|header| header == column.as_bytes())
            .unwrap_or(usize::MAX)
    };
    let [
        ip,
        ptr,
        fcrdns,
        generic,
        ptr_class,
        severity,
        findings,
        score,
    ] = SCAN_REQUIRED.map(index);
    let [domain, mx_status, mx_host] = MX_REQUIRED.map(index);
    let mut record = csv::ByteRecord::new();
    let mut count = 0u64;
    while reader.read_byte_record(&mut record).map_err(unreadable)? {
        count += 1;
        let text = |at: usize| -> Result<&str, InputError> {
            let bytes = record.get(at).unwrap_or(b"");
            std::str::from_utf8(bytes)
                .map_err(|_| bad_value(source, count, "a value is not UTF-8".into()))
        };
        row.clear();
        if kind == AuditKind::Mx {
            row.domain.push_str(text(domain)?);
            row.mx_status.push_str(text(mx_status)?);
            row.mx_host.push_str(text(mx_host)?);
        }
        for name in text(ptr)?.split('|') {
            row.push_name(name);
        }
        row.generic = match text(generic)? {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            other => {
                return Err(bad_value(
                    source,
                    count,
                    format!("generic {other:?} is not true or false"),
                )
                .into());
            }
        };
        for code in text(findings)?.split('|') {
            row.findings |= finding_bit(code);
        }
        row.score = match text(score)? {
            "" => None,
            value => Some(
                value
                    .parse::<i64>()
                    .map_err(|_| format!("score {value:?} is not a number"))
                    .and_then(score_of)
                    .map_err(|message| bad_value(source, count, message))?,
            ),
        };
        fill_checked(
            row,
            Fields {
                ip: Some(text(ip)?),
                fcrdns: Some(text(fcrdns)?),
                ptr_class: Some(text(ptr_class)?),
                severity: Some(text(severity)?),
            },
        )
        .map_err(|message| bad_value(source, count, message))?;
        each(row)?;
    }
    Ok(count)
}

#[derive(serde::Deserialize)]
struct JsonRow<'a> {
    #[serde(borrow, default)]
    ip: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    ptr: Option<Vec<std::borrow::Cow<'a, str>>>,
    #[serde(borrow, default)]
    fcrdns: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    generic: Option<bool>,
    #[serde(borrow, default)]
    ptr_class: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    severity: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    findings: Option<Vec<std::borrow::Cow<'a, str>>>,
    #[serde(default)]
    score: Option<i64>,
    #[serde(borrow, default)]
    domain: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    mx_status: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    mx_host: Option<std::borrow::Cow<'a, str>>,
}

fn read_jsonl<E: From<InputError>>(
    source: &Source,
    _kind: AuditKind,
    row: &mut AuditRow,
    each: &mut impl FnMut(&AuditRow) -> Result<(), E>,
) -> Result<u64, E> {
    let name = source.path.display().to_string();
    let io = |source| InputError::Io {
        path: name.clone(),
        source,
    };
    let file = File::open(&source.path).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut count = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io)? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        count += 1;
        let parsed: JsonRow<'_> = serde_json::from_str(&line)
            .map_err(|error| bad_value(source, count, format!("not a JSON row ({error})")))?;
        row.clear();
        for (value, into) in [&parsed.domain, &parsed.mx_status, &parsed.mx_host]
            .into_iter()
            .zip([&mut row.domain, &mut row.mx_status, &mut row.mx_host])
        {
            into.push_str(value.as_deref().unwrap_or(""));
        }
        for name in parsed.ptr.iter().flatten() {
            row.push_name(name);
        }
        row.generic = parsed.generic;
        for code in parsed.findings.iter().flatten() {
            row.findings |= finding_bit(code);
        }
        row.score = parsed
            .score
            .map(score_of)
            .transpose()
            .map_err(|message| bad_value(source, count, message))?;
        fill_checked(
            row,
            Fields {
                ip: parsed.ip.as_deref(),
                fcrdns: parsed.fcrdns.as_deref(),
                ptr_class: parsed.ptr_class.as_deref(),
                severity: parsed.severity.as_deref(),
            },
        )
        .map_err(|message| bad_value(source, count, message))?;
        each(row)?;
    }
    Ok(count)
}

/// A text column of any of Arrow's string layouts.
enum TextColumn<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl TextColumn<'_> {
    fn get(&self, index: usize) -> Option<&str> {
        match self {
            TextColumn::Utf8(array) => (!array.is_null(index)).then(|| array.value(index)),
            TextColumn::Large(array) => (!array.is_null(index)).then(|| array.value(index)),
            TextColumn::View(array) => (!array.is_null(index)).then(|| array.value(index)),
        }
    }
}

fn text_column<'a>(
    array: &'a ArrayRef,
    source: &Source,
    column: &'static str,
) -> Result<TextColumn<'a>, InputError> {
    match array.data_type() {
        DataType::Utf8 => Ok(TextColumn::Utf8(array.as_string::<i32>())),
        DataType::LargeUtf8 => Ok(TextColumn::Large(array.as_string::<i64>())),
        DataType::Utf8View => Ok(TextColumn::View(array.as_string_view())),
        other => Err(type_error(source, column, other, "text")),
    }
}

/// A list-of-text column: the offsets of each row's items and the items.
struct ListColumn<'a> {
    nulls: Option<&'a arrow_array::ArrayRef>,
    offsets: Vec<(usize, usize)>,
    items: TextColumn<'a>,
}

fn list_column<'a>(
    array: &'a ArrayRef,
    source: &Source,
    column: &'static str,
) -> Result<ListColumn<'a>, InputError> {
    let (offsets, values) = match array.data_type() {
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets = list.value_offsets();
            (
                offsets
                    .windows(2)
                    .map(|pair| (pair[0] as usize, pair[1] as usize))
                    .collect(),
                list.values(),
            )
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let offsets = list.value_offsets();
            (
                offsets
                    .windows(2)
                    .map(|pair| (pair[0] as usize, pair[1] as usize))
                    .collect(),
                list.values(),
            )
        }
        other => return Err(type_error(source, column, other, "a list of text")),
    };
    Ok(ListColumn {
        nulls: Some(array),
        offsets,
        items: text_column(values, source, column)?,
    })
}

impl ListColumn<'_> {
    fn items(&self, index: usize) -> impl Iterator<Item = &str> {
        let null = self.nulls.is_some_and(|array| array.is_null(index));
        let (start, end) = if null { (0, 0) } else { self.offsets[index] };
        (start..end).filter_map(|at| self.items.get(at))
    }
}

fn type_error(
    source: &Source,
    column: &'static str,
    found: &DataType,
    want: &'static str,
) -> InputError {
    InputError::ColumnType {
        path: source.path.display().to_string(),
        column,
        found: found.to_string(),
        want,
    }
}

/// An integer column of any width, as `i64`.
fn int_values(array: &ArrayRef, source: &Source) -> Result<Vec<Option<i64>>, InputError> {
    fn collect<T: arrow_array::ArrowPrimitiveType>(array: &ArrayRef) -> Vec<Option<i64>>
    where
        T::Native: Into<i64>,
    {
        array
            .as_primitive::<T>()
            .iter()
            .map(|value| value.map(Into::into))
            .collect()
    }
    Ok(match array.data_type() {
        DataType::Int8 => collect::<Int8Type>(array),
        DataType::Int16 => collect::<Int16Type>(array),
        DataType::Int32 => collect::<Int32Type>(array),
        DataType::Int64 => collect::<Int64Type>(array),
        DataType::UInt8 => collect::<UInt8Type>(array),
        DataType::UInt16 => collect::<UInt16Type>(array),
        DataType::UInt32 => collect::<UInt32Type>(array),
        other => return Err(type_error(source, "score", other, "an integer")),
    })
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    batch
        .schema_ref()
        .index_of(name)
        .ok()
        .map(|at| batch.column(at))
}

fn read_parquet<E: From<InputError>>(
    source: &Source,
    kind: AuditKind,
    row: &mut AuditRow,
    each: &mut impl FnMut(&AuditRow) -> Result<(), E>,
) -> Result<u64, E> {
    let name = source.path.display().to_string();
    let unreadable = |error: parquet::errors::ParquetError| InputError::Unreadable {
        path: name.clone(),
        message: error.to_string(),
    };
    let file = File::open(&source.path).map_err(|error| InputError::Io {
        path: name.clone(),
        source: error,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
    let wanted: Vec<&str> = SCAN_REQUIRED
        .iter()
        .chain(match kind {
            AuditKind::Mx => MX_REQUIRED.as_slice(),
            AuditKind::Scan => &[],
        })
        .copied()
        .collect();
    let roots: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, field)| wanted.contains(&field.name().as_str()))
        .map(|(index, _)| index)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(unreadable)?;
    let mut count = 0u64;
    for batch in reader {
        let batch = batch.map_err(|error| InputError::Unreadable {
            path: name.clone(),
            message: error.to_string(),
        })?;
        let get = |column_name: &'static str| {
            column(&batch, column_name).ok_or_else(|| InputError::MissingColumn {
                path: name.clone(),
                column: column_name,
                found: "(projected)".into(),
            })
        };
        let ip = text_column(get("ip")?, source, "ip")?;
        let ptr = list_column(get("ptr")?, source, "ptr")?;
        let fcrdns = text_column(get("fcrdns")?, source, "fcrdns")?;
        let generic_array = get("generic")?;
        let generic = match generic_array.data_type() {
            DataType::Boolean => generic_array.as_boolean(),
            other => return Err(type_error(source, "generic", other, "a boolean").into()),
        };
        let ptr_class = text_column(get("ptr_class")?, source, "ptr_class")?;
        let severity = text_column(get("severity")?, source, "severity")?;
        let findings = list_column(get("findings")?, source, "findings")?;
        let score = int_values(get("score")?, source)?;
        let mx = match kind {
            AuditKind::Mx => Some((
                text_column(get("domain")?, source, "domain")?,
                text_column(get("mx_status")?, source, "mx_status")?,
                text_column(get("mx_host")?, source, "mx_host")?,
            )),
            AuditKind::Scan => None,
        };
        for (index, score) in score.iter().enumerate().take(batch.num_rows()) {
            count += 1;
            row.clear();
            if let Some((domain, status, host)) = &mx {
                row.domain.push_str(domain.get(index).unwrap_or(""));
                row.mx_status.push_str(status.get(index).unwrap_or(""));
                row.mx_host.push_str(host.get(index).unwrap_or(""));
            }
            for name in ptr.items(index) {
                row.push_name(name);
            }
            row.generic = (!generic.is_null(index)).then(|| generic.value(index));
            for code in findings.items(index) {
                row.findings |= finding_bit(code);
            }
            row.score = score
                .map(score_of)
                .transpose()
                .map_err(|message| bad_value(source, count, message))?;
            fill_checked(
                row,
                Fields {
                    ip: ip.get(index),
                    fcrdns: fcrdns.get(index),
                    ptr_class: ptr_class.get(index),
                    severity: severity.get(index),
                },
            )
            .map_err(|message| bad_value(source, count, message))?;
            each(row)?;
        }
    }
    Ok(count)
}
