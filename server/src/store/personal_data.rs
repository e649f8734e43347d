//! Issue 16: everything hirelay holds on one person, found the way an erasure finds it
//! ([`super::erasure`]), for `GET /v1/candidates/{id}/export`.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::person_lookup::{
    application_ids, foreign_ids, invitation_ids, person_events, person_mails,
};
use super::{Store, StoreError, StoreResult};
use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::store::entities::{
    application, application_history, audit_entry, candidate, consent, decision, event, invitation,
    kpi_record, mail_outbox, opt_out,
};

/// One person's rows, by table.
pub struct PersonRecords {
    pub candidate: candidate::Model,
    pub applications: Vec<application::Model>,
    pub history: Vec<application_history::Model>,
    pub invitations: Vec<invitation::Model>,
    pub events: Vec<event::Model>,
    pub decisions: Vec<decision::Model>,
    pub mails: Vec<mail_outbox::Model>,
    pub kpi_records: Vec<kpi_record::Model>,
    pub opt_outs: Vec<opt_out::Model>,
    pub consents: Vec<consent::Model>,
    pub audit: Vec<audit_entry::Model>,
}

impl Store {
    /// Every row about candidate `id` (an erased one answers its tombstones).
    pub async fn person_records<C: ConnectionTrait>(
        db: &C,
        id: &str,
        key: &AddressKey,
    ) -> StoreResult<PersonRecords> {
        let candidate = candidate::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("candidate `{id}`")))?;
        let ids = application_ids(db, id).await?;
        let app_ids: Vec<String> = ids.iter().map(|a| a.id.clone()).collect();
        let invited = invitation_ids(db, id).await?;
        let event_ids =
            person_events(db, &candidate, key, &app_ids, &foreign_ids(&ids), &invited).await?;
        let mail_ids = person_mails(db, &candidate, &app_ids, &event_ids, &invited).await?;
        let (opt_outs, consents) = match Email::parse(&candidate.email) {
            Ok(address) => {
                let hash = key.hash(&address);
                (
                    Store::opt_outs_of(db, &hash).await?,
                    Store::consents_of(db, &hash).await?,
                )
            }
            Err(_) => (Vec::new(), Vec::new()),
        };
        Ok(PersonRecords {
            applications: application::Entity::find()
                .filter(application::Column::CandidateId.eq(id))
                .order_by_asc(application::Column::CreatedAt)
                .all(db)
                .await?,
            history: application_history::Entity::find()
                .filter(application_history::Column::ApplicationId.is_in(app_ids.clone()))
                .order_by_asc(application_history::Column::Id)
                .all(db)
                .await?,
            invitations: invitation::Entity::find()
                .filter(invitation::Column::CandidateId.eq(id))
                .all(db)
                .await?,
            events: event::Entity::find()
                .filter(event::Column::Id.is_in(event_ids.clone()))
                .order_by_asc(event::Column::ReceivedAt)
                .all(db)
                .await?,
            decisions: decision::Entity::find()
                .filter(decision::Column::EventId.is_in(event_ids.clone()))
                .order_by_asc(decision::Column::Id)
                .all(db)
                .await?,
            mails: mail_outbox::Entity::find()
                .filter(mail_outbox::Column::Id.is_in(mail_ids))
                .order_by_asc(mail_outbox::Column::CreatedAt)
                .all(db)
                .await?,
            kpi_records: kpi_record::Entity::find()
                .filter(kpi_record::Column::EventId.is_in(event_ids))
                .order_by_asc(kpi_record::Column::Id)
                .all(db)
                .await?,
            audit: audit_entry::Entity::find()
                .filter(audit_entry::Column::CandidateId.eq(id))
                .order_by_asc(audit_entry::Column::Id)
                .all(db)
                .await?,
            opt_outs,
            consents,
            candidate,
        })
    }
}
