//! The binary, driven as a user would: every bad input gets one line that
//! names the input and the fix, and a non-zero exit; the demo's output is a
//! golden file.

mod support;

use assert_cmd::Command;

/// Rows of a Parquet file, checking that it has a footer and `ptr` is a list.
fn parquet_rows(path: &std::path::Path) -> usize {
    let file = std::fs::File::open(path).expect("output exists");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("valid parquet with footer")
        .build()
        .expect("reader");
    reader
        .map(|batch| {
            let batch = batch.expect("batch");
            assert!(matches!(
                batch
                    .schema()
                    .field_with_name("ptr")
                    .expect("ptr column")
                    .data_type(),
                arrow_schema::DataType::List(_)
            ));
            batch.num_rows()
        })
        .sum()
}

fn ptrscan() -> Command {
    Command::cargo_bin("ptrscan").expect("binary built")
}

/// Runs a failing command and returns its one-line error.
fn one_line_error(args: &[&str]) -> String {
    let output = ptrscan().args(args).output().expect("runs");
    assert!(!output.status.success(), "{args:?} should fail");
    assert_ne!(output.status.code(), Some(101), "{args:?} panicked");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line:\n{stderr}"
    );
    stderr
}

const LOOPBACK: &str = "127.0.0.1:9";

#[test]
fn bad_inputs_get_one_clear_line() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["scan", "198.51.100.0/33", "--resolver", LOOPBACK],
            &["198.51.100.0/33", "/32"],
        ),
        (
            &["scan", "300.1.2.3", "--resolver", LOOPBACK],
            &["300.1.2.3", "0-255"],
        ),
        (
            &["scan", "2001:db8::/32", "--resolver", LOOPBACK],
            &["--max-addresses"],
        ),
        (
            &["scan", "-i", "/nonexistent/ips.txt", "--resolver", LOOPBACK],
            &["/nonexistent/ips.txt"],
        ),
        (
            &["scan", "192.0.2.1", "--resolver", "dns.example"],
            &["dns.example", "ADDR[:PORT]"],
        ),
        (
            &[
                "scan",
                "192.0.2.1",
                "--resolver",
                LOOPBACK,
                "-o",
                "/nonexistent/dir/out.csv",
            ],
            &["/nonexistent/dir", "does not exist"],
        ),
        (
            &["scan", "192.0.2.1", "--resolver", LOOPBACK, "-o", "out.txt"],
            &["out.txt", "--format"],
        ),
        (
            &["scan", "192.0.2.1", "--resolver", LOOPBACK, "--rate", "0"],
            &["--rate", "\"0\""],
        ),
        (
            &["scan", "192.0.2.1", "--resolver", LOOPBACK, "--rate=-5"],
            &["--rate", "-5"],
        ),
        (
            &[
                "scan",
                "192.0.2.1",
                "--resolver",
                LOOPBACK,
                "--shard",
                "3/3",
            ],
            &["3/3"],
        ),
        (&["scan", "--resolver", LOOPBACK], &["no targets"]),
    ];
    for (args, needles) in cases {
        let line = one_line_error(args);
        for needle in *needles {
            assert!(
                line.contains(needle),
                "{args:?}: {line:?} does not mention {needle:?}"
            );
        }
    }
}

#[test]
fn unknown_format_is_rejected_by_name() {
    let output = ptrscan()
        .args([
            "scan",
            "192.0.2.1",
            "--resolver",
            LOOPBACK,
            "--format",
            "xml",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("xml") && stderr.contains("parquet"),
        "{stderr}"
    );
}

#[test]
fn bad_line_in_a_target_file_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("more-ips.txt");
    std::fs::write(&list, "# audit\n192.0.2.1\n\n192.0.2.300\n").expect("write list");
    let line = one_line_error(&[
        "scan",
        "-i",
        list.to_str().expect("utf-8"),
        "--resolver",
        LOOPBACK,
    ]);
    assert!(line.contains("more-ips.txt:4"), "{line}");
}

#[test]
fn targets_from_stdin() {
    let server = support::sample_server();
    let output = ptrscan()
        .args([
            "scan",
            "-i",
            "-",
            "--quiet",
            "--resolver",
            &server.addr().to_string(),
        ])
        .write_stdin("198.51.100.10\n198.51.100.10/32 # duplicate\n198.51.100.12\n")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header.join(","),
        "ip,ptr,ptr_count,forward,fcrdns,rcode,error,resolver,attempts,rtt_ms,\
         generic,ptr_class,reasons,severity,findings,next_steps,score"
    );
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.expect("row").iter().map(String::from).collect())
        .collect();
    rows.sort();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let column = |row: &Vec<String>, name: &str| {
        let index = header.iter().position(|h| h == name).expect("column");
        row[index].clone()
    };
    let mail = &rows[0];
    assert_eq!(column(mail, "ip"), "198.51.100.10");
    assert_eq!(column(mail, "ptr"), "mail.example.com");
    assert_eq!(column(mail, "forward"), "198.51.100.10");
    assert_eq!(column(mail, "fcrdns"), "confirmed");
    assert_eq!(column(mail, "generic"), "false");
    assert_eq!(column(mail, "ptr_class"), "custom-mail");
    assert_eq!(column(mail, "severity"), "");
    assert_eq!(column(mail, "findings"), "");
    assert_eq!(column(mail, "score"), "25");
    let www = &rows[1];
    assert_eq!(column(www, "ip"), "198.51.100.12");
    assert_eq!(column(www, "ptr"), "www.example.com");
    assert_eq!(column(www, "fcrdns"), "mismatch");
    assert_eq!(column(www, "severity"), "high");
    assert_eq!(column(www, "findings"), "fcrdns-fail|website-name");
    assert_eq!(
        column(www, "next_steps"),
        "Add or correct the A record for the PTR hostname.|\
         Use a clear hostname such as mail.example.com or server1.example.com."
    );
    // Unconfirmed custom name (10) less the website-style deduction (2).
    assert_eq!(column(www, "score"), "8");
}

#[test]
fn demo_prints_summary_and_output_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("demo.csv");
    let output = ptrscan()
        .args(["demo", "-o", out.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let report = out.with_extension("html");
    let stdout = String::from_utf8_lossy(&output.stdout)
        .replace(report.to_str().expect("utf-8"), "[REPORT]")
        .replace(out.to_str().expect("utf-8"), "[OUT]");
    insta::with_settings!({filters => vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"elapsed [0-9.]+s, \d+ addresses/s, \d+ queries/s", "elapsed [TIME]"),
        // Counters a loaded machine may change by a retransmission; the rows may not.
        (r"queries \d+ \(retransmissions \d+, tcp \d+\), answers \d+, timeouts \d+", "queries [N] (retransmissions [N], tcp [N]), answers [N], timeouts [N]"),
        (r"sent \d+, answered \d+, timeouts \d+", "sent [N], answered [N], timeouts [N]"),
        // Late answers to retransmitted questions, counted as dropped.
        (r"  datagrams dropped: [^\n]*\n", ""),
    ]}, {
        insta::assert_snapshot!(stdout);
    });
    let rows = std::fs::read_to_string(&out).expect("demo rows");
    assert_eq!(rows.lines().count(), 529);
    let page = std::fs::read_to_string(&report).expect("demo report");
    assert!(page.contains("id=\"ptrscan-figures\""));
}

#[test]
fn parquet_and_jsonl_outputs_have_one_row_per_address() {
    let server = support::sample_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let resolver = server.addr().to_string();
    let jsonl = dir.path().join("out.jsonl");
    ptrscan()
        .args([
            "scan",
            "198.51.100.0/28",
            "--quiet",
            "--resolver",
            &resolver,
            "-o",
        ])
        .arg(&jsonl)
        .assert()
        .success();
    let text = std::fs::read_to_string(&jsonl).expect("jsonl");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(rows.len(), 16);
    let ten = rows
        .iter()
        .find(|r| r["ip"] == "198.51.100.10")
        .expect("row .10");
    assert_eq!(ten["ptr"], serde_json::json!(["mail.example.com"]));
    assert_eq!(ten["fcrdns"], "confirmed");

    let parquet_path = dir.path().join("out.parquet");
    ptrscan()
        .args([
            "scan",
            "198.51.100.0/28",
            "--quiet",
            "--resolver",
            &resolver,
            "-o",
        ])
        .arg(&parquet_path)
        .assert()
        .success();
    let total = parquet_rows(&parquet_path);
    assert_eq!(total, 16);
}

#[test]
fn ptr_only_skips_forward_lookups() {
    let server = support::sample_server();
    let output = ptrscan()
        .args([
            "scan",
            "198.51.100.12",
            "198.51.100.99",
            "--ptr-only",
            "--quiet",
            "--resolver",
        ])
        .arg(server.addr().to_string())
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("198.51.100.12,www.example.com,1,,unchecked,NOERROR,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("198.51.100.99,,0,,no_ptr,NXDOMAIN,"),
        "{stdout}"
    );
}

#[test]
fn interrupt_closes_parquet_validly_and_exits_130() {
    // A resolver that never answers keeps the scan busy until the signal.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("silent socket");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("partial.parquet");
    let server = support::sample_server();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ptrscan"))
        .args(["scan", "198.51.100.0/24", "--quiet", "--resolver"])
        .arg(silent.local_addr().expect("addr").to_string())
        .arg("--resolver")
        .arg(server.addr().to_string())
        .arg("-o")
        .arg(&out)
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(700));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    let rows = parquet_rows(&out);
    assert!(rows <= 256, "{rows} rows");
}
