//! Known provider suffixes (`suffixes.tsv`), compiled into the binary so the
//! classifier needs no file access at run time, and looked up by longest
//! label-aligned suffix because a provider's reverse zone is the strongest
//! single hint about who assigned a name.

use std::collections::HashMap;

/// What kind of provider owns a suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuffixKind {
    /// Public cloud machine names (EC2, GCE, Azure, Linode, Vultr, ...).
    Cloud,
    /// Hosting / dedicated / VPS provider machine names.
    Hosting,
    /// An ISP's zone for residential / mobile access lines.
    IspAccess,
    /// An ISP's zone for business / static lines.
    IspBusiness,
    /// Outbound infrastructure of an email service or big mailbox provider.
    Esp,
}

impl SuffixKind {
    /// The spelling used in the `kind` column of `suffixes.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuffixKind::Cloud => "cloud",
            SuffixKind::Hosting => "hosting",
            SuffixKind::IspAccess => "isp-access",
            SuffixKind::IspBusiness => "isp-business",
            SuffixKind::Esp => "esp",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "cloud" => SuffixKind::Cloud,
            "hosting" => SuffixKind::Hosting,
            "isp-access" => SuffixKind::IspAccess,
            "isp-business" => SuffixKind::IspBusiness,
            "esp" => SuffixKind::Esp,
            _ => return None,
        })
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            SuffixKind::Cloud => "suffix:cloud",
            SuffixKind::Hosting => "suffix:hosting",
            SuffixKind::IspAccess => "suffix:isp",
            SuffixKind::IspBusiness => "suffix:isp-business",
            SuffixKind::Esp => "suffix:esp",
        }
    }
}

/// One row of `suffixes.tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuffixEntry {
    pub suffix: &'static str,
    pub kind: SuffixKind,
    /// Where the row's evidence can be read: an `https://` URL or
    /// `owner/repository:path` of a file in a public repository.
    pub source: &'static str,
}

/// Whether `text` has the shape of a source reference: an `https://` URL,
/// or `owner/repository:path` (no spaces, an owner and a path).
pub fn is_source_reference(text: &str) -> bool {
    if text.is_empty() || text.contains(char::is_whitespace) {
        return false;
    }
    // Some archived pages exist only under their old `http://` address.
    if let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    {
        return rest.contains('.') && rest.contains('/');
    }
    let Some((repository, path)) = text.split_once(':') else {
        return false;
    };
    let mut parts = repository.split('/');
    let (Some(owner), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !owner.is_empty() && !name.is_empty() && !path.is_empty() && !path.starts_with('/')
}

/// The table text, embedded at compile time.
pub const SUFFIXES_TSV: &str = include_str!("suffixes.tsv");

/// Parses `SUFFIXES_TSV` (`suffix`, `kind`, `source`); malformed rows, and
/// rows whose source is not a URL or `owner/repository:path`, are skipped
/// rather than panicking because the table is data, and a unit test checks
/// that none are skipped.
pub fn suffix_entries() -> impl Iterator<Item = Option<SuffixEntry>> {
    parse_rows(SUFFIXES_TSV)
}

/// The rows of a table in `suffixes.tsv` format; `None` for a malformed row.
pub(crate) fn parse_rows(text: &'static str) -> impl Iterator<Item = Option<SuffixEntry>> {
    text.lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut columns = line.split('\t');
            let suffix = columns.next()?.trim();
            let kind = SuffixKind::parse(columns.next()?.trim())?;
            let source = columns.next()?.trim();
            if suffix.is_empty() || !is_source_reference(source) || columns.next().is_some() {
                return None;
            }
            Some(SuffixEntry {
                suffix,
                kind,
                source,
            })
        })
}

pub(crate) struct SuffixTable {
    /// foldhash, not SipHash: every classified name costs a lookup per
    /// label, and the keys are our own table's, not an attacker's.
    by_suffix: HashMap<&'static str, SuffixEntry, foldhash::fast::RandomState>,
}

/// A suffix table hit: the entry and the byte offset where the suffix starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuffixHit {
    pub entry: SuffixEntry,
    pub start: usize,
}

impl SuffixTable {
    pub(crate) fn new() -> Self {
        let by_suffix = suffix_entries()
            .flatten()
            .map(|entry| (entry.suffix, entry))
            .collect();
        SuffixTable { by_suffix }
    }

    /// Longest table suffix of `lower_name` that starts on a label boundary.
    /// The whole name counts too, so a PTR equal to a provider domain is found.
    pub(crate) fn longest_match(&self, lower_name: &str) -> Option<SuffixHit> {
        let mut start = 0;
        loop {
            let candidate = &lower_name[start..];
            // Single labels (TLDs) are never in the table; skipping them saves a hash.
            let dot = candidate.find('.')?;
            if let Some(entry) = self.by_suffix.get(candidate) {
                return Some(SuffixHit {
                    entry: *entry,
                    start,
                });
            }
            start += dot + 1;
        }
    }
}
