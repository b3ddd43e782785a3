//! Measures the PTR classifier against real, hand-labelled PTR names kept
//! outside the project (`../shared/eval/ptr_names_real.tsv`), so that the
//! generic/custom rules are judged on names they were not written from.
//!
//! The set is split in two halves by a fixed hash of the name: rules were
//! developed looking only at the first ("dev") half's failures; the second
//! ("held-out") half measures how well they generalise. Both are printed.
//! Run with `--nocapture` to see the numbers; set
//! `PTRSCAN_EVAL_SHOW_DEV_FAILURES=1` to list the dev half's misses
//! (add `PTRSCAN_EVAL_SHOW_DEV_ALL=1` for every dev-half verdict). Nothing
//! prints held-out names: they stay unseen.

#[path = "support/scores.rs"]
mod scores;

use ptrscan::classify::Classifier;
use ptrscan::fnv::Fnv1a;
use scores::{Row, Scores, print_verdict};

const EVAL_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/eval/ptr_names_real.tsv"
);

/// Floors asserted on the held-out half (and the whole set): what the rules
/// reached on names they were not developed on, rounded down to 0.01. The
/// project goal is precision >= 0.98 and recall >= 0.95; recall on unseen
/// names is not there: held-out precision 0.984 and recall 0.933 when these
/// floors were set (whole set 0.986 / 0.955), after every ISP and hoster zone
/// of the fqrdns.pcre table and SpamAssassin's 20_dynrdns.cf was added to
/// `suffixes.tsv` and the rule files' access words and numbered-line shape
/// became rules. Before that it was 0.983 / 0.912 with the sourced rows
/// only (230 of the original 401 rows had no source and were removed).
/// A numbered-host rule (`m12305.`, `www2055.`) written from the dev half's
/// last misses measured 0.973 / 0.948 here and was reverted, not tuned.
/// The hoster-numbered words, provider-word octet and glued `mta` rules
/// written from the development set's new names measured 0.989 / 0.933
/// (whole set 0.989 / 0.955), once, after they were fixed; with six hosters'
/// sourced default zones added in session 6 (`members.linode.com`, …),
/// 0.989 / 0.938 (whole set 0.989 / 0.958).
/// Rows are kept or dropped on their evidence and the labelling conventions
/// (sakura.ne.jp was dropped because the zone also holds customer-chosen
/// account names), never to move this number. The floor is the honest
/// measurement, not the goal.
const MIN_PRECISION: f64 = 0.98;
const MIN_RECALL: f64 = 0.93;

/// The half a name is in: FNV-1a of the lower-cased name, which is the same
/// on every platform and in every release, so the halves never change.
fn is_dev_half(name: &str) -> bool {
    Fnv1a::of(name.to_ascii_lowercase().as_bytes()).is_multiple_of(2)
}

fn load() -> Vec<Row> {
    let text = std::fs::read_to_string(EVAL_PATH).unwrap_or_else(|error| {
        panic!("evaluation set {EVAL_PATH} is missing or unreadable ({error}); it lives in shared/eval beside the crate")
    });
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        assert!(
            columns.len() >= 4,
            "{EVAL_PATH}:{}: expected name, ip, label, subclass, source",
            index + 1
        );
        let label = columns[2].trim();
        assert!(
            label == "generic" || label == "custom",
            "{EVAL_PATH}:{}: unknown label {label:?}",
            index + 1
        );
        rows.push(Row {
            name: columns[0].trim().to_string(),
            ip: columns[1].trim().parse().ok(),
            generic: label == "generic",
            subclass: columns[3].trim().to_string(),
        });
    }
    assert!(!rows.is_empty(), "{EVAL_PATH} has no rows");
    rows
}

#[test]
fn classifier_meets_precision_and_recall_on_real_names() {
    let rows = load();
    let classifier = Classifier::new();
    let show_dev_failures = std::env::var_os("PTRSCAN_EVAL_SHOW_DEV_FAILURES").is_some();
    let show_dev_all = std::env::var_os("PTRSCAN_EVAL_SHOW_DEV_ALL").is_some();
    let (mut whole, mut dev, mut held_out) =
        (Scores::default(), Scores::default(), Scores::default());
    for row in &rows {
        let verdict = classifier.classify(&row.name, row.ip);
        whole.add(row, &verdict);
        if is_dev_half(&row.name) {
            dev.add(row, &verdict);
            if show_dev_failures && (verdict.class.as_str() != row.subclass || show_dev_all) {
                print_verdict("DEV-MISS", row, &verdict);
            }
        } else {
            held_out.add(row, &verdict);
        }
    }
    whole.print("whole set");
    dev.print("dev half");
    held_out.print("held-out half");
    for (title, scores) in [("held-out half", &held_out), ("whole set", &whole)] {
        assert!(
            scores.precision() >= MIN_PRECISION,
            "{title}: generic precision {:.3} below {MIN_PRECISION}",
            scores.precision()
        );
        assert!(
            scores.recall() >= MIN_RECALL,
            "{title}: generic recall {:.3} below {MIN_RECALL}",
            scores.recall()
        );
    }
}
