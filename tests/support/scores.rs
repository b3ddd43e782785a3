//! Scoring the classifier against a labelled set of PTR names: shared by the
//! shared evaluation set's test and the project development set's test.
//! Included with `#[path]` so those tests need none of the DNS harness.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ptrscan::classify::Classification;

/// One labelled name.
pub struct Row {
    pub name: String,
    pub ip: Option<IpAddr>,
    pub generic: bool,
    pub subclass: String,
}

/// Precision and recall of `generic`, and accuracy per subclass.
#[derive(Default)]
pub struct Scores {
    true_positive: usize,
    false_positive: usize,
    false_negative: usize,
    total: usize,
    /// subclass -> (correct, total)
    subclass: BTreeMap<String, (usize, usize)>,
}

impl Scores {
    pub fn add(&mut self, row: &Row, verdict: &Classification) {
        self.total += 1;
        match (row.generic, verdict.generic()) {
            (true, true) => self.true_positive += 1,
            (false, true) => self.false_positive += 1,
            (true, false) => self.false_negative += 1,
            (false, false) => {}
        }
        let entry = self.subclass.entry(row.subclass.clone()).or_default();
        entry.1 += 1;
        if verdict.class.as_str() == row.subclass {
            entry.0 += 1;
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    /// Share of rows whose subclass was right.
    pub fn subclass_accuracy(&self) -> f64 {
        let correct = self.subclass.values().map(|(correct, _)| correct).sum();
        ratio(correct, self.total)
    }

    pub fn print(&self, title: &str) {
        println!(
            "{title}: n={} generic precision={:.3} recall={:.3} (tp={} fp={} fn={}); subclass accuracy {:.3}",
            self.total,
            self.precision(),
            self.recall(),
            self.true_positive,
            self.false_positive,
            self.false_negative,
            self.subclass_accuracy()
        );
        for (subclass, (correct, total)) in &self.subclass {
            println!(
                "  {subclass:<15} accuracy {:.3} ({correct}/{total})",
                ratio(*correct, *total)
            );
        }
    }
}

/// One verdict, for the failure listings the tests print on request.
pub fn print_verdict(tag: &str, row: &Row, verdict: &Classification) {
    println!(
        "{tag} {:<5} want={:<15} got={:<15} score={:>4} {} {:?} {:?}",
        if row.generic == verdict.generic() {
            "sub"
        } else {
            "LABEL"
        },
        row.subclass,
        verdict.class.as_str(),
        verdict.score,
        row.name,
        row.ip,
        verdict.reasons
    );
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}
