//! What the events of one batch share: look-ups that no event changes, read once per batch,
//! and writes that nothing in the batch reads back (the applications it creates, as their
//! events' actions leave them; KPI points, labels, status history: no two events of a batch
//! concern one application), each kind written with one statement when the batch ends (in its
//! transaction, before the events are marked done).
use sea_orm::ConnectionTrait;

use std::collections::{HashMap, HashSet};

use super::prepare::source_system;
use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::domain::invitation_policy::PastInvitations;
use crate::domain::payload::AtsStatusChange;
use crate::domain::status::NotificationKind;
use crate::mail::queued_as;
use crate::queue::HandleError;
use crate::relay::{self, PlannedInvitation};
use crate::store::applications::labels_column;
use crate::store::entities::{
    application, application_history, candidate, invitation, webhook_subscription,
};
use crate::store::kpis::NewKpi;
use crate::store::opt_outs::Standing;
use crate::store::outbox::NewMail;
use crate::store::Store;

/// Applications by what status changes name them with: (source system, source id), ATS id.
#[derive(Default)]
struct NamedApplications {
    by_source: HashMap<(String, String), application::Model>,
    by_ats: HashMap<String, application::Model>,
}

#[derive(Default)]
pub struct BatchScope {
    company_name: Option<String>,
    webhook_subscriptions: Option<Vec<webhook_subscription::Model>>,
    application_subscribers: Option<Vec<Email>>,
    routing_jobs: HashMap<String, Option<String>>,
    /// Candidates upserted for the whole batch, by email.
    candidates: HashMap<String, candidate::Model>,
    /// Imported applications upserted for the whole batch (and whether each was created), by
    /// BizReach application id.
    imports: HashMap<String, (application::Model, bool)>,
    /// The applications the batch's status changes name, looked up together.
    named: Option<NamedApplications>,
    kpis: Vec<NewKpi>,
    /// New label lists, by application (each application is the subject of one event).
    labels: Vec<(String, Vec<String>)>,
    /// Status history rows (read back only by a replay of their own event).
    history: Vec<application_history::ActiveModel>,
    /// Applications the batch creates (imports new to hirelay, status changes of applications
    /// it did not know), by id: inserted when the batch ends, as their events' actions left
    /// them (labels, job), so each is written once.
    created: HashMap<String, application::Model>,
    /// Whether applications have an invitation: those status changes name, looked up
    /// together, and those the batch creates (none).
    invited: HashMap<String, bool>,
    /// C8: the invitations candidates have had, by candidate id: those of the applications
    /// the batch's status changes name, looked up together.
    past_invitations: HashMap<String, PastInvitations>,
    /// C8: what candidates' addresses said about invitations (opt-out, consent), by candidate
    /// id: looked up for a status change's `ctx`, read again when it invites.
    standings: HashMap<String, Standing>,
    /// Invitations and mails to store (nothing in the batch reads them back).
    invitations: Vec<PlannedInvitation>,
    mails: Vec<NewMail>,
}

impl BatchScope {
    /// The active outbound webhook subscriptions (subscribing is an admin call, not an event).
    pub async fn webhook_subscriptions<C: ConnectionTrait>(
        &mut self,
        db: &C,
    ) -> Result<&[webhook_subscription::Model], HandleError> {
        if self.webhook_subscriptions.is_none() {
            self.webhook_subscriptions = Some(Store::webhook_subscriptions(db).await?);
        }
        Ok(self.webhook_subscriptions.as_deref().unwrap_or_default())
    }

    /// Whether an active subscription receives `event_type` (so its payload is worth building).
    pub async fn webhook_wanted<C: ConnectionTrait>(
        &mut self,
        db: &C,
        event_type: &str,
    ) -> Result<bool, HandleError> {
        for sub in self.webhook_subscriptions(db).await? {
            if Store::subscribes_to(sub, event_type)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The users who want to hear of `kind`.
    pub async fn subscribers<C: ConnectionTrait>(
        &mut self,
        db: &C,
        kind: NotificationKind,
    ) -> Result<&[Email], HandleError> {
        let cached = match kind {
            NotificationKind::BizreachApplication => &mut self.application_subscribers,
        };
        if cached.is_none() {
            *cached = Some(Store::subscribers_for(db, kind).await?);
        }
        Ok(cached.as_deref().unwrap_or_default())
    }

    /// I7: the job a position name routes to (routing rules are made by admins, not events).
    pub async fn routing_job<C: ConnectionTrait>(
        &mut self,
        db: &C,
        position_name: &str,
    ) -> Result<Option<String>, HandleError> {
        if let Some(job) = self.routing_jobs.get(position_name) {
            return Ok(job.clone());
        }
        let job = Store::routing_job_for(db, position_name).await?;
        self.routing_jobs
            .insert(position_name.to_owned(), job.clone());
        Ok(job)
    }

    /// Looks up the jobs of several position names at once, for [`BatchScope::routing_job`].
    pub async fn find_routing_jobs<C: ConnectionTrait>(
        &mut self,
        db: &C,
        position_names: &[&str],
    ) -> Result<(), HandleError> {
        let wanted: Vec<&str> = position_names
            .iter()
            .copied()
            .filter(|p| !self.routing_jobs.contains_key(*p))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut found = Store::routing_jobs_for(db, &wanted).await?;
        for position in wanted {
            self.routing_jobs
                .insert(position.to_owned(), found.remove(position));
        }
        Ok(())
    }

    /// The company name candidate emails show, found once by `find`.
    pub async fn company_name<F>(&mut self, find: F) -> &str
    where
        F: std::future::Future<Output = String>,
    {
        if self.company_name.is_none() {
            self.company_name = Some(find.await);
        }
        self.company_name.as_deref().unwrap_or_default()
    }

    /// Keeps candidates upserted for the batch, by email.
    pub fn keep_candidates(&mut self, candidates: HashMap<String, candidate::Model>) {
        self.candidates = candidates;
    }

    /// The candidate kept for `email`.
    pub fn candidate(&self, email: &str) -> Option<&candidate::Model> {
        self.candidates.get(email)
    }

    /// Takes the candidate kept for `email`, for its event.
    pub fn take_candidate(&mut self, email: &str) -> Option<candidate::Model> {
        self.candidates.remove(email)
    }

    /// Keeps an imported application (and whether it is new) for its event.
    pub fn keep_import(&mut self, application: application::Model, created: bool) {
        let id = application
            .source_application_id
            .clone()
            .unwrap_or_default();
        if created {
            self.create_application(application.clone());
        }
        self.imports.insert(id, (application, created));
    }

    /// Takes the application kept for BizReach application `id`, for its event.
    pub fn take_import(&mut self, id: &str) -> Option<(application::Model, bool)> {
        self.imports.remove(id)
    }

    /// Keeps the applications found for the batch's status changes.
    pub fn keep_named_applications(&mut self, found: Vec<application::Model>) {
        let mut named = NamedApplications::default();
        for app in found {
            if let Some(ats) = &app.ats_application_id {
                named.by_ats.insert(ats.clone(), app.clone());
            }
            if let (Some(system), Some(id)) = (&app.source_system, &app.source_application_id) {
                named.by_source.insert((system.clone(), id.clone()), app);
            }
        }
        self.named = Some(named);
    }

    /// The application a status change names, as looked up for the batch: by its source
    /// first, then by its ATS id (`Some(None)`: it has none yet); `None` when not looked up.
    pub fn named_application(&self, c: &AtsStatusChange) -> Option<Option<application::Model>> {
        let named = self.named.as_ref()?;
        let by_source = c.source.as_ref().and_then(|s| {
            let key = (
                source_system(s.system.as_str()).to_owned(),
                s.application_id.as_str().to_owned(),
            );
            named.by_source.get(&key)
        });
        let by_ats = || {
            c.ats_application_id
                .as_ref()
                .and_then(|a| named.by_ats.get(a.as_str()))
        };
        Some(by_source.or_else(by_ats).cloned())
    }

    /// Whether writes were made for events not handled yet (candidates, imports).
    pub fn has_kept_writes(&self) -> bool {
        !self.imports.is_empty() || !self.candidates.is_empty()
    }

    /// A KPI data point, written when the batch ends.
    pub fn record_kpi(&mut self, kpi: NewKpi) {
        self.kpis.push(kpi);
    }

    /// A status history row, written when the batch ends.
    pub fn write_history(&mut self, row: application_history::ActiveModel) {
        self.history.push(row);
    }

    /// An application's new labels: part of its row if the batch creates it, otherwise
    /// written when the batch ends.
    pub fn set_labels(&mut self, application_id: String, labels: Vec<String>) {
        match self.created.get_mut(&application_id) {
            Some(row) => row.labels = labels_column(&labels),
            None => self.labels.push((application_id, labels)),
        }
    }

    /// Routes an application to an existing job: part of its row if the batch creates it.
    pub async fn set_job<C: ConnectionTrait>(
        &mut self,
        db: &C,
        application_id: &str,
        job_id: &str,
    ) -> Result<(), HandleError> {
        match self.created.get_mut(application_id) {
            Some(row) => row.job_id = Some(job_id.to_owned()),
            None => Store::set_job(db, application_id, job_id).await?,
        }
        Ok(())
    }

    /// An application the batch creates (it has no invitation), inserted when it ends.
    pub fn create_application(&mut self, application: application::Model) {
        self.invited.insert(application.id.clone(), false);
        self.created.insert(application.id.clone(), application);
    }

    /// Keeps which of `looked_up` (applications the batch's status changes name) have an
    /// invitation: those in `invited`.
    pub fn keep_invited(&mut self, looked_up: &[&str], invited: &HashSet<String>) {
        self.invited.extend(
            looked_up
                .iter()
                .map(|id| ((*id).to_owned(), invited.contains(*id))),
        );
    }

    /// Keeps what invitations `looked_up` candidates have had: those in `past` (none for the
    /// others).
    pub fn keep_past_invitations(
        &mut self,
        looked_up: &[&str],
        mut past: HashMap<String, PastInvitations>,
    ) {
        self.past_invitations.extend(looked_up.iter().map(|id| {
            let found = past.remove(*id).unwrap_or_default();
            ((*id).to_owned(), found)
        }));
    }

    /// C8: the invitations a candidate has had, stored or planned in this batch.
    pub async fn past_invitations<C: ConnectionTrait>(
        &self,
        db: &C,
        candidate_id: &str,
    ) -> Result<PastInvitations, HandleError> {
        let stored = match self.past_invitations.get(candidate_id) {
            Some(past) => *past,
            None => Store::past_invitations(db, &[candidate_id])
                .await?
                .remove(candidate_id)
                .unwrap_or_default(),
        };
        Ok(self
            .invitations
            .iter()
            .filter(|p| p.invitation.candidate_id == candidate_id)
            .fold(stored, |past, p| past.with_invitation(p.invitation.send_at)))
    }

    /// C8: looks up what the addresses of `candidates` (upserted for the batch) said about
    /// Career Relay invitations, with two queries, for [`BatchScope::standing`].
    pub async fn find_standings<C: ConnectionTrait>(
        &mut self,
        db: &C,
        key: &AddressKey,
        candidates: &[&candidate::Model],
    ) -> Result<(), HandleError> {
        let hashed: Vec<(&str, crate::crypto::AddressHash)> = candidates
            .iter()
            .filter_map(|c| {
                Email::parse(&c.email)
                    .ok()
                    .map(|e| (c.id.as_str(), key.hash(&e)))
            })
            .collect();
        let hashes: Vec<_> = hashed.iter().map(|(_, h)| h.clone()).collect();
        let mut found = crate::store::Store::standings(
            db,
            &hashes,
            crate::domain::message_kind::MessageKind::CareerRelayInvitation,
        )
        .await?;
        for (id, hash) in hashed {
            self.standings
                .insert(id.to_owned(), found.remove(&hash).unwrap_or_default());
        }
        Ok(())
    }

    /// C8: the standing of the candidate's address, if it was looked up already.
    pub fn known_standing(&self, candidate_id: &str) -> Option<Standing> {
        self.standings.get(candidate_id).cloned()
    }

    /// C8: what the candidate's address said about Career Relay invitations, looked up once a
    /// batch (nothing in the batch opts out or records consent after its event's domain step).
    pub async fn standing<C: ConnectionTrait>(
        &mut self,
        db: &C,
        key: &AddressKey,
        candidate: &candidate::Model,
    ) -> Result<Standing, HandleError> {
        if let Some(known) = self.standings.get(&candidate.id) {
            return Ok(known.clone());
        }
        let address = Email::parse(&candidate.email).map_err(|e| {
            crate::store::StoreError::Corrupt(format!("candidate {}: address {e}", candidate.id))
        })?;
        let standing = relay::standing(db, key, &address).await?;
        self.standings
            .insert(candidate.id.clone(), standing.clone());
        Ok(standing)
    }

    /// Whether the application has an invitation (C8), stored or kept for this batch.
    pub async fn already_invited<C: ConnectionTrait>(
        &self,
        db: &C,
        application_id: &str,
    ) -> Result<bool, HandleError> {
        if self
            .invitations
            .iter()
            .any(|p| p.invitation.application_id == application_id)
        {
            return Ok(true);
        }
        Ok(match self.invited.get(application_id) {
            Some(invited) => *invited,
            None => Store::invitation_for_application(db, application_id)
                .await?
                .is_some(),
        })
    }

    /// An invitation and its email, stored when the batch ends.
    pub fn invite(&mut self, planned: PlannedInvitation) {
        self.invitations.push(planned);
    }

    /// A rendered mail, queued when the batch ends.
    pub fn queue_mail(&mut self, mail: NewMail) {
        self.mails.push(mail);
    }

    /// Writes what was kept for the end of the batch.
    ///
    /// `RUST_LOG=hirelay::pipeline=debug` logs how long each kind of write took.
    pub async fn flush<C: ConnectionTrait>(&mut self, db: &C) -> Result<(), HandleError> {
        let mut lap = Lap::start();
        let created: Vec<application::Model> = self.created.drain().map(|(_, a)| a).collect();
        Store::insert_applications(db, &created).await?;
        let applications_us = lap.next();
        Store::set_labels(db, &self.labels).await?;
        self.labels.clear();
        let labels_us = lap.next();
        let planned = std::mem::take(&mut self.invitations);
        let applications: Vec<String> = planned
            .iter()
            .map(|p| p.invitation.application_id.clone())
            .collect();
        let invited = relay::create(db, planned).await.map_err(|e| match e {
            relay::RelayError::Store(e) => HandleError::from(e),
            other => HandleError::Transient(other.into()),
        })?;
        for (application, outcome) in applications.iter().zip(&invited) {
            tracing::info!(%application, %outcome, "career relay invitation");
        }
        let invitations_us = lap.next();
        let stored: Vec<&invitation::Model> = invited
            .iter()
            .filter_map(|outcome| match outcome {
                relay::Invited::Queued(model) => Some(model.as_ref()),
                _ => None,
            })
            .collect();
        if !stored.is_empty() {
            let subscriptions = self.webhook_subscriptions(db).await?.to_vec();
            relay::announce::invited(db, &subscriptions, &stored).await?;
        }
        let mails = std::mem::take(&mut self.mails);
        let outcomes = Store::insert_mails(db, &mails).await?;
        for (mail, outcome) in mails.iter().zip(outcomes) {
            queued_as(mail, outcome);
        }
        let mails_us = lap.next();
        // Last, the writes that add to shared daily counters (`funnel_days` with the history,
        // `kpi_days` with the KPI points): every batch of a day adds to the same rows, and on
        // PostgreSQL a worker holds their row locks from its upsert until it commits, so
        // concurrent workers wait for each other there. Written here, the locks are held for
        // the batch's closing writes only. (The funnel's facts read the batch's invitations
        // and mails, so they are refreshed after those.)
        Store::insert_history(db, std::mem::take(&mut self.history)).await?;
        let history_us = lap.next();
        Store::record_kpis(db, &self.kpis).await?;
        self.kpis.clear();
        let kpis_us = lap.next();
        tracing::debug!(
            applications = created.len(),
            applications_us,
            kpis_us,
            labels_us,
            history_us,
            invitations = applications.len(),
            invitations_us,
            mails_us,
            "batch writes"
        );
        Ok(())
    }
}

/// Microseconds between successive calls, for the debug log of a batch's writes.
struct Lap(std::time::Instant);

impl Lap {
    fn start() -> Lap {
        Lap(std::time::Instant::now())
    }

    /// Microseconds since the last call (or the start).
    fn next(&mut self) -> u64 {
        let now = std::time::Instant::now();
        let us = (now - self.0).as_micros() as u64;
        self.0 = now;
        us
    }
}
