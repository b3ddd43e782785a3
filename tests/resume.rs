//! Interrupt and resume, for every output format: a scan stopped by SIGINT
//! or killed with SIGKILL, then run again with `--resume`, ends with exactly
//! the rows of an uninterrupted scan (the generated /20's truth): every
//! address once, nothing forged, nothing lost. Also the refusals that keep
//! two scans from mixing in one output. The binary runs against the
//! in-process server on 127.0.0.1.

mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_array::{Array, ListArray, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ptrscan::checkpoint::{Checkpoint, Durable, path_for};

use support::Verdict;
use support::world::{PREFIX, SIZE, World};

const BIN: &str = env!("CARGO_BIN_EXE_ptrscan");

/// Slow enough that the scan is still running when it is stopped, fast
/// enough that the test takes seconds.
const SLOW_RATE: &str = "2500";
/// Small Parquet parts, so that a killed scan has some closed ones.
const PART_ROWS: &str = "400";

#[derive(Clone, Copy, Debug)]
enum Stop {
    Interrupt,
    Kill,
}

fn scan_command(server: std::net::SocketAddr, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["scan", PREFIX, "--resolver", &server.to_string(), "--quiet"])
        .args(["--part-rows", PART_ROWS, "-o"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Waits until the checkpoint says `rows` rows are durable.
fn wait_for_checkpoint(child: &mut Child, checkpoint: &Path, rows: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(state)) = Checkpoint::load(checkpoint)
            && state.rows >= rows
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the scan ended ({status}) before its checkpoint reached {rows} rows");
        }
        assert!(Instant::now() < deadline, "no checkpoint with {rows} rows");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, stop: Stop) {
    let signal = match stop {
        Stop::Interrupt => libc::SIGINT,
        Stop::Kill => libc::SIGKILL,
    };
    let pid = i32::try_from(child.id()).expect("pid fits");
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let result = unsafe { libc::kill(pid, signal) };
    assert_eq!(result, 0, "signal delivered");
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join("|"),
        other => other.to_string(),
    }
}

/// Every row of the output (all Parquet parts), as (ip, verdict), in file order.
fn read_rows(out: &Path) -> Vec<(String, Verdict)> {
    match out.extension().and_then(|e| e.to_str()) {
        Some("csv") => {
            let mut reader = csv::Reader::from_path(out).expect("csv readable");
            let headers = reader.headers().expect("header").clone();
            let column = |name: &str| headers.iter().position(|h| h == name).expect("column");
            let (ip, ptr, fcrdns, error, forward) = (
                column("ip"),
                column("ptr"),
                column("fcrdns"),
                column("error"),
                column("forward"),
            );
            reader
                .records()
                .map(|record| {
                    let record = record.expect("a whole csv row");
                    (
                        record[ip].to_owned(),
                        (
                            record[ptr].to_owned(),
                            record[fcrdns].to_owned(),
                            record[error].to_owned(),
                            record[forward].to_owned(),
                        ),
                    )
                })
                .collect()
        }
        Some("jsonl") => support::read_jsonl(out)
            .iter()
            .map(|row| {
                (
                    text(&row["ip"]),
                    (
                        text(&row["ptr"]),
                        text(&row["fcrdns"]),
                        text(&row["error"]),
                        text(&row["forward"]),
                    ),
                )
            })
            .collect(),
        _ => parquet_parts(out)
            .iter()
            .flat_map(|part| read_parquet(part))
            .collect(),
    }
}

/// The output's part files: OUT.parquet, OUT-0001.parquet, … (no partials).
fn parquet_parts(out: &Path) -> Vec<PathBuf> {
    let dir = out.parent().expect("dir");
    let stem = out.file_stem().and_then(|s| s.to_str()).expect("stem");
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir readable")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(stem) && name.ends_with(".parquet")
        })
        .collect();
    parts.sort();
    parts
}

fn read_parquet(path: &Path) -> Vec<(String, Verdict)> {
    let file = File::open(path).expect("part opens");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{} is not a valid Parquet file: {e}", path.display()))
        .build()
        .expect("reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let strings = |name: &str| string_column(&batch, name);
        let lists = |name: &str| list_column(&batch, name);
        let (ip, fcrdns, error) = (strings("ip"), strings("fcrdns"), strings("error"));
        let (ptr, forward) = (lists("ptr"), lists("forward"));
        for i in 0..batch.num_rows() {
            rows.push((
                ip[i].clone(),
                (
                    ptr[i].clone(),
                    fcrdns[i].clone(),
                    error[i].clone(),
                    forward[i].clone(),
                ),
            ));
        }
    }
    rows
}

fn string_column(batch: &RecordBatch, name: &str) -> Vec<String> {
    let array = batch.column_by_name(name).expect("column");
    let array = array
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("a string column");
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                String::new()
            } else {
                array.value(i).to_owned()
            }
        })
        .collect()
}

fn list_column(batch: &RecordBatch, name: &str) -> Vec<String> {
    let array = batch.column_by_name(name).expect("column");
    let array = array
        .as_any()
        .downcast_ref::<ListArray>()
        .expect("a list column");
    (0..array.len())
        .map(|i| {
            let items = array.value(i);
            let items = items
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("list of strings");
            (0..items.len())
                .map(|j| items.value(j).to_owned())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// Exactly one row per address, each the world's truth.
fn assert_exact(rows: &[(String, Verdict)], world: &World, what: &str) {
    let mut by_ip: BTreeMap<String, Verdict> = BTreeMap::new();
    for (ip, verdict) in rows {
        assert!(
            by_ip.insert(ip.clone(), verdict.clone()).is_none(),
            "{what}: {ip} has two rows"
        );
    }
    assert_eq!(rows.len(), SIZE as usize, "{what}: one row per address");
    let diff = support::verdict_diff(&by_ip, &world.expected, 10);
    assert!(
        diff.is_empty(),
        "{what}: rows differ from the truth: {diff:#?}"
    );
}

fn stop_and_resume(extension: &str, stop: Stop) {
    let world = World::slash20();
    let server = world.start_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join(format!("out.{extension}"));
    let checkpoint = path_for(&out);
    let what = format!("{extension} after {stop:?}");

    let mut child = scan_command(server.addr(), &out, &["--rate", SLOW_RATE])
        .spawn()
        .expect("ptrscan starts");
    wait_for_checkpoint(&mut child, &checkpoint, 600);
    // Half a flush period later, rows past the checkpoint are in the file
    // (and perhaps half a row): the resume must cut them off, not keep them.
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, stop);
    let status = child.wait().expect("ptrscan exits");
    match stop {
        Stop::Interrupt => assert_eq!(status.code(), Some(130), "{what}: exit code"),
        Stop::Kill => assert_eq!(status.code(), None, "{what}: killed"),
    }
    let state = Checkpoint::load(&checkpoint)
        .expect("checkpoint readable")
        .expect("a checkpoint is left");
    assert!(
        state.rows < u64::from(SIZE),
        "{what}: stopped before the end ({} rows)",
        state.rows
    );
    match (stop, state.durable) {
        (Stop::Interrupt, _) => {
            // A clean stop leaves a valid, complete file for what it scanned.
            let before = read_rows(&out);
            assert_eq!(before.len() as u64, state.rows, "{what}: rows on disk");
        }
        (Stop::Kill, Durable::Text { bytes }) => {
            let length = std::fs::metadata(&out).expect("output exists").len();
            assert!(
                length > bytes,
                "{what}: the killed scan wrote past its checkpoint ({length} > {bytes} bytes)"
            );
        }
        (Stop::Kill, Durable::Parquet { parts }) => {
            assert!(parts >= 1, "{what}: some parts were closed before the kill");
            assert_eq!(parquet_parts(&out).len(), parts as usize);
        }
    }

    let resumed = scan_command(server.addr(), &out, &["--resume"])
        .output()
        .expect("resume runs");
    assert!(
        resumed.status.success(),
        "{what}: resume failed: {}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        !checkpoint.exists(),
        "{what}: a finished scan leaves no checkpoint"
    );
    assert_exact(&read_rows(&out), &world, &what);
    if extension == "parquet" {
        let partials = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            })
            .count();
        assert_eq!(partials, 0, "{what}: no half-written part is left");
    }
}

#[test]
fn uninterrupted_scan_is_the_truth_in_every_format() {
    let world = World::slash20();
    let server = world.start_server();
    let dir = tempfile::tempdir().expect("temp dir");
    for extension in ["csv", "jsonl", "parquet"] {
        let out = dir.path().join(format!("full.{extension}"));
        let run = scan_command(server.addr(), &out, &[])
            .output()
            .expect("scan runs");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            !path_for(&out).exists(),
            "no checkpoint after a finished scan"
        );
        assert_exact(&read_rows(&out), &world, extension);
    }
}

#[test]
fn csv_interrupted_then_resumed() {
    stop_and_resume("csv", Stop::Interrupt);
}

#[test]
fn csv_killed_then_resumed() {
    stop_and_resume("csv", Stop::Kill);
}

#[test]
fn jsonl_interrupted_then_resumed() {
    stop_and_resume("jsonl", Stop::Interrupt);
}

#[test]
fn jsonl_killed_then_resumed() {
    stop_and_resume("jsonl", Stop::Kill);
}

#[test]
fn parquet_interrupted_then_resumed() {
    stop_and_resume("parquet", Stop::Interrupt);
}

#[test]
fn parquet_killed_then_resumed() {
    stop_and_resume("parquet", Stop::Kill);
}

#[test]
fn resume_refuses_what_would_mix_two_scans() {
    let world = World::slash20();
    let server = world.start_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.csv");
    let stderr = |output: std::process::Output| {
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    let nothing = scan_command(server.addr(), &out, &["--resume"])
        .output()
        .expect("runs");
    assert!(stderr(nothing).contains("nothing to resume"));

    let mut child = scan_command(server.addr(), &out, &["--rate", SLOW_RATE])
        .spawn()
        .expect("starts");
    wait_for_checkpoint(&mut child, &path_for(&out), 300);
    signal(&child, Stop::Interrupt);
    child.wait().expect("exits");

    let fresh = scan_command(server.addr(), &out, &[])
        .output()
        .expect("runs");
    assert!(stderr(fresh).contains("add --resume"));

    let other_seed = scan_command(server.addr(), &out, &["--resume", "--seed", "9"])
        .output()
        .expect("runs");
    assert!(stderr(other_seed).contains("belongs to another scan"));

    let to_stdout = Command::new(BIN)
        .args(["scan", PREFIX, "--resume", "--resolver", "127.0.0.1:9"])
        .output()
        .expect("runs");
    assert!(stderr(to_stdout).contains("-o FILE"));
}
