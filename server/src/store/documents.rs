//! Versioned documents: rule scripts and email templates. Every save is a new version (numbered
//! from 1, with author and time); the newest version is the active one; a rollback saves the
//! chosen version's body again as the newest.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::entities::document_version::{self, Column, Entity as Versions};
use super::{StaleVersion, Store, StoreError, StoreResult};
use crate::domain::rules_source::{FileVerdict, Held, RulesSource};

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Rule,
    Template,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Rule => "rule",
            DocumentKind::Template => "template",
        }
    }
}

/// Where a version came from: the admin API or a file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Api,
    File,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::File => "file",
        }
    }
}

/// Every version of one document, to be ordered and narrowed by the caller.
fn versions_of(kind: DocumentKind, name: &str) -> sea_orm::Select<Versions> {
    Versions::find()
        .filter(Column::Kind.eq(kind.as_str()))
        .filter(Column::Name.eq(name))
}

impl Store {
    /// The newest version of a document.
    pub async fn latest_document(
        &self,
        kind: DocumentKind,
        name: &str,
    ) -> StoreResult<Option<document_version::Model>> {
        Ok(versions_of(kind, name)
            .order_by(Column::Version, Order::Desc)
            .one(&self.db)
            .await?)
    }

    /// The newest version of every document of a kind.
    pub async fn latest_documents(
        &self,
        kind: DocumentKind,
    ) -> StoreResult<Vec<document_version::Model>> {
        let all = Versions::find()
            .filter(Column::Kind.eq(kind.as_str()))
            .order_by(Column::Name, Order::Asc)
            .order_by(Column::Version, Order::Desc)
            .all(&self.db)
            .await?;
        let mut latest: Vec<document_version::Model> = Vec::new();
        for v in all {
            if latest.last().is_none_or(|l| l.name != v.name) {
                latest.push(v);
            }
        }
        Ok(latest)
    }

    /// The newest version number of every document of a kind, without the bodies: a cheap
    /// poll for versions saved by other instances.
    pub async fn document_heads(&self, kind: DocumentKind) -> StoreResult<Vec<(String, i32)>> {
        Ok(Versions::find()
            .select_only()
            .column(Column::Name)
            .column_as(Column::Version.max(), "version")
            .filter(Column::Kind.eq(kind.as_str()))
            .group_by(Column::Name)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// The newest version that came from a file, to tell whether the file changed since.
    pub async fn latest_file_document(
        &self,
        kind: DocumentKind,
        name: &str,
    ) -> StoreResult<Option<document_version::Model>> {
        Ok(versions_of(kind, name)
            .filter(Column::Origin.eq(Origin::File.as_str()))
            .order_by(Column::Version, Order::Desc)
            .one(&self.db)
            .await?)
    }

    /// Records the content of a file on disk (start-up or hot reload) as a new version when
    /// `source` says a file wins over what the database holds ([`RulesSource::judge`]); `None`
    /// when it does not. By default (`both`) only a file whose content changed since it was last
    /// taken is, so an API edit is not undone by an unchanged file, at the next start or when
    /// another file changes.
    pub async fn import_file_document(
        &self,
        kind: DocumentKind,
        name: &str,
        body: &str,
        source: RulesSource,
    ) -> StoreResult<Option<document_version::Model>> {
        let hash = crate::domain::ids::token_hash(body);
        let latest = self.latest_document(kind, name).await?;
        let latest_file = self.latest_file_document(kind, name).await?;
        let held = Held {
            latest: latest.as_ref().map(|v| v.content_hash.as_str()),
            latest_file: latest_file.as_ref().map(|v| v.content_hash.as_str()),
        };
        if source.judge(&hash, held) == FileVerdict::Ignore {
            return Ok(None);
        }
        self.save_document(kind, name, body, Origin::File, "file", None)
            .await
            .map(Some)
    }

    pub async fn document_version(
        &self,
        kind: DocumentKind,
        name: &str,
        version: i32,
    ) -> StoreResult<document_version::Model> {
        Versions::find_by_id((kind.as_str().to_owned(), name.to_owned(), version))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!("{} `{name}` version {version}", kind.as_str()))
            })
    }

    /// Every version, oldest first.
    pub async fn document_versions(
        &self,
        kind: DocumentKind,
        name: &str,
    ) -> StoreResult<Vec<document_version::Model>> {
        Ok(versions_of(kind, name)
            .order_by(Column::Version, Order::Asc)
            .all(&self.db)
            .await?)
    }

    /// Saves `body` as the next version and audits it, in one transaction. Two concurrent saves
    /// cannot take the same number: the primary key refuses the second, which is retried.
    /// With `if_latest`, the save is refused ([`StoreError::Stale`]) unless that is still the
    /// newest version: an editor that opened version 4 never overwrites someone else's 5.
    pub async fn save_document(
        &self,
        kind: DocumentKind,
        name: &str,
        body: &str,
        origin: Origin,
        author: &str,
        if_latest: Option<i32>,
    ) -> StoreResult<document_version::Model> {
        // On SQLite a transaction that reads and then writes fails at once if another
        // connection committed in between; taking this process's write turn prevents that.
        let _turn = self.write_turn().await;
        for _ in 0..5 {
            let txn = self.db.begin().await?;
            let saved = async {
                let latest = versions_of(kind, name)
                    .order_by(Column::Version, Order::Desc)
                    .one(&txn)
                    .await?;
                if let Some(expected) = if_latest {
                    let current = latest.as_ref().map_or(0, |l| l.version);
                    if current != expected {
                        return Err(StoreError::Stale(Box::new(StaleVersion {
                            what: format!("{} `{name}`", kind.as_str()),
                            expected,
                            current,
                            author: latest.as_ref().map(|l| l.author.clone()),
                            created_at: latest.as_ref().map(|l| l.created_at),
                        })));
                    }
                }
                let model = document_version::Model {
                    kind: kind.as_str().to_owned(),
                    name: name.to_owned(),
                    version: latest.map_or(1, |l| l.version + 1),
                    body: body.to_owned(),
                    content_hash: crate::domain::ids::token_hash(body),
                    origin: origin.as_str().to_owned(),
                    author: author.to_owned(),
                    created_at: crate::domain::time::now_millis(),
                };
                let active = document_version::ActiveModel {
                    kind: Set(model.kind.clone()),
                    name: Set(model.name.clone()),
                    version: Set(model.version),
                    body: Set(model.body.clone()),
                    content_hash: Set(model.content_hash.clone()),
                    origin: Set(model.origin.clone()),
                    author: Set(model.author.clone()),
                    created_at: Set(model.created_at),
                };
                match Versions::insert(active).exec_without_returning(&txn).await {
                    Ok(_) => {}
                    Err(e) if StoreError::is_unique_violation(&e) => return Ok(None),
                    Err(e) => return Err(StoreError::from(e)),
                }
                Store::audit(
                    &txn,
                    author,
                    &format!("{}.save", kind.as_str()),
                    name,
                    serde_json::json!({"version": model.version, "origin": origin.as_str()}),
                )
                .await?;
                Ok(Some(model))
            }
            .await;
            match saved {
                Ok(Some(model)) => {
                    txn.commit().await?;
                    return Ok(model);
                }
                // A concurrent save took the version number: try again with the next one.
                Ok(None) => txn.rollback().await?,
                Err(e) => return super::end_transaction(txn, Err(e)).await,
            }
        }
        Err(StoreError::Conflict(format!(
            "{} `{name}` is being saved concurrently; retry",
            kind.as_str()
        )))
    }
}
