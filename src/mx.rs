//! Wires one `mx` run together: domain list → engine + MX/host/PTR lookups
//! → (SMTP identity check) → writer thread. Same engine, same resolver pool
//! and same row path as `scan`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::classify::Classifier;
use crate::config::ResolverConfig;
use crate::lookup::mx::MxDriver;
use crate::record::{Audit, MxRow, MxStatus, SmtpIdentity};
use crate::scan::{OutputPlan, RunContext, ScanError, run_pipeline};
use crate::sink::summary::{RunFacts, Tally, render};
use crate::sink::{Collector, Destination};
use crate::smtp::{SmtpConfig, SmtpStage};
use crate::stats::Stats;
use crate::targets::domains::DomainInput;

#[derive(Debug, Clone)]
pub struct MxConfig {
    pub domains: Vec<DomainInput>,
    /// Duplicates dropped from the input (for the summary).
    pub duplicates: u64,
    pub all_mx: bool,
    pub resolvers: ResolverConfig,
    pub destination: Destination,
    pub quiet: bool,
    /// Parquet rows per part file.
    pub part_rows: u64,
    /// `--smtp`: the identity check, when asked for.
    pub smtp: Option<SmtpConfig>,
}

/// Counts per `mx_status` (rows), the address rows' tally, and with
/// `--smtp` the probes' outcomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MxTally {
    pub by_status: BTreeMap<MxStatus, u64>,
    pub addresses: Tally,
    pub smtp: Option<SmtpTally>,
}

/// `--smtp` outcomes, one per probed address (an address shared by many
/// domains is probed, and counted, once). `answered`, `timeouts`, `refused`
/// and `other` add up to `probed`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmtpTally {
    pub probed: u64,
    /// Greeted with 220 and answered EHLO with 250.
    pub answered: u64,
    pub timeouts: u64,
    pub refused: u64,
    /// Every other `smtp_error` (`closed`, `garbage`, `reply 554`, …).
    pub other: BTreeMap<String, u64>,
    /// A name was seen and none is a PTR name of the address (`ehlo-mismatch`).
    pub mismatches: u64,
    /// Addresses counted so far.
    seen: HashSet<IpAddr>,
}

impl SmtpTally {
    /// Counts a probed address the first time one of its rows is written.
    pub fn add(&mut self, ip: IpAddr, identity: &SmtpIdentity, mismatch: bool) {
        if !self.seen.insert(ip) {
            return;
        }
        self.probed += 1;
        match identity.error.as_deref() {
            None => self.answered += 1,
            Some("timeout") => self.timeouts += 1,
            Some("refused") => self.refused += 1,
            Some(other) => *self.other.entry(other.to_owned()).or_default() += 1,
        }
        self.mismatches += u64::from(mismatch);
    }
}

fn render_smtp(out: &mut String, smtp: &SmtpTally) {
    let _ = writeln!(
        out,
        "SMTP check (one connection per distinct primary MX address):"
    );
    let others: u64 = smtp.other.values().sum();
    let mut line = format!(
        "  probed {}, answered {}, timeouts {}, refused {}, other errors {}",
        smtp.probed, smtp.answered, smtp.timeouts, smtp.refused, others
    );
    if others > 0 {
        let kinds: Vec<String> = smtp
            .other
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        let _ = write!(line, " ({})", kinds.join(", "));
    }
    let _ = writeln!(out, "{line}");
    let _ = writeln!(
        out,
        "  mismatches {} (banner/EHLO name not a PTR name of the address: ehlo-mismatch)",
        smtp.mismatches
    );
}

/// Audits each address row in the writer thread (with the SMTP names when
/// `--smtp` saw them), then counts it.
pub struct MxCollector {
    classifier: Classifier,
    tally: MxTally,
}

impl Collector<MxRow> for MxCollector {
    type Summary = MxTally;

    fn prepare(&mut self, row: &mut MxRow) {
        let ehlo_mismatch = match (&row.smtp, &row.address) {
            (Some(smtp), Some(address)) => smtp.mismatch(&address.ptr),
            _ => None,
        };
        if let Some(address) = &mut row.address {
            address.audit = Audit::of(
                &self.classifier,
                address.ip,
                &address.ptr,
                address.fcrdns,
                ehlo_mismatch,
            );
        }
    }

    fn count(&mut self, row: &MxRow) {
        *self.tally.by_status.entry(row.mx_status).or_default() += 1;
        if let Some(address) = &row.address {
            self.tally.addresses.add(address);
            if let (Some(smtp), Some(identity)) = (&mut self.tally.smtp, &row.smtp) {
                let mismatch = identity.mismatch(&address.ptr) == Some(true);
                smtp.add(address.ip, identity, mismatch);
            }
        }
    }

    fn into_summary(self) -> MxTally {
        self.tally
    }
}

pub struct MxReport {
    pub tally: MxTally,
    pub summary: String,
    pub interrupted: bool,
    pub destination: Destination,
    pub failure: Option<ScanError>,
}

fn render_mx(tally: &MxTally, facts: &RunFacts<'_>, domains: u64, duplicates: u64) -> String {
    let mut out = String::new();
    let rows: u64 = tally.by_status.values().sum();
    let _ = writeln!(
        out,
        "ptrscan mx: {domains} domains ({duplicates} duplicates dropped), {rows} rows"
    );
    let _ = writeln!(out, "  {:<12} {:>10}", "mx_status", "rows");
    for status in MxStatus::ALL {
        let count = tally.by_status.get(&status).copied().unwrap_or(0);
        let _ = writeln!(out, "  {:<12} {:>10}", status.as_str(), count);
    }
    let _ = writeln!(out, "mail-host addresses (one row per domain and address):");
    out.push_str(&render(&tally.addresses, facts));
    if let Some(smtp) = &tally.smtp {
        render_smtp(&mut out, smtp);
    }
    out
}

pub fn run(
    config: &MxConfig,
    stop: &AtomicBool,
    show_progress: bool,
) -> Result<MxReport, ScanError> {
    let stats = Stats::default();
    let domains = config.domains.len() as u64;
    stats.targets_total.store(domains, Ordering::Relaxed);
    let collector = MxCollector {
        classifier: Classifier::new(),
        tally: MxTally {
            smtp: config.smtp.as_ref().map(|_| SmtpTally::default()),
            ..MxTally::default()
        },
    };
    let context = RunContext {
        stats: &stats,
        stop,
        show_progress,
    };
    let render =
        |tally: &MxTally, facts: &RunFacts<'_>| render_mx(tally, facts, domains, config.duplicates);
    let end = match &config.smtp {
        None => run_pipeline(
            &config.resolvers,
            OutputPlan::fresh(&config.destination, config.part_rows),
            collector,
            context,
            |sender| MxDriver::new(config.domains.clone(), config.all_mx, sender, &stats),
            render,
        )?,
        Some(smtp) => {
            let runtime = crate::smtp::runtime().map_err(ScanError::Smtp)?;
            let mut stage_error = None;
            let end = run_pipeline(
                &config.resolvers,
                OutputPlan::fresh(&config.destination, config.part_rows),
                collector,
                context,
                |sender| {
                    let stage = SmtpStage::start(smtp.clone(), runtime, sender)
                        .map_err(|error| stage_error = Some(error))
                        .ok();
                    MxDriver::new(
                        if stage.is_some() {
                            config.domains.clone()
                        } else {
                            Vec::new()
                        },
                        config.all_mx,
                        stage,
                        &stats,
                    )
                },
                render,
            )?;
            if let Some(error) = stage_error {
                return Err(ScanError::Smtp(error));
            }
            end
        }
    };
    Ok(MxReport {
        tally: end.summary,
        summary: end.summary_text,
        interrupted: end.interrupted,
        destination: config.destination.clone(),
        failure: end.failure,
    })
}
