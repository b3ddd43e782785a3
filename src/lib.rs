//! ptrscan: reverse DNS for mail at Internet scale.
//!
//! Data flows one way: `targets` → `engine` (⇄ `wire`, `validate`, `net`,
//! `pacing`, `resolvers`) → `lookup` → `record` → `sink`. `config` turns the
//! command line into resolved values; `scan` wires the pipeline together.
//! `report` reads finished outputs back into an HTML page or a diff.

pub mod checkpoint;
pub mod classify;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod findings;
pub mod fnv;
pub mod lookup;
pub mod mx;
pub mod names;
pub mod net;
pub mod pacing;
pub mod progress;
pub mod record;
pub mod report;
pub mod resolvers;
pub mod scan;
pub mod sink;
pub mod smtp;
pub mod stats;
pub mod targets;
pub mod validate;
pub mod wire;
pub mod zoneserver;
