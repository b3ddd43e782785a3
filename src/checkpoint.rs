//! Checkpoints: which targets of a scan are safely in its output, so that
//! `--resume` continues an interrupted or killed scan into the same output
//! with exactly one row per address: nothing lost, nothing twice.
//!
//! Targets are numbered by their position in the target stream (a pure
//! function of set, seed and shard), and rows finish out of order. The
//! writer marks each written row's position in a [`DoneSet`]; whenever the
//! sink reports its output durable up to some point, the checkpoint records
//! that point with `high` (every position below it was handed out) and
//! `missing` (positions below `high` without a row yet: the targets that
//! were in flight or queued). Both are small: `missing` is bounded by the
//! targets active at once plus the writer's queue, not by the scan's size.
//!
//! The file is replaced atomically (write, then rename), so a `kill -9`
//! leaves either the old checkpoint or the new one, and the output on disk
//! always extends at least to the point the checkpoint names: a resume cuts
//! a text output back to that point (dropping a half-written last row) and
//! starts a new part for Parquet.

use std::collections::VecDeque;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fnv::Fnv1a;

/// Bumped when the file's meaning changes; an older file is refused.
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot write the checkpoint {path}: {source}")]
    Write { path: String, source: io::Error },
    #[error(
        "cannot read the checkpoint {path}: {source} (run without --resume to start the scan over)"
    )]
    Read { path: String, source: io::Error },
    #[error(
        "the checkpoint {path} is damaged or from another ptrscan version ({message}); delete it and run without --resume to start over"
    )]
    Damaged { path: String, message: String },
    #[error(
        "--resume: nothing to resume for {output} (no checkpoint {path}; the scan finished, or never wrote there): run without --resume"
    )]
    NoCheckpoint { output: String, path: String },
    #[error(
        "--resume: the checkpoint {path} belongs to another scan (targets, seed, shard, mode or format differ): resume with the same command line, or delete it to start over"
    )]
    OtherScan { path: String },
    #[error(
        "{output} has an unfinished scan (checkpoint {path}): add --resume to continue it, or delete the checkpoint to start over"
    )]
    WouldOverwrite { output: String, path: String },
}

/// Where the durable part of the output ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Durable {
    /// CSV or JSON Lines: the first `bytes` bytes hold whole rows.
    Text { bytes: u64 },
    /// Parquet: part files `0..parts` are closed and valid.
    Parquet { parts: u32 },
}

/// The file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// Identifies the scan (see [`Fingerprint`]): a resume must match it.
    pub fingerprint: String,
    /// Positions in the whole stream (for the progress line only).
    pub total: u64,
    /// Every position below this one has been handed out.
    pub high: u64,
    /// Positions below `high` whose rows are not in the durable output.
    pub missing: Vec<u64>,
    /// Rows in the durable output.
    pub rows: u64,
    pub durable: Durable,
}

/// The checkpoint of an output file: beside it, same name plus `.checkpoint`.
pub fn path_for(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

impl Checkpoint {
    /// Reads a checkpoint; `Ok(None)` if there is none.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CheckpointError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let damaged = |message: String| CheckpointError::Damaged {
            path: path.display().to_string(),
            message,
        };
        let checkpoint: Checkpoint =
            serde_json::from_str(&text).map_err(|error| damaged(error.to_string()))?;
        if checkpoint.version != VERSION {
            return Err(damaged(format!("version {}", checkpoint.version)));
        }
        if checkpoint.high > checkpoint.total
            || checkpoint.missing.iter().any(|&p| p >= checkpoint.high)
        {
            return Err(damaged("positions out of range".into()));
        }
        Ok(Some(checkpoint))
    }

    /// Replaces the checkpoint atomically: a crash leaves the old one or
    /// the new one, never a torn file.
    pub fn store(&self, path: &Path) -> Result<(), CheckpointError> {
        let error = |source| CheckpointError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let bytes = serde_json::to_vec(self).map_err(|e| error(io::Error::other(e)))?;
        let written = fs::File::create(&temporary).and_then(|mut file| file.write_all(&bytes));
        if let Err(source) = written {
            // A full disk: the previous checkpoint stays, still true.
            let _ = fs::remove_file(&temporary);
            return Err(error(source));
        }
        fs::rename(&temporary, path).map_err(error)
    }

    /// Removes the checkpoint of a scan that finished.
    pub fn remove(path: &Path) -> Result<(), CheckpointError> {
        match fs::remove_file(path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(CheckpointError::Write {
                path: path.display().to_string(),
                source: error,
            }),
            _ => Ok(()),
        }
    }

    /// Positions still to scan: the missing ones, then everything from `high`.
    pub fn to_do(&self) -> u64 {
        self.missing.len() as u64 + (self.total - self.high)
    }
}

/// The writer thread's side: marks rows as they are written and stores the
/// checkpoint whenever the sink says how far its output is durable.
#[derive(Debug)]
pub struct Checkpointer {
    path: PathBuf,
    fingerprint: String,
    total: u64,
    done: DoneSet,
    /// Rows in the output, including those of earlier runs.
    rows: u64,
    /// Where the output starts out durable (empty, or the resumed point).
    start: Durable,
}

impl Checkpointer {
    /// For a fresh scan whose empty output is durable at `empty`, or (with
    /// `resumed`) one continuing an earlier checkpoint.
    pub fn new(
        path: PathBuf,
        fingerprint: &Fingerprint,
        total: u64,
        empty: Durable,
        resumed: Option<&Checkpoint>,
    ) -> Checkpointer {
        let (done, rows, start) = match resumed {
            Some(checkpoint) => (
                DoneSet::resumed(checkpoint.high, &checkpoint.missing),
                checkpoint.rows,
                checkpoint.durable,
            ),
            None => (DoneSet::default(), 0, empty),
        };
        Checkpointer {
            path,
            fingerprint: fingerprint.hex(),
            total,
            done,
            rows,
            start,
        }
    }

    /// Stores the starting point before any row is written, so that a scan
    /// that fails early (a full disk) still leaves a checkpoint to resume.
    pub fn store_start(&self) -> Result<(), CheckpointError> {
        self.store(self.start)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A row for `position` was handed to the sink.
    pub fn mark(&mut self, position: u64) {
        self.done.mark(position);
        self.rows += 1;
    }

    /// Records that every row marked so far is durable, ending at `durable`.
    pub fn store(&self, durable: Durable) -> Result<(), CheckpointError> {
        Checkpoint {
            version: VERSION,
            fingerprint: self.fingerprint.clone(),
            total: self.total,
            high: self.done.high(),
            missing: self.done.missing(),
            rows: self.rows,
            durable,
        }
        .store(&self.path)
    }
}

/// FNV-1a over everything that decides which address has which position
/// and what a row looks like: a resume with other targets, seed, shard,
/// mode or format would mix two scans in one output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fingerprint(Fnv1a);

impl Fingerprint {
    pub fn add(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.write(bytes);
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0.write_byte(0xff);
        self
    }

    pub fn hex(&self) -> String {
        format!("{:016x}", self.0.finish())
    }
}

/// Which positions have a written row. Positions below `low` all do; a
/// bitmap covers `[base, base + 64 × words)` above that. Rows finish at most
/// a few seconds out of order, so the bitmap stays a few hundred KiB even
/// at full speed.
#[derive(Debug, Clone, Default)]
pub struct DoneSet {
    low: u64,
    high: u64,
    base: u64,
    words: VecDeque<u64>,
}

impl DoneSet {
    /// The state a checkpoint describes: everything below `high` is done
    /// except `missing`.
    pub fn resumed(high: u64, missing: &[u64]) -> DoneSet {
        let low = missing.iter().copied().min().unwrap_or(high);
        let base = low & !63;
        let mut set = DoneSet {
            low,
            high,
            base,
            words: VecDeque::new(),
        };
        let mut position = base;
        while position < high {
            let first = low.saturating_sub(position).min(64);
            let last = (high - position).min(64);
            // Bits first..last of this word are done.
            let ones = if last == 64 {
                u64::MAX
            } else {
                (1u64 << last) - 1
            };
            let below = if first == 0 { 0 } else { (1u64 << first) - 1 };
            set.words.push_back(ones & !below);
            position += 64;
        }
        for &position in missing {
            let offset = position - base;
            set.words[(offset / 64) as usize] &= !(1u64 << (offset % 64));
        }
        set.advance();
        set
    }

    /// Records that `position` has a written row.
    pub fn mark(&mut self, position: u64) {
        if position < self.low {
            return;
        }
        let offset = position - self.base;
        let word = (offset / 64) as usize;
        while self.words.len() <= word {
            self.words.push_back(0);
        }
        self.words[word] |= 1u64 << (offset % 64);
        self.high = self.high.max(position + 1);
        if position == self.low {
            self.advance();
        }
    }

    /// Moves `low` past done positions and drops words wholly below it.
    /// Keeps `low - base < 64`: the first word is the one `low` is in.
    fn advance(&mut self) {
        while let Some(&word) = self.words.front() {
            let shift = self.low - self.base;
            // Bits shifted in from the top are zero, so the run stops there.
            self.low += u64::from((word >> shift).trailing_ones());
            if self.low - self.base < 64 {
                break;
            }
            self.words.pop_front();
            self.base += 64;
        }
    }

    /// Every position below this one has been seen done or is missing.
    pub fn high(&self) -> u64 {
        self.high
    }

    /// Positions below `high` without a row, in ascending order.
    pub fn missing(&self) -> Vec<u64> {
        let mut missing = Vec::new();
        let mut position = self.low;
        while position < self.high {
            let offset = position - self.base;
            let word = self.words.get((offset / 64) as usize).copied().unwrap_or(0);
            if word >> (offset % 64) & 1 == 0 {
                missing.push(position);
            }
            position += 1;
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference_missing(done: &[u64]) -> (u64, Vec<u64>) {
        let high = done.iter().map(|p| p + 1).max().unwrap_or(0);
        let missing = (0..high).filter(|p| !done.contains(p)).collect();
        (high, missing)
    }

    #[test]
    fn in_order_rows_leave_nothing_missing() {
        let mut set = DoneSet::default();
        for position in 0..1000 {
            set.mark(position);
        }
        assert_eq!(set.high(), 1000);
        assert!(set.missing().is_empty());
        assert!(set.words.len() <= 1, "words below low are dropped");
    }

    #[test]
    fn holes_are_missing_until_filled() {
        let mut set = DoneSet::default();
        for position in [0, 1, 3, 4, 200, 201] {
            set.mark(position);
        }
        assert_eq!(set.high(), 202);
        let missing = set.missing();
        assert_eq!(missing.len(), 202 - 6);
        assert_eq!(&missing[..2], &[2, 5]);
        for position in missing {
            set.mark(position);
        }
        assert!(set.missing().is_empty());
        assert_eq!(set.high(), 202);
    }

    #[test]
    fn checkpoint_round_trips_through_json() {
        let checkpoint = Checkpoint {
            version: VERSION,
            fingerprint: Fingerprint::default().add(b"x").hex(),
            total: 100,
            high: 50,
            missing: vec![3, 49],
            rows: 48,
            durable: Durable::Parquet { parts: 2 },
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.parquet.checkpoint");
        checkpoint.store(&path).expect("stored");
        assert_eq!(Checkpoint::load(&path).expect("loads"), Some(checkpoint));
        Checkpoint::remove(&path).expect("removed");
        assert_eq!(Checkpoint::load(&path).expect("absent is fine"), None);
    }

    #[test]
    fn out_of_range_checkpoints_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c");
        let text = r#"{"version":1,"fingerprint":"0","total":10,"high":5,"missing":[7],"rows":4,"durable":{"format":"text","bytes":9}}"#;
        fs::write(&path, text).expect("written");
        assert!(matches!(
            Checkpoint::load(&path),
            Err(CheckpointError::Damaged { .. })
        ));
        fs::write(&path, "{not json").expect("written");
        assert!(matches!(
            Checkpoint::load(&path),
            Err(CheckpointError::Damaged { .. })
        ));
    }

    #[test]
    fn fingerprint_separates_fields() {
        let mut a = Fingerprint::default();
        a.add(b"ab").add(b"c");
        let mut b = Fingerprint::default();
        b.add(b"a").add(b"bc");
        assert_ne!(a.hex(), b.hex());
    }

    proptest! {
        /// Any completion order gives the same `high`/`missing` as the
        /// obvious set computation, and a resumed set continues exactly.
        #[test]
        fn done_set_matches_a_plain_set(
            order in proptest::collection::vec(0u64..600, 0..400),
            split in 0usize..400,
        ) {
            let mut done: Vec<u64> = Vec::new();
            for position in &order {
                if !done.contains(position) {
                    done.push(*position);
                }
            }
            let split = split.min(done.len());
            let mut set = DoneSet::default();
            for &position in &done[..split] {
                set.mark(position);
            }
            let (high, missing) = reference_missing(&done[..split]);
            prop_assert_eq!(set.high(), high);
            prop_assert_eq!(set.missing(), missing.clone());

            let mut resumed = DoneSet::resumed(high, &missing);
            prop_assert_eq!(resumed.high(), high);
            prop_assert_eq!(resumed.missing(), missing);
            for &position in &done[split..] {
                set.mark(position);
                resumed.mark(position);
            }
            let (high, missing) = reference_missing(&done);
            prop_assert_eq!(set.high(), high);
            prop_assert_eq!(set.missing(), missing.clone());
            prop_assert_eq!(resumed.high(), high);
            prop_assert_eq!(resumed.missing(), missing);
        }
    }
}
