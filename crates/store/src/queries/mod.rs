//! Every query of the store, written once for both engines, in a module per feature: the
//! [`crate::Store`] trait and its feature supertraits implemented for [`SqlStore`] over the
//! engine-neutral [`Db`].

mod accounts;
mod directory;
mod joining;
mod messaging;
mod privacy;
mod rooms;
mod support;
mod two_factor;
mod working_day;

use async_trait::async_trait;

use crate::sql::{Db, params};
use crate::{OrgId, Result, Store};

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

#[async_trait]
impl Store for SqlStore {
    async fn org_snapshot(&self, org: OrgId<'_>, now: i64) -> Result<Option<serde_json::Value>> {
        crate::export::org_snapshot(&self.db, org.0, now).await
    }

    async fn ping(&self) -> Result<()> {
        self.db.one("SELECT 1", params![], |_| Ok(())).await.map(drop)
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

/// The columns of a `row!` list prefixed with a table's alias (`d.id, d.org_id, …`), for joins.
/// (`stringify!` may break a long list across lines: each name is trimmed.)
pub(crate) fn qualified(columns: &str, alias: &str) -> String {
    columns.split(',').map(|c| format!("{alias}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}
