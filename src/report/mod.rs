//! `ptrscan report`: one self-contained HTML page from `scan` or `mx`
//! outputs, and `ptrscan diff`: what changed between two audits.
//!
//! `input` reads the audits back (CSV, JSON Lines, Parquet, shard globs),
//! `aggregate` counts them in one streaming pass, `diff` compares two,
//! `figures` is the result as data (the `--json` output) and `render` the
//! page.

pub mod aggregate;
pub mod diff;
pub mod figures;
pub mod input;
pub mod render;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::sink::{self, Destination, OutputOptions, SinkError};

use aggregate::{Aggregate, Limits};
use diff::{Baseline, CHANGE_COLUMNS, Change, Comparison, DiffSummary, MX_CHANGE_COLUMNS};
use figures::{BaselineFigures, Figures};
use input::{Audit, InputError};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: the directory {dir} does not exist")]
    OutputDir { path: String, dir: String },
    #[error("cannot render the report: {0}")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// What `ptrscan report` was asked for.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub inputs: Vec<String>,
    /// An older audit to compare with (empty: none).
    pub baseline: Vec<String>,
    pub output: PathBuf,
    /// Also write the figures as JSON here.
    pub json: Option<PathBuf>,
    pub title: Option<String>,
    pub limits: Limits,
}

pub struct ReportOutcome {
    pub output: PathBuf,
    pub files: usize,
    pub rows: u64,
    pub figures: Figures,
    pub elapsed: Duration,
}

fn check_output_dir(path: &Path) -> Result<(), ReportError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        return Err(ReportError::OutputDir {
            path: path.display().to_string(),
            dir: dir.display().to_string(),
        });
    }
    Ok(())
}

/// Reads the audits, counts them and writes the page (and the JSON).
pub fn report(config: &ReportConfig) -> Result<ReportOutcome, ReportError> {
    let started = Instant::now();
    check_output_dir(&config.output)?;
    if let Some(json) = &config.json {
        check_output_dir(json)?;
    }
    let new = Audit::open(&config.inputs)?;
    let old = if config.baseline.is_empty() {
        None
    } else {
        Some(Audit::open(&config.baseline)?)
    };

    // The baseline, held per address and counted, in one pass.
    let mut old_state = None;
    if let Some(old) = &old {
        let mut aggregate = Aggregate::new(old.kind, config.limits);
        let mut baseline = Baseline::new(Baseline::per_domain(old.kind, new.kind));
        old.for_each_row(|row| {
            aggregate.add(row);
            baseline.add(row);
            Ok::<(), InputError>(())
        })?;
        old_state = Some((
            aggregate,
            Comparison::new(baseline, render::CHANGES_SHOWN * 4),
        ));
    }

    let mut aggregate = Aggregate::new(new.kind, config.limits);
    let rows = new.for_each_row(|row| {
        aggregate.add(row);
        if let Some((_, comparison)) = &mut old_state {
            comparison.add(row);
        }
        Ok::<(), InputError>(())
    })?;

    let baseline = old_state.map(|(old_aggregate, comparison)| {
        let (summary, _) = comparison.finish();
        (old_aggregate, summary)
    });
    let baseline_figures = match (&old, &baseline) {
        (Some(old), Some((old_aggregate, summary))) => Some(BaselineFigures::of(
            old.file_names(),
            &old_aggregate.totals,
            summary,
        )),
        _ => None,
    };
    let figures = Figures::build(&aggregate, new.file_names(), baseline_figures);
    let page = render::PageInput {
        title: config.title.clone().unwrap_or_else(|| default_title(&new)),
        generated: utc_now(),
        figures: &figures,
        baseline: match (&old, &baseline) {
            (Some(old), Some((old_aggregate, summary))) => Some(render::BaselineInput {
                files: old.file_names(),
                old: &old_aggregate.totals,
                summary,
            }),
            _ => None,
        },
    };
    let html = render::render(&aggregate, &page)?;
    write_file(&config.output, html.as_bytes())?;
    if let Some(json) = &config.json {
        let text = serde_json::to_string_pretty(&figures).unwrap_or_else(|_| "{}".into());
        write_file(json, text.as_bytes())?;
    }
    Ok(ReportOutcome {
        output: config.output.clone(),
        files: new.sources.len(),
        rows,
        figures,
        elapsed: started.elapsed(),
    })
}

fn default_title(audit: &Audit) -> String {
    let what = match audit.kind {
        input::AuditKind::Scan => "Reverse-DNS audit",
        input::AuditKind::Mx => "Mail-server reverse-DNS audit",
    };
    match audit.sources.as_slice() {
        [one] => format!(
            "{what}: {}",
            one.path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        many => format!("{what}: {} files", many.len()),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Now, as `2026-11-23 17:02 UTC`.
pub fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    utc_text(seconds)
}

/// Seconds since 1970 as a UTC date and time (proleptic Gregorian).
pub fn utc_text(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let minute_of_day = (seconds % 86_400) / 60;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// What `ptrscan diff` was asked for.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    pub old: Vec<String>,
    pub new: Vec<String>,
    pub destination: Destination,
    pub part_rows: u64,
}

pub struct DiffOutcome {
    pub summary: DiffSummary,
    pub written: u64,
}

impl DiffOutcome {
    /// One line for the terminal.
    pub fn describe(&self) -> String {
        let summary = &self.summary;
        let counts: Vec<String> = Change::ALL
            .into_iter()
            .filter(|change| summary.count(*change) > 0)
            .map(|change| format!("{} {}", change.code(), summary.count(change)))
            .collect();
        let mut line = format!(
            "diff: {} addresses compared, {} rows of changes",
            render::thousands(summary.compared),
            render::thousands(self.written)
        );
        if !counts.is_empty() {
            line.push_str(" (");
            line.push_str(&counts.join(", "));
            line.push(')');
        }
        if summary.score_up + summary.score_down > 0 {
            line.push_str(&format!(
                "; score up for {}, down for {}",
                summary.score_up, summary.score_down
            ));
        }
        line
    }
}

/// Compares the audits and writes one row per changed address.
pub fn diff(config: &DiffConfig) -> Result<DiffOutcome, ReportError> {
    let old = Audit::open(&config.old)?;
    let new = Audit::open(&config.new)?;
    let baseline = diff::load_baseline(&old, new.kind)?;
    let per_domain = Baseline::per_domain(old.kind, new.kind);
    let columns: &'static [sink::table::Column] = if per_domain {
        MX_CHANGE_COLUMNS.as_slice()
    } else {
        &CHANGE_COLUMNS
    };
    let mut output = sink::open(
        &config.destination,
        columns,
        OutputOptions {
            part_rows: config.part_rows,
            ..OutputOptions::default()
        },
    )?;
    let mut comparison = Comparison::new(baseline, 0);
    let mut written = 0u64;
    new.for_each_row(|row| {
        if let Some(change) = comparison.add(row) {
            output.write(&change.cells(per_domain))?;
            written += 1;
        }
        Ok::<(), ReportError>(())
    })?;
    let (summary, removed) = comparison.finish();
    for change in &removed {
        output.write(&change.cells(per_domain))?;
        written += 1;
    }
    output.finish()?;
    Ok(DiffOutcome { summary, written })
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc_text(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc_text(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(super::utc_text(1_795_453_320), "2026-11-23 17:02 UTC");
    }
}
