//! The mail outbox: rendered mails waiting to be sent. Inserted in the caller's transaction
//! (at most once per dedupe key), claimed by one sender at a time under a lease, and finished
//! as `sent` or `dead`.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::entities::invitation;
use super::entities::mail_outbox::{self, Column, Entity as Outbox};
use super::{Store, StoreError, StoreResult};

/// Where a mail is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// Claimed by a sender until `locked_until`.
    Sending,
    Sent,
    /// Gave up after too many failed tries.
    Dead,
    /// Not to be sent: `cancel_reason` says why.
    Cancelled,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sending => "sending",
            MailStatus::Sent => "sent",
            MailStatus::Dead => "dead",
            MailStatus::Cancelled => "cancelled",
        }
    }
}

/// A mail to queue.
#[derive(Clone, Debug)]
pub struct NewMail {
    pub id: String,
    pub dedupe_key: String,
    pub template: String,
    pub template_version: i32,
    pub recipient: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Extra headers as a JSON object of strings.
    pub headers: String,
    /// The data to render it from again when it is sent (JSON).
    pub data: Option<String>,
    pub message_id: String,
    pub send_at: i64,
    pub created_at: i64,
}

/// What queueing a mail came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailInsert {
    Inserted,
    /// A mail with the same dedupe key was queued before, under this id.
    Existing(String),
}

impl Store {
    /// Queues mails in `db` (the caller's transaction) with one statement, and answers what
    /// each came to, in order. A mail whose dedupe key was queued before is not inserted:
    /// `ON CONFLICT DO NOTHING` keeps the caller's PostgreSQL transaction usable, where a
    /// failed insert would abort it. Only when some were not inserted are they looked up.
    pub async fn insert_mails<C: ConnectionTrait>(
        db: &C,
        mails: &[NewMail],
    ) -> StoreResult<Vec<MailInsert>> {
        let ids: Vec<&str> = mails.iter().map(|m| m.id.as_str()).collect();
        let rows = mails.iter().map(|mail| mail_outbox::ActiveModel {
            id: Set(mail.id.clone()),
            dedupe_key: Set(mail.dedupe_key.clone()),
            template: Set(mail.template.clone()),
            template_version: Set(mail.template_version),
            recipient: Set(mail.recipient.clone()),
            subject: Set(mail.subject.clone()),
            html: Set(mail.html.clone()),
            text_body: Set(mail.text.clone()),
            headers: Set(mail.headers.clone()),
            message_id: Set(mail.message_id.clone()),
            status: Set(MailStatus::Pending.as_str().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(mail.send_at),
            locked_until: Set(None),
            last_error: Set(None),
            created_at: Set(mail.created_at),
            sent_at: Set(None),
            data: Set(mail.data.clone()),
            cancel_reason: Set(None),
        });
        let inserted =
            super::insert_each::<Outbox, _, _>(db, rows, &ids, Column::Id, [Column::DedupeKey])
                .await?;
        let mut outcomes = Vec::with_capacity(mails.len());
        for (mail, inserted) in mails.iter().zip(inserted) {
            outcomes.push(if inserted {
                MailInsert::Inserted
            } else {
                existing(db, &mail.dedupe_key).await?
            });
        }
        Ok(outcomes)
    }

    /// Claims up to `limit` mails that are due (or whose sender's lease ran out), leased until
    /// `lease_until`, which is also the claim's fencing token for [`Store::finish_mail`].
    /// `FOR UPDATE SKIP LOCKED` gives each mail to one sender on PostgreSQL; SQLite has one writer.
    ///
    /// `held`: a dedupe-key prefix whose mails are left waiting (issue 19: invitations while a
    /// setting they need is missing), neither claimed nor counted as tries.
    pub async fn claim_mails(
        &self,
        now: i64,
        lease_until: i64,
        limit: u64,
        held: Option<&str>,
    ) -> StoreResult<Vec<mail_outbox::Model>> {
        let _turn = self.write_turn().await;
        let sql = format!(
            "UPDATE mail_outbox SET status = 'sending', locked_until = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE ((status = 'pending' AND next_attempt_at <= ?) \
             OR (status = 'sending' AND locked_until < ?)){} \
             ORDER BY next_attempt_at, id LIMIT ?{{lock}}) RETURNING *",
            if held.is_some() {
                " AND dedupe_key NOT LIKE ?"
            } else {
                ""
            }
        );
        let mut values: Vec<sea_orm::Value> = vec![lease_until.into(), now.into(), now.into()];
        if let Some(prefix) = held {
            values.push(format!("{prefix}%").into());
        }
        values.push((limit as i64).into());
        let mut claimed =
            mail_outbox::Model::find_by_statement(super::statement(self.backend(), &sql, values))
                .all(&self.db)
                .await?;
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(claimed)
    }

    /// Finishes a claimed mail: `Sent` (with `sent_at`), `Pending` again at `retry_at`, or
    /// `Dead`. Answers false when the claim identified by `lease` no longer holds the mail.
    pub async fn finish_mail(
        &self,
        id: &str,
        lease: i64,
        outcome: MailOutcome,
        now: i64,
    ) -> StoreResult<bool> {
        let lost = self
            .finish_mails(vec![(id.to_owned(), outcome)], lease, now)
            .await?;
        Ok(lost.is_empty())
    }

    /// Finishes mails claimed with `lease`, as [`Store::finish_mail`] does each; those sent
    /// together, with one statement, and the funnel follows in the same transaction (a sent
    /// invitation moves it on). Answers the ids the claim no longer held.
    pub async fn finish_mails(
        &self,
        finished: Vec<(String, MailOutcome)>,
        lease: i64,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        let mut lost = Vec::new();
        let mut sent = Vec::new();
        for (id, outcome) in finished {
            if matches!(outcome, MailOutcome::Sent) {
                sent.push(id);
                continue;
            }
            let _turn = self.write_turn().await;
            let update = finishing(outcome, lease, now).filter(Column::Id.eq(id.as_str()));
            if update.exec(&self.db).await?.rows_affected != 1 {
                lost.push(id);
            }
        }
        if sent.is_empty() {
            return Ok(lost);
        }
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let marked: std::collections::HashSet<String> = finishing(MailOutcome::Sent, lease, now)
            .filter(Column::Id.is_in(sent.iter().map(String::as_str)))
            .exec_with_returning(&txn)
            .await?
            .into_iter()
            .map(|mail| mail.id)
            .collect();
        if !marked.is_empty() {
            let invited: Vec<String> = invitation::Entity::find()
                .select_only()
                .column(invitation::Column::ApplicationId)
                .filter(invitation::Column::OutboxId.is_in(marked.iter().map(String::as_str)))
                .into_tuple()
                .all(&txn)
                .await?;
            let invited: Vec<&str> = invited.iter().map(String::as_str).collect();
            Store::refresh_funnel(&txn, &invited).await?;
        }
        txn.commit().await?;
        lost.extend(sent.into_iter().filter(|id| !marked.contains(id)));
        Ok(lost)
    }

    /// Mails newest first, at most `limit`: of a template (`kind`) and in a state as the outbox
    /// API names them (`scheduled`: waiting for its time or being sent; `failed`: waiting to be
    /// tried again; `sent`, `dead`, `cancelled`).
    pub async fn list_mails(
        &self,
        state: Option<OutboxState>,
        template: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<mail_outbox::Model>> {
        use sea_orm::{QueryOrder, QuerySelect};
        let mut query = Outbox::find();
        query = match state {
            None => query,
            Some(OutboxState::Scheduled) => query
                .filter(
                    Column::Status
                        .is_in([MailStatus::Pending.as_str(), MailStatus::Sending.as_str()]),
                )
                .filter(Column::LastError.is_null()),
            Some(OutboxState::Failed) => query
                .filter(Column::Status.eq(MailStatus::Pending.as_str()))
                .filter(Column::LastError.is_not_null()),
            Some(OutboxState::Is(status)) => query.filter(Column::Status.eq(status.as_str())),
        };
        if let Some(template) = template {
            query = query.filter(Column::Template.eq(template));
        }
        Ok(query
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Cancels a mail not sent yet (and not being sent), with `reason`; false when it is not
    /// waiting any more.
    pub async fn cancel_mail<C: ConnectionTrait>(
        db: &C,
        id: &str,
        reason: &str,
    ) -> StoreResult<bool> {
        let done = Outbox::update_many()
            .col_expr(Column::Status, Expr::value(MailStatus::Cancelled.as_str()))
            .col_expr(Column::CancelReason, Expr::value(reason))
            .col_expr(Column::Html, Expr::value(""))
            .col_expr(Column::TextBody, Expr::value(""))
            .col_expr(Column::Data, Expr::value(Option::<String>::None))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(MailStatus::Pending.as_str()))
            .exec(db)
            .await?;
        Ok(done.rows_affected == 1)
    }

    pub async fn get_mail(&self, id: &str) -> StoreResult<mail_outbox::Model> {
        Outbox::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("mail {id}")))
    }
}

/// A state as the outbox API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its time (never tried) or being sent.
    Scheduled,
    /// Tried and waiting to be tried again.
    Failed,
    Is(MailStatus),
}

impl OutboxState {
    pub fn parse(s: &str) -> Option<OutboxState> {
        Some(match s {
            "scheduled" => OutboxState::Scheduled,
            "failed" => OutboxState::Failed,
            "sent" => OutboxState::Is(MailStatus::Sent),
            "dead" => OutboxState::Is(MailStatus::Dead),
            "cancelled" => OutboxState::Is(MailStatus::Cancelled),
            _ => return None,
        })
    }

    /// The state of a row.
    pub fn of(row: &mail_outbox::Model) -> &'static str {
        match row.status.as_str() {
            "pending" if row.last_error.is_some() => "failed",
            "pending" | "sending" => "scheduled",
            "sent" => "sent",
            "dead" => "dead",
            _ => "cancelled",
        }
    }
}

/// How a claimed mail ends.
#[derive(Clone, Debug)]
pub enum MailOutcome {
    Sent,
    Retry {
        at: i64,
        error: String,
    },
    Dead {
        error: String,
    },
    /// Put back untried (the sender is stopping).
    Released,
    /// Not sent, and never to be: the invitation is no longer wanted, or its template no
    /// longer renders.
    Cancelled {
        reason: String,
    },
}

/// The update that finishes mails claimed with `lease` as `outcome` says (to be filtered to
/// their ids): a mail no longer held by that claim is left alone.
fn finishing(outcome: MailOutcome, lease: i64, now: i64) -> sea_orm::UpdateMany<Outbox> {
    let update = Outbox::update_many()
        .col_expr(Column::LockedUntil, Expr::value(Option::<i64>::None))
        .filter(Column::Status.eq(MailStatus::Sending.as_str()))
        .filter(Column::LockedUntil.eq(lease));
    match outcome {
        // A sent mail's body holds live tokens (tracking, unsubscribe, approval links) and
        // is not needed again: only its subject and headers stay (M9).
        MailOutcome::Sent => update
            .col_expr(Column::Status, Expr::value(MailStatus::Sent.as_str()))
            .col_expr(Column::SentAt, Expr::value(now))
            .col_expr(Column::Html, Expr::value(""))
            .col_expr(Column::TextBody, Expr::value(""))
            .col_expr(Column::Data, Expr::value(Option::<String>::None))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None)),
        MailOutcome::Cancelled { reason } => update
            .col_expr(Column::Status, Expr::value(MailStatus::Cancelled.as_str()))
            .col_expr(Column::Html, Expr::value(""))
            .col_expr(Column::TextBody, Expr::value(""))
            .col_expr(Column::Data, Expr::value(Option::<String>::None))
            .col_expr(Column::CancelReason, Expr::value(reason)),
        MailOutcome::Retry { at, error } => update
            .col_expr(Column::Status, Expr::value(MailStatus::Pending.as_str()))
            .col_expr(Column::NextAttemptAt, Expr::value(at))
            .col_expr(Column::LastError, Expr::value(error)),
        MailOutcome::Dead { error } => update
            .col_expr(Column::Status, Expr::value(MailStatus::Dead.as_str()))
            .col_expr(Column::LastError, Expr::value(error)),
        MailOutcome::Released => update
            .col_expr(Column::Status, Expr::value(MailStatus::Pending.as_str()))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1)),
    }
}

async fn existing<C: ConnectionTrait>(db: &C, dedupe_key: &str) -> StoreResult<MailInsert> {
    let row = Outbox::find()
        .filter(Column::DedupeKey.eq(dedupe_key))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("mail `{dedupe_key}` conflicts")))?;
    Ok(MailInsert::Existing(row.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    fn mail(id: &str, dedupe_key: &str) -> NewMail {
        NewMail {
            id: id.into(),
            dedupe_key: dedupe_key.into(),
            template: "t".into(),
            template_version: 1,
            recipient: "a@example.jp".into(),
            subject: "s".into(),
            html: "h".into(),
            text: "t".into(),
            headers: "{}".into(),
            data: None,
            message_id: format!("<{id}@test>"),
            send_at: 0,
            created_at: 0,
        }
    }

    /// Mails queued together: each dedupe key once, whether queued before or twice in one go.
    #[tokio::test]
    async fn mails_queued_together_are_each_queued_once_per_dedupe_key() {
        let (_dir, store) = store().await;
        let db = &store.db;
        Store::insert_mails(db, &[mail("mail_a", "k1")])
            .await
            .unwrap();
        let outcomes = Store::insert_mails(
            db,
            &[
                mail("mail_b", "k2"),
                mail("mail_c", "k1"),
                mail("mail_d", "k2"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            outcomes,
            [
                MailInsert::Inserted,
                MailInsert::Existing("mail_a".into()),
                MailInsert::Existing("mail_b".into()),
            ]
        );
        assert_eq!(Outbox::find().all(db).await.unwrap().len(), 2);
    }
}
