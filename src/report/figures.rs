//! The report's figures as data: what the HTML shows, and what `--json`
//! writes (and the HTML embeds) so other tools can check them.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::classify::PtrClass;
use crate::findings::Finding;
use crate::record::Fcrdns;

use super::aggregate::{Aggregate, Counts, SEVERITY_SLOTS, percent};
use super::diff::{Change, DiffSummary};
use super::input::AuditKind;

/// One network's counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkFigures {
    pub network: String,
    pub rows: u64,
    pub with_ptr: u64,
    pub confirmed: u64,
    pub mismatch: u64,
    pub no_forward: u64,
    pub no_ptr: u64,
    pub error: u64,
    pub unchecked: u64,
    pub generic: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub score_sum: u64,
    pub scored: u64,
    pub mean_score: Option<f64>,
}

impl NetworkFigures {
    pub fn of(network: String, counts: &Counts) -> Self {
        NetworkFigures {
            network,
            rows: counts.rows,
            with_ptr: counts.with_ptr,
            confirmed: counts.count(Fcrdns::Confirmed),
            mismatch: counts.count(Fcrdns::Mismatch),
            no_forward: counts.count(Fcrdns::NoForward),
            no_ptr: counts.count(Fcrdns::NoPtr),
            error: counts.count(Fcrdns::Error),
            unchecked: counts.count(Fcrdns::Unchecked),
            generic: counts.generic,
            high: counts.severity[0],
            medium: counts.severity[1],
            low: counts.severity[2],
            score_sum: counts.score_sum,
            scored: counts.scored,
            mean_score: counts.mean_score().map(round2),
        }
    }
}

/// One PTR zone's counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneFigures {
    pub zone: String,
    pub rows: u64,
    pub confirmed: u64,
    pub generic: u64,
    pub classes: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MxFigures {
    pub domains: u64,
    pub rows: u64,
    pub by_status: BTreeMap<String, u64>,
    pub rows_shown: u64,
}

/// Headline figures of one audit, for the comparison with a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    pub addresses: u64,
    pub with_ptr: u64,
    pub confirmed: u64,
    pub no_ptr: u64,
    pub generic: u64,
    /// Confirmed addresses, % of addresses.
    pub confirmed_pct: f64,
    /// Addresses without a PTR (`fcrdns` = `no_ptr`), % of addresses.
    pub no_ptr_pct: f64,
    /// Generic PTR names, % of addresses with a PTR name.
    pub generic_pct: f64,
    pub mean_score: Option<f64>,
}

impl Headline {
    pub fn of(counts: &Counts) -> Self {
        Headline {
            addresses: counts.rows,
            with_ptr: counts.with_ptr,
            confirmed: counts.count(Fcrdns::Confirmed),
            no_ptr: counts.count(Fcrdns::NoPtr),
            generic: counts.generic,
            confirmed_pct: round2(percent(counts.count(Fcrdns::Confirmed), counts.rows)),
            no_ptr_pct: round2(percent(counts.count(Fcrdns::NoPtr), counts.rows)),
            generic_pct: round2(percent(counts.generic, counts.with_ptr)),
            mean_score: counts.mean_score().map(round2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineFigures {
    pub files: Vec<String>,
    pub headline: Headline,
    pub compared: u64,
    pub changed: u64,
    pub changes: BTreeMap<&'static str, u64>,
    pub score_up: u64,
    pub score_down: u64,
    pub score_delta_sum: i64,
}

impl BaselineFigures {
    pub fn of(files: Vec<String>, old: &Counts, summary: &DiffSummary) -> Self {
        BaselineFigures {
            files,
            headline: Headline::of(old),
            compared: summary.compared,
            changed: summary.changed,
            changes: Change::ALL
                .into_iter()
                .map(|change| (change.code(), summary.count(change)))
                .collect(),
            score_up: summary.score_up,
            score_down: summary.score_down,
            score_delta_sum: summary.score_delta_sum,
        }
    }
}

/// Every figure of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub ptrscan_version: &'static str,
    pub kind: AuditKind,
    pub files: Vec<String>,
    /// Rows read (for `mx`, domains without an address included).
    pub rows: u64,
    pub headline: Headline,
    pub ipv4: u64,
    pub ipv6: u64,
    pub fcrdns: BTreeMap<&'static str, u64>,
    pub ptr_class: BTreeMap<&'static str, u64>,
    /// By highest severity; `none` counts addresses without findings.
    pub severity: BTreeMap<&'static str, u64>,
    pub findings: BTreeMap<&'static str, u64>,
    /// Addresses by score, 0 to 25.
    pub score_histogram: Vec<u64>,
    pub score_sum: u64,
    pub scored: u64,
    /// The prefix length IPv6 addresses are grouped by (48 or 64).
    pub ipv6_prefix: u8,
    /// Per network (IPv4 /24, IPv6 /48 or /64), in address order.
    pub networks: Vec<NetworkFigures>,
    /// Whether `networks` lists every network (the HTML embeds only those it shows).
    pub networks_complete: bool,
    /// Rows of networks past the cap of networks counted one by one.
    pub other_networks_rows: u64,
    /// PTR zones, most rows first.
    pub zones: Vec<ZoneFigures>,
    pub zones_complete: bool,
    pub other_zones_rows: u64,
    /// Addresses with a finding, and how many the per-address table shows.
    pub problems: u64,
    pub problems_shown: u64,
    pub mx: Option<MxFigures>,
    pub baseline: Option<BaselineFigures>,
}

pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

pub fn v4_network(key: u32) -> String {
    format!("{}/24", Ipv4Addr::from(key << 8))
}

pub fn v6_network(key: u64, prefix: u8) -> String {
    format!("{}/{prefix}", Ipv6Addr::from(u128::from(key) << 64))
}

/// The IPv6 grouping that suits the data: /48 when the addresses span
/// several /48s, else /64. Returns the prefix and the networks' counts
/// keyed by their first 64 bits (a /48's low 16 of those are zero).
pub fn v6_networks(aggregate: &Aggregate) -> (u8, Vec<(u64, Counts)>) {
    let mut distinct_48: Vec<u64> = aggregate.v6.keys().map(|key| key >> 16).collect();
    distinct_48.sort_unstable();
    distinct_48.dedup();
    if distinct_48.len() > 1 {
        let mut merged: BTreeMap<u64, Counts> = BTreeMap::new();
        for (key, counts) in &aggregate.v6 {
            merged.entry(key & !0xffff).or_default().merge(counts);
        }
        (48, merged.into_iter().collect())
    } else {
        let mut networks: Vec<(u64, Counts)> = aggregate
            .v6
            .iter()
            .map(|(key, counts)| (*key, *counts))
            .collect();
        networks.sort_by_key(|(key, _)| *key);
        (64, networks)
    }
}

impl Figures {
    pub fn build(
        aggregate: &Aggregate,
        files: Vec<String>,
        baseline: Option<BaselineFigures>,
    ) -> Figures {
        let totals = &aggregate.totals;
        let mut v4: Vec<(&u32, &Counts)> = aggregate.v4.iter().collect();
        v4.sort_by_key(|(key, _)| **key);
        let (ipv6_prefix, v6) = v6_networks(aggregate);
        let mut networks: Vec<NetworkFigures> = v4
            .into_iter()
            .map(|(key, counts)| NetworkFigures::of(v4_network(*key), counts))
            .collect();
        networks.extend(
            v6.iter()
                .map(|(key, counts)| NetworkFigures::of(v6_network(*key, ipv6_prefix), counts)),
        );
        let mut zones: Vec<ZoneFigures> = aggregate
            .zones
            .iter()
            .map(|(zone, counts)| ZoneFigures {
                zone: zone.to_string(),
                rows: counts.rows,
                confirmed: counts.confirmed,
                generic: counts.generic,
                classes: PtrClass::ALL
                    .into_iter()
                    .zip(counts.class)
                    .filter(|(_, count)| *count > 0)
                    .map(|(class, count)| (class.as_str(), count))
                    .collect(),
            })
            .collect();
        zones.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.zone.cmp(&b.zone)));
        Figures {
            ptrscan_version: env!("CARGO_PKG_VERSION"),
            kind: aggregate.kind,
            files,
            rows: aggregate.input_rows,
            headline: Headline::of(totals),
            ipv4: aggregate.v4_rows,
            ipv6: aggregate.v6_rows,
            fcrdns: Fcrdns::ALL
                .into_iter()
                .map(|value| (value.as_str(), totals.count(value)))
                .collect(),
            ptr_class: PtrClass::ALL
                .into_iter()
                .zip(totals.class)
                .map(|(class, count)| (class.as_str(), count))
                .collect(),
            severity: SEVERITY_SLOTS
                .into_iter()
                .zip(totals.severity)
                .map(|(severity, count)| (severity.map_or("none", |s| s.as_str()), count))
                .collect(),
            findings: Finding::ALL
                .into_iter()
                .zip(totals.findings)
                .map(|(finding, count)| (finding.code(), count))
                .collect(),
            score_histogram: aggregate.score_histogram.to_vec(),
            score_sum: totals.score_sum,
            scored: totals.scored,
            ipv6_prefix,
            networks,
            networks_complete: true,
            other_networks_rows: aggregate.v4_other.rows + aggregate.v6_other.rows,
            zones,
            zones_complete: true,
            other_zones_rows: aggregate.zones_other.rows,
            problems: aggregate.problems.total,
            problems_shown: aggregate.problems.kept_count() as u64,
            mx: aggregate.mx.as_ref().map(|mx| MxFigures {
                domains: mx.domains(),
                rows: mx.total_rows,
                by_status: mx.by_status.clone(),
                rows_shown: mx.rows.len() as u64,
            }),
            baseline,
        }
    }

    /// The figures the HTML embeds: the networks and zones it shows, not
    /// every one (a /8 has 65,536 networks).
    pub fn embedded(&self, networks: &std::collections::HashSet<&str>, zones: usize) -> Figures {
        let mut figures = self.clone();
        if figures.networks.len() > networks.len() {
            figures
                .networks
                .retain(|network| networks.contains(network.network.as_str()));
            figures.networks_complete = false;
        }
        if figures.zones.len() > zones {
            figures.zones.truncate(zones);
            figures.zones_complete = false;
        }
        figures
    }
}
