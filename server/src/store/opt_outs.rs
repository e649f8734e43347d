//! C8: opt-outs per kind of mail and recorded consent, each under the keyed hash of the
//! normalised address ([`AddressHash`]), never the address: they are kept after the
//! candidate's rows are erased, and match the address again when it comes back.
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use super::entities::{audit_entry, candidate, consent, opt_out};
use super::{Store, StoreError, StoreResult};
use crate::crypto::{AddressHash, AddressKey};
use crate::domain::email::Email;
use crate::domain::invitation_policy::{Consent, ConsentMethod};
use crate::domain::message_kind::{MessageKind, OptOutChannel};

/// The audit action of an opt-out by the link in an invitation (before m0013 the only way).
pub const LINK_OPT_OUT: &str = "candidate.opt_out";

/// An opt-out to record.
pub struct NewOptOut<'a> {
    pub address: &'a AddressHash,
    pub kind: MessageKind,
    pub at: i64,
    pub channel: OptOutChannel,
    /// The admin who recorded it.
    pub recorded_by: Option<&'a str>,
}

/// What an address has said about one kind of mail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Its opt-out, which wins over any consent.
    pub opted_out: Option<opt_out::Model>,
    /// Its recorded consent, with when and how.
    pub consent: Option<Consent>,
}

impl Standing {
    /// The consent mail of that kind may rest on: none once the address opted out.
    pub fn usable_consent(&self) -> Option<Consent> {
        self.opted_out
            .is_none()
            .then(|| self.consent.clone())
            .flatten()
    }
}

fn consent_of(row: consent::Model) -> StoreResult<Consent> {
    Ok(Consent {
        given_at: row.given_at,
        method: ConsentMethod::parse(&row.method)
            .map_err(|e| StoreError::Corrupt(format!("a consent's method {e}")))?,
    })
}

impl Store {
    /// Records an opt-out; the first one of an address and kind is kept (its time and channel
    /// are the record), a later one changes nothing. Answers the kept record and whether it
    /// is this one.
    pub async fn record_opt_out<C: ConnectionTrait>(
        db: &C,
        new: NewOptOut<'_>,
    ) -> StoreResult<(opt_out::Model, bool)> {
        let inserted = opt_out::Entity::insert(opt_out::ActiveModel {
            address_hash: Set(new.address.as_str().to_owned()),
            kind: Set(new.kind.as_str().to_owned()),
            opted_out_at: Set(new.at),
            channel: Set(new.channel.as_str().to_owned()),
            recorded_by: Set(new.recorded_by.map(str::to_owned)),
        })
        .on_conflict(
            OnConflict::columns([opt_out::Column::AddressHash, opt_out::Column::Kind])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        let kept = opt_out::Entity::find_by_id((
            new.address.as_str().to_owned(),
            new.kind.as_str().to_owned(),
        ))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound("the opt-out just recorded".into()))?;
        Ok((kept, inserted == 1))
    }

    /// Every opt-out of an address, by kind.
    pub async fn opt_outs_of<C: ConnectionTrait>(
        db: &C,
        address: &AddressHash,
    ) -> StoreResult<Vec<opt_out::Model>> {
        Ok(opt_out::Entity::find()
            .filter(opt_out::Column::AddressHash.eq(address.as_str()))
            .order_by_asc(opt_out::Column::Kind)
            .all(db)
            .await?)
    }

    /// Withdraws an address's opt-out of `kind` (when the person asks); answers the record
    /// withdrawn, if there was one.
    pub async fn withdraw_opt_out<C: ConnectionTrait>(
        db: &C,
        address: &AddressHash,
        kind: MessageKind,
    ) -> StoreResult<Option<opt_out::Model>> {
        let key = (address.as_str().to_owned(), kind.as_str().to_owned());
        let Some(found) = opt_out::Entity::find_by_id(key.clone()).one(db).await? else {
            return Ok(None);
        };
        opt_out::Entity::delete_by_id(key).exec(db).await?;
        Ok(Some(found))
    }

    /// Records an address's consent to `kind`; a later consent replaces an earlier one (the
    /// latest says when and how it stands).
    pub async fn record_consent<C: ConnectionTrait>(
        db: &C,
        address: &AddressHash,
        kind: MessageKind,
        consent: &Consent,
        recorded_by: &str,
        now: i64,
    ) -> StoreResult<()> {
        use consent::Column;
        consent::Entity::insert(consent::ActiveModel {
            address_hash: Set(address.as_str().to_owned()),
            kind: Set(kind.as_str().to_owned()),
            given_at: Set(consent.given_at),
            method: Set(consent.method.as_str().to_owned()),
            recorded_at: Set(now),
            recorded_by: Set(recorded_by.to_owned()),
        })
        .on_conflict(
            OnConflict::columns([Column::AddressHash, Column::Kind])
                .update_columns([
                    Column::GivenAt,
                    Column::Method,
                    Column::RecordedAt,
                    Column::RecordedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// Every recorded consent of an address, by kind.
    pub async fn consents_of<C: ConnectionTrait>(
        db: &C,
        address: &AddressHash,
    ) -> StoreResult<Vec<consent::Model>> {
        Ok(consent::Entity::find()
            .filter(consent::Column::AddressHash.eq(address.as_str()))
            .order_by_asc(consent::Column::Kind)
            .all(db)
            .await?)
    }

    /// C8: whether an address opted out of `kind`, and the consent it gave: what planning an
    /// invitation, the scripts' `ctx.opted_out` and the check before sending read.
    pub async fn standing<C: ConnectionTrait>(
        db: &C,
        address: &AddressHash,
        kind: MessageKind,
    ) -> StoreResult<Standing> {
        Ok(Self::standings(db, std::slice::from_ref(address), kind)
            .await?
            .remove(address)
            .unwrap_or_default())
    }

    /// [`Store::standing`] of several addresses with two queries (a batch's candidates);
    /// addresses that said nothing are left out.
    pub async fn standings<C: ConnectionTrait>(
        db: &C,
        addresses: &[AddressHash],
        kind: MessageKind,
    ) -> StoreResult<std::collections::HashMap<AddressHash, Standing>> {
        let mut found = std::collections::HashMap::<AddressHash, Standing>::new();
        if addresses.is_empty() {
            return Ok(found);
        }
        let hashes = || addresses.iter().map(|a| a.as_str().to_owned());
        let opted_out = opt_out::Entity::find()
            .filter(opt_out::Column::Kind.eq(kind.as_str()))
            .filter(opt_out::Column::AddressHash.is_in(hashes()))
            .all(db)
            .await?;
        let consents = consent::Entity::find()
            .filter(consent::Column::Kind.eq(kind.as_str()))
            .filter(consent::Column::AddressHash.is_in(hashes()))
            .all(db)
            .await?;
        let of = |hash: &str| addresses.iter().find(|a| a.as_str() == hash).cloned();
        for row in opted_out {
            if let Some(address) = of(&row.address_hash) {
                found.entry(address).or_default().opted_out = Some(row);
            }
        }
        for row in consents {
            if let Some(address) = of(&row.address_hash) {
                found.entry(address).or_default().consent = Some(consent_of(row)?);
            }
        }
        Ok(found)
    }

    /// Moves the opt-outs kept on candidates before m0013 (`candidates.opted_out_at`, always
    /// of invitations) into `opt_outs`, with the channel their audit entry names, and clears
    /// the flag, in one transaction: run at start-up, it finds nothing the second time, and
    /// instances starting together insert each opt-out once. Answers how many it moved.
    ///
    /// Done here rather than in the migration because the hash needs the instance's key,
    /// which migrations do not have.
    pub async fn adopt_legacy_opt_outs(&self, key: &AddressKey) -> StoreResult<usize> {
        let txn = self.db.begin().await?;
        let flagged: Vec<(String, String, Option<i64>)> = candidate::Entity::find()
            .select_only()
            .column(candidate::Column::Id)
            .column(candidate::Column::Email)
            .column(candidate::Column::OptedOutAt)
            .filter(candidate::Column::OptedOutAt.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        if flagged.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = flagged.iter().map(|(id, _, _)| id.as_str()).collect();
        let audited: Vec<(String, String)> = audit_entry::Entity::find()
            .select_only()
            .column(audit_entry::Column::Target)
            .column(audit_entry::Column::Detail)
            .filter(audit_entry::Column::Action.eq(LINK_OPT_OUT))
            .filter(audit_entry::Column::Target.is_in(ids.iter().copied()))
            .order_by_asc(audit_entry::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        // The first audited channel of each candidate (the opt-out kept is the first).
        let mut channels = std::collections::HashMap::new();
        for (target, detail) in audited {
            let channel = serde_json::from_str::<serde_json::Value>(&detail)
                .ok()
                .and_then(|d| d["channel"].as_str().and_then(OptOutChannel::parse));
            if let Some(channel) = channel {
                channels.entry(target).or_insert(channel);
            }
        }
        let mut moved = Vec::with_capacity(flagged.len());
        for (id, email, at) in &flagged {
            let Ok(address) = Email::parse(email) else {
                tracing::warn!(candidate = %id, "a candidate's opt-out flag stays: its address is not one");
                continue;
            };
            Self::record_opt_out(
                &txn,
                NewOptOut {
                    address: &key.hash(&address),
                    kind: MessageKind::CareerRelayInvitation,
                    at: at.unwrap_or_default(),
                    channel: channels.get(id).copied().unwrap_or(OptOutChannel::Legacy),
                    recorded_by: None,
                },
            )
            .await?;
            moved.push(id.as_str());
        }
        candidate::Entity::update_many()
            .col_expr(candidate::Column::OptedOutAt, Expr::value(None::<i64>))
            .filter(candidate::Column::Id.is_in(moved.iter().copied()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(moved.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    fn key() -> AddressKey {
        crate::crypto::SecretBox::from_base64(
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "test",
        )
        .unwrap()
        .address_key()
    }

    /// C8: a candidate's opt-out flag from before m0013 becomes an opt-out of invitations
    /// under the address hash, with its audited channel, once; the flag is cleared.
    #[tokio::test]
    async fn c8_opt_outs_kept_on_candidates_move_into_the_table_once() {
        let (_dir, store) = store().await;
        let db = &store.db;
        for (id, email, at) in [
            ("cand_a", "a@example.jp", "7"),
            ("cand_b", "b@example.jp", "NULL"),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO candidates (id, email, name, attributes, opted_out_at, created_at, updated_at) \
                 VALUES ('{id}', '{email}', 'x', '{{}}', {at}, 0, 0)"
            ))
            .await
            .unwrap();
        }
        Store::audit(
            db,
            "candidate",
            LINK_OPT_OUT,
            "cand_a",
            serde_json::json!({"channel": "one_click"}),
        )
        .await
        .unwrap();
        assert_eq!(store.adopt_legacy_opt_outs(&key()).await.unwrap(), 1);
        assert_eq!(
            store.adopt_legacy_opt_outs(&key()).await.unwrap(),
            0,
            "once"
        );
        let a = key().hash(&Email::parse("A@Example.jp").unwrap());
        let standing = Store::standing(db, &a, MessageKind::CareerRelayInvitation)
            .await
            .unwrap();
        let kept = standing.opted_out.unwrap();
        assert_eq!((kept.opted_out_at, kept.channel.as_str()), (7, "one_click"));
        let b = key().hash(&Email::parse("b@example.jp").unwrap());
        assert!(Store::opt_outs_of(db, &b).await.unwrap().is_empty());
        let flag: Option<i64> = candidate::Entity::find_by_id("cand_a")
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .opted_out_at;
        assert_eq!(flag, None);
    }
}
