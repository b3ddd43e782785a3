//! `ptrscan report` and `ptrscan diff` end to end: two generated worlds on
//! in-process DNS servers that differ in known ways, scanned to different
//! formats and shards, must diff to exactly those changes; the same audit in
//! CSV, JSON Lines and Parquet gives the same figures; `mx` output gets its
//! domain table; files that are not ptrscan output get one line and exit 1.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use ptrscan::zoneserver::{ZoneServer, ZoneText};

fn ptrscan() -> Command {
    Command::cargo_bin("ptrscan").expect("binary built")
}

const HEADER: &str = "$TTL 300\n@ 300 IN SOA ns.diff.test. hostmaster.diff.test. 1 3600 600 86400 300\n@ 300 IN NS ns.diff.test.\n";

/// Addresses 198.18.7.0/26 (and .64/30, in the new world only).
const RENAMED: [u8; 3] = [3, 17, 40];
const BROKEN: [u8; 2] = [5, 22];
const LOST: [u8; 3] = [9, 30, 50];
const GAINED: u8 = 60;

/// The old world: every address of the /26 but .60 has `host-N.diff.test`,
/// which points back. The new one renames three PTRs (to the same label in
/// another zone, so the class stays), drops the A record of two names,
/// removes three PTRs and adds one.
fn world(new: bool) -> ZoneServer {
    let mut reverse = String::from(HEADER);
    let mut forward = String::from(HEADER);
    let mut other = String::from(HEADER);
    let _ = writeln!(forward, "ns A 127.0.0.1");
    let last = if new { 68 } else { 64 };
    for i in 0..last {
        let addr = format!("198.18.7.{i}");
        if (new && LOST.contains(&i)) || (!new && i == GAINED) {
            continue;
        }
        if new && RENAMED.contains(&i) {
            let _ = writeln!(reverse, "{i} PTR host-{i}.renamed.test.");
            let _ = writeln!(other, "host-{i} A {addr}");
            continue;
        }
        let _ = writeln!(reverse, "{i} PTR host-{i}.diff.test.");
        if !(new && BROKEN.contains(&i)) {
            let _ = writeln!(forward, "host-{i} A {addr}");
        }
    }
    let zones = [
        ("7.18.198.in-addr.arpa", reverse),
        ("diff.test", forward),
        ("renamed.test", other),
    ];
    let texts: Vec<ZoneText<'_>> = zones
        .iter()
        .map(|(origin, text)| ZoneText { origin, text })
        .collect();
    ZoneServer::start(&texts).expect("world starts")
}

fn scan(server: &ZoneServer, targets: &[&str], extra: &[&str], out: &Path) {
    ptrscan()
        .arg("scan")
        .args(targets)
        .args(["--quiet", "--resolver", &server.addr().to_string()])
        .args(extra)
        .arg("-o")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn diff_lists_exactly_the_changes_between_two_worlds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old_server = world(false);
    let old = dir.path().join("old.csv");
    scan(&old_server, &["198.18.7.0/26"], &[], &old);
    drop(old_server);
    // The new audit in two Parquet shards.
    let new_server = world(true);
    for shard in 0..2 {
        let out = dir.path().join(format!("new-{shard}.parquet"));
        scan(
            &new_server,
            &["198.18.7.0/26", "198.18.7.64/30"],
            &["--shard", &format!("{shard}/2")],
            &out,
        );
    }
    drop(new_server);

    let changes = dir.path().join("changes.jsonl");
    let glob = dir.path().join("new-*.parquet");
    let output = ptrscan()
        .arg("diff")
        .arg(&old)
        .arg(&glob)
        .arg("-o")
        .arg(&changes)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("64 addresses compared"), "{stderr}");

    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in support::read_jsonl(&changes) {
        let ip = row["ip"].as_str().expect("ip").to_string();
        let codes = row["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|code| code.as_str().expect("code").to_string())
            .collect();
        assert!(got.insert(ip, codes).is_none(), "one row per address");
    }
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut expect = |i: u8, codes: &[&str]| {
        want.insert(
            format!("198.18.7.{i}"),
            codes.iter().map(|c| c.to_string()).collect(),
        );
    };
    for i in RENAMED {
        expect(i, &["ptr-renamed"]);
    }
    for i in BROKEN {
        expect(i, &["fcrdns-broke"]);
    }
    for i in LOST {
        expect(i, &["ptr-lost"]);
    }
    expect(GAINED, &["ptr-gained"]);
    for i in 64..68 {
        expect(i, &["added"]);
    }
    assert_eq!(got, want);

    // Scores: a broken forward costs 15 (25 → 10), a lost PTR everything.
    let rows = support::read_jsonl(&changes);
    let delta = |ip: &str| {
        rows.iter()
            .find(|row| row["ip"] == ip)
            .map(|row| row["score_delta"].clone())
            .expect("row")
    };
    assert_eq!(delta("198.18.7.3"), serde_json::json!(0));
    for broken in BROKEN {
        let delta = delta(&format!("198.18.7.{broken}"))
            .as_i64()
            .expect("delta");
        // Confirmed to not confirmed: 25 → 10 (custom) or 15 → 5 (generic).
        assert!(delta == -15 || delta == -10, "{delta}");
    }
    assert!(delta("198.18.7.9").as_i64().expect("delta") < 0);
    assert_eq!(delta("198.18.7.64"), serde_json::Value::Null);
    let renamed = rows
        .iter()
        .find(|row| row["ip"] == "198.18.7.17")
        .expect("renamed row");
    assert_eq!(renamed["old_ptr"], serde_json::json!(["host-17.diff.test"]));
    assert_eq!(
        renamed["new_ptr"],
        serde_json::json!(["host-17.renamed.test"])
    );

    // The same comparison opens the report.
    let html = dir.path().join("report.html");
    let json = dir.path().join("figures.json");
    ptrscan()
        .arg("report")
        .arg(&glob)
        .arg("--baseline")
        .arg(&old)
        .arg("-o")
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .arg("--quiet")
        .assert()
        .success();
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("figures");
    let baseline = &figures["baseline"];
    assert_eq!(baseline["compared"], 64);
    assert_eq!(baseline["changed"], 13);
    for (code, count) in [
        ("ptr-renamed", 3),
        ("fcrdns-broke", 2),
        ("ptr-lost", 3),
        ("ptr-gained", 1),
        ("added", 4),
        ("removed", 0),
        ("fcrdns-fixed", 0),
        ("class-changed", 0),
    ] {
        assert_eq!(baseline["changes"][code], count, "{code}");
    }
    assert_eq!(figures["rows"], 68);
    let page = std::fs::read_to_string(&html).expect("html");
    let changes_at = page
        .find("<section id=\"changes\">")
        .expect("changes section");
    let summary_at = page
        .find("<section id=\"summary\">")
        .expect("summary section");
    assert!(changes_at < summary_at, "the changes open the report");
    assert!(page.contains("host-17.renamed.test"));

    // Diff in the other direction: the added addresses are removed.
    let reverse = ptrscan()
        .arg("diff")
        .arg(&glob)
        .arg(&old)
        .output()
        .expect("runs");
    assert!(reverse.status.success());
    let text = String::from_utf8_lossy(&reverse.stdout);
    assert_eq!(text.lines().filter(|l| l.contains(",removed,")).count(), 4);
    assert!(
        text.lines()
            .any(|l| l.starts_with("198.18.7.5,fcrdns-fixed,")),
        "{text}"
    );
}

/// The figures of a report of `files` (its `--json`), without the file names.
fn figures(files: &[&Path], dir: &Path, name: &str) -> serde_json::Value {
    let json = dir.join(format!("{name}.json"));
    ptrscan()
        .arg("report")
        .args(files)
        .arg("-o")
        .arg(dir.join(format!("{name}.html")))
        .arg("--json")
        .arg(&json)
        .arg("--quiet")
        .assert()
        .success();
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("figures");
    value["files"] = serde_json::Value::Null;
    value
}

#[test]
fn the_same_audit_gives_the_same_figures_in_every_format_and_shard_split() {
    let server = support::sample_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let resolver = server.addr().to_string();
    let targets = ["198.51.100.0/24", "203.0.113.64/28", "2001:db8:25::/120"];
    let mut outputs = Vec::new();
    for ext in ["csv", "jsonl", "parquet"] {
        let out = dir.path().join(format!("audit.{ext}"));
        ptrscan()
            .arg("scan")
            .args(targets)
            .args(["--quiet", "--resolver", &resolver, "-o"])
            .arg(&out)
            .assert()
            .success();
        outputs.push(out);
    }
    // A Parquet output's part files (`parts.parquet`, `parts-0001.parquet`,
    // as a long scan leaves them) are read with the first one: here two
    // shards under those names.
    let parts = dir.path().join("parts.parquet");
    for (shard, name) in [(0, "parts.parquet"), (1, "parts-0001.parquet")] {
        ptrscan()
            .arg("scan")
            .args(targets)
            .args([
                "--quiet",
                "--resolver",
                &resolver,
                "--shard",
                &format!("{shard}/2"),
                "-o",
            ])
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    // Shards mixing formats.
    let mut shards = Vec::new();
    for (shard, ext) in [(0, "csv"), (1, "jsonl"), (2, "parquet")] {
        let out = dir.path().join(format!("shard-{shard}.{ext}"));
        ptrscan()
            .arg("scan")
            .args(targets)
            .args([
                "--quiet",
                "--resolver",
                &resolver,
                "--shard",
                &format!("{shard}/3"),
                "-o",
            ])
            .arg(&out)
            .assert()
            .success();
        shards.push(out);
    }

    let reference = figures(&[&outputs[0]], dir.path(), "csv");
    assert_eq!(reference["rows"], 528);
    assert_eq!(reference["headline"]["confirmed"], 16);
    assert_eq!(reference["fcrdns"]["no_ptr"], 504);
    assert_eq!(reference["ipv6_prefix"], 64);
    assert_eq!(figures(&[&outputs[1]], dir.path(), "jsonl"), reference);
    assert_eq!(figures(&[&outputs[2]], dir.path(), "parquet"), reference);
    assert_eq!(figures(&[&parts], dir.path(), "parts"), reference);
    let shard_paths: Vec<&Path> = shards.iter().map(|p| p.as_path()).collect();
    assert_eq!(figures(&shard_paths, dir.path(), "shards"), reference);
}

#[test]
fn mx_output_gets_the_domain_table() {
    let server = support::sample_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("mx.parquet");
    ptrscan()
        .args([
            "mx",
            "mail.example.com",
            "example.org",
            "missing.example.com",
        ])
        .args(["--quiet", "--resolver", &server.addr().to_string(), "-o"])
        .arg(&out)
        .assert()
        .success();
    let value = figures(&[&out], dir.path(), "mx");
    assert_eq!(value["kind"], "mx");
    assert_eq!(value["mx"]["domains"], 3);
    let page = std::fs::read_to_string(dir.path().join("mx.html")).expect("html");
    assert!(page.contains("id=\"domains-table\""));
    assert!(page.contains("mail.example.com"));
}

#[test]
fn files_that_are_not_ptrscan_output_get_one_line_and_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names = dir.path().join("names.csv");
    ptrscan()
        .args(["classify", "mail.example.com", "-q", "-o"])
        .arg(&names)
        .assert()
        .success();
    let bogus = dir.path().join("bogus.jsonl");
    std::fs::write(&bogus, "{\"ip\": \"192.0.2.1\", \"ptr\": []}\n").expect("write");
    let missing = dir.path().join("missing.parquet");
    let not_parquet = dir.path().join("text.parquet");
    std::fs::write(&not_parquet, "ip,ptr\n").expect("write");
    let cases: [(&Path, &str); 4] = [
        (
            &names,
            "is not ptrscan scan or mx output: it has no `ptr` column",
        ),
        (
            &bogus,
            "is not ptrscan scan or mx output: it has no `fcrdns` column",
        ),
        (&missing, "cannot read"),
        (&not_parquet, "not a readable Parquet file"),
    ];
    for (path, message) in cases {
        for command in ["report", "diff"] {
            let mut run = ptrscan();
            run.arg(command).arg(path);
            if command == "diff" {
                run.arg(path);
            } else {
                run.arg("-o").arg(dir.path().join("r.html"));
            }
            let output = run.output().expect("runs");
            assert_eq!(
                output.status.code(),
                Some(1),
                "{command} {}",
                path.display()
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.contains(&path.display().to_string()) && stderr.contains(message),
                "{command}: {stderr}"
            );
        }
    }
    let output = ptrscan()
        .args(["report", "nothing-*.parquet"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no file matches nothing-*.parquet"));
}
