//! Thin entry point: parse, run, map the outcome to an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::Parser;

use ptrscan::cli::{ClassifyArgs, Cli, Command, DemoArgs, DiffArgs, MxArgs, ReportArgs, ScanArgs};
use ptrscan::config::ScanConfig;
use ptrscan::scan::{self, ScanReport};
use ptrscan::sink::Destination;

/// Exit codes: 0 done; 1 failed (bad input, I/O); 130 interrupted (like a shell).
const EXIT_FAILED: u8 = 1;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    fix_mmap_threshold();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Mx(args) => run_mx(&args),
        Command::Classify(args) => run_classify(&args),
        Command::Report(args) => run_report(&args),
        Command::Diff(args) => run_diff(&args),
        Command::Demo(args) => run_demo(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ptrscan: {}", one_line(&error));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Keeps glibc's malloc from growing the process as a sweep goes on.
///
/// glibc starts serving blocks of 128 KiB and more with `mmap`, but each time
/// such a block is freed it raises that threshold to the block's size (up to
/// 32 MiB). The Parquet writer allocates and frees multi-megabyte blocks all
/// the time (zstd's working memory per page, page buffers), so after the
/// first ones they come from the heap instead, where they fragment among
/// long-lived small blocks and are never returned: peak RSS kept rising
/// with the sweep (a /12 took 1.3 × a /16's) while the live heap stayed flat.
/// A fixed threshold returns every large block to the system when it is
/// freed (measured in docs/benchmarks.md, issue 7).
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; nothing else runs yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// The error and its causes on one line, each cause once: our messages
/// already quote the I/O error they wrap.
fn one_line(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

/// SIGINT/SIGTERM set the flag (the scan then stops cleanly); a second
/// SIGINT exits at once.
fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
    }
    Ok(stop)
}

fn run_scan(args: &ScanArgs) -> Result<ExitCode> {
    let config = ScanConfig::from_args(args)?;
    if let Some(notice) = &config.resolvers.notice
        && !config.quiet
    {
        eprintln!("{notice}");
    }
    let stop = stop_flag()?;
    let show_progress = !config.quiet && std::io::stderr().is_terminal();
    let report = scan::run(&config, &stop, show_progress)?;
    if !config.quiet {
        eprint!("{}", report.summary);
    }
    Ok(finish(&report))
}

fn run_mx(args: &MxArgs) -> Result<ExitCode> {
    let config = ptrscan::config::mx_config(args)?;
    if let Some(notice) = &config.resolvers.notice
        && !config.quiet
    {
        eprintln!("{notice}");
    }
    let stop = stop_flag()?;
    let show_progress = !config.quiet && std::io::stderr().is_terminal();
    let report = ptrscan::mx::run(&config, &stop, show_progress)?;
    if !config.quiet {
        eprint!("{}", report.summary);
    }
    Ok(exit_code(report.failure.as_ref(), report.interrupted))
}

fn finish(report: &ScanReport) -> ExitCode {
    if let Some(checkpoint) = &report.checkpoint {
        // One line: the reason (if any) and how to go on.
        let reason = match &report.failure {
            Some(failure) => format!("{failure}; "),
            None => "interrupted; ".into(),
        };
        eprintln!(
            "ptrscan: {reason}the rows written are kept and {} records them: run the same command with --resume to continue",
            checkpoint.display()
        );
        return if report.failure.is_some() {
            ExitCode::from(EXIT_FAILED)
        } else {
            ExitCode::from(EXIT_INTERRUPTED)
        };
    }
    exit_code(report.failure.as_ref(), report.interrupted)
}

fn exit_code(failure: Option<&ptrscan::scan::ScanError>, interrupted: bool) -> ExitCode {
    if let Some(failure) = failure {
        if let ptrscan::scan::ScanError::Output(error) = failure
            && error.is_broken_pipe()
        {
            return ExitCode::SUCCESS;
        }
        eprintln!("ptrscan: {failure}");
        return ExitCode::from(EXIT_FAILED);
    }
    if interrupted {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    ExitCode::SUCCESS
}

fn run_classify(args: &ClassifyArgs) -> Result<ExitCode> {
    let config = ptrscan::config::names_config(args)?;
    let stop = stop_flag()?;
    match ptrscan::names::run(&config, &stop) {
        Ok(report) => {
            if !config.quiet {
                eprint!("{}", report.render());
            }
            Ok(if report.interrupted {
                ExitCode::from(EXIT_INTERRUPTED)
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(ptrscan::names::NamesError::Output(error)) if error.is_broken_pipe() => {
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Err(error.into()),
    }
}

fn run_demo(args: &DemoArgs) -> Result<ExitCode> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("ptrscan-demo.csv"));
    let (server, config) = ptrscan::demo::prepare(&output, args.format)?;
    println!(
        "demo: serving the sample world (samples/zones) on {} and scanning {} addresses",
        server.addr(),
        config.targets.len()
    );
    let stop = stop_flag()?;
    let report = scan::run(&config, &stop, false)?;
    print!("{}", report.summary);
    drop(server);
    if let Destination::File { path, .. } = &report.destination {
        println!("rows written to {}", path.display());
        if report.failure.is_none() && !report.interrupted {
            let html = args
                .report
                .clone()
                .unwrap_or_else(|| path.with_extension("html"));
            let written = ptrscan::report::report(&ptrscan::report::ReportConfig {
                inputs: vec![path.display().to_string()],
                baseline: Vec::new(),
                output: html,
                json: None,
                title: Some("Reverse-DNS audit: the ptrscan sample world".into()),
                limits: ptrscan::report::aggregate::Limits::default(),
            })?;
            println!("report written to {}", written.output.display());
        }
    }
    Ok(finish(&report))
}

fn run_report(args: &ReportArgs) -> Result<ExitCode> {
    let outcome = ptrscan::report::report(&ptrscan::report::ReportConfig {
        inputs: args.inputs.clone(),
        baseline: args.baseline.clone(),
        output: args.output.clone(),
        json: args.json.clone(),
        title: args.title.clone(),
        limits: ptrscan::report::aggregate::Limits {
            problem_rows: args.max_rows,
            ..ptrscan::report::aggregate::Limits::default()
        },
    })?;
    if !args.quiet {
        eprintln!(
            "report: {} rows from {} file{} in {:.2}s",
            ptrscan::report::render::thousands(outcome.rows),
            outcome.files,
            if outcome.files == 1 { "" } else { "s" },
            outcome.elapsed.as_secs_f64()
        );
        println!("report written to {}", outcome.output.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_diff(args: &DiffArgs) -> Result<ExitCode> {
    let destination =
        ptrscan::config::destination_from(args.output.output.as_deref(), args.output.format)?;
    let outcome = ptrscan::report::diff(&ptrscan::report::DiffConfig {
        old: vec![args.old.clone()],
        new: vec![args.new.clone()],
        destination,
        part_rows: args.output.part_rows,
    });
    match outcome {
        Ok(outcome) => {
            if !args.output.quiet {
                eprintln!("{}", outcome.describe());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ptrscan::report::ReportError::Sink(error)) if error.is_broken_pipe() => {
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Err(error.into()),
    }
}
