//! The values that cross the store boundary, the same for both engines: integers (flags are
//! 0/1), text, bytes and null. Parameters are turned into [`Value`]s, and rows come back as
//! [`Value`]s read in column order by a [`Reader`].

use crate::{Result, StoreError};

/// A parameter or a cell.
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

/// A Rust value a cell can be read as.
pub trait FromValue: Sized {
    /// The cell as this type, or why it is not one.
    fn from_value(value: Value) -> Result<Self>;
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self> {
        Ok(value)
    }
}

impl FromValue for i64 {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(i),
            _ => Err(StoreError::Malformed("a number was expected")),
        }
    }
}

impl FromValue for u32 {
    fn from_value(value: Value) -> Result<Self> {
        u32::try_from(i64::from_value(value)?).map_err(|_| StoreError::Malformed("a version is out of range"))
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Text(t) => Ok(t),
            _ => Err(StoreError::Malformed("text was expected")),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Blob(b) => Ok(b),
            _ => Err(StoreError::Malformed("bytes were expected")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One row, read cell after cell in the order of the query's columns. A query reuses one reader
/// (and its buffer) for all its rows.
pub struct Reader {
    cells: Vec<Value>,
    next: usize,
}

impl Reader {
    pub(crate) fn new(cells: Vec<Value>) -> Self {
        Reader { cells, next: 0 }
    }

    /// Empties the reader for the next row; its cells are pushed onto the returned buffer.
    pub(crate) fn refill(&mut self) -> &mut Vec<Value> {
        self.cells.clear();
        self.next = 0;
        &mut self.cells
    }

    /// The whole row, for a caller that keeps the cells as they are (the snapshot).
    pub(crate) fn take_cells(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.cells)
    }

    /// The next cell.
    pub fn get<T: FromValue>(&mut self) -> Result<T> {
        let cell = self.cells.get_mut(self.next).ok_or(StoreError::Malformed("a row has fewer columns than read"))?;
        self.next += 1;
        T::from_value(std::mem::replace(cell, Value::Null))
    }
}

/// Maps a row to a value.
pub type Map<T> = fn(&mut Reader) -> Result<T>;
