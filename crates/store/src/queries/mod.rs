//! Every query of the store, written once for both engines, in a module per feature: the
//! [`crate::Store`] trait and its feature supertraits implemented for [`SqlStore`] over the
//! engine-neutral [`Db`].

mod accounts;
mod joining;
mod office;
mod privacy;
mod two_factor;

use crate::sql::Db;

/// The store over either engine: what [`crate::SqliteStore`] and [`crate::PostgresStore`] are.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) db: Db,
}

impl SqlStore {
    /// Which engine holds the data.
    pub fn engine(&self) -> crate::sql::Engine {
        self.db.engine()
    }
}

/// Declares a row type's reader and its column list (the field names, in field order), so the
/// two can never disagree: `row!(org_row, ORG_COLUMNS, OrgRow { id, slug, ... })`.
macro_rules! row {
    ($read:ident, $columns:ident, $ty:ident { $($field:ident),* $(,)? }) => {
        #[doc = concat!("The columns of [`", stringify!($ty), "`], in the order [`", stringify!($read), "`] reads them.")]
        pub(crate) const $columns: &str = stringify!($($field),*);

        #[doc = concat!("Reads a row of `", stringify!($columns), "`.")]
        pub(crate) fn $read(r: &mut crate::sql::Reader) -> crate::Result<$ty> {
            Ok($ty { $($field: r.get()?),* })
        }
    };
}
pub(crate) use row;
