//! Command line → resolved configuration. Every user-input error is raised
//! here, as one line that names the input and the fix; nothing past this
//! module sees clap types or unparsed strings.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::cli::{ClassifyArgs, FormatArg, MxArgs, OutputArgs, ResolverArgs, ScanArgs, SmtpArgs};
use crate::mx::MxConfig;
use crate::names::NamesConfig;
use crate::resolvers::ConcurrencyPolicy;
use crate::sink::summary::Grouping;
use crate::sink::{Destination, Format};
use crate::smtp::SmtpConfig;
use crate::targets::domains::DomainList;
use crate::targets::{Shard, TargetError, TargetSet, read_targets};

pub const DEFAULT_DNS_PORT: u16 = 53;
pub const MAX_RETRIES: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(
        "invalid --helo-name {name:?}: give a host name such as scanner.example.com (letters, digits, '-', '.')"
    )]
    HeloName { name: String },
    #[error("invalid {flag} {value:?}: give {range}")]
    SmtpValue {
        flag: &'static str,
        value: String,
        range: String,
    },
    #[error("{flag} is an option of the SMTP check: add --smtp to run it, or drop {flag}")]
    SmtpFlagWithoutSmtp { flag: &'static str },
    #[error(
        "--smtp needs a fully qualified name to send in EHLO, and this host has none ({found}); servers refuse a bare name: pass --helo-name with this scanner's own name, e.g. --helo-name scanner.example.com (with matching A and PTR records)"
    )]
    NoHeloName { found: String },
    #[error("no domains: give domains, or -i FILE (- for standard input)")]
    NoDomains,
    #[error("--resume needs the output file of the interrupted scan: add -o FILE")]
    ResumeNeedsFile,
    #[error("no names: give PTR names, or -i FILE (- for standard input)")]
    NoNames,
    #[error("no targets: give addresses or prefixes, or -i FILE (- for standard input)")]
    NoTargets,
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the targets add up to {count} addresses, more than --max-addresses {limit}: narrow the prefixes, or raise --max-addresses if you mean it"
    )]
    TooManyAddresses { count: String, limit: u64 },
    #[error(
        "invalid resolver {input:?}: expected ADDR[:PORT], e.g. 127.0.0.1, 127.0.0.1:5300 or [::1]:5300"
    )]
    Resolver { input: String },
    #[error("{origin}:{line}: invalid resolver {input:?}: expected ADDR[:PORT], e.g. 127.0.0.1:53")]
    ResolverLine {
        origin: String,
        line: usize,
        input: String,
    },
    #[error("no resolver: {0}; pass --resolver ADDR[:PORT]")]
    NoResolver(String),
    #[error(
        "invalid --rate {input:?}: give queries per second per resolver, a number greater than 0"
    )]
    Rate { input: String },
    #[error(
        "invalid --concurrency {input:?}: give a whole number of queries in flight, 1 to 65536"
    )]
    Concurrency { input: String },
    #[error("invalid --retries {value}: give 0 to {MAX_RETRIES}")]
    Retries { value: u32 },
    #[error("cannot write {path:?}: the directory {dir:?} does not exist (create it first)")]
    OutputDir { path: String, dir: String },
    #[error(
        "cannot tell the output format of {path:?}: use a .csv, .parquet or .jsonl name, or --format csv|parquet|jsonl"
    )]
    UnknownFormat { path: String },
    #[error("invalid {flag} {value}: give a prefix length from 0 to {max}, e.g. {flag} 24")]
    SummaryBy {
        flag: &'static str,
        value: u8,
        max: u8,
    },
    #[error("--format {format} needs a file: add -o PATH (only CSV goes to standard output)")]
    FormatNeedsFile { format: &'static str },
}

/// Resolvers and how to use them.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    pub addrs: Vec<SocketAddr>,
    pub rate: Option<f64>,
    pub retries: u32,
    pub concurrency: ConcurrencyPolicy,
    /// A notice to print (defaults taken from resolv.conf).
    pub notice: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Per-network summary (`--summary-by`).
    pub summary_by: Option<Grouping>,
    pub targets: TargetSet,
    pub seed: u64,
    pub shard: Shard,
    pub resolvers: ResolverConfig,
    pub ptr_only: bool,
    pub destination: Destination,
    pub quiet: bool,
    /// `--resume`: continue from the checkpoint beside the output.
    pub resume: bool,
    /// Parquet rows per part file.
    pub part_rows: u64,
}

impl ScanConfig {
    pub fn from_args(args: &ScanArgs) -> Result<Self, ConfigError> {
        // Output first: a typo in -o should not cost a /16 of reading input.
        let destination = destination(&args.output)?;
        if args.resume && destination == Destination::Stdout {
            return Err(ConfigError::ResumeNeedsFile);
        }
        let targets = collect_targets(&args.targets, &args.inputs)?;
        if targets.is_empty() {
            return Err(ConfigError::NoTargets);
        }
        let count = targets.len();
        if count > u128::from(args.max_addresses) {
            let count = if count == u128::MAX {
                "2^128".to_owned()
            } else {
                count.to_string()
            };
            return Err(ConfigError::TooManyAddresses {
                count,
                limit: args.max_addresses,
            });
        }
        let shard = match &args.shard {
            Some(text) => text.parse::<Shard>()?,
            None => Shard::ALL,
        };
        Ok(ScanConfig {
            summary_by: summary_grouping(args)?,
            targets,
            seed: args.seed,
            shard,
            resolvers: resolver_config(&args.resolving)?,
            ptr_only: args.ptr_only,
            destination,
            quiet: args.output.quiet,
            resume: args.resume,
            part_rows: args.output.part_rows,
        })
    }
}

fn collect_targets(positional: &[String], inputs: &[PathBuf]) -> Result<TargetSet, ConfigError> {
    let mut nets = Vec::new();
    for text in positional {
        nets.push(crate::targets::parse_target(text)?);
    }
    for path in inputs {
        let (reader, origin) = open_input(path).map_err(|source| ConfigError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
        nets.extend(read_targets(reader, &origin)?);
    }
    Ok(TargetSet::from_nets(nets))
}

/// An input list: `-` is standard input, anything else a file. Returns the
/// reader and the name error messages use for it.
pub fn open_input(path: &Path) -> std::io::Result<(Box<dyn BufRead>, String)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin().lock()), "standard input".into()));
    }
    let file = File::open(path)?;
    Ok((Box::new(BufReader::new(file)), path.display().to_string()))
}

/// `ADDR`, `ADDR:PORT`, `[V6]:PORT` or a bare IPv6 address.
pub fn parse_resolver(input: &str) -> Option<SocketAddr> {
    let text = input.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, DEFAULT_DNS_PORT))
}

pub fn resolver_config(args: &ResolverArgs) -> Result<ResolverConfig, ConfigError> {
    let mut addrs = Vec::new();
    for text in &args.resolvers {
        addrs.push(parse_resolver(text).ok_or_else(|| ConfigError::Resolver {
            input: text.clone(),
        })?);
    }
    if let Some(path) = &args.resolvers_file {
        let origin = path.display().to_string();
        let file = File::open(path).map_err(|source| ConfigError::Unreadable {
            path: origin.clone(),
            source,
        })?;
        for (number, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|source| ConfigError::Unreadable {
                path: origin.clone(),
                source,
            })?;
            let content = line.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            addrs.push(
                parse_resolver(content).ok_or_else(|| ConfigError::ResolverLine {
                    origin: origin.clone(),
                    line: number + 1,
                    input: content.to_owned(),
                })?,
            );
        }
    }
    let mut notice = None;
    if addrs.is_empty() {
        addrs = system_resolvers()?;
        let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        notice = Some(format!(
            "note: using the resolvers of /etc/resolv.conf ({}); public resolvers limit query rates, so pass --resolver for one you run, or --rate",
            list.join(", ")
        ));
    }
    addrs.sort();
    addrs.dedup();
    let rate = match &args.rate {
        None => None,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 => Some(rate),
            _ => {
                return Err(ConfigError::Rate {
                    input: text.clone(),
                });
            }
        },
    };
    let concurrency = match &args.concurrency {
        None => ConcurrencyPolicy::Adaptive,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=65_536).contains(&n) => ConcurrencyPolicy::Fixed(n),
            _ => {
                return Err(ConfigError::Concurrency {
                    input: text.clone(),
                });
            }
        },
    };
    if args.retries > MAX_RETRIES {
        return Err(ConfigError::Retries {
            value: args.retries,
        });
    }
    Ok(ResolverConfig {
        addrs,
        rate,
        retries: args.retries,
        concurrency,
        notice,
    })
}

fn system_resolvers() -> Result<Vec<SocketAddr>, ConfigError> {
    let path = "/etc/resolv.conf";
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::NoResolver(format!("cannot read {path} ({e})")))?;
    let parsed = resolv_conf::Config::parse(&bytes)
        .map_err(|e| ConfigError::NoResolver(format!("cannot parse {path} ({e})")))?;
    let addrs: Vec<SocketAddr> = parsed
        .nameservers
        .iter()
        .map(|ns| SocketAddr::new(IpAddr::from(ns.clone()), DEFAULT_DNS_PORT))
        .collect();
    if addrs.is_empty() {
        return Err(ConfigError::NoResolver(format!(
            "{path} lists no nameserver"
        )));
    }
    Ok(addrs)
}

/// `mx`: the domain list (normalised, de-duplicated, this shard's part).
pub fn mx_config(args: &MxArgs) -> Result<MxConfig, ConfigError> {
    let destination = destination(&args.output)?;
    let smtp = smtp_config(&args.smtp)?;
    let shard = match &args.shard {
        Some(text) => text.parse::<Shard>()?,
        None => Shard::ALL,
    };
    let mut list = DomainList::new(shard);
    for domain in &args.domains {
        list.push(domain);
    }
    for path in &args.inputs {
        let (reader, origin) = open_input(path).map_err(|source| ConfigError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
        list.read(reader, &origin)?;
    }
    if list.domains.is_empty() && list.duplicates == 0 && shard == Shard::ALL {
        return Err(ConfigError::NoDomains);
    }
    Ok(MxConfig {
        domains: list.domains,
        duplicates: list.duplicates,
        all_mx: args.all_mx,
        resolvers: resolver_config(&args.resolving)?,
        destination,
        quiet: args.output.quiet,
        part_rows: args.output.part_rows,
        smtp,
    })
}

/// `--smtp` and its limits; `None` without `--smtp`, whose options are
/// then refused (not ignored).
pub fn smtp_config(args: &SmtpArgs) -> Result<Option<SmtpConfig>, ConfigError> {
    smtp_config_with(args, crate::smtp::default_helo_name)
}

/// [`smtp_config`] with the source of the default EHLO name given: this
/// host's fully qualified name, or `Err` with the names it has.
pub fn smtp_config_with(
    args: &SmtpArgs,
    default_helo_name: impl FnOnce() -> Result<String, Vec<String>>,
) -> Result<Option<SmtpConfig>, ConfigError> {
    use crate::smtp::{MAX_CONCURRENCY, MAX_RATE, MAX_TIMEOUT_SECS, MIN_RATE};
    let given = [
        ("--smtp-port", args.smtp_port.is_some()),
        ("--helo-name", args.helo_name.is_some()),
        ("--smtp-concurrency", args.smtp_concurrency.is_some()),
        ("--smtp-rate", args.smtp_rate.is_some()),
        ("--smtp-timeout", args.smtp_timeout.is_some()),
    ];
    if !args.smtp {
        return match given.iter().find(|(_, given)| *given) {
            Some((flag, _)) => Err(ConfigError::SmtpFlagWithoutSmtp { flag }),
            None => Ok(None),
        };
    }
    let invalid = |flag: &'static str, value: &str, range: String| ConfigError::SmtpValue {
        flag,
        value: value.to_owned(),
        range,
    };
    let port = match &args.smtp_port {
        None => 25,
        Some(text) => text
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| {
                invalid(
                    "--smtp-port",
                    text,
                    "a TCP port from 1 to 65535 (SMTP's is 25)".into(),
                )
            })?,
    };
    let concurrency = match &args.smtp_concurrency {
        None => 32,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
            .ok_or_else(|| {
                invalid(
                    "--smtp-concurrency",
                    text,
                    format!("a whole number of connections open at once, 1 to {MAX_CONCURRENCY}"),
                )
            })?,
    };
    let rate = match &args.smtp_rate {
        None => 20.0,
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|rate| (MIN_RATE..=MAX_RATE).contains(rate))
            .ok_or_else(|| {
                invalid(
                    "--smtp-rate",
                    text,
                    format!("new connections per second, from {MIN_RATE} to {MAX_RATE}"),
                )
            })?,
    };
    let timeout = match &args.smtp_timeout {
        None => 10.0,
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|seconds| *seconds > 0.0 && *seconds <= MAX_TIMEOUT_SECS)
            .ok_or_else(|| {
                invalid(
                    "--smtp-timeout",
                    text,
                    format!("seconds, more than 0 and at most {MAX_TIMEOUT_SECS}"),
                )
            })?,
    };
    let helo_name = match &args.helo_name {
        Some(name) => name.clone(),
        None => default_helo_name().map_err(|names| ConfigError::NoHeloName {
            found: describe_host_names(&names),
        })?,
    };
    // The name goes on the wire inside a command line: nothing that could
    // end the line or start another command.
    if helo_name.is_empty()
        || helo_name.len() > 255
        || !helo_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b))
    {
        return Err(ConfigError::HeloName { name: helo_name });
    }
    Ok(Some(SmtpConfig {
        port,
        helo_name,
        concurrency,
        rate,
        timeout: std::time::Duration::from_secs_f64(timeout),
    }))
}

/// The host's names for the refusal: `its name is "vm"`, each name once.
fn describe_host_names(names: &[String]) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for name in names {
        if !unique.contains(&name.as_str()) {
            unique.push(name);
        }
    }
    match unique.as_slice() {
        [] => "it has no host name".into(),
        [one] => format!("its name is {one:?}"),
        many => format!(
            "its names are {}",
            many.iter()
                .map(|name| format!("{name:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `classify`: names from arguments and inputs. Unreadable inputs are
/// reported before any output is created.
pub fn names_config(args: &ClassifyArgs) -> Result<NamesConfig, ConfigError> {
    let destination = destination(&args.output)?;
    if args.names.is_empty() && args.inputs.is_empty() {
        return Err(ConfigError::NoNames);
    }
    for path in &args.inputs {
        if path.as_os_str() != "-" {
            File::open(path).map_err(|source| ConfigError::Unreadable {
                path: path.display().to_string(),
                source,
            })?;
        }
    }
    Ok(NamesConfig {
        names: args.names.clone(),
        inputs: args.inputs.clone(),
        destination,
        quiet: args.output.quiet,
        part_rows: args.output.part_rows,
    })
}

/// `--summary-by N` (IPv4) and `--summary-by-v6 N` (IPv6, /64 unless given).
pub fn summary_grouping(args: &ScanArgs) -> Result<Option<Grouping>, ConfigError> {
    const DEFAULT_V6: u8 = 64;
    if args.summary_by.is_none() && args.summary_by_v6.is_none() {
        return Ok(None);
    }
    let v4 = args.summary_by.unwrap_or(24);
    if v4 > 32 {
        return Err(ConfigError::SummaryBy {
            flag: "--summary-by",
            value: v4,
            max: 32,
        });
    }
    let v6 = args.summary_by_v6.unwrap_or(DEFAULT_V6);
    if v6 > 128 {
        return Err(ConfigError::SummaryBy {
            flag: "--summary-by-v6",
            value: v6,
            max: 128,
        });
    }
    Ok(Some(Grouping { v4, v6 }))
}

pub fn destination(args: &OutputArgs) -> Result<Destination, ConfigError> {
    destination_from(args.output.as_deref(), args.format)
}

pub fn destination_from(
    output: Option<&Path>,
    format: Option<FormatArg>,
) -> Result<Destination, ConfigError> {
    let format = format.map(|f| match f {
        FormatArg::Csv => Format::Csv,
        FormatArg::Parquet => Format::Parquet,
        FormatArg::Jsonl => Format::Jsonl,
    });
    let Some(path) = output else {
        return match format {
            None | Some(Format::Csv) => Ok(Destination::Stdout),
            Some(other) => Err(ConfigError::FormatNeedsFile {
                format: other.as_str(),
            }),
        };
    };
    if path.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    let display = path.display().to_string();
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        return Err(ConfigError::OutputDir {
            path: display,
            dir: dir.display().to_string(),
        });
    }
    let format = match format.or_else(|| Format::from_extension(path)) {
        Some(format) => format,
        None => return Err(ConfigError::UnknownFormat { path: display }),
    };
    Ok(Destination::File {
        path: path.to_path_buf(),
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_forms() {
        let cases = [
            ("127.0.0.1", "127.0.0.1:53"),
            ("127.0.0.1:5300", "127.0.0.1:5300"),
            ("::1", "[::1]:53"),
            ("[::1]", "[::1]:53"),
            ("[::1]:5300", "[::1]:5300"),
            (" 127.0.0.2 ", "127.0.0.2:53"),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_resolver(input).map(|a| a.to_string()).as_deref(),
                Some(want),
                "{input}"
            );
        }
        for bad in ["", "localhost", "127.0.0.1:99999", "1.2.3", "[::1]x"] {
            assert_eq!(parse_resolver(bad), None, "{bad}");
        }
    }

    #[test]
    fn output_destinations() {
        assert_eq!(destination_from(None, None).unwrap(), Destination::Stdout);
        let parquet = destination_from(Some(Path::new("audit.parquet")), None).unwrap();
        assert!(matches!(
            parquet,
            Destination::File {
                format: Format::Parquet,
                ..
            }
        ));
        let forced =
            destination_from(Some(Path::new("audit.out")), Some(FormatArg::Jsonl)).unwrap();
        assert!(matches!(
            forced,
            Destination::File {
                format: Format::Jsonl,
                ..
            }
        ));
        let unknown = destination_from(Some(Path::new("audit.txt")), None).unwrap_err();
        assert!(unknown.to_string().contains("audit.txt"));
        let missing =
            destination_from(Some(Path::new("/nonexistent-dir/x/out.csv")), None).unwrap_err();
        assert!(missing.to_string().contains("does not exist"));
        assert!(destination_from(None, Some(FormatArg::Parquet)).is_err());
    }
    fn smtp_args(smtp: bool) -> SmtpArgs {
        SmtpArgs {
            smtp,
            smtp_port: None,
            helo_name: None,
            smtp_concurrency: None,
            smtp_rate: None,
            smtp_timeout: None,
        }
    }

    #[test]
    fn the_default_ehlo_name_is_the_hosts_fully_qualified_name() {
        let qualified = || {
            crate::smtp::choose_helo_name(&["vm.lab.example.net".into(), "vm".into()])
                .ok_or_else(Vec::new)
        };
        let config = smtp_config_with(&smtp_args(true), qualified)
            .unwrap()
            .expect("on");
        assert_eq!(config.helo_name, "vm.lab.example.net");
        assert_eq!(
            (config.port, config.concurrency, config.rate),
            (25, 32, 20.0)
        );
        assert_eq!(config.timeout, std::time::Duration::from_secs(10));

        // No qualified name: refused, in one line that says why and what to do.
        let bare = || {
            let names = vec!["vm".to_owned(), "vm".to_owned()];
            crate::smtp::choose_helo_name(&names).ok_or(names)
        };
        let refusal = smtp_config_with(&smtp_args(true), bare)
            .unwrap_err()
            .to_string();
        assert!(!refusal.contains('\n'), "{refusal}");
        assert!(
            refusal.starts_with("--smtp needs a fully qualified name to send in EHLO"),
            "{refusal}"
        );
        assert!(refusal.contains(r#"(its name is "vm")"#), "{refusal}");
        assert!(refusal.contains("--helo-name"), "{refusal}");

        // --helo-name needs no host name at all.
        let named = SmtpArgs {
            helo_name: Some("scanner.example.com".into()),
            ..smtp_args(true)
        };
        let unused = || -> Result<String, Vec<String>> { panic!("not asked") };
        let config = smtp_config_with(&named, unused).unwrap().expect("on");
        assert_eq!(config.helo_name, "scanner.example.com");
    }

    /// `--smtp` (or not) with one option given.
    fn smtp_args_with(smtp: bool, flag: &str, value: &str) -> SmtpArgs {
        let mut args = smtp_args(smtp);
        let value = Some(value.to_owned());
        match flag {
            "--smtp-port" => args.smtp_port = value,
            "--helo-name" => args.helo_name = value,
            "--smtp-concurrency" => args.smtp_concurrency = value,
            "--smtp-rate" => args.smtp_rate = value,
            "--smtp-timeout" => args.smtp_timeout = value,
            other => panic!("no option {other}"),
        }
        args
    }

    #[test]
    fn smtp_values_are_checked_each_with_its_own_range() {
        let name = || Ok("scanner.example.com".to_owned());
        let cases: [(&str, &[&str], &str); 4] = [
            (
                "--smtp-port",
                &["0", "65536", "-1", "x"],
                "a TCP port from 1 to 65535",
            ),
            ("--smtp-concurrency", &["0", "10001", "1.5"], "1 to 10000"),
            (
                "--smtp-rate",
                &["0", "-1", "NaN", "inf", "100001"],
                "from 0.01 to 100000",
            ),
            (
                "--smtp-timeout",
                &["0", "600.5", "NaN"],
                "more than 0 and at most 600",
            ),
        ];
        for (flag, bad, range) in cases {
            for value in bad {
                let args = smtp_args_with(true, flag, value);
                let message = smtp_config_with(&args, name).unwrap_err().to_string();
                assert!(
                    message.starts_with(&format!("invalid {flag} \"{value}\": give ")),
                    "{message}"
                );
                assert!(message.contains(range), "{message}");
                assert!(!message.contains('\n'));
            }
        }
        let mut edges = smtp_args(true);
        edges.smtp_port = Some("65535".into());
        edges.smtp_concurrency = Some("10000".into());
        edges.smtp_rate = Some("0.01".into());
        edges.smtp_timeout = Some("600".into());
        let config = smtp_config_with(&edges, name).unwrap().expect("on");
        assert_eq!(
            (config.port, config.concurrency, config.rate),
            (65535, 10_000, 0.01)
        );
    }

    #[test]
    fn smtp_options_without_smtp_are_refused() {
        let name = || Ok("scanner.example.com".to_owned());
        assert!(smtp_config_with(&smtp_args(false), name).unwrap().is_none());
        for (flag, value) in [
            ("--smtp-port", "2525"),
            ("--helo-name", "x.example"),
            ("--smtp-concurrency", "4"),
            ("--smtp-rate", "1"),
            ("--smtp-timeout", "3"),
        ] {
            let args = smtp_args_with(false, flag, value);
            let message = smtp_config_with(&args, name).unwrap_err().to_string();
            assert_eq!(
                message,
                format!(
                    "{flag} is an option of the SMTP check: add --smtp to run it, or drop {flag}"
                )
            );
        }
    }
}
