//! The HTML: a minijinja template (auto-escaped) filled from view structs,
//! with SVG charts and heat maps written here. The page is one file: inline
//! CSS, inline SVG, a little inline script for sorting, filtering and the
//! heat maps' colouring; a Content-Security-Policy forbids every fetch.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use minijinja::{Environment, Value};
use serde::Serialize;

use crate::classify::PtrClass;
use crate::findings::{Finding, Severity};
use crate::record::Fcrdns;

use super::aggregate::{Aggregate, Counts, fcrdns_slot, percent, severity_slot};
use super::diff::{Change, ChangeRow, DiffSummary, Side};
use super::figures::{Figures, v4_network, v6_network, v6_networks};
use super::input::AuditKind;

const TEMPLATE: &str = include_str!("report.html");

/// Networks in the "worst networks" table.
pub const WORST_NETWORKS: usize = 200;
/// Zones in the "top PTR zones" table.
pub const TOP_ZONES: usize = 50;
/// Heat maps drawn (the /16s with the most rows); the rest are in the tables.
pub const HEAT_MAPS: usize = 16;
/// Changed addresses listed under the baseline summary.
pub const CHANGES_SHOWN: usize = 1000;

pub const VERDICT_COLORS: [&str; 6] = [
    "#2f855a", "#dd6b20", "#d69e2e", "#c53030", "#718096", "#a0aec0",
];
pub const CLASS_COLORS: [&str; 6] = [
    "#805ad5", "#b794f4", "#3182ce", "#319795", "#38a169", "#9ae6b4",
];
/// high, medium, low, none.
pub const SEVERITY_COLORS: [&str; 4] = ["#c53030", "#dd6b20", "#d69e2e", "#2f855a"];
const EMPTY_CELL: &str = "#edf2f7";

/// `1234567` → `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn signed(value: i64) -> String {
    match value {
        0 => "0".into(),
        v if v > 0 => format!("+{}", thousands(v.unsigned_abs())),
        v => format!("−{}", thousands(v.unsigned_abs())),
    }
}

/// A percentage with one decimal (`12.3%`); `<0.1%` for a small non-zero share.
pub fn pct(part: u64, whole: u64) -> String {
    let value = percent(part, whole);
    if part > 0 && value < 0.05 {
        "<0.1%".into()
    } else {
        format!("{value:.1}%")
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn rgb(hex: &str) -> (f64, f64, f64) {
    let value = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    (
        f64::from((value >> 16) & 0xff),
        f64::from((value >> 8) & 0xff),
        f64::from(value & 0xff),
    )
}

fn mix(a: &str, b: &str, t: f64) -> String {
    let (a, b) = (rgb(a), rgb(b));
    let channel = |x: f64, y: f64| (x + (y - x) * t).round().clamp(0.0, 255.0) as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        channel(a.0, b.0),
        channel(a.1, b.1),
        channel(a.2, b.2)
    )
}

/// Red at 0, amber at 12.5, green at 25.
pub fn score_color(score: f64) -> String {
    let t = (score / 25.0).clamp(0.0, 1.0);
    if t < 0.5 {
        mix(SEVERITY_COLORS[0], SEVERITY_COLORS[2], t * 2.0)
    } else {
        mix(SEVERITY_COLORS[2], SEVERITY_COLORS[3], (t - 0.5) * 2.0)
    }
}

/// A horizontal bar chart: one bar per item, its count and share.
fn bar_chart(label: &str, items: &[(String, u64, &str)], whole: u64) -> String {
    const ROW: usize = 28;
    const LABEL: usize = 118;
    const BAR: f64 = 190.0;
    let height = items.len() * ROW + 4;
    let max = items.iter().map(|item| item.1).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 420 {height}" width="420" height="{height}" role="img" aria-label="{}">"#,
        escape(label)
    );
    for (index, (name, count, color)) in items.iter().enumerate() {
        let y = index * ROW + 4;
        let width = if *count == 0 {
            0.0
        } else {
            (BAR * *count as f64 / max as f64).max(2.0)
        };
        let share = pct(*count, whole);
        let _ = write!(
            svg,
            concat!(
                r#"<g><title>{name}: {count} ({share})</title>"#,
                r#"<text x="{lx}" y="{ty}" class="lbl" text-anchor="end">{name}</text>"#,
                r##"<rect x="{bx}" y="{y}" width="{bw}" height="18" rx="3" fill="#edf2f7"/>"##,
                r#"<rect x="{bx}" y="{y}" width="{w:.1}" height="18" rx="3" fill="{color}"/>"#,
                r#"<text x="{vx}" y="{ty}" class="val">{count} <tspan class="muted">{share}</tspan></text></g>"#
            ),
            name = escape(name),
            count = thousands(*count),
            share = share,
            lx = LABEL - 8,
            ty = y + 13,
            bx = LABEL,
            y = y,
            bw = BAR,
            w = width,
            color = color,
            vx = LABEL as f64 + BAR + 8.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Addresses by score, 0 to 25, as columns.
fn score_histogram(histogram: &[u64; 26]) -> String {
    const LEFT: f64 = 8.0;
    const STEP: f64 = 15.6;
    const TOP: f64 = 8.0;
    const HEIGHT: f64 = 112.0;
    let max = histogram.iter().copied().max().unwrap_or(0).max(1);
    let total: u64 = histogram.iter().sum();
    let mut svg = String::from(
        r#"<svg class="chart" viewBox="0 0 420 150" width="420" height="150" role="img" aria-label="Addresses by score">"#,
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{b}" x2="{x2}" y2="{b}" stroke="#cbd5e0"/>"##,
        b = TOP + HEIGHT,
        x2 = LEFT + 26.0 * STEP
    );
    for (score, count) in histogram.iter().enumerate() {
        let x = LEFT + score as f64 * STEP;
        // Logarithmic: one bar usually dwarfs the others.
        let h = if *count == 0 {
            0.0
        } else {
            (HEIGHT * (*count as f64).ln_1p() / (max as f64).ln_1p()).max(1.5)
        };
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="1.5" fill="{color}"><title>score {score}: {count} addresses ({share})</title></rect>"#,
            y = TOP + HEIGHT - h,
            w = STEP - 3.0,
            color = score_color(score as f64),
            count = thousands(*count),
            share = pct(*count, total),
        );
        if score.is_multiple_of(5) {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ty}" class="lbl" text-anchor="middle">{score}</text>"#,
                cx = x + (STEP - 3.0) / 2.0,
                ty = TOP + HEIGHT + 16.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The cell of a heat map: its network's name and counts.
struct Cell<'a> {
    network: String,
    counts: &'a Counts,
}

fn cell_tooltip(cell: &Cell<'_>) -> String {
    let c = cell.counts;
    let mut text = format!(
        "{} · {} address{}\n",
        cell.network,
        thousands(c.rows),
        if c.rows == 1 { "" } else { "es" }
    );
    let verdicts: Vec<String> = Fcrdns::ALL
        .into_iter()
        .filter(|verdict| c.count(*verdict) > 0)
        .map(|verdict| format!("{} {}", verdict.as_str(), thousands(c.count(verdict))))
        .collect();
    text.push_str(&verdicts.join(" · "));
    let classes: Vec<String> = PtrClass::ALL
        .into_iter()
        .zip(c.class)
        .filter(|(_, count)| *count > 0)
        .map(|(class, count)| format!("{} {}", class.as_str(), thousands(count)))
        .collect();
    if !classes.is_empty() {
        text.push('\n');
        text.push_str(&classes.join(" · "));
    }
    let _ = write!(
        text,
        "\nhigh {} · medium {} · low {} · none {}",
        thousands(c.severity[0]),
        thousands(c.severity[1]),
        thousands(c.severity[2]),
        thousands(c.severity[3])
    );
    if let Some(mean) = c.mean_score() {
        let _ = write!(text, "\nmean score {mean:.1}/25");
    }
    text
}

/// The verdict most addresses of the cell have.
fn main_verdict(counts: &Counts) -> usize {
    let mut best = 0;
    for slot in 1..6 {
        if counts.fcrdns[slot] > counts.fcrdns[best] {
            best = slot;
        }
    }
    best
}

/// A 16 × 16 heat map: 256 cells, one per sub-network, each filled three
/// ways (mean score, main verdict, worst severity) through CSS variables so
/// the page switches between them without redrawing.
fn heat_map(
    label: &str,
    column_label: impl Fn(usize) -> String,
    row_label: impl Fn(usize) -> String,
    cells: &[Option<Cell<'_>>; 256],
    empty_name: impl Fn(usize) -> String,
) -> String {
    const LEFT: usize = 40;
    const TOP: usize = 18;
    const STEP: usize = 22;
    const SIZE: usize = 20;
    let width = LEFT + 16 * STEP;
    let height = TOP + 16 * STEP;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="heat" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}">"#,
        escape(label)
    );
    for column in 0..16 {
        let _ = write!(
            svg,
            r#"<text x="{x}" y="12" class="axis" text-anchor="middle">{}</text>"#,
            column_label(column),
            x = LEFT + column * STEP + SIZE / 2
        );
    }
    for row in 0..16 {
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{y}" class="axis" text-anchor="end">{}</text>"#,
            escape(&row_label(row)),
            x = LEFT - 6,
            y = TOP + row * STEP + 14
        );
    }
    for (index, cell) in cells.iter().enumerate() {
        let (x, y) = (LEFT + (index % 16) * STEP, TOP + (index / 16) * STEP);
        match cell {
            Some(cell) => {
                let counts = cell.counts;
                let score = score_color(counts.mean_score().unwrap_or(0.0));
                let verdict = VERDICT_COLORS[main_verdict(counts)];
                let severity = SEVERITY_COLORS[severity_slot(counts.worst_severity())];
                let _ = write!(
                    svg,
                    r#"<rect class="c" x="{x}" y="{y}" width="{SIZE}" height="{SIZE}" rx="3" fill="{score}" style="--score:{score};--verdict:{verdict};--severity:{severity}"><title>{}</title></rect>"#,
                    escape(&cell_tooltip(cell))
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<rect class="e" x="{x}" y="{y}" width="{SIZE}" height="{SIZE}" rx="3" fill="{EMPTY_CELL}"><title>{}: not in this audit</title></rect>"#,
                    escape(&empty_name(index))
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

#[derive(Serialize)]
struct HeatMapView {
    title: String,
    subtitle: String,
    svg: Value,
}

fn v4_heat_maps(aggregate: &Aggregate) -> (Vec<HeatMapView>, usize) {
    let mut by_16: BTreeMap<u32, u64> = BTreeMap::new();
    for (key, counts) in &aggregate.v4 {
        *by_16.entry(key >> 8).or_default() += counts.rows;
    }
    let total = by_16.len();
    let mut chosen: Vec<(u32, u64)> = by_16.into_iter().collect();
    chosen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    chosen.truncate(HEAT_MAPS);
    chosen.sort_by_key(|(key, _)| *key);
    let maps = chosen
        .into_iter()
        .map(|(slash16, rows)| {
            let mut cells: [Option<Cell<'_>>; 256] = std::array::from_fn(|_| None);
            let mut networks = 0;
            for (index, cell) in cells.iter_mut().enumerate() {
                let key = (slash16 << 8) | index as u32;
                if let Some(counts) = aggregate.v4.get(&key) {
                    networks += 1;
                    *cell = Some(Cell {
                        network: v4_network(key),
                        counts,
                    });
                }
            }
            let [a, b, _, _] = (slash16 << 16).to_be_bytes();
            let title = format!("{a}.{b}.0.0/16");
            let svg = heat_map(
                &format!("{title} by /24"),
                |column| format!("+{column}"),
                |row| format!(".{}", row * 16),
                &cells,
                |index| format!("{a}.{b}.{index}.0/24"),
            );
            HeatMapView {
                subtitle: format!("{} addresses in {} of 256 /24s", thousands(rows), networks),
                title,
                svg: Value::from_safe_string(svg),
            }
        })
        .collect();
    (maps, total)
}

fn v6_heat_maps(aggregate: &Aggregate) -> (Vec<HeatMapView>, usize, u8) {
    let (prefix, networks) = v6_networks(aggregate);
    // A map spans 8 bits above the cell: a /40 of /48s or a /56 of /64s.
    let shift = if prefix == 48 { 16 } else { 0 };
    let mut by_map: BTreeMap<u64, Vec<(usize, &Counts)>> = BTreeMap::new();
    for (key, counts) in &networks {
        let cell_key = key >> shift;
        by_map
            .entry(cell_key >> 8)
            .or_default()
            .push(((cell_key & 0xff) as usize, counts));
    }
    let total = by_map.len();
    let mut chosen: Vec<(u64, Vec<(usize, &Counts)>)> = by_map.into_iter().collect();
    chosen.sort_by(|a, b| {
        let rows = |cells: &Vec<(usize, &Counts)>| cells.iter().map(|c| c.1.rows).sum::<u64>();
        rows(&b.1).cmp(&rows(&a.1)).then(a.0.cmp(&b.0))
    });
    chosen.truncate(HEAT_MAPS);
    chosen.sort_by_key(|(key, _)| *key);
    let maps = chosen
        .into_iter()
        .map(|(map_key, members)| {
            let mut cells: [Option<Cell<'_>>; 256] = std::array::from_fn(|_| None);
            let rows: u64 = members.iter().map(|(_, counts)| counts.rows).sum();
            let count = members.len();
            let network_of =
                |index: usize| v6_network(((map_key << 8) | index as u64) << shift, prefix);
            for (index, counts) in members {
                cells[index] = Some(Cell {
                    network: network_of(index),
                    counts,
                });
            }
            let map_prefix = prefix - 8;
            let title = v6_network((map_key << 8) << shift, map_prefix);
            let svg = heat_map(
                &format!("{title} by /{prefix}"),
                |column| format!("{column:x}"),
                |row| format!("{:02x}", row * 16),
                &cells,
                network_of,
            );
            HeatMapView {
                subtitle: format!(
                    "{} addresses in {} of 256 /{prefix}s",
                    thousands(rows),
                    count
                ),
                title,
                svg: Value::from_safe_string(svg),
            }
        })
        .collect();
    (maps, total, prefix)
}

#[derive(Serialize)]
struct Card {
    label: &'static str,
    value: String,
    detail: String,
    tone: &'static str,
}

#[derive(Serialize)]
struct FindingView {
    code: &'static str,
    severity: &'static str,
    count: String,
    count_raw: u64,
    share: String,
    next_step: &'static str,
}

#[derive(Serialize)]
struct NetworkView {
    network: String,
    sort_key: String,
    rows: u64,
    rows_text: String,
    with_ptr: f64,
    with_ptr_text: String,
    confirmed: f64,
    confirmed_text: String,
    generic: f64,
    generic_text: String,
    no_ptr: u64,
    no_ptr_text: String,
    fail: u64,
    fail_text: String,
    high: u64,
    high_text: String,
    medium: u64,
    medium_text: String,
    score: f64,
    score_text: String,
    score_color: String,
}

#[derive(Serialize)]
struct ClassChip {
    class: &'static str,
    count: String,
    color: &'static str,
}

#[derive(Serialize)]
struct ZoneView {
    zone: String,
    rows: u64,
    rows_text: String,
    confirmed: f64,
    confirmed_text: String,
    generic: f64,
    generic_text: String,
    classes: Vec<ClassChip>,
}

/// A column of a paged table: its title and how its cells are shown.
#[derive(Serialize)]
struct PagedColumn {
    title: &'static str,
    /// `text`, `name`, `mono`, `ip`, `verdict`, `severity`, `codes`, `num`.
    kind: &'static str,
}

/// One cell: its text and, for sorting, a key (numbers, addresses).
#[derive(Serialize, Clone)]
struct PagedCell {
    text: String,
    key: String,
}

impl PagedCell {
    fn text(text: impl Into<String>) -> Self {
        PagedCell {
            text: text.into(),
            key: String::new(),
        }
    }

    fn keyed(text: impl Into<String>, key: impl Into<String>) -> Self {
        PagedCell {
            text: text.into(),
            key: key.into(),
        }
    }
}

/// A table of up to 100,000 rows: the page holds them as JSON and shows
/// [`PAGE_ROWS`] at a time (filtered and sorted by the page's script); the
/// first page is also written as HTML, for readers without script and
/// for print.
#[derive(Serialize)]
struct PagedTable {
    id: &'static str,
    columns: Vec<PagedColumn>,
    first: Vec<Vec<PagedCell>>,
    /// The rows as a JSON array of arrays (a cell: its text, or `[text, key]`).
    data: Value,
    rows: String,
    /// Column indexes of the severity and findings columns, for the filters.
    severity_column: Option<usize>,
    findings_column: Option<usize>,
}

/// Rows shown per page of a paged table.
pub const PAGE_ROWS: usize = 250;

fn paged_table(
    id: &'static str,
    columns: Vec<PagedColumn>,
    rows: Vec<Vec<PagedCell>>,
) -> PagedTable {
    let kind_index = |kind: &str| columns.iter().position(|column| column.kind == kind);
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::Value::Array(
                row.iter()
                    .map(|cell| {
                        if cell.key.is_empty() {
                            serde_json::Value::String(cell.text.clone())
                        } else {
                            serde_json::json!([cell.text, cell.key])
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    PagedTable {
        severity_column: kind_index("severity"),
        findings_column: kind_index("codes"),
        id,
        columns,
        first: rows.iter().take(PAGE_ROWS).cloned().collect(),
        data: Value::from_safe_string(script_json(&data)),
        rows: thousands(rows.len() as u64),
    }
}

/// JSON that is safe inside a `<script>` element.
fn script_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn column(title: &'static str, kind: &'static str) -> PagedColumn {
    PagedColumn { title, kind }
}

#[derive(Serialize)]
struct Count {
    name: String,
    count: String,
    share: String,
}

#[derive(Serialize)]
struct MxView {
    domains: String,
    rows: String,
    statuses: Vec<Count>,
    table: PagedTable,
    shown: String,
    capped: bool,
}

#[derive(Serialize)]
struct DeltaView {
    label: &'static str,
    old: String,
    new: String,
    delta: String,
    tone: &'static str,
}

#[derive(Serialize)]
struct ChangeView {
    domain: String,
    ip: String,
    ip_key: String,
    changes: Vec<&'static str>,
    regression: bool,
    old_ptr: String,
    new_ptr: String,
    old_fcrdns: &'static str,
    new_fcrdns: &'static str,
    old_class: &'static str,
    new_class: &'static str,
    delta: String,
    delta_raw: i64,
}

#[derive(Serialize)]
struct LegendItem {
    code: &'static str,
    meaning: &'static str,
}

#[derive(Serialize)]
struct BaselineView {
    files: Vec<String>,
    compared: String,
    changed: String,
    changed_share: String,
    cards: Vec<Card>,
    deltas: Vec<DeltaView>,
    rows: Vec<ChangeView>,
    shown: String,
    capped: bool,
    legend: Vec<LegendItem>,
}

#[derive(Serialize)]
struct Swatch {
    name: &'static str,
    color: &'static str,
}

/// The baseline part of the page: counts, old and new headline figures,
/// and the first changed addresses.
pub struct BaselineInput<'a> {
    pub files: Vec<String>,
    pub old: &'a Counts,
    pub summary: &'a DiffSummary,
}

fn side_ptr(side: &Option<Side>) -> String {
    side.as_ref()
        .map(|side| side.ptr.replace('|', " "))
        .unwrap_or_default()
}

fn baseline_view(input: &BaselineInput<'_>, new: &Counts, kind: AuditKind) -> BaselineView {
    let summary = input.summary;
    let card = |label: &'static str, change: Change, tone: &'static str| Card {
        label,
        value: thousands(summary.count(change)),
        detail: change.meaning().into(),
        tone: if summary.count(change) == 0 {
            "neutral"
        } else {
            tone
        },
    };
    let cards = vec![
        card("PTR lost", Change::PtrLost, "bad"),
        card("FCrDNS broke", Change::FcrdnsBroke, "bad"),
        card("PTR renamed", Change::PtrRenamed, "warn"),
        card("class changed", Change::ClassChanged, "warn"),
        card("PTR gained", Change::PtrGained, "good"),
        card("FCrDNS fixed", Change::FcrdnsFixed, "good"),
        card("other verdict change", Change::FcrdnsChanged, "warn"),
        card("added", Change::Added, "neutral"),
        card("removed", Change::Removed, "neutral"),
    ];
    let old = input.old;
    let pct_delta = |old_value: f64, new_value: f64| {
        let delta = new_value - old_value;
        if delta.abs() < 0.05 {
            "±0.0 pt".to_string()
        } else {
            format!(
                "{}{:.1} pt",
                if delta > 0.0 { "+" } else { "−" },
                delta.abs()
            )
        }
    };
    let tone = |delta: f64, higher_is_better: bool| {
        if delta.abs() < 0.05 {
            "neutral"
        } else if (delta > 0.0) == higher_is_better {
            "good"
        } else {
            "bad"
        }
    };
    let share = |count: u64, whole: u64| percent(count, whole);
    let mut deltas = Vec::new();
    deltas.push(DeltaView {
        label: "addresses",
        old: thousands(old.rows),
        new: thousands(new.rows),
        delta: signed(new.rows as i64 - old.rows as i64),
        tone: "neutral",
    });
    for (label, old_value, new_value, better) in [
        (
            "FCrDNS confirmed",
            share(old.count(Fcrdns::Confirmed), old.rows),
            share(new.count(Fcrdns::Confirmed), new.rows),
            true,
        ),
        (
            "no PTR",
            share(old.count(Fcrdns::NoPtr), old.rows),
            share(new.count(Fcrdns::NoPtr), new.rows),
            false,
        ),
        (
            "generic PTR (of PTRs)",
            share(old.generic, old.with_ptr),
            share(new.generic, new.with_ptr),
            false,
        ),
    ] {
        deltas.push(DeltaView {
            label,
            old: format!("{old_value:.1}%"),
            new: format!("{new_value:.1}%"),
            delta: pct_delta(old_value, new_value),
            tone: tone(new_value - old_value, better),
        });
    }
    let (old_mean, new_mean) = (
        old.mean_score().unwrap_or(0.0),
        new.mean_score().unwrap_or(0.0),
    );
    deltas.push(DeltaView {
        label: "mean score",
        old: format!("{old_mean:.1}"),
        new: format!("{new_mean:.1}"),
        delta: format!(
            "{}{:.2}",
            if new_mean - old_mean >= 0.0 {
                "+"
            } else {
                "−"
            },
            (new_mean - old_mean).abs()
        ),
        tone: tone(new_mean - old_mean, true),
    });
    let mut sample: Vec<&ChangeRow> = summary.sample.iter().collect();
    sample.sort_by(|a, b| {
        let regression = |row: &ChangeRow| row.changes().any(Change::is_regression);
        regression(b)
            .cmp(&regression(a))
            .then(
                a.score_delta()
                    .unwrap_or(0)
                    .cmp(&b.score_delta().unwrap_or(0)),
            )
            .then(a.key.cmp(&b.key))
    });
    sample.truncate(CHANGES_SHOWN);
    let fcrdns = |side: &Option<Side>| {
        side.as_ref()
            .and_then(|s| s.fcrdns)
            .map_or("", Fcrdns::as_str)
    };
    let class = |side: &Option<Side>| {
        side.as_ref()
            .and_then(|s| s.class)
            .map_or("", PtrClass::as_str)
    };
    let rows: Vec<ChangeView> = sample
        .iter()
        .map(|row| ChangeView {
            domain: if kind == AuditKind::Mx {
                row.key.domain.to_string()
            } else {
                String::new()
            },
            ip: row.key.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            ip_key: row.key.ip.map(ip_sort_key).unwrap_or_default(),
            changes: row.changes().map(Change::code).collect(),
            regression: row.changes().any(Change::is_regression),
            old_ptr: side_ptr(&row.old),
            new_ptr: side_ptr(&row.new),
            old_fcrdns: fcrdns(&row.old),
            new_fcrdns: fcrdns(&row.new),
            old_class: class(&row.old),
            new_class: class(&row.new),
            delta: row.score_delta().map(signed).unwrap_or_default(),
            delta_raw: row.score_delta().unwrap_or(0),
        })
        .collect();
    BaselineView {
        files: input.files.clone(),
        compared: thousands(summary.compared),
        changed: thousands(summary.changed),
        changed_share: pct(summary.changed, summary.compared.max(1)),
        cards,
        deltas,
        shown: thousands(rows.len() as u64),
        capped: (rows.len() as u64) < summary.changed,
        rows,
        legend: Change::ALL
            .into_iter()
            .map(|change| LegendItem {
                code: change.code(),
                meaning: change.meaning(),
            })
            .collect(),
    }
}

/// A sort key that orders addresses numerically as text.
fn ip_sort_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("4{:08x}", u32::from(v4)),
        IpAddr::V6(v6) => format!("6{:032x}", u128::from(v6)),
    }
}

fn network_view(network: String, sort_key: String, counts: &Counts) -> NetworkView {
    let share = |part: u64, whole: u64| (percent(part, whole) * 10.0).round() / 10.0;
    let score = counts.mean_score().unwrap_or(0.0);
    NetworkView {
        network,
        sort_key,
        rows: counts.rows,
        rows_text: thousands(counts.rows),
        with_ptr: share(counts.with_ptr, counts.rows),
        with_ptr_text: pct(counts.with_ptr, counts.rows),
        confirmed: share(counts.count(Fcrdns::Confirmed), counts.rows),
        confirmed_text: pct(counts.count(Fcrdns::Confirmed), counts.rows),
        generic: share(counts.generic, counts.with_ptr),
        generic_text: if counts.with_ptr == 0 {
            "–".into()
        } else {
            pct(counts.generic, counts.with_ptr)
        },
        no_ptr: counts.count(Fcrdns::NoPtr),
        no_ptr_text: thousands(counts.count(Fcrdns::NoPtr)),
        fail: counts.fcrdns_fail(),
        fail_text: thousands(counts.fcrdns_fail()),
        high: counts.severity[0],
        high_text: thousands(counts.severity[0]),
        medium: counts.severity[1],
        medium_text: thousands(counts.severity[1]),
        score: (score * 10.0).round() / 10.0,
        score_text: format!("{score:.1}"),
        score_color: score_color(score),
    }
}

/// Everything the page needs besides the aggregate.
pub struct PageInput<'a> {
    pub title: String,
    pub generated: String,
    pub figures: &'a Figures,
    pub baseline: Option<BaselineInput<'a>>,
}

/// Renders the page; also returns the figures it embeds.
pub fn render(aggregate: &Aggregate, input: &PageInput<'_>) -> Result<String, minijinja::Error> {
    let totals = &aggregate.totals;
    let figures = input.figures;
    let headline = &figures.headline;
    let kind = aggregate.kind;

    let mean = totals.mean_score();
    let cards = vec![
        Card {
            label: if kind == AuditKind::Mx {
                "mail-host addresses"
            } else {
                "addresses"
            },
            value: thousands(totals.rows),
            detail: match (&aggregate.mx, aggregate.v6_rows) {
                (Some(mx), _) => format!("of {} domains", thousands(mx.domains())),
                (None, 0) => "IPv4".into(),
                (None, v6) => format!(
                    "{} IPv4 · {} IPv6",
                    thousands(aggregate.v4_rows),
                    thousands(v6)
                ),
            },
            tone: "neutral",
        },
        Card {
            label: "FCrDNS confirmed",
            value: pct(headline.confirmed, headline.addresses),
            detail: format!("{} addresses", thousands(headline.confirmed)),
            tone: "good",
        },
        Card {
            label: "no PTR",
            value: pct(headline.no_ptr, headline.addresses),
            detail: format!("{} addresses", thousands(headline.no_ptr)),
            tone: if headline.no_ptr > 0 {
                "bad"
            } else {
                "neutral"
            },
        },
        Card {
            label: "generic PTR",
            value: if headline.with_ptr == 0 {
                "–".into()
            } else {
                pct(headline.generic, headline.with_ptr)
            },
            detail: format!(
                "{} of {} with a PTR",
                thousands(headline.generic),
                thousands(headline.with_ptr)
            ),
            tone: if headline.generic > 0 {
                "warn"
            } else {
                "neutral"
            },
        },
        Card {
            label: "mean score",
            value: mean.map_or("–".into(), |mean| format!("{mean:.1}")),
            detail: "out of 25".into(),
            tone: "accent",
        },
    ];

    let verdict_items: Vec<(String, u64, &str)> = Fcrdns::ALL
        .into_iter()
        .filter(|verdict| *verdict != Fcrdns::Unchecked || totals.count(*verdict) > 0)
        .map(|verdict| {
            (
                verdict.as_str().to_string(),
                totals.count(verdict),
                VERDICT_COLORS[fcrdns_slot(verdict)],
            )
        })
        .collect();
    let class_items: Vec<(String, u64, &str)> = PtrClass::ALL
        .into_iter()
        .enumerate()
        .map(|(slot, class)| {
            (
                class.as_str().to_string(),
                totals.class[slot],
                CLASS_COLORS[slot],
            )
        })
        .collect();
    let severity_items: Vec<(String, u64, &str)> = ["high", "medium", "low", "none"]
        .into_iter()
        .enumerate()
        .map(|(slot, name)| {
            (
                name.to_string(),
                totals.severity[slot],
                SEVERITY_COLORS[slot],
            )
        })
        .collect();
    let class_total: u64 = totals.class.iter().sum();

    let findings: Vec<FindingView> = Finding::ALL
        .into_iter()
        .zip(totals.findings)
        // `scan` never talks SMTP: its rows cannot have this finding.
        .filter(|(finding, _)| kind == AuditKind::Mx || *finding != Finding::EhloMismatch)
        .map(|(finding, count)| FindingView {
            code: finding.code(),
            severity: finding.severity().as_str(),
            count: thousands(count),
            count_raw: count,
            share: pct(count, totals.rows),
            next_step: finding.next_step(),
        })
        .collect();

    let (v4_maps, v4_map_total) = v4_heat_maps(aggregate);
    let (v6_maps, v6_map_total, v6_prefix) = v6_heat_maps(aggregate);

    // Worst networks: lowest mean score, most high-severity rows.
    let mut networks: Vec<NetworkView> = aggregate
        .v4
        .iter()
        .map(|(key, counts)| network_view(v4_network(*key), format!("4{:08x}", key), counts))
        .collect();
    networks.extend(v6_networks(aggregate).1.iter().map(|(key, counts)| {
        network_view(v6_network(*key, v6_prefix), format!("6{key:016x}"), counts)
    }));
    let network_total = networks.len();
    networks.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then(b.high.cmp(&a.high))
            .then(b.rows.cmp(&a.rows))
            .then(a.sort_key.cmp(&b.sort_key))
    });
    networks.truncate(WORST_NETWORKS);
    let shown_networks: HashSet<&str> = networks.iter().map(|n| n.network.as_str()).collect();

    let zones: Vec<ZoneView> = figures
        .zones
        .iter()
        .take(TOP_ZONES)
        .map(|zone| ZoneView {
            zone: zone.zone.clone(),
            rows: zone.rows,
            rows_text: thousands(zone.rows),
            confirmed: (percent(zone.confirmed, zone.rows) * 10.0).round() / 10.0,
            confirmed_text: pct(zone.confirmed, zone.rows),
            generic: (percent(zone.generic, zone.rows) * 10.0).round() / 10.0,
            generic_text: pct(zone.generic, zone.rows),
            classes: PtrClass::ALL
                .into_iter()
                .enumerate()
                .filter_map(|(slot, class)| {
                    let count = *zone.classes.get(class.as_str())?;
                    Some(ClassChip {
                        class: class.as_str(),
                        count: thousands(count),
                        color: CLASS_COLORS[slot],
                    })
                })
                .collect(),
        })
        .collect();

    let finding_codes = |bits: u8| -> Vec<&'static str> {
        Finding::ALL
            .into_iter()
            .enumerate()
            .filter(|(bit, _)| bits & (1 << bit) != 0)
            .map(|(_, finding)| finding.code())
            .collect()
    };
    let mx_kind = kind == AuditKind::Mx;
    let mut problem_columns = Vec::new();
    if mx_kind {
        problem_columns.push(column("domain", "name"));
    }
    problem_columns.extend([
        column("address", "ip"),
        column("PTR", "mono"),
        column("FCrDNS", "verdict"),
        column("class", "text"),
        column("severity", "severity"),
        column("findings", "codes"),
        column("score", "num"),
    ]);
    let problem_rows: Vec<Vec<PagedCell>> = aggregate
        .problems
        .sorted()
        .into_iter()
        .map(|problem| {
            let mut cells = Vec::with_capacity(8);
            if mx_kind {
                cells.push(PagedCell::text(&*problem.domain));
            }
            let score = problem.score.map(|s| s.to_string()).unwrap_or_default();
            cells.extend([
                PagedCell::keyed(problem.ip.to_string(), ip_sort_key(problem.ip)),
                PagedCell::text(problem.ptr.replace('|', " ")),
                PagedCell::text(problem.fcrdns.as_str()),
                PagedCell::text(problem.class.map_or("", PtrClass::as_str)),
                PagedCell::text(problem.severity.as_str()),
                PagedCell::text(finding_codes(problem.findings).join(" ")),
                PagedCell::keyed(score.clone(), score),
            ]);
            cells
        })
        .collect();
    let problems = paged_table("problems-table", problem_columns, problem_rows);

    let mx = aggregate.mx.as_ref().map(|mx| {
        let mut entries: Vec<&super::aggregate::MxEntry> = mx.rows.iter().collect();
        entries.sort_by(|a, b| {
            a.domain
                .cmp(&b.domain)
                .then(a.mx_host.cmp(&b.mx_host))
                .then(a.ip.cmp(&b.ip))
        });
        let rows: Vec<Vec<PagedCell>> = entries
            .into_iter()
            .map(|row| {
                let score = row.score.map(|s| s.to_string()).unwrap_or_default();
                vec![
                    PagedCell::text(&*row.domain),
                    PagedCell::text(&*row.mx_status),
                    PagedCell::text(&*row.mx_host),
                    match row.ip {
                        Some(ip) => PagedCell::keyed(ip.to_string(), ip_sort_key(ip)),
                        None => PagedCell::keyed("", "0"),
                    },
                    PagedCell::text(row.fcrdns.map_or("", Fcrdns::as_str)),
                    PagedCell::text(row.severity.map_or("", Severity::as_str)),
                    PagedCell::text(finding_codes(row.findings).join(" ")),
                    PagedCell::keyed(
                        score.clone(),
                        row.score.map_or("-1".into(), |s| s.to_string()),
                    ),
                ]
            })
            .collect();
        let shown = rows.len() as u64;
        let table = paged_table(
            "domains-table",
            vec![
                column("domain", "name"),
                column("MX status", "text"),
                column("MX host", "mono"),
                column("address", "ip"),
                column("verdict", "verdict"),
                column("severity", "severity"),
                column("findings", "codes"),
                column("score", "num"),
            ],
            rows,
        );
        MxView {
            domains: thousands(mx.domains()),
            rows: thousands(mx.total_rows),
            statuses: mx
                .by_status
                .iter()
                .map(|(status, count)| Count {
                    name: status.clone(),
                    count: thousands(*count),
                    share: pct(*count, mx.total_rows),
                })
                .collect(),
            shown: thousands(shown),
            capped: shown < mx.total_rows,
            table,
        }
    });

    let baseline = input
        .baseline
        .as_ref()
        .map(|baseline| baseline_view(baseline, totals, kind));

    let embedded = figures.embedded(&shown_networks, TOP_ZONES);
    let json = script_json(&embedded);

    let mut environment = Environment::new();
    environment.add_template("report.html", TEMPLATE)?;
    let template = environment.get_template("report.html")?;
    let swatches = |names: &[&'static str], colors: &[&'static str]| -> Vec<Swatch> {
        names
            .iter()
            .zip(colors)
            .map(|(name, color)| Swatch { name, color })
            .collect()
    };
    let page = Page {
        title: serial(&input.title),
        generated: serial(&input.generated),
        version: serial(env!("CARGO_PKG_VERSION")),
        kind: serial(kind.as_str()),
        files: serial(&figures.files),
        rows: serial(thousands(figures.rows)),
        cards: serial(cards),
        verdict_chart: Value::from_safe_string(bar_chart(
            "Addresses by FCrDNS verdict",
            &verdict_items,
            totals.rows,
        )),
        class_chart: Value::from_safe_string(bar_chart(
            "PTR names by class",
            &class_items,
            class_total,
        )),
        severity_chart: Value::from_safe_string(bar_chart(
            "Addresses by highest severity",
            &severity_items,
            totals.rows,
        )),
        score_chart: Value::from_safe_string(score_histogram(&aggregate.score_histogram)),
        class_total: serial(thousands(class_total)),
        findings: serial(findings),
        v4_maps: serial(v4_maps),
        v4_maps_hidden: serial(v4_map_total.saturating_sub(HEAT_MAPS)),
        v6_maps: serial(v6_maps),
        v6_maps_hidden: serial(v6_map_total.saturating_sub(HEAT_MAPS)),
        v6_prefix: serial(v6_prefix),
        has_v4: serial(aggregate.v4_rows > 0),
        has_v6: serial(aggregate.v6_rows > 0),
        verdict_swatches: serial(swatches(
            &[
                "confirmed",
                "mismatch",
                "no_forward",
                "no_ptr",
                "error",
                "unchecked",
            ],
            &VERDICT_COLORS,
        )),
        severity_swatches: serial(swatches(
            &["high", "medium", "low", "none"],
            &SEVERITY_COLORS,
        )),
        class_swatches: serial(swatches(
            &[
                "dynamic",
                "static-generic",
                "hosting-cloud",
                "esp-infra",
                "custom-mail",
                "custom-other",
            ],
            &CLASS_COLORS,
        )),
        score_gradient: serial(
            (0..=10)
                .map(|step| score_color(step as f64 * 2.5))
                .collect::<Vec<_>>(),
        ),
        networks: serial(networks),
        networks_total: serial(thousands(network_total as u64)),
        networks_capped: serial(network_total > WORST_NETWORKS),
        worst_networks: serial(WORST_NETWORKS),
        other_networks: serial(thousands(figures.other_networks_rows)),
        has_other_networks: serial(figures.other_networks_rows > 0),
        zones: serial(zones),
        zones_total: serial(thousands(figures.zones.len() as u64)),
        zones_capped: serial(figures.zones.len() > TOP_ZONES),
        top_zones: serial(TOP_ZONES),
        other_zones: serial(thousands(figures.other_zones_rows)),
        has_other_zones: serial(figures.other_zones_rows > 0),
        mx: serial(mx),
        problems: serial(problems),
        problems_total: serial(thousands(aggregate.problems.total)),
        problems_shown: serial(thousands(aggregate.problems.kept_count() as u64)),
        problems_capped: serial(
            (aggregate.problems.kept_count() as u64) < aggregate.problems.total,
        ),
        problem_cap: serial(thousands(aggregate.problems.cap as u64)),
        baseline: serial(baseline),
        figures_json: Value::from_safe_string(json),
    };
    template.render(serial(&page))
}

/// The template's context.
#[derive(Serialize)]
struct Page {
    title: Value,
    generated: Value,
    version: Value,
    kind: Value,
    files: Value,
    rows: Value,
    cards: Value,
    verdict_chart: Value,
    class_chart: Value,
    severity_chart: Value,
    score_chart: Value,
    class_total: Value,
    findings: Value,
    v4_maps: Value,
    v4_maps_hidden: Value,
    v6_maps: Value,
    v6_maps_hidden: Value,
    v6_prefix: Value,
    has_v4: Value,
    has_v6: Value,
    verdict_swatches: Value,
    severity_swatches: Value,
    class_swatches: Value,
    score_gradient: Value,
    networks: Value,
    networks_total: Value,
    networks_capped: Value,
    worst_networks: Value,
    other_networks: Value,
    has_other_networks: Value,
    zones: Value,
    zones_total: Value,
    zones_capped: Value,
    top_zones: Value,
    other_zones: Value,
    has_other_zones: Value,
    mx: Value,
    problems: Value,
    problems_total: Value,
    problems_shown: Value,
    problems_capped: Value,
    problem_cap: Value,
    baseline: Value,
    figures_json: Value,
}

fn serial<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}
