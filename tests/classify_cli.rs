//! `ptrscan classify`: names in, one classified row per name out, in every format.

mod support;

use assert_cmd::Command;

fn ptrscan() -> Command {
    Command::cargo_bin("ptrscan").expect("binary")
}

const NAMES: &str = "\
# name<TAB>ip, or a bare name
198-51-100-20.dyn.example-broadband.net\t198.51.100.20
host-203-0-113-10.static.example-isp.net
mail.example.com\t198.51.100.25
ec2-3-4-5-6.compute-1.amazonaws.com
vps12345.hetzner.com
mail.dsl-provider.example
outbound-mail.example.org

unassigned.example-broadband.net
";

#[test]
fn classifies_names_from_arguments_and_stdin_as_csv() {
    let output = ptrscan()
        .args(["classify", "www.example.com", "-i", "-"])
        .write_stdin(NAMES)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    insta::assert_snapshot!(stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("classified 9 names: generic 5, custom 4"),
        "{stderr}"
    );
}

#[test]
fn jsonl_and_parquet_hold_the_same_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jsonl = dir.path().join("names.jsonl");
    let parquet = dir.path().join("names.parquet");
    for out in [&jsonl, &parquet] {
        let output = ptrscan()
            .args(["classify", "--quiet", "-i", "-", "-o"])
            .arg(out)
            .write_stdin(NAMES)
            .output()
            .expect("runs");
        assert!(output.status.success(), "{output:?}");
        assert!(output.stderr.is_empty(), "--quiet prints nothing");
    }
    let rows = support::read_jsonl(&jsonl);
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["ip"], "198.51.100.20");
    assert_eq!(rows[1]["ip"], serde_json::Value::Null);
    assert_eq!(rows[0]["generic"], true);
    assert_eq!(rows[2]["ptr_class"], "custom-mail");
    assert!(rows[0]["reasons"].as_array().is_some_and(|r| !r.is_empty()));

    let file = std::fs::File::open(&parquet).expect("parquet");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("valid parquet")
        .build()
        .expect("reader");
    let mut generic = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let column = batch.column_by_name("generic").expect("generic column");
        let column = arrow_array::cast::AsArray::as_boolean(column);
        generic.extend(column.iter().map(|value| value.expect("not null")));
    }
    let from_jsonl: Vec<bool> = rows
        .iter()
        .map(|row| row["generic"].as_bool().expect("bool"))
        .collect();
    assert_eq!(generic, from_jsonl);
}

#[test]
fn a_bad_line_names_file_and_line_and_keeps_earlier_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("names.txt");
    std::fs::write(&list, "mail.example.com\nhost.example.net 198.51.100.999\n").expect("write");
    let out = dir.path().join("names.csv");
    let output = ptrscan()
        .args(["classify", "-i"])
        .arg(&list)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("names.txt:2: invalid address \"198.51.100.999\""),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&out).expect("rows kept");
    assert_eq!(
        written.lines().count(),
        2,
        "header and the first row: {written}"
    );
    assert!(
        written.contains("mail.example.com,,false,custom-mail"),
        "{written}"
    );
}

#[test]
fn missing_input_and_no_names_are_one_line_errors() {
    for args in [
        vec!["classify", "-i", "/nonexistent/names.txt"],
        vec!["classify"],
    ] {
        let output = ptrscan().args(&args).output().expect("runs");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("ptrscan: "), "{stderr}");
    }
}
