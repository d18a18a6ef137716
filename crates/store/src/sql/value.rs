//! The values that cross the store boundary, the same for both engines: integers (flags are
//! 0/1), text, bytes and null. Parameters are turned into owned [`Value`]s; cells are read in
//! column order by a [`Reader`], straight from the engine's row as borrowed [`Cell`]s, so a
//! column becomes its Rust type with no copy in between.

use crate::{Result, StoreError};

/// A parameter, or a cell kept as it is (the snapshot).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// INTEGER / bigint (and 0/1 flags).
    Int(i64),
    /// TEXT.
    Text(String),
    /// BLOB / bytea.
    Blob(Vec<u8>),
}

/// A Rust value that can be a statement parameter.
pub trait ToValue {
    /// The value as the engines take it.
    fn to_value(&self) -> Value;
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// The parameters of a statement, `$1` first.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::sql::ToValue::to_value(&$value)),*]
    };
}
pub(crate) use params;

/// A cell as the engine's row holds it, borrowed: what every [`FromValue`] reads from. Both
/// engines' cells become one of these; what Bureau never writes (a floating-point number, text
/// that is not UTF-8) is an error before any type sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// SQL NULL.
    Null,
    /// INTEGER / bigint (and 0/1 flags; PostgreSQL's smaller integers and booleans too).
    Int(i64),
    /// TEXT.
    Text(&'a str),
    /// BLOB / bytea.
    Blob(&'a [u8]),
}

impl<'a> Cell<'a> {
    /// The text, or an error if the cell holds something else.
    pub fn text(self) -> Result<&'a str> {
        match self {
            Cell::Text(t) => Ok(t),
            _ => Err(StoreError::Malformed("text was expected")),
        }
    }
}

impl From<Cell<'_>> for Value {
    fn from(cell: Cell<'_>) -> Self {
        match cell {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Int(i),
            Cell::Text(t) => Value::Text(t.to_owned()),
            Cell::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

/// A Rust value a cell can be read as.
pub trait FromValue: Sized {
    /// The cell as this type, or why it is not one.
    fn from_cell(cell: Cell<'_>) -> Result<Self>;
}

impl FromValue for Value {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        Ok(cell.into())
    }
}

impl FromValue for i64 {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        match cell {
            Cell::Int(i) => Ok(i),
            _ => Err(StoreError::Malformed("a number was expected")),
        }
    }
}

impl FromValue for u32 {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        u32::try_from(i64::from_cell(cell)?).map_err(|_| StoreError::Malformed("a version is out of range"))
    }
}

impl FromValue for bool {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        Ok(i64::from_cell(cell)? != 0)
    }
}

impl FromValue for String {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        Ok(cell.text()?.to_owned())
    }
}

impl FromValue for Vec<u8> {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        match cell {
            Cell::Blob(b) => Ok(b.to_vec()),
            _ => Err(StoreError::Malformed("bytes were expected")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// The engine's row a [`Reader`] reads from.
#[derive(Clone, Copy)]
pub(crate) enum Row<'r> {
    /// A row of a running SQLite statement.
    Sqlite(&'r rusqlite::Row<'r>),
    /// A row PostgreSQL sent.
    Postgres(&'r tokio_postgres::Row),
}

/// One row, read cell after cell in the order of the query's columns, each cell converted
/// straight from the engine's row.
pub struct Reader<'r> {
    row: Row<'r>,
    width: usize,
    next: usize,
}

impl<'r> Reader<'r> {
    /// A reader at the first of the row's `width` columns.
    pub(crate) fn new(row: Row<'r>, width: usize) -> Self {
        Reader { row, width, next: 0 }
    }

    /// The next cell.
    pub fn get<T: FromValue>(&mut self) -> Result<T> {
        let index = self.next;
        if index >= self.width {
            return Err(StoreError::Malformed("a row has fewer columns than read"));
        }
        self.next += 1;
        let cell = match self.row {
            Row::Sqlite(row) => super::sqlite::cell(row, index)?,
            Row::Postgres(row) => super::postgres::cell(row, index)?,
        };
        T::from_cell(cell)
    }

    /// The cells not read yet, as they are (the snapshot keeps whole rows).
    pub(crate) fn rest(&mut self) -> Result<Vec<Value>> {
        (self.next..self.width).map(|_| self.get()).collect()
    }
}

/// Maps a row to a value.
pub type Map<T> = fn(&mut Reader<'_>) -> Result<T>;
