//! The shape every output format writes: named, typed columns, and one cell
//! per column per row. `scan`, `mx` and `classify` rows describe themselves
//! this way once, so CSV, JSON Lines and Parquet each exist once.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

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
    /// A text list the row already holds as strings (its PTR names):
    /// borrowed, so writing a row does not build a list per cell.
    Names(&'a [String]),
    /// A text list of fixed codes (reasons), borrowed likewise.
    Codes(&'a [&'static str]),
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
        let mut text = AddrText::empty();
        // Only overflow can fail, and no address is that long.
        let _ = write!(text, "{value}");
        text
    }

    /// An address; IPv4 (nearly every row) without the formatting
    /// machinery, which was most of a row's formatting time.
    pub fn ip(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => {
                let mut text = AddrText::empty();
                text.push_v4(v4);
                text
            }
            IpAddr::V6(_) => AddrText::of(address),
        }
    }

    pub fn endpoint(endpoint: SocketAddr) -> Self {
        match endpoint {
            SocketAddr::V4(v4) => {
                let mut text = AddrText::empty();
                text.push_v4(*v4.ip());
                text.push(b':');
                text.push_digits(u32::from(v4.port()));
                text
            }
            SocketAddr::V6(_) => AddrText::of(endpoint),
        }
    }

    fn empty() -> Self {
        AddrText {
            bytes: [0; 64],
            len: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// At most 10 digits; callers stay far inside the 64 bytes.
    fn push_digits(&mut self, value: u32) {
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut rest = value;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        // A byte at a time: a `copy_from_slice` of one to three bytes is a
        // `memcpy` call, a visible share of writing every row's addresses.
        for &digit in &digits[at..] {
            self.push(digit);
        }
    }

    fn push_v4(&mut self, address: Ipv4Addr) {
        for (index, octet) in address.octets().into_iter().enumerate() {
            if index > 0 {
                self.push(b'.');
            }
            self.push_digits(u32::from(octet));
        }
    }

    pub fn as_str(&self) -> &str {
        // Only whole `&str`s and ASCII digits are ever copied in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// `value` rounded to the nearest thousandth (halves away from zero) and
/// written with three decimals, into `out` (cleared first): round-trip
/// times in milliseconds, to the microsecond they were measured in.
/// Integer arithmetic for the values that occur; `{:.3}` on the rounded
/// value otherwise, which spells the same digits.
pub fn write_millis(out: &mut String, value: f64) {
    use std::fmt::Write as _;
    out.clear();
    let thousandths = (value * 1000.0).round();
    if thousandths.is_sign_positive() && thousandths < 1e15 {
        let thousandths = thousandths as u64;
        out.push_str(itoa::Buffer::new().format(thousandths / 1000));
        out.push('.');
        let fraction = (thousandths % 1000) as u32;
        for divisor in [100, 10, 1] {
            out.push(char::from(b'0' + (fraction / divisor % 10) as u8));
        }
    } else {
        // Writing into a String cannot fail.
        let _ = write!(out, "{:.3}", thousandths / 1000.0);
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

    /// The items of a text-list cell (`List`, `Names`, `Codes`), however
    /// the row holds them; `None` for any other cell. Every sink writes the
    /// three kinds alike through this.
    pub fn list_items(&self) -> Option<ListItems<'_>> {
        match self {
            Cell::List(items) => Some(ListItems::Owned(items.iter())),
            Cell::Names(items) => Some(ListItems::Names(items.iter())),
            Cell::Codes(items) => Some(ListItems::Codes(items.iter())),
            _ => None,
        }
    }
}

/// Iterator over a text-list cell's items, see [`Cell::list_items`].
pub enum ListItems<'c> {
    Owned(std::slice::Iter<'c, Cow<'c, str>>),
    Names(std::slice::Iter<'c, String>),
    Codes(std::slice::Iter<'c, &'static str>),
}

impl<'c> Iterator for ListItems<'c> {
    type Item = &'c str;

    fn next(&mut self) -> Option<&'c str> {
        match self {
            ListItems::Owned(items) => items.next().map(AsRef::as_ref),
            ListItems::Names(items) => items.next().map(String::as_str),
            ListItems::Codes(items) => items.next().copied(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written IPv4 spelling is `Display`'s, byte for byte.
        #[test]
        fn addresses_are_spelled_as_display_does(address in any::<IpAddr>(), port in any::<u16>()) {
            let text = AddrText::ip(address);
            prop_assert_eq!(text.as_str(), address.to_string());
            let endpoint = SocketAddr::new(address, port);
            let text = AddrText::endpoint(endpoint);
            prop_assert_eq!(text.as_str(), endpoint.to_string());
        }

        /// Integer formatting of milliseconds gives what `{:.3}` gives for
        /// the value rounded to the microsecond.
        #[test]
        fn millis_are_spelled_as_rounded_fixed_point(
            value in prop_oneof![
                any::<f64>(),
                (0u64..100_000_000).prop_map(|micros| micros as f64 / 1000.0),
                (0f64..5000.0),
            ]
        ) {
            let mut fast = String::new();
            write_millis(&mut fast, value);
            prop_assert_eq!(fast, format!("{:.3}", (value * 1000.0).round() / 1000.0));
        }
    }
}
