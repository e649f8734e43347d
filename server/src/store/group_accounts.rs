//! BizReach sign-in, group accounts (L2, L3, P1, poll position) and link approvals (L4).
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};

use super::entities::{bizreach_credential, group_account, link_approval};
use super::events::{InsertOutcome, NewEvent};
use super::{Store, StoreError, StoreResult};
use crate::domain::link::LinkState;

/// The one row of `bizreach_credentials`.
const CREDENTIALS_ROW: i32 = 1;

/// Where the poll of a group account stands: the next page's cursor (`None` at the end of the
/// list) and, at the end, the `applied_at` the next poll starts from.
#[derive(Clone, Debug)]
pub struct PollPosition<'a> {
    pub group_account_id: &'a str,
    pub cursor: Option<&'a str>,
    pub since: Option<i64>,
    pub now: i64,
}

impl PollPosition<'_> {
    async fn save<C: ConnectionTrait>(&self, db: &C) -> StoreResult<()> {
        let mut update = group_account::Entity::update_many()
            .col_expr(
                group_account::Column::PollCursor,
                Expr::value(self.cursor.map(str::to_owned)),
            )
            .col_expr(group_account::Column::UpdatedAt, Expr::value(self.now));
        if let Some(since) = self.since {
            update = update.col_expr(group_account::Column::PollSince, Expr::value(since));
        }
        update
            .filter(group_account::Column::Id.eq(self.group_account_id))
            .exec(db)
            .await?;
        Ok(())
    }
}

/// A group account as BizReach lists it, to upsert.
#[derive(Clone, Debug)]
pub struct GroupAccountSeen {
    pub id: String,
    pub name: String,
    pub admin_email: String,
}

/// A link approval that can still be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingApproval {
    pub token_hash: String,
    pub group_account_id: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What a link-approval token is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalLookup {
    Unknown,
    Used,
    Expired,
    /// Usable, for this group account.
    Valid(group_account::Model),
}

impl Store {
    /// Stores the sign-in (the password already sealed), replacing the previous one.
    pub async fn save_bizreach_credentials<C: ConnectionTrait>(
        db: &C,
        email: &str,
        password_sealed: &str,
        account_name: &str,
        now: i64,
    ) -> StoreResult<()> {
        bizreach_credential::Entity::insert(bizreach_credential::ActiveModel {
            id: Set(CREDENTIALS_ROW),
            email: Set(email.to_owned()),
            password_enc: Set(password_sealed.to_owned()),
            account_name: Set(account_name.to_owned()),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(bizreach_credential::Column::Id)
                .update_columns([
                    bizreach_credential::Column::Email,
                    bizreach_credential::Column::PasswordEnc,
                    bizreach_credential::Column::AccountName,
                    bizreach_credential::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
        Ok(())
    }

    /// The stored sign-in (password sealed), if an admin signed in.
    pub async fn bizreach_credentials(&self) -> StoreResult<Option<bizreach_credential::Model>> {
        Self::bizreach_credentials_in(&self.db).await
    }

    /// [`Store::bizreach_credentials`] read on `db` (a transaction already holding a
    /// connection reads there rather than take a second one).
    pub async fn bizreach_credentials_in<C: ConnectionTrait>(
        db: &C,
    ) -> StoreResult<Option<bizreach_credential::Model>> {
        Ok(bizreach_credential::Entity::find_by_id(CREDENTIALS_ROW)
            .one(db)
            .await?)
    }

    /// Adds the group accounts hirelay has not seen as `unlinked` and refreshes the name and
    /// administrator of known ones, keeping their state (L2).
    pub async fn upsert_group_accounts<C: ConnectionTrait>(
        db: &C,
        seen: &[GroupAccountSeen],
        now: i64,
    ) -> StoreResult<()> {
        for g in seen {
            group_account::Entity::insert(group_account::ActiveModel {
                id: Set(g.id.clone()),
                name: Set(g.name.clone()),
                admin_email: Set(g.admin_email.clone()),
                status: Set(LinkState::Unlinked.as_str().to_owned()),
                linked_at: Set(None),
                progress_sync: Set(false),
                poll_cursor: Set(None),
                poll_since: Set(None),
                updated_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(group_account::Column::Id)
                    .update_columns([
                        group_account::Column::Name,
                        group_account::Column::AdminEmail,
                        group_account::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        }
        Ok(())
    }

    /// Every group account, by id.
    pub async fn group_accounts(&self) -> StoreResult<Vec<group_account::Model>> {
        Ok(group_account::Entity::find()
            .order_by(group_account::Column::Id, Order::Asc)
            .all(&self.db)
            .await?)
    }

    /// One group account.
    pub async fn group_account<C: ConnectionTrait>(
        db: &C,
        id: &str,
    ) -> StoreResult<group_account::Model> {
        group_account::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("group account `{id}`")))
    }

    /// The linked group accounts, which the poller reads (L5: only these).
    pub async fn linked_group_accounts(&self) -> StoreResult<Vec<group_account::Model>> {
        Ok(group_account::Entity::find()
            .filter(group_account::Column::Status.eq(LinkState::Linked.as_str()))
            .order_by(group_account::Column::Id, Order::Asc)
            .all(&self.db)
            .await?)
    }

    /// Moves a group account from `from` to `to`, only if it is still in `from` (so two
    /// concurrent moves cannot both win). `linked_at`, when given, also starts the poll there.
    pub async fn set_link_state<C: ConnectionTrait>(
        db: &C,
        id: &str,
        from: LinkState,
        to: LinkState,
        poll_from: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let mut update = group_account::Entity::update_many()
            .col_expr(group_account::Column::Status, Expr::value(to.as_str()))
            .col_expr(group_account::Column::UpdatedAt, Expr::value(now));
        if let Some(at) = poll_from {
            if from == LinkState::PendingApproval {
                update = update.col_expr(group_account::Column::LinkedAt, Expr::value(at));
            }
            update = update
                .col_expr(group_account::Column::PollSince, Expr::value(at))
                .col_expr(
                    group_account::Column::PollCursor,
                    Expr::value(Option::<String>::None),
                );
        }
        let result = update
            .filter(group_account::Column::Id.eq(id))
            .filter(group_account::Column::Status.eq(from.as_str()))
            .exec(db)
            .await?;
        if result.rows_affected == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "group account `{id}` is no longer {from}"
            )))
        }
    }

    /// Switches progress sync of a group account (P1).
    pub async fn set_progress_sync<C: ConnectionTrait>(
        db: &C,
        id: &str,
        enabled: bool,
        now: i64,
    ) -> StoreResult<()> {
        group_account::Entity::update_many()
            .col_expr(group_account::Column::ProgressSync, Expr::value(enabled))
            .col_expr(group_account::Column::UpdatedAt, Expr::value(now))
            .filter(group_account::Column::Id.eq(id))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Stores a polled page's events and where the poll of their group then stands, in one
    /// transaction: a page takes one turn of the writer (a poll's pages wait for the event
    /// workers' batches, not twice a page), and a position is never saved without its events.
    /// Answers, per event, what storing it came to (as [`Store::insert_events`]). On SQLite it
    /// takes its turn rather than sleeping in the busy handler while event workers write.
    pub async fn store_polled_page(
        &self,
        events: &[NewEvent],
        position: &PollPosition<'_>,
    ) -> StoreResult<Vec<InsertOutcome>> {
        let _turn = self.write_turn().await;
        let txn = self.begin_writing().await?;
        let stored = async {
            let outcomes = Self::insert_events_within(&txn, events).await?;
            position.save(&txn).await?;
            Ok(outcomes)
        }
        .await;
        super::end_transaction(txn, stored).await
    }

    /// Stores a new approval token (hashed) for a group account and retires its earlier ones,
    /// so only the newest approval email works.
    pub async fn create_link_approval<C: ConnectionTrait>(
        db: &C,
        group_account_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        link_approval::Entity::update_many()
            .col_expr(link_approval::Column::UsedAt, Expr::value(now))
            .filter(link_approval::Column::GroupAccountId.eq(group_account_id))
            .filter(link_approval::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        link_approval::Entity::insert(link_approval::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            group_account_id: Set(group_account_id.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        })
        .exec(db)
        .await?;
        Ok(())
    }

    /// The usable approval of a group account, if any (tests and the console read it; the
    /// token itself is never stored).
    pub async fn pending_link_approval(
        &self,
        group_account_id: &str,
        now: i64,
    ) -> StoreResult<Option<PendingApproval>> {
        Ok(link_approval::Entity::find()
            .filter(link_approval::Column::GroupAccountId.eq(group_account_id))
            .filter(link_approval::Column::UsedAt.is_null())
            .filter(link_approval::Column::ExpiresAt.gt(now))
            .order_by(link_approval::Column::CreatedAt, Order::Desc)
            .one(&self.db)
            .await?
            .map(|a| PendingApproval {
                token_hash: a.token_hash,
                group_account_id: a.group_account_id,
                created_at: a.created_at,
                expires_at: a.expires_at,
            }))
    }

    /// What the approval token with this hash is now.
    pub async fn lookup_link_approval<C: ConnectionTrait>(
        db: &C,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<ApprovalLookup> {
        let Some(approval) = link_approval::Entity::find_by_id(token_hash)
            .one(db)
            .await?
        else {
            return Ok(ApprovalLookup::Unknown);
        };
        if approval.used_at.is_some() {
            return Ok(ApprovalLookup::Used);
        }
        if approval.expires_at <= now {
            return Ok(ApprovalLookup::Expired);
        }
        match group_account::Entity::find_by_id(&approval.group_account_id)
            .one(db)
            .await?
        {
            Some(group) => Ok(ApprovalLookup::Valid(group)),
            None => Ok(ApprovalLookup::Unknown),
        }
    }

    /// Marks an approval used; `false` when it was used (or expired) meanwhile.
    pub async fn use_link_approval<C: ConnectionTrait>(
        db: &C,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let result = link_approval::Entity::update_many()
            .col_expr(link_approval::Column::UsedAt, Expr::value(now))
            .filter(link_approval::Column::TokenHash.eq(token_hash))
            .filter(link_approval::Column::UsedAt.is_null())
            .filter(link_approval::Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status::EventSource;
    use crate::store::test_support::store;

    fn pulled(n: usize) -> Vec<NewEvent> {
        (0..n)
            .map(|i| NewEvent {
                id: crate::domain::ids::new_id("evt"),
                source: EventSource::Bizreach,
                kind: "application.received".into(),
                webhook_id: format!("pull:br-{i}"),
                body_hash: format!("h{i}"),
                payload: "{}".into(),
                received_at: 0,
                person: Default::default(),
            })
            .collect()
    }

    /// I3: a page's events and the cursor after it land together, and storing them makes no
    /// event worker wait (nobody waits for a pull's acknowledgement).
    #[tokio::test]
    async fn i3_a_polled_page_is_stored_with_the_poll_position_after_it() {
        let (_dir, store) = store().await;
        let seen = GroupAccountSeen {
            id: "grp-001".into(),
            name: "本社".into(),
            admin_email: "admin@example.jp".into(),
        };
        Store::upsert_group_accounts(&store.db, &[seen], 0)
            .await
            .unwrap();
        let page = |cursor, since| PollPosition {
            group_account_id: "grp-001",
            cursor,
            since,
            now: 1,
        };
        let stored = store
            .store_polled_page(&pulled(3), &page(Some("c2"), None))
            .await
            .unwrap();
        assert_eq!(stored, vec![InsertOutcome::Accepted; 3]);
        let group = store.group_accounts().await.unwrap().remove(0);
        assert_eq!(group.poll_cursor.as_deref(), Some("c2"));
        assert_eq!(group.poll_since, None);
        assert!(!store.ingest_recent(std::time::Duration::from_secs(60)));
        // The page again (stored before a crash lost the cursor): duplicates, and the end of
        // the list moves `poll_since` and clears the cursor.
        let stored = store
            .store_polled_page(&pulled(3), &page(None, Some(42)))
            .await
            .unwrap();
        assert!(stored
            .iter()
            .all(|o| matches!(o, InsertOutcome::Duplicate { .. })));
        let group = store.group_accounts().await.unwrap().remove(0);
        assert_eq!((group.poll_cursor, group.poll_since), (None, Some(42)));
    }
}
