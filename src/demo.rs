//! `ptrscan demo`: the sample world in `samples/`, served by an in-process
//! DNS server on loopback and scanned like any other input, so a newcomer
//! sees the whole pipeline work without any network.

use crate::sink::summary::Grouping;
use crate::zoneserver::ZoneText;

/// The zones of the sample world (embedded: the demo works from any directory).
pub const SAMPLE_ZONES: &[ZoneText<'static>] = &[
    ZoneText {
        origin: "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.2.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
        text: include_str!(
            "../samples/zones/0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.2.0.0.8.b.d.0.1.0.0.2.ip6.arpa.zone"
        ),
    },
    ZoneText {
        origin: "100.51.198.in-addr.arpa",
        text: include_str!("../samples/zones/100.51.198.in-addr.arpa.zone"),
    },
    ZoneText {
        origin: "113.0.203.in-addr.arpa",
        text: include_str!("../samples/zones/113.0.203.in-addr.arpa.zone"),
    },
    ZoneText {
        origin: "64-79.113.0.203.in-addr.arpa",
        text: include_str!("../samples/zones/64-79.113.0.203.in-addr.arpa.zone"),
    },
    ZoneText {
        origin: "example-broadband.net",
        text: include_str!("../samples/zones/example-broadband.net.zone"),
    },
    ZoneText {
        origin: "example-hosting.net",
        text: include_str!("../samples/zones/example-hosting.net.zone"),
    },
    ZoneText {
        origin: "example.com",
        text: include_str!("../samples/zones/example.com.zone"),
    },
    ZoneText {
        origin: "example.net",
        text: include_str!("../samples/zones/example.net.zone"),
    },
    ZoneText {
        origin: "example.org",
        text: include_str!("../samples/zones/example.org.zone"),
    },
];

/// The demo's targets, in the `-i FILE` format.
pub const SAMPLE_TARGETS: &str = include_str!("../samples/targets.txt");

use std::path::Path;

use crate::cli::FormatArg;
use crate::config::{ConfigError, ResolverConfig, ScanConfig, destination_from};
use crate::resolvers::ConcurrencyPolicy;
use crate::targets::{Shard, TargetSet, read_targets};
use crate::zoneserver::{ZoneServer, ZoneServerError};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Server(#[from] ZoneServerError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
}

/// Starts the sample world's server and builds the scan of it.
pub fn prepare(
    output: &Path,
    format: Option<FormatArg>,
) -> Result<(ZoneServer, ScanConfig), DemoError> {
    let server = ZoneServer::start(SAMPLE_ZONES)?;
    let nets = read_targets(SAMPLE_TARGETS.as_bytes(), "samples/targets.txt")
        .map_err(ConfigError::from)?;
    let config = ScanConfig {
        // The per-network view is what reputation teams read first; the
        // sample world spans three networks.
        summary_by: Some(Grouping { v4: 24, v6: 64 }),
        targets: TargetSet::from_nets(nets),
        seed: 0,
        shard: Shard::ALL,
        resolvers: ResolverConfig {
            addrs: vec![server.addr()],
            rate: None,
            retries: 5,
            concurrency: ConcurrencyPolicy::Adaptive,
            notice: None,
        },
        ptr_only: false,
        destination: destination_from(Some(output), format)?,
        quiet: true,
        resume: false,
        part_rows: crate::sink::DEFAULT_PART_ROWS,
    };
    // The demo's output is scratch: a checkpoint an interrupted demo left
    // must not stop the next one.
    crate::checkpoint::Checkpoint::remove(&crate::checkpoint::path_for(output))?;
    Ok((server, config))
}
