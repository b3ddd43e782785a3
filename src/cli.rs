//! The command line, as raw values. Nothing here is interpreted: `config`
//! turns these into resolved values and raises every input error.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ptrscan",
    version,
    about = "Audit reverse DNS (PTR and forward-confirmed rDNS) for mail, at Internet scale",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look up PTR records of addresses and prefixes and check that they point back (FCrDNS).
    Scan(ScanArgs),
    /// Audit the mail servers of domains: MX → A/AAAA → PTR → FCrDNS, one row per domain and address.
    Mx(MxArgs),
    /// Classify PTR names as generic (provider-assigned) or custom, with the reasons.
    Classify(ClassifyArgs),
    /// Write a self-contained HTML report of scan or mx outputs (CSV, JSON Lines, Parquet; quoted globs for shards).
    Report(ReportArgs),
    /// Compare two audits address by address: PTR gained, lost or renamed, FCrDNS broke or fixed, class changed, score delta.
    Diff(DiffArgs),
    /// Scan the bundled sample world against a DNS server started in-process on loopback.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Audit files written by `scan` or `mx`: .csv, .jsonl, .parquet (a Parquet output's part files are read with it), or quoted globs such as 'audit-*.parquet'.
    #[arg(value_name = "AUDIT", required = true)]
    pub inputs: Vec<String>,

    /// Where to write the HTML page.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "PATH",
        default_value = "report.html"
    )]
    pub output: PathBuf,

    /// An earlier audit of the same addresses (file or quoted glob, repeatable): the report opens with what changed since.
    #[arg(long, value_name = "AUDIT")]
    pub baseline: Vec<String>,

    /// Also write the report's figures as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Title of the page (default: names the audit).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    /// Rows of the per-address problem table, at most (the figures always count every row).
    #[arg(long, value_name = "N", default_value_t = crate::report::aggregate::PROBLEM_ROWS)]
    pub max_rows: usize,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier audit: a file or a quoted glob ('old-*.parquet').
    #[arg(value_name = "OLD")]
    pub old: String,

    /// The later audit: a file or a quoted glob.
    #[arg(value_name = "NEW")]
    pub new: String,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct MxArgs {
    /// Domains, e.g. example.com (IDNs are converted to A-labels).
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,

    /// Read domains from a file, one per line (`#` comments allowed); `-` reads standard input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,

    /// Every MX host, not only the primary ones (lowest preference).
    #[arg(long)]
    pub all_mx: bool,

    #[command(flatten)]
    pub resolving: ResolverArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Process only shard I of N (0-based) of the domain list.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    #[command(flatten)]
    pub smtp: SmtpArgs,
}

/// The `--smtp-*` values stay text here: `config` checks each against its
/// own range, and refuses them without `--smtp`.
#[derive(Debug, Args)]
pub struct SmtpArgs {
    /// Also connect to each primary MX address on port 25, read the banner and the EHLO reply, and QUIT (never sends mail).
    #[arg(long)]
    pub smtp: bool,

    /// With --smtp: SMTP port to connect to, 1 to 65535 (default 25).
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Option<String>,

    /// With --smtp: name to send in EHLO (default: this host's fully qualified name; it should have its own FCrDNS).
    #[arg(long, value_name = "NAME")]
    pub helo_name: Option<String>,

    /// With --smtp: SMTP connections open at once, 1 to 10000 (default 32).
    #[arg(long, value_name = "N")]
    pub smtp_concurrency: Option<String>,

    /// With --smtp: new SMTP connections per second at most, 0.01 to 100000 (default 20).
    #[arg(long, value_name = "N")]
    pub smtp_rate: Option<String>,

    /// With --smtp: seconds to wait for a connection or a reply, more than 0 and at most 600 (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub smtp_timeout: Option<String>,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// PTR names, e.g. 198-51-100-20.dyn.example-broadband.net.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Read names from a file, one per line as `name` or `name<TAB>ip` (`#` comments allowed); `-` reads standard input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Parquet,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Addresses and CIDR prefixes (IPv4 or IPv6), e.g. 198.51.100.0/22 2001:db8::/120.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Read targets from a file, one per line (`#` comments allowed); `-` reads standard input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub resolving: ResolverArgs,

    /// Look up PTR records only; skip the forward lookups (fcrdns = unchecked).
    #[arg(long)]
    pub ptr_only: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Also summarise per network of this IPv4 prefix length (e.g. 24), worst networks first.
    #[arg(long, value_name = "LEN")]
    pub summary_by: Option<u8>,

    /// Prefix length of the per-network summary for IPv6 addresses (default 64 with --summary-by).
    #[arg(long, value_name = "LEN")]
    pub summary_by_v6: Option<u8>,

    /// Continue an interrupted scan into the same output: run the same command line with --resume.
    #[arg(long)]
    pub resume: bool,

    /// Seed of the pseudo-random scan order (same seed, same order).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Scan only shard I of N (0-based): N machines with I = 0..N-1 cover the input exactly once.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Refuse sweeps larger than this many addresses (a guard against an accidental IPv6 /64).
    #[arg(long, value_name = "N", default_value_t = 1 << 24)]
    pub max_addresses: u64,
}

#[derive(Debug, Args)]
pub struct ResolverArgs {
    /// Resolver to query, ADDR[:PORT] (repeatable). Default: the nameservers of /etc/resolv.conf.
    #[arg(long = "resolver", value_name = "ADDR[:PORT]")]
    pub resolvers: Vec<String>,

    /// File with one resolver ADDR[:PORT] per line.
    #[arg(long = "resolvers", value_name = "FILE")]
    pub resolvers_file: Option<PathBuf>,

    /// Queries per second per resolver, paced smoothly. Default: as fast as the resolver answers.
    #[arg(long, value_name = "QPS")]
    pub rate: Option<String>,

    /// Retries after the first attempt (timeouts, SERVFAIL, REFUSED), 0 to 10.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub retries: u32,

    /// Fixed number of queries in flight per resolver. Default: adapts by itself.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output file; the format follows the extension (.csv, .parquet, .jsonl). Default: CSV on standard output.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format, when the file name does not say.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// Parquet: rows per part file (OUT.parquet, OUT-0001.parquet, …). A closed part survives a crash; the open one is redone by --resume.
    #[arg(long, value_name = "N", default_value_t = crate::sink::DEFAULT_PART_ROWS, value_parser = clap::value_parser!(u64).range(1..))]
    pub part_rows: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the demo's rows (default: ptrscan-demo.csv in the system temporary directory).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format, when the file name does not say.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Where to write the demo's HTML report (default: the rows' path with .html).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}
