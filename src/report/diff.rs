//! Two audits compared address by address: PTR gained, lost or renamed,
//! FCrDNS broken or fixed, class changed, score delta.
//!
//! The old audit is held as one small entry per address (its PTR names,
//! verdict, class and score); the new one is streamed against it, so any
//! number of files and any mix of formats compare alike. `mx` audits are
//! compared per (domain, address); a `scan` audit against an `mx` one per
//! address.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::classify::PtrClass;
use crate::record::Fcrdns;
use crate::sink::table::{Cell, Column, Kind};

use super::input::{Audit, AuditKind, AuditRow, InputError};

/// A kind of change, as the `changes` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Change {
    /// The address is only in the new audit.
    Added,
    /// The address is only in the old audit.
    Removed,
    /// No PTR name before, one now.
    PtrGained,
    /// A PTR name before, none now.
    PtrLost,
    /// PTR names before and now, not the same ones.
    PtrRenamed,
    /// Confirmed before; the names now do not point back (`mismatch`, `no_forward`).
    FcrdnsBroke,
    /// Did not point back before (`mismatch`, `no_forward`); confirmed now.
    FcrdnsFixed,
    /// Another change of verdict (to or from `error` or `unchecked`, or
    /// between `mismatch` and `no_forward`), with a PTR name on both sides.
    FcrdnsChanged,
    /// A PTR name on both sides, of another class now.
    ClassChanged,
}

impl Change {
    pub const ALL: [Change; 9] = [
        Change::PtrGained,
        Change::PtrLost,
        Change::PtrRenamed,
        Change::FcrdnsBroke,
        Change::FcrdnsFixed,
        Change::FcrdnsChanged,
        Change::ClassChanged,
        Change::Added,
        Change::Removed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::PtrGained => "ptr-gained",
            Change::PtrLost => "ptr-lost",
            Change::PtrRenamed => "ptr-renamed",
            Change::FcrdnsBroke => "fcrdns-broke",
            Change::FcrdnsFixed => "fcrdns-fixed",
            Change::FcrdnsChanged => "fcrdns-changed",
            Change::ClassChanged => "class-changed",
        }
    }

    /// What the change means, for the report's legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Change::Added => "the address is only in the new audit",
            Change::Removed => "the address is only in the baseline",
            Change::PtrGained => "no PTR name before, one now",
            Change::PtrLost => "a PTR name before, none now",
            Change::PtrRenamed => "PTR names before and now, not the same ones",
            Change::FcrdnsBroke => "confirmed before, the name no longer points back",
            Change::FcrdnsFixed => "did not point back before, confirmed now",
            Change::FcrdnsChanged => {
                "another change of verdict (to or from error or unchecked, mismatch and no_forward)"
            }
            Change::ClassChanged => "the PTR name is of another class",
        }
    }

    /// Worse changes first in the report's list.
    pub fn is_regression(self) -> bool {
        matches!(
            self,
            Change::PtrLost | Change::FcrdnsBroke | Change::Removed
        )
    }

    fn bit(self) -> u16 {
        1 << Change::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// One side of a compared address.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    /// PTR names joined by `|`, as read.
    pub ptr: Box<str>,
    pub fcrdns: Option<Fcrdns>,
    pub class: Option<PtrClass>,
    pub score: Option<u8>,
}

impl Side {
    fn of(row: &AuditRow) -> Side {
        Side {
            ptr: row.ptr.as_str().into(),
            fcrdns: row.fcrdns,
            class: row.class,
            score: row.score,
        }
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.ptr.split('|').filter(|n| !n.is_empty()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// What identifies an address across the two audits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// `mx` against `mx`: the domain (lowercase); empty otherwise.
    pub domain: Box<str>,
    pub ip: Option<IpAddr>,
}

/// One changed address.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub key: Key,
    /// Bits of [`Change::ALL`].
    pub changes: u16,
    pub old: Option<Side>,
    pub new: Option<Side>,
}

impl ChangeRow {
    pub fn changes(&self) -> impl Iterator<Item = Change> + '_ {
        Change::ALL
            .into_iter()
            .filter(|change| self.changes & change.bit() != 0)
    }

    pub fn has(&self, change: Change) -> bool {
        self.changes & change.bit() != 0
    }

    pub fn score_delta(&self) -> Option<i64> {
        let old = self.old.as_ref()?.score?;
        let new = self.new.as_ref()?.score?;
        Some(i64::from(new) - i64::from(old))
    }

    fn is_change(&self) -> bool {
        self.changes != 0 || self.score_delta().is_some_and(|delta| delta != 0)
    }
}

/// Compares one address's two sides.
pub fn compare(key: Key, old: Option<Side>, new: Option<Side>) -> ChangeRow {
    let mut changes = 0u16;
    match (&old, &new) {
        (None, Some(_)) => changes |= Change::Added.bit(),
        (Some(_), None) => changes |= Change::Removed.bit(),
        (Some(before), Some(after)) => {
            let (old_names, new_names) = (before.names(), after.names());
            match (old_names.is_empty(), new_names.is_empty()) {
                (true, false) => changes |= Change::PtrGained.bit(),
                (false, true) => changes |= Change::PtrLost.bit(),
                (false, false) if old_names != new_names => changes |= Change::PtrRenamed.bit(),
                _ => {}
            }
            let both_named = !old_names.is_empty() && !new_names.is_empty();
            if both_named && before.fcrdns != after.fcrdns {
                let failed = |v: Option<Fcrdns>| {
                    matches!(v, Some(Fcrdns::Mismatch) | Some(Fcrdns::NoForward))
                };
                let confirmed = |v: Option<Fcrdns>| v == Some(Fcrdns::Confirmed);
                changes |= if confirmed(before.fcrdns) && failed(after.fcrdns) {
                    Change::FcrdnsBroke.bit()
                } else if failed(before.fcrdns) && confirmed(after.fcrdns) {
                    Change::FcrdnsFixed.bit()
                } else {
                    Change::FcrdnsChanged.bit()
                };
            }
            if both_named && before.class != after.class {
                changes |= Change::ClassChanged.bit();
            }
        }
        (None, None) => {}
    }
    ChangeRow {
        key,
        changes,
        old,
        new,
    }
}

/// Counts of a comparison, and the first changed rows for the report.
#[derive(Debug, Clone, Default)]
pub struct DiffSummary {
    /// Addresses in both audits.
    pub compared: u64,
    /// Rows with any change (or a score delta).
    pub changed: u64,
    /// By change, in [`Change::ALL`] order.
    pub by_change: [u64; 9],
    pub score_up: u64,
    pub score_down: u64,
    /// Sum of the score deltas over the compared addresses.
    pub score_delta_sum: i64,
    /// Changed rows kept for display, regressions first.
    pub sample: Vec<ChangeRow>,
    /// Rows read twice for one address in the same audit (shards overlapping): the first counts.
    pub duplicates_old: u64,
    pub duplicates_new: u64,
}

impl DiffSummary {
    pub fn count(&self, change: Change) -> u64 {
        self.by_change[Change::ALL.iter().position(|c| *c == change).unwrap_or(0)]
    }

    fn add(&mut self, row: &ChangeRow, sample_cap: usize) {
        if row.old.is_some() && row.new.is_some() {
            self.compared += 1;
        }
        if !row.is_change() {
            return;
        }
        self.changed += 1;
        for change in row.changes() {
            self.by_change[Change::ALL.iter().position(|c| *c == change).unwrap_or(0)] += 1;
        }
        if let Some(delta) = row.score_delta() {
            self.score_delta_sum += delta;
            self.score_up += u64::from(delta > 0);
            self.score_down += u64::from(delta < 0);
        }
        if self.sample.len() < sample_cap {
            self.sample.push(row.clone());
        } else if row.changes().any(Change::is_regression)
            && let Some(slot) = self
                .sample
                .iter()
                .rposition(|kept| !kept.changes().any(Change::is_regression))
        {
            // A regression displaces a kept row that is not one.
            self.sample[slot] = row.clone();
        }
    }
}

/// The old audit, held per address.
pub struct Baseline {
    by_key: HashMap<Key, Side, foldhash::fast::RandomState>,
    per_domain: bool,
    duplicates: u64,
}

impl Baseline {
    /// Whether keys carry the domain: only when both audits are `mx` output.
    pub fn per_domain(old: AuditKind, new: AuditKind) -> bool {
        old == AuditKind::Mx && new == AuditKind::Mx
    }

    pub fn new(per_domain: bool) -> Self {
        Baseline {
            by_key: HashMap::default(),
            per_domain,
            duplicates: 0,
        }
    }

    pub fn key(&self, row: &AuditRow) -> Key {
        Key {
            domain: if self.per_domain {
                row.domain.to_ascii_lowercase().into()
            } else {
                "".into()
            },
            ip: row.ip,
        }
    }

    /// Holds an old row (the first one of an address counts).
    pub fn add(&mut self, row: &AuditRow) {
        if row.ip.is_none() && !self.per_domain {
            return;
        }
        let key = self.key(row);
        if self.by_key.contains_key(&key) {
            self.duplicates += 1;
            return;
        }
        self.by_key.insert(key, Side::of(row));
    }
}

/// Streams the new audit against the baseline: `each` gets every changed
/// row (new audit's order, then the removed addresses in address order).
pub struct Comparison {
    baseline: Baseline,
    seen: std::collections::HashSet<Key, foldhash::fast::RandomState>,
    pub summary: DiffSummary,
    sample_cap: usize,
}

impl Comparison {
    pub fn new(baseline: Baseline, sample_cap: usize) -> Self {
        let mut summary = DiffSummary {
            duplicates_old: baseline.duplicates,
            ..DiffSummary::default()
        };
        summary.sample.reserve(sample_cap.min(1024));
        Comparison {
            baseline,
            seen: std::collections::HashSet::default(),
            summary,
            sample_cap,
        }
    }

    /// Compares a new row; returns the change row when there is a change.
    pub fn add(&mut self, row: &AuditRow) -> Option<ChangeRow> {
        if row.ip.is_none() && !self.baseline.per_domain {
            return None;
        }
        let key = self.baseline.key(row);
        if !self.seen.insert(key.clone()) {
            self.summary.duplicates_new += 1;
            return None;
        }
        let old = self.baseline.by_key.remove(&key);
        let change = compare(key, old, Some(Side::of(row)));
        self.summary.add(&change, self.sample_cap);
        change.is_change().then_some(change)
    }

    /// The addresses only the baseline has, in address order.
    pub fn finish(mut self) -> (DiffSummary, Vec<ChangeRow>) {
        let mut removed: Vec<(Key, Side)> = self.baseline.by_key.drain().collect();
        removed.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<ChangeRow> = removed
            .into_iter()
            .map(|(key, side)| compare(key, Some(side), None))
            .collect();
        for row in &rows {
            self.summary.add(row, self.sample_cap);
        }
        (self.summary, rows)
    }
}

/// Reads the old audit into a baseline.
pub fn load_baseline(old: &Audit, new_kind: AuditKind) -> Result<Baseline, InputError> {
    let mut baseline = Baseline::new(Baseline::per_domain(old.kind, new_kind));
    old.for_each_row(|row| {
        baseline.add(row);
        Ok(())
    })?;
    Ok(baseline)
}

/// The columns of `ptrscan diff` output.
pub const CHANGE_COLUMNS: [Column; 11] = [
    Column::new("ip", Kind::Text, true).distinct(),
    Column::new("changes", Kind::TextList, false),
    Column::new("old_ptr", Kind::TextList, false).distinct(),
    Column::new("new_ptr", Kind::TextList, false).distinct(),
    Column::new("old_fcrdns", Kind::Text, true),
    Column::new("new_fcrdns", Kind::Text, true),
    Column::new("old_class", Kind::Text, true),
    Column::new("new_class", Kind::Text, true),
    Column::new("old_score", Kind::Int, true),
    Column::new("new_score", Kind::Int, true),
    Column::new("score_delta", Kind::Int, true),
];

/// The same, after a `domain` column, for `mx` audits.
pub static MX_CHANGE_COLUMNS: std::sync::LazyLock<Vec<Column>> = std::sync::LazyLock::new(|| {
    let mut columns = vec![Column::new("domain", Kind::Text, false)];
    columns.extend(CHANGE_COLUMNS);
    columns
});

impl ChangeRow {
    /// The row's cells, in [`CHANGE_COLUMNS`] order (after the domain for `mx`).
    pub fn cells(&self, per_domain: bool) -> Vec<Cell<'_>> {
        let mut cells = Vec::with_capacity(12);
        if per_domain {
            cells.push(Cell::text(&*self.key.domain));
        }
        fn names(side: &Option<Side>) -> Cell<'_> {
            Cell::list(side.as_ref().map(Side::names).unwrap_or_default())
        }
        fn fcrdns(side: &Option<Side>) -> Cell<'static> {
            Cell::opt_text(side.as_ref().and_then(|s| s.fcrdns).map(Fcrdns::as_str))
        }
        fn class(side: &Option<Side>) -> Cell<'static> {
            Cell::opt_text(side.as_ref().and_then(|s| s.class).map(PtrClass::as_str))
        }
        fn score(side: &Option<Side>) -> Cell<'static> {
            side.as_ref()
                .and_then(|s| s.score)
                .map_or(Cell::Null, |score| Cell::Int(i64::from(score)))
        }
        cells.extend([
            self.key.ip.map_or(Cell::Null, Cell::Addr),
            Cell::list(self.changes().map(Change::code)),
            names(&self.old),
            names(&self.new),
            fcrdns(&self.old),
            fcrdns(&self.new),
            class(&self.old),
            class(&self.new),
            score(&self.old),
            score(&self.new),
            self.score_delta().map_or(Cell::Null, Cell::Int),
        ]);
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(ptr: &str, fcrdns: Fcrdns, class: Option<PtrClass>, score: u8) -> Option<Side> {
        Some(Side {
            ptr: ptr.into(),
            fcrdns: Some(fcrdns),
            class,
            score: Some(score),
        })
    }

    fn codes(old: Option<Side>, new: Option<Side>) -> (Vec<&'static str>, Option<i64>) {
        let key = Key {
            domain: "".into(),
            ip: "192.0.2.1".parse().ok(),
        };
        let row = compare(key, old, new);
        (row.changes().map(Change::code).collect(), row.score_delta())
    }

    #[test]
    fn changes_by_table() {
        use Fcrdns::*;
        use PtrClass::*;
        let mail = side("mail.example.com", Confirmed, Some(CustomMail), 25);
        // Nothing changed.
        assert_eq!(codes(mail.clone(), mail.clone()), (vec![], Some(0)));
        // Same names in another order are the same names.
        assert_eq!(
            codes(
                side(
                    "b.example.com|a.example.com",
                    Confirmed,
                    Some(CustomOther),
                    22
                ),
                side(
                    "a.example.com|b.example.com",
                    Confirmed,
                    Some(CustomOther),
                    22
                )
            ),
            (vec![], Some(0))
        );
        assert_eq!(
            codes(mail.clone(), side("", NoPtr, None, 0)),
            (vec!["ptr-lost"], Some(-25))
        );
        assert_eq!(
            codes(side("", NoPtr, None, 0), mail.clone()),
            (vec!["ptr-gained"], Some(25))
        );
        assert_eq!(
            codes(
                mail.clone(),
                side("smtp.example.com", Confirmed, Some(CustomMail), 25)
            ),
            (vec!["ptr-renamed"], Some(0))
        );
        assert_eq!(
            codes(
                mail.clone(),
                side("mail.example.com", NoForward, Some(CustomMail), 10)
            ),
            (vec!["fcrdns-broke"], Some(-15))
        );
        assert_eq!(
            codes(
                side("mail.example.com", Mismatch, Some(CustomMail), 10),
                mail.clone()
            ),
            (vec!["fcrdns-fixed"], Some(15))
        );
        assert_eq!(
            codes(
                mail.clone(),
                side("mail.example.com", Error, Some(CustomMail), 10)
            ),
            (vec!["fcrdns-changed"], Some(-15))
        );
        assert_eq!(
            codes(
                mail.clone(),
                side("1-2-3-4.dyn.example.net", Mismatch, Some(Dynamic), 5)
            ),
            (
                vec!["ptr-renamed", "fcrdns-broke", "class-changed"],
                Some(-20)
            )
        );
        assert_eq!(codes(None, mail.clone()), (vec!["added"], None));
        assert_eq!(codes(mail, None), (vec!["removed"], None));
        // No PTR on either side, a verdict from no_ptr to error: a score
        // of 0 both times and no PTR to compare, so no change.
        assert_eq!(
            codes(side("", NoPtr, None, 0), side("", Error, None, 0)),
            (vec![], Some(0))
        );
    }

    #[test]
    fn summary_counts_and_prefers_regressions() {
        let mut summary = DiffSummary::default();
        let key = |last: u8| Key {
            domain: "".into(),
            ip: Some(IpAddr::from([192, 0, 2, last])),
        };
        let confirmed = side("mail.example.com", Fcrdns::Confirmed, None, 25);
        let broken = side("mail.example.com", Fcrdns::Mismatch, None, 10);
        summary.add(&compare(key(1), broken.clone(), confirmed.clone()), 1);
        summary.add(&compare(key(2), confirmed.clone(), confirmed.clone()), 1);
        summary.add(&compare(key(3), confirmed.clone(), broken), 1);
        assert_eq!(summary.compared, 3);
        assert_eq!(summary.changed, 2);
        assert_eq!(summary.count(Change::FcrdnsFixed), 1);
        assert_eq!(summary.count(Change::FcrdnsBroke), 1);
        assert_eq!((summary.score_up, summary.score_down), (1, 1));
        assert_eq!(summary.score_delta_sum, 0);
        assert_eq!(summary.sample.len(), 1);
        assert!(summary.sample[0].has(Change::FcrdnsBroke));
    }
}
