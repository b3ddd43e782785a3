//! The shape every output format writes: named, typed columns, and one cell
//! per column per row. `scan`, `mx` and `classify` rows describe themselves
//! this way once, so CSV, JSON Lines and Parquet each exist once.

use std::borrow::Cow;

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
