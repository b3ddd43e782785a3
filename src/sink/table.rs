//! The shape every output format writes: named, typed columns, and one cell
//! per column per row. `scan`, `mx` and `classify` rows describe themselves
//! this way once, so CSV, JSON Lines and Parquet each exist once.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// A column's value type, as the typed formats (Parquet) store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    Bool,
    TextList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
    /// Nearly every row has its own value (an address, its PTR name): a
    /// dictionary of the values would only cost memory and bytes, so the
    /// typed formats store them plainly.
    pub distinct: bool,
}

impl Column {
    pub const fn new(name: &'static str, kind: Kind, nullable: bool) -> Self {
        Column {
            name,
            kind,
            nullable,
            distinct: false,
        }
    }

    /// The same column, marked as holding mostly distinct values.
    pub const fn distinct(self) -> Self {
        Column {
            distinct: true,
            ..self
        }
    }
}

/// One value. `Null` is allowed only in nullable columns; a list is never
/// null (an empty list says "none").
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Cow<'a, str>>),
    /// An address in a text column: sinks format it without allocating.
    Addr(IpAddr),
    /// Addresses in a text-list column.
    Addrs(&'a [IpAddr]),
    /// An address and port in a text column.
    Endpoint(SocketAddr),
}

/// An address as text on the stack: rows are written by the million, and
/// a `String` per address was a measurable share of the writer's time.
/// 64 bytes hold the longest form, an IPv6 socket address with a scope.
pub struct AddrText {
    bytes: [u8; 64],
    len: usize,
}

impl AddrText {
    pub fn of(value: impl std::fmt::Display) -> Self {
        use std::fmt::Write as _;
        let mut text = AddrText {
            bytes: [0; 64],
            len: 0,
        };
        // Only overflow can fail, and no address is that long.
        let _ = write!(text, "{value}");
        text
    }

    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this cannot fail.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for AddrText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.len + text.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<'a> Cell<'a> {
    pub fn text(value: impl Into<Cow<'a, str>>) -> Self {
        Cell::Text(value.into())
    }

    pub fn opt_text<T: Into<Cow<'a, str>>>(value: Option<T>) -> Self {
        value.map_or(Cell::Null, |value| Cell::Text(value.into()))
    }

    pub fn list<T: Into<Cow<'a, str>>>(values: impl IntoIterator<Item = T>) -> Self {
        Cell::List(values.into_iter().map(Into::into).collect())
    }
}

/// A row type that can be written by any sink.
pub trait Record: Send + 'static {
    /// The columns, in output order (the same for every row of the type).
    fn columns() -> &'static [Column];
    /// One cell per column, in [`Record::columns`] order.
    fn cells(&self) -> Vec<Cell<'_>>;
    /// The row's target position, for rows whose scan can be checkpointed.
    fn position(&self) -> Option<u64> {
        None
    }
}

/// The same columns, every one nullable: for row types that embed another
/// row's columns where that part can be absent (an `mx` row without an address).
pub fn all_nullable(columns: &[Column]) -> Vec<Column> {
    columns
        .iter()
        .map(|column| Column {
            nullable: true,
            ..*column
        })
        .collect()
}
