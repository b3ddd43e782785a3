//! `ptrscan classify`: PTR names in (arguments, files, standard input),
//! one classified row per name out, through the same sinks as `scan`. No
//! DNS: this is the classifier on its own, for names users already have.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::classify::{Classification, Classifier, PtrClass};
use crate::config::open_input;
use crate::sink::table::{Cell, Column, Kind, Record};
use crate::sink::{self, Destination, RecordSink, SinkError};

#[derive(Debug, thiserror::Error)]
pub enum NamesError {
    #[error("cannot read {origin}: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error(
        "{origin}:{line}: invalid address {text:?} after the name: write `name` or `name<TAB>ip`, e.g. `mail.example.com<TAB>198.51.100.25`"
    )]
    Address {
        origin: String,
        line: u64,
        text: String,
    },
    #[error("{origin}:{line}: {fields} fields: write `name` or `name<TAB>ip`, one name per line")]
    Fields {
        origin: String,
        line: u64,
        fields: usize,
    },
    #[error(transparent)]
    Output(#[from] SinkError),
}

/// Where names come from, in order: positional names, then each input.
#[derive(Debug, Clone)]
pub struct NamesConfig {
    pub names: Vec<String>,
    pub inputs: Vec<PathBuf>,
    pub destination: Destination,
    pub quiet: bool,
    /// Parquet rows per part file.
    pub part_rows: u64,
}

/// One classified name.
#[derive(Debug, Clone, PartialEq)]
pub struct NameRow {
    pub name: String,
    pub ip: Option<IpAddr>,
    pub classification: Classification,
}

pub const NAME_COLUMNS: [Column; 5] = [
    Column::new("name", Kind::Text, false).distinct(),
    Column::new("ip", Kind::Text, true),
    Column::new("generic", Kind::Bool, false),
    Column::new("ptr_class", Kind::Text, false),
    Column::new("reasons", Kind::TextList, false),
];

impl Record for NameRow {
    fn columns() -> &'static [Column] {
        &NAME_COLUMNS
    }

    fn cells(&self) -> Vec<Cell<'_>> {
        vec![
            Cell::text(self.name.as_str()),
            Cell::opt_text(self.ip.map(|ip| ip.to_string())),
            Cell::Bool(self.classification.generic()),
            Cell::text(self.classification.class.as_str()),
            Cell::Codes(&self.classification.reasons),
        ]
    }
}

/// Counts per class, for the closing line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamesReport {
    pub rows: u64,
    pub by_class: BTreeMap<PtrClass, u64>,
    pub interrupted: bool,
}

impl NamesReport {
    pub fn render(&self) -> String {
        let generic: u64 = self
            .by_class
            .iter()
            .filter(|(class, _)| class.is_generic())
            .map(|(_, n)| n)
            .sum();
        let classes: Vec<String> = PtrClass::ALL
            .iter()
            .map(|class| {
                let count = self.by_class.get(class).copied().unwrap_or(0);
                format!("{class} {count}")
            })
            .collect();
        format!(
            "classified {} names{}: generic {generic}, custom {} ({})\n",
            self.rows,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            },
            self.rows - generic,
            classes.join(", ")
        )
    }
}

/// Parses one input line: `name` or `name<whitespace>ip`. `None` for blank
/// and comment lines.
pub fn parse_line(
    line: &str,
    origin: &str,
    number: u64,
) -> Result<Option<(String, Option<IpAddr>)>, NamesError> {
    let content = line.split_once('#').map_or(line, |(before, _)| before);
    let fields: Vec<&str> = content.split_whitespace().collect();
    match fields.as_slice() {
        [] => Ok(None),
        [name] => Ok(Some(((*name).to_owned(), None))),
        [name, ip] => match ip.parse::<IpAddr>() {
            Ok(ip) => Ok(Some(((*name).to_owned(), Some(ip)))),
            Err(_) => Err(NamesError::Address {
                origin: origin.to_owned(),
                line: number,
                text: (*ip).to_owned(),
            }),
        },
        more => Err(NamesError::Fields {
            origin: origin.to_owned(),
            line: number,
            fields: more.len(),
        }),
    }
}

struct Classifying {
    classifier: Classifier,
    sink: Box<dyn RecordSink>,
    report: NamesReport,
}

impl Classifying {
    fn write(&mut self, name: String, ip: Option<IpAddr>) -> Result<(), NamesError> {
        let classification = self.classifier.classify(&name, ip);
        let row = NameRow {
            name,
            ip,
            classification,
        };
        self.sink.write(&row.cells())?;
        self.report.rows += 1;
        *self
            .report
            .by_class
            .entry(row.classification.class)
            .or_default() += 1;
        Ok(())
    }

    fn read(
        &mut self,
        reader: impl BufRead,
        origin: &str,
        stop: &AtomicBool,
    ) -> Result<(), NamesError> {
        let mut number = 0u64;
        for line in reader.split(b'\n') {
            if stop.load(Ordering::Relaxed) {
                self.report.interrupted = true;
                return Ok(());
            }
            number += 1;
            let bytes = line.map_err(|source| NamesError::Read {
                origin: origin.to_owned(),
                source,
            })?;
            let text = String::from_utf8_lossy(&bytes);
            let text = if number == 1 {
                text.trim_start_matches('\u{feff}')
            } else {
                &text
            };
            if let Some((name, ip)) = parse_line(text, origin, number)? {
                self.write(name, ip)?;
            }
        }
        Ok(())
    }
}

/// Classifies every name and writes the rows. On an input error the rows
/// written so far stay in a properly closed file and the error is returned.
pub fn run(config: &NamesConfig, stop: &AtomicBool) -> Result<NamesReport, NamesError> {
    let options = sink::OutputOptions {
        part_rows: config.part_rows,
        ..sink::OutputOptions::default()
    };
    let sink = sink::open(&config.destination, NameRow::columns(), options)?;
    let mut job = Classifying {
        classifier: Classifier::new(),
        sink,
        report: NamesReport::default(),
    };
    let outcome = classify_all(&mut job, config, stop);
    let finished = job.sink.finish();
    outcome?;
    finished?;
    Ok(job.report)
}

fn classify_all(
    job: &mut Classifying,
    config: &NamesConfig,
    stop: &AtomicBool,
) -> Result<(), NamesError> {
    for (index, name) in config.names.iter().enumerate() {
        let number = index as u64 + 1;
        if let Some((name, ip)) = parse_line(name, "argument", number)? {
            job.write(name, ip)?;
        }
    }
    for path in &config.inputs {
        let (reader, origin) = open_input(path).map_err(|source| NamesError::Read {
            origin: path.display().to_string(),
            source,
        })?;
        job.read(reader, &origin, stop)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_names_with_optional_addresses() {
        assert_eq!(parse_line("  # comment", "f", 1).expect("ok"), None);
        assert_eq!(parse_line("", "f", 1).expect("ok"), None);
        assert_eq!(
            parse_line("mail.example.com", "f", 1).expect("ok"),
            Some(("mail.example.com".to_owned(), None))
        );
        assert_eq!(
            parse_line("h.example.net\t2001:db8::1 # note", "f", 1).expect("ok"),
            Some(("h.example.net".to_owned(), "2001:db8::1".parse().ok()))
        );
        let error = parse_line("h.example.net\t198.51.100.300", "list.txt", 7)
            .expect_err("bad address")
            .to_string();
        assert!(
            error.starts_with("list.txt:7: invalid address \"198.51.100.300\""),
            "{error}"
        );
        let error = parse_line("a b c", "list.txt", 9)
            .expect_err("three fields")
            .to_string();
        assert!(error.starts_with("list.txt:9: 3 fields"), "{error}");
    }

    #[test]
    fn report_counts_generic_and_custom() {
        let mut report = NamesReport {
            rows: 3,
            ..NamesReport::default()
        };
        report.by_class.insert(PtrClass::Dynamic, 2);
        report.by_class.insert(PtrClass::CustomMail, 1);
        let text = report.render();
        assert!(
            text.starts_with("classified 3 names: generic 2, custom 1 ("),
            "{text}"
        );
        assert!(
            text.contains("dynamic 2") && text.contains("custom-mail 1"),
            "{text}"
        );
    }
}
