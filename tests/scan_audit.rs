//! Classification, findings and score columns of `scan`, end to end: the
//! sample world on the in-process DNS server, every format, every kind of
//! address the world has.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use assert_cmd::Command;
use serde_json::Value;

fn scan_to(out: &Path, server: &ptrscan::zoneserver::ZoneServer, extra: &[&str]) -> String {
    let targets = ["198.51.100.0/24", "203.0.113.64/28", "2001:db8:25::/120"];
    let output = Command::cargo_bin("ptrscan")
        .expect("binary")
        .arg("scan")
        .args(targets)
        .args(["--resolver", &server.addr().to_string(), "-o"])
        .arg(out)
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn jsonl_rows(path: &Path) -> BTreeMap<String, Value> {
    support::read_jsonl(path)
        .into_iter()
        .map(|row| (row["ip"].as_str().expect("ip").to_owned(), row))
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("list")
        .iter()
        .map(|item| item.as_str().expect("string"))
        .collect()
}

#[test]
fn every_row_carries_class_findings_and_score() {
    let server = support::sample_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rows.jsonl");
    scan_to(&out, &server, &["--quiet"]);
    let rows = jsonl_rows(&out);
    assert_eq!(rows.len(), 528);

    // ip → (generic, ptr_class, severity, findings, score)
    type Expected = (
        Option<bool>,
        Option<&'static str>,
        Option<&'static str>,
        &'static [&'static str],
        u64,
    );
    let expected: [(&str, Expected); 12] = [
        // Forward-confirmed custom mail name: nothing to fix, full score.
        (
            "198.51.100.10",
            (Some(false), Some("custom-mail"), None, &[], 25),
        ),
        // Website name pointing elsewhere: 10 for an unconfirmed custom name, −2.
        (
            "198.51.100.12",
            (
                Some(false),
                Some("custom-other"),
                Some("high"),
                &["fcrdns-fail", "website-name"],
                8,
            ),
        ),
        (
            "198.51.100.13",
            (
                Some(false),
                Some("custom-other"),
                Some("high"),
                &["fcrdns-fail"],
                10,
            ),
        ),
        // ISP-generic but confirmed: 15.
        (
            "198.51.100.14",
            (
                Some(true),
                Some("dynamic"),
                Some("medium"),
                &["generic-ptr"],
                15,
            ),
        ),
        // Two PTR names: 25 − 3.
        (
            "198.51.100.16",
            (
                Some(false),
                Some("custom-mail"),
                Some("medium"),
                &["multiple-ptr"],
                22,
            ),
        ),
        // Bare registrable domain: 25 − 2.
        (
            "198.51.100.17",
            (
                Some(false),
                Some("custom-other"),
                Some("low"),
                &["website-name"],
                23,
            ),
        ),
        // Generic placeholder that does not resolve: 5.
        (
            "198.51.100.19",
            (
                Some(true),
                Some("static-generic"),
                Some("high"),
                &["fcrdns-fail", "generic-ptr"],
                5,
            ),
        ),
        (
            "198.51.100.21",
            (
                Some(true),
                Some("hosting-cloud"),
                Some("medium"),
                &["generic-ptr"],
                15,
            ),
        ),
        // No PTR: nothing to classify, score 0.
        ("198.51.100.1", (None, None, Some("high"), &["no-ptr"], 0)),
        // RFC 2317 delegation, confirmed through the CNAME.
        (
            "203.0.113.70",
            (Some(false), Some("custom-mail"), None, &[], 25),
        ),
        (
            "2001:db8:25::3",
            (
                Some(true),
                Some("dynamic"),
                Some("medium"),
                &["generic-ptr"],
                15,
            ),
        ),
        (
            "2001:db8:25::2",
            (
                Some(false),
                Some("custom-mail"),
                Some("high"),
                &["fcrdns-fail"],
                10,
            ),
        ),
    ];
    for (ip, (generic, class, severity, findings, score)) in expected {
        let row = &rows[ip];
        assert_eq!(row["generic"].as_bool(), generic, "{ip}: {row}");
        assert_eq!(row["ptr_class"].as_str(), class, "{ip}: {row}");
        assert_eq!(row["severity"].as_str(), severity, "{ip}: {row}");
        assert_eq!(strings(&row["findings"]), findings, "{ip}: {row}");
        assert_eq!(row["score"].as_u64(), Some(score), "{ip}: {row}");
        // One next step per finding, in the same order.
        let steps = strings(&row["next_steps"]);
        assert_eq!(steps.len(), findings.len(), "{ip}: {row}");
        assert!(steps.iter().all(|step| step.ends_with('.')), "{ip}: {row}");
    }
    let dashed = strings(&rows["198.51.100.14"]["reasons"]);
    assert!(dashed.contains(&"ip-embedded:dashed"), "{dashed:?}");
    assert!(dashed.contains(&"token:dyn"), "{dashed:?}");
    // Every row: the severity is the highest of its findings; no findings, no severity.
    for (ip, row) in &rows {
        let findings = strings(&row["findings"]);
        assert_eq!(findings.is_empty(), row["severity"].is_null(), "{ip}");
        assert!(row["score"].as_u64().expect("score") <= 25, "{ip}");
        assert_eq!(
            row["generic"].is_null(),
            strings(&row["ptr"]).is_empty(),
            "{ip}"
        );
    }
}

#[test]
fn parquet_keeps_audit_columns_typed() {
    let server = support::sample_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rows.parquet");
    scan_to(&out, &server, &["--quiet"]);
    let file = std::fs::File::open(&out).expect("parquet output");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("valid parquet")
        .build()
        .expect("reader");
    let mut rows = 0;
    let mut generic_true = 0;
    let mut score_sum = 0i64;
    for batch in reader {
        let batch = batch.expect("batch");
        let schema = batch.schema();
        for (name, kind) in [
            ("generic", "Boolean"),
            ("score", "Int32"),
            ("ptr_class", "Utf8"),
            ("severity", "Utf8"),
        ] {
            let field = schema.field_with_name(name).expect("column");
            assert_eq!(format!("{:?}", field.data_type()), kind, "{name}");
        }
        for name in ["reasons", "findings", "next_steps"] {
            let field = schema.field_with_name(name).expect("column");
            assert!(
                matches!(field.data_type(), arrow_schema::DataType::List(_)),
                "{name}: {:?}",
                field.data_type()
            );
        }
        let generic = batch
            .column_by_name("generic")
            .expect("generic")
            .as_boolean();
        generic_true += (0..generic.len())
            .filter(|&i| generic.is_valid(i) && generic.value(i))
            .count();
        let score = batch
            .column_by_name("score")
            .expect("score")
            .as_primitive::<arrow_array::types::Int32Type>();
        score_sum += score.iter().flatten().map(i64::from).sum::<i64>();
        rows += batch.num_rows();
    }
    assert_eq!(rows, 528);
    // The sample world: 11 generic names (8 dynamic, 2 placeholders, 1 hosting).
    assert_eq!(generic_true, 11);
    // Same rows as JSONL, so the same score total.
    let jsonl = dir.path().join("rows.jsonl");
    scan_to(&jsonl, &server, &["--quiet"]);
    let total: u64 = jsonl_rows(&jsonl)
        .values()
        .map(|row| row["score"].as_u64().expect("score"))
        .sum();
    assert_eq!(score_sum, total as i64);
}

#[test]
fn summary_counts_classes_severities_and_networks() {
    let server = support::sample_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rows.csv");
    let summary = scan_to(
        &out,
        &server,
        &["--summary-by", "24", "--summary-by-v6", "64"],
    );
    assert!(summary.contains("  dynamic               8"), "{summary}");
    assert!(summary.contains("  hosting-cloud         1"), "{summary}");
    assert!(
        summary.contains("severity: high 512, medium 9, low 1, none 6"),
        "{summary}"
    );
    assert!(
        summary.contains("per network (IPv4 /24, IPv6 /64; 3 networks"),
        "{summary}"
    );
    let network_line = summary
        .lines()
        .find(|line| line.trim_start().starts_with("203.0.113.0/24"))
        .expect("the RFC 2317 network has a line");
    let numbers: Vec<&str> = network_line.split_whitespace().collect();
    // rows, with a PTR, confirmed, generic (customer-71: an ISP-style name), high, medium, low
    assert_eq!(
        &numbers[1..8],
        ["16", "3", "1", "1", "15", "0", "0"],
        "{network_line}"
    );
}

#[test]
fn summary_by_rejects_impossible_prefix_lengths() {
    let output = Command::cargo_bin("ptrscan")
        .expect("binary")
        .args([
            "scan",
            "198.51.100.0/30",
            "--resolver",
            "127.0.0.1:9",
            "--summary-by",
            "33",
        ])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--summary-by 33") && stderr.contains("0 to 32"),
        "{stderr}"
    );
}
