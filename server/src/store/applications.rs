//! Applications and candidates: candidates are one per normalised email (C8); BizReach
//! applications one per BizReach id (a re-import updates, never duplicates); ATS status changes
//! are kept as history and applied only when newer than what was applied (by `changed_at`).
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};
use serde_json::{json, Value};
use std::collections::HashMap;

use super::entities::{application, application_history, candidate, job};
use super::{json_column, Store, StoreError, StoreResult};
use crate::domain::email::Email;
use crate::domain::ids::new_id;

/// The source system of BizReach imports.
pub const BIZREACH: &str = "bizreach";

/// What identifies an imported application: its source and its id there.
const SOURCE_KEY: [application::Column; 2] = [
    application::Column::SourceSystem,
    application::Column::SourceApplicationId,
];

/// A candidate as an import or a status change describes them.
pub struct CandidateIn<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub attributes: &'a serde_json::Map<String, Value>,
    pub bizreach_candidate_id: Option<&'a str>,
}

/// A BizReach application to import.
#[derive(Clone)]
pub struct ImportIn<'a> {
    pub group_account_id: &'a str,
    pub source_application_id: &'a str,
    pub channel: &'a str,
    pub position_name: &'a str,
    pub source_status: &'a str,
    pub applied_at: i64,
    pub imported_via: &'a str,
}

/// An ATS status change to record.
pub struct StatusChangeIn<'a> {
    pub event_id: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub stage: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub changed_at: i64,
}

/// What recording a status change came to.
pub struct StatusChangeOutcome {
    pub application: application::Model,
    /// Whether it changed the application (false: older than the newest applied, or the same).
    pub applied: bool,
    pub previous_status: String,
    /// The history row to write (`None`: a replayed event found its row written).
    pub history: Option<application_history::ActiveModel>,
}

impl Store {
    /// Creates or updates the candidate with this email; answers it.
    pub async fn upsert_candidate<C: ConnectionTrait>(
        db: &C,
        c: CandidateIn<'_>,
    ) -> StoreResult<candidate::Model> {
        let email = c.email.clone();
        Self::upsert_candidates(db, &[c])
            .await?
            .remove(email.as_str())
            .ok_or_else(|| StoreError::NotFound(format!("candidate {}", email.redacted())))
    }

    /// Creates or updates candidates (distinct emails): the name always, the phone,
    /// attributes and BizReach id only when given. Answers them by email.
    ///
    /// New candidates are inserted with one statement and answered as built; only those that
    /// exist are read back, from the statement that updates them.
    pub async fn upsert_candidates<C: ConnectionTrait>(
        db: &C,
        list: &[CandidateIn<'_>],
    ) -> StoreResult<HashMap<String, candidate::Model>> {
        if list.is_empty() {
            return Ok(HashMap::new());
        }
        let now = crate::domain::time::now_millis();
        let rows: Vec<candidate::Model> = list
            .iter()
            .map(|c| candidate::Model {
                id: new_id("cand"),
                email: c.email.as_str().to_owned(),
                name: c.name.to_owned(),
                phone: c.phone.map(str::to_owned),
                attributes: Value::Object(c.attributes.clone()).to_string(),
                bizreach_candidate_id: c.bizreach_candidate_id.map(str::to_owned),
                opted_out_at: None,
                created_at: now,
                updated_at: now,
                erased_at: None,
            })
            .collect();
        if rows.len() == 1 {
            // One statement, not a look-up and a statement.
            return Self::upsert_known_candidates(db, rows).await;
        }
        // Most candidates of a batch are new: inserted outright, and only those that were not
        // are upserted (and read back) with a second statement.
        let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        let inserted = super::insert_each::<candidate::Entity, _, _>(
            db,
            rows.iter().cloned(),
            &ids,
            candidate::Column::Id,
            [candidate::Column::Email],
        )
        .await?;
        let mut answer = HashMap::with_capacity(list.len());
        let mut known = Vec::new();
        for (row, inserted) in rows.into_iter().zip(inserted) {
            if inserted {
                answer.insert(row.email.clone(), row);
            } else {
                known.push(row);
            }
        }
        answer.extend(Self::upsert_known_candidates(db, known).await?);
        Ok(answer)
    }

    /// The candidates of `rows` inserted, or updated where their email is known, and read back.
    async fn upsert_known_candidates<C: ConnectionTrait>(
        db: &C,
        rows: Vec<candidate::Model>,
    ) -> StoreResult<HashMap<String, candidate::Model>> {
        if rows.is_empty() {
            return Ok(HashMap::new());
        }
        let stored = candidate::Entity::insert_many(rows.into_iter().map(candidate::ActiveModel::from))
            .on_conflict(
                OnConflict::column(candidate::Column::Email)
                    .update_columns([candidate::Column::Name, candidate::Column::UpdatedAt])
                    .values([
                        (
                            candidate::Column::Phone,
                            Expr::cust("COALESCE(excluded.phone, candidates.phone)"),
                        ),
                        (
                            candidate::Column::Attributes,
                            Expr::cust("CASE WHEN excluded.attributes = '{}' THEN candidates.attributes ELSE excluded.attributes END"),
                        ),
                        (
                            candidate::Column::BizreachCandidateId,
                            Expr::cust("COALESCE(excluded.bizreach_candidate_id, candidates.bizreach_candidate_id)"),
                        ),
                    ])
                    .to_owned(),
            )
            .exec_with_returning_many(db)
            .await?;
        Ok(stored.into_iter().map(|c| (c.email.clone(), c)).collect())
    }

    /// Creates the application of this BizReach id, or updates what BizReach may change
    /// (status, position, channel); answers it and whether it was created.
    pub async fn upsert_import<C: ConnectionTrait>(
        db: &C,
        candidate_id: &str,
        i: ImportIn<'_>,
    ) -> StoreResult<(application::Model, bool)> {
        let id = i.source_application_id.to_owned();
        let (app, created) = Self::plan_imports(db, &[(candidate_id, i)])
            .await?
            .remove(&id)
            .ok_or_else(|| StoreError::NotFound(format!("BizReach application {id}")))?;
        if created {
            Self::insert_applications(db, std::slice::from_ref(&app)).await?;
        }
        Ok((app, created))
    }

    /// [`Store::upsert_import`] of many (distinct BizReach ids), but a new application is
    /// only built: answers each application, and whether it is new, by BizReach id. Known
    /// ones are updated with one statement; new ones are for the caller to store with
    /// [`Store::insert_applications`] once its events' actions are done, so an import's
    /// labels and job are written with it, not by a second write.
    pub async fn plan_imports<C: ConnectionTrait>(
        db: &C,
        list: &[(&str, ImportIn<'_>)],
    ) -> StoreResult<HashMap<String, (application::Model, bool)>> {
        if list.is_empty() {
            return Ok(HashMap::new());
        }
        let source_ids: Vec<(&str, &str)> = list
            .iter()
            .map(|(_, i)| (BIZREACH, i.source_application_id))
            .collect();
        let known: std::collections::HashSet<String> =
            Self::find_applications_named(db, &source_ids, &[])
                .await?
                .into_iter()
                .filter_map(|a| a.source_application_id)
                .collect();
        let now = crate::domain::time::now_millis();
        let source_id =
            |a: &application::Model| a.source_application_id.clone().unwrap_or_default();
        let mut answer = HashMap::with_capacity(list.len());
        let mut updates = Vec::new();
        for (candidate_id, i) in list {
            let row = application::Model {
                source_system: Some(BIZREACH.to_owned()),
                source_application_id: Some(i.source_application_id.to_owned()),
                group_account_id: Some(i.group_account_id.to_owned()),
                channel: Some(i.channel.to_owned()),
                position_name: Some(i.position_name.to_owned()),
                source_status: Some(i.source_status.to_owned()),
                applied_at: Some(i.applied_at),
                ..new_application(candidate_id, i.imported_via, now)
            };
            if known.contains(i.source_application_id) {
                updates.push(row);
            } else {
                answer.insert(source_id(&row), (row, true));
            }
        }
        if updates.is_empty() {
            return Ok(answer);
        }
        // Update what BizReach may change; a row that comes back carries one of the new ids
        // only when it was inserted (deleted since it was looked up).
        let new_ids: std::collections::HashSet<String> =
            updates.iter().map(|a| a.id.clone()).collect();
        let stored = application::Entity::insert_many(
            updates.into_iter().map(application::ActiveModel::from),
        )
        .on_conflict(
            OnConflict::columns(SOURCE_KEY)
                .update_columns([
                    application::Column::SourceStatus,
                    application::Column::PositionName,
                    application::Column::Channel,
                    application::Column::GroupAccountId,
                    application::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_with_returning_many(db)
        .await?;
        answer.extend(stored.into_iter().map(|a| {
            let created = new_ids.contains(&a.id);
            (source_id(&a), (a, created))
        }));
        Ok(answer)
    }

    pub async fn find_application_by_source<C: ConnectionTrait>(
        db: &C,
        system: &str,
        id: &str,
    ) -> StoreResult<Option<application::Model>> {
        Ok(application::Entity::find()
            .filter(application::Column::SourceSystem.eq(system))
            .filter(application::Column::SourceApplicationId.eq(id))
            .one(db)
            .await?)
    }

    /// The applications with any of these (source system, source id) pairs or ATS ids, with
    /// one look-up.
    pub async fn find_applications_named<C: ConnectionTrait>(
        db: &C,
        by_source: &[(&str, &str)],
        by_ats: &[&str],
    ) -> StoreResult<Vec<application::Model>> {
        use sea_orm::Condition;
        let mut systems: HashMap<&str, Vec<&str>> = HashMap::new();
        for (system, id) in by_source {
            systems.entry(system).or_default().push(id);
        }
        let mut any = Condition::any();
        for (system, ids) in systems {
            any = any.add(
                Condition::all()
                    .add(application::Column::SourceSystem.eq(system))
                    .add(application::Column::SourceApplicationId.is_in(ids)),
            );
        }
        if !by_ats.is_empty() {
            any = any.add(application::Column::AtsApplicationId.is_in(by_ats.iter().copied()));
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        Ok(application::Entity::find().filter(any).all(db).await?)
    }

    pub async fn find_application_by_ats_id<C: ConnectionTrait>(
        db: &C,
        ats_id: &str,
    ) -> StoreResult<Option<application::Model>> {
        Ok(application::Entity::find()
            .filter(application::Column::AtsApplicationId.eq(ats_id))
            .one(db)
            .await?)
    }

    pub async fn get_application<C: ConnectionTrait>(
        db: &C,
        id: &str,
    ) -> StoreResult<application::Model> {
        application::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("application {id}")))
    }

    /// An application the ATS tells of first (not imported): not stored until its first status
    /// change is recorded ([`Store::record_status_change`] with `new_application`).
    pub fn new_ats_application(candidate_id: &str, ats_id: &str) -> application::Model {
        application::Model {
            ats_application_id: Some(ats_id.to_owned()),
            ..new_application(candidate_id, "ats", crate::domain::time::now_millis())
        }
    }

    /// Inserts new applications with one statement. One that another writer stored first
    /// (its BizReach or ATS id taken meanwhile) fails the whole, as a conflict: the caller's
    /// transaction is given up and retried, and then finds it. A plain `INSERT`, since nothing
    /// is kept on a conflict: `ON CONFLICT DO NOTHING` would have PostgreSQL check the unique
    /// keys before each row as well as while inserting it.
    pub async fn insert_applications<C: ConnectionTrait>(
        db: &C,
        apps: &[application::Model],
    ) -> StoreResult<()> {
        if apps.is_empty() {
            return Ok(());
        }
        application::Entity::insert_many(apps.iter().cloned().map(application::ActiveModel::from))
            .exec_without_returning(db)
            .await
            .map_err(|e| {
                if StoreError::is_unique_violation(&e) {
                    StoreError::Conflict(
                        "an application was created meanwhile by another writer".into(),
                    )
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    /// Links an application to its ATS id (first status change of an imported application).
    pub async fn set_ats_id<C: ConnectionTrait>(
        db: &C,
        app: application::Model,
        ats_id: &str,
    ) -> StoreResult<application::Model> {
        if app.ats_application_id.as_deref() == Some(ats_id) {
            return Ok(app);
        }
        let mut active: application::ActiveModel = app.into();
        active.ats_application_id = Set(Some(ats_id.to_owned()));
        Ok(application::Entity::update(active).exec(db).await?)
    }

    /// Records a status change in the history and applies it when it is newer than the newest
    /// applied one (an out-of-order delivery is recorded but changes nothing).
    ///
    /// `new_application`: `app` is not stored yet (the change creates it): it is answered
    /// with the change applied, for the caller to insert with others
    /// ([`Store::insert_applications`]). The history row is answered, not written: the caller
    /// writes it with others ([`Store::insert_history`]).
    pub async fn record_status_change<C: ConnectionTrait>(
        db: &C,
        app: application::Model,
        new_application: bool,
        change: StatusChangeIn<'_>,
    ) -> StoreResult<StatusChangeOutcome> {
        let now = crate::domain::time::now_millis();
        let previous_status = app.status.clone();
        // A replayed event finds its own change recorded: it is applied again only if it is
        // still what the application shows.
        // By event id alone, so the event-id index serves it (an application may have a long
        // history); the application is checked here.
        // An application with no applied change has no recorded one either (recording an
        // out-of-order change needs an applied one): nothing to look up.
        let recorded = match app.status_changed_at {
            None => None,
            Some(_) => application_history::Entity::find()
                .filter(application_history::Column::EventId.eq(change.event_id))
                .all(db)
                .await?
                .into_iter()
                .find(|row| row.application_id == app.id),
        };
        if let Some(row) = recorded {
            let applied = row.applied
                && app.status_changed_at == Some(change.changed_at)
                && app.status == change.to_status;
            let previous_status = row.from_status.unwrap_or(previous_status);
            return Ok(StatusChangeOutcome {
                application: app,
                applied,
                previous_status,
                history: None,
            });
        }
        let applied = match app.status_changed_at {
            None => true,
            Some(current) => {
                change.changed_at > current
                    || (change.changed_at == current && change.to_status != app.status)
            }
        };
        let history = application_history::ActiveModel {
            id: Default::default(),
            application_id: Set(app.id.clone()),
            event_id: Set(Some(change.event_id.to_owned())),
            from_status: Set(change.from_status.map(str::to_owned)),
            to_status: Set(change.to_status.to_owned()),
            stage: Set(change.stage.map(str::to_owned)),
            reason: Set(change.reason.map(str::to_owned)),
            changed_at: Set(change.changed_at),
            applied: Set(applied),
            recorded_at: Set(now),
        };
        let application = if applied {
            let changed = application::Model {
                status: change.to_status.to_owned(),
                status_changed_at: Some(change.changed_at),
                stage: change.stage.map(str::to_owned),
                reason: change.reason.map(str::to_owned),
                updated_at: now,
                ..app
            };
            if new_application {
                changed
            } else {
                let mut active: application::ActiveModel = changed.into();
                for column in [
                    application::Column::Status,
                    application::Column::StatusChangedAt,
                    application::Column::Stage,
                    application::Column::Reason,
                    application::Column::UpdatedAt,
                ] {
                    sea_orm::ActiveModelTrait::reset(&mut active, column);
                }
                application::Entity::update(active).exec(db).await?
            }
        } else {
            app
        };
        Ok(StatusChangeOutcome {
            application,
            applied,
            previous_status,
            history: Some(history),
        })
    }

    /// Writes history rows answered by [`Store::record_status_change`], with one statement.
    pub async fn insert_history<C: ConnectionTrait>(
        db: &C,
        rows: Vec<application_history::ActiveModel>,
    ) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // The funnel counts applied rejections (its counters are kept in this transaction).
        let rejected: Vec<String> = rows
            .iter()
            .filter(|r| {
                matches!(&r.to_status, sea_orm::ActiveValue::Set(s) if s == "rejected")
                    && matches!(r.applied, sea_orm::ActiveValue::Set(true))
            })
            .filter_map(|r| match &r.application_id {
                sea_orm::ActiveValue::Set(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        application_history::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        let rejected: Vec<&str> = rejected.iter().map(String::as_str).collect();
        Self::refresh_funnel(db, &rejected).await
    }

    /// Sets the labels of applications, each to its own list, with one statement.
    pub async fn set_labels<C: ConnectionTrait>(
        db: &C,
        labels: &[(String, Vec<String>)],
    ) -> StoreResult<()> {
        if labels.is_empty() {
            return Ok(());
        }
        // Joined to the new lists: a `CASE` of one branch per application compared each row
        // with every id (5 ms for 128 applications on PostgreSQL).
        let rows = vec!["(?, ?)"; labels.len()].join(", ");
        let sql = format!(
            "UPDATE applications SET labels = v.column2, updated_at = ? \
             FROM (VALUES {rows}) AS v WHERE applications.id = v.column1"
        );
        let mut values = Vec::with_capacity(1 + 2 * labels.len());
        values.push(crate::domain::time::now_millis().into());
        for (id, list) in labels {
            values.push(id.as_str().into());
            values.push(labels_column(list).into());
        }
        let backend = db.get_database_backend();
        db.execute(super::statement(backend, &sql, values)).await?;
        Ok(())
    }

    /// Routes an application to a job (it leaves the import inbox).
    pub async fn set_job<C: ConnectionTrait>(
        db: &C,
        app_id: &str,
        job_id: &str,
    ) -> StoreResult<()> {
        if job::Entity::find_by_id(job_id).one(db).await?.is_none() {
            return Err(StoreError::NotFound(format!("job {job_id}")));
        }
        application::Entity::update_many()
            .col_expr(application::Column::JobId, Expr::value(job_id))
            .col_expr(
                application::Column::UpdatedAt,
                Expr::value(crate::domain::time::now_millis()),
            )
            .filter(application::Column::Id.eq(app_id))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Gives an application that has none a position name (the ATS job's title, issue 19).
    pub async fn set_position_name<C: ConnectionTrait>(
        db: &C,
        app_id: &str,
        position_name: &str,
    ) -> StoreResult<()> {
        application::Entity::update_many()
            .col_expr(
                application::Column::PositionName,
                Expr::value(position_name),
            )
            .filter(application::Column::Id.eq(app_id))
            .filter(application::Column::PositionName.is_null())
            .exec(db)
            .await?;
        Ok(())
    }

    /// The hirelay job that mirrors an ATS job, created on first sight.
    pub async fn job_for_ats<C: ConnectionTrait>(
        db: &C,
        ats_job_id: &str,
        title: Option<&str>,
    ) -> StoreResult<job::Model> {
        if let Some(found) = job::Entity::find()
            .filter(job::Column::AtsJobId.eq(ats_job_id))
            .one(db)
            .await?
        {
            return Ok(found);
        }
        let model = job::Model {
            id: new_id("job"),
            title: title.unwrap_or(ats_job_id).to_owned(),
            ats_job_id: Some(ats_job_id.to_owned()),
            created_at: crate::domain::time::now_millis(),
        };
        job::Entity::insert(job::ActiveModel::from(model.clone()))
            .on_conflict(
                OnConflict::column(job::Column::AtsJobId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        job::Entity::find()
            .filter(job::Column::AtsJobId.eq(ats_job_id))
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job for ATS job {ats_job_id}")))
    }

    pub async fn get_candidate<C: ConnectionTrait>(
        db: &C,
        id: &str,
    ) -> StoreResult<candidate::Model> {
        candidate::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("candidate {id}")))
    }

    /// The status history of an application, oldest first.
    pub async fn application_history<C: ConnectionTrait>(
        db: &C,
        app_id: &str,
    ) -> StoreResult<Vec<application_history::Model>> {
        Ok(application_history::Entity::find()
            .filter(application_history::Column::ApplicationId.eq(app_id))
            .order_by(application_history::Column::ChangedAt, Order::Asc)
            .order_by(application_history::Column::Id, Order::Asc)
            .all(db)
            .await?)
    }
}

/// A new application in status `new`, in the inbox, with no labels: what every way in starts from.
fn new_application(candidate_id: &str, imported_via: &str, now: i64) -> application::Model {
    application::Model {
        id: new_id("app"),
        source_system: None,
        source_application_id: None,
        ats_application_id: None,
        group_account_id: None,
        channel: None,
        position_name: None,
        source_status: None,
        status: "new".to_owned(),
        status_changed_at: None,
        stage: None,
        reason: None,
        job_id: None,
        candidate_id: candidate_id.to_owned(),
        applied_at: None,
        imported_via: Some(imported_via.to_owned()),
        labels: "[]".to_owned(),
        synced_status: None,
        synced_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// An application's labels.
pub fn labels(app: &application::Model) -> StoreResult<Vec<String>> {
    json_column(&app.labels, "application labels")
}

/// Labels as the `labels` column holds them (a JSON array), read back by [`labels`].
pub fn labels_column(labels: &[String]) -> String {
    json!(labels).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    fn attributes(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// I2: one statement for many candidates keeps what a re-import does not give (phone,
    /// attributes, BizReach id) and takes what it does (name, and the rest when given).
    #[tokio::test]
    async fn i2_candidates_upserted_together_keep_what_a_reimport_does_not_give() {
        let (_dir, store) = store().await;
        let (a, b) = (
            Email::parse("Sato@Example.jp").unwrap(),
            Email::parse("kato@example.jp").unwrap(),
        );
        let full = attributes(json!({"age": 31}));
        let none = attributes(json!({}));
        let first = Store::upsert_candidates(
            &store.db,
            &[
                CandidateIn {
                    email: &a,
                    name: "佐藤",
                    phone: Some("090"),
                    attributes: &full,
                    bizreach_candidate_id: Some("br-1"),
                },
                CandidateIn {
                    email: &b,
                    name: "加藤",
                    phone: None,
                    attributes: &none,
                    bizreach_candidate_id: None,
                },
            ],
        )
        .await
        .unwrap();
        assert_eq!(first.len(), 2);
        let kato = &first["kato@example.jp"];
        assert_eq!(
            kato,
            &Store::get_candidate(&store.db, &kato.id).await.unwrap(),
            "a new candidate is answered as stored"
        );
        let again = Store::upsert_candidates(
            &store.db,
            &[
                CandidateIn {
                    email: &a,
                    name: "佐藤 花子",
                    phone: None,
                    attributes: &none,
                    bizreach_candidate_id: None,
                },
                CandidateIn {
                    email: &b,
                    name: "加藤",
                    phone: Some("080"),
                    attributes: &full,
                    bizreach_candidate_id: Some("br-2"),
                },
            ],
        )
        .await
        .unwrap();
        let sato = &again["sato@example.jp"];
        assert_eq!(sato.id, first["sato@example.jp"].id, "the same candidate");
        assert_eq!(sato.name, "佐藤 花子");
        assert_eq!(sato.phone.as_deref(), Some("090"));
        assert_eq!(sato.attributes, r#"{"age":31}"#);
        assert_eq!(sato.bizreach_candidate_id.as_deref(), Some("br-1"));
        let kato = &again["kato@example.jp"];
        assert_eq!(kato.phone.as_deref(), Some("080"));
        assert_eq!(kato.attributes, r#"{"age":31}"#);
        assert_eq!(kato.bizreach_candidate_id.as_deref(), Some("br-2"));
    }

    fn import_of<'a>(id: &'a str, status: &'a str) -> ImportIn<'a> {
        ImportIn {
            group_account_id: "grp-001",
            source_application_id: id,
            channel: "direct",
            position_name: "SRE",
            source_status: status,
            applied_at: 1_700_000_000_000,
            imported_via: "poll",
        }
    }

    /// Plans `list` and stores the new ones, as the end of a batch does.
    async fn import_all(
        store: &Store,
        list: &[(&str, ImportIn<'_>)],
    ) -> HashMap<String, (application::Model, bool)> {
        let planned = Store::plan_imports(&store.db, list).await.unwrap();
        let new: Vec<application::Model> = planned
            .values()
            .filter(|(_, created)| *created)
            .map(|(app, _)| app.clone())
            .collect();
        Store::insert_applications(&store.db, &new).await.unwrap();
        planned
    }

    /// I2: imports planned together, some new and some known: the known one is updated at
    /// once (not duplicated); a new one is only built, stored when its batch ends, and what
    /// was planned for it is what is stored.
    #[tokio::test]
    async fn i2_imports_planned_together_tell_new_from_known() {
        let (_dir, store) = store().await;
        let first = import_all(&store, &[("cand-1", import_of("br-1", "new"))]).await;
        let (known, created) = &first["br-1"];
        assert!(created);
        let both = Store::plan_imports(
            &store.db,
            &[
                ("cand-1", import_of("br-1", "rejected")),
                ("cand-2", import_of("br-2", "new")),
            ],
        )
        .await
        .unwrap();
        let (again, created) = &both["br-1"];
        assert!(!created);
        assert_eq!(again.id, known.id, "the same application");
        assert_eq!(again.source_status.as_deref(), Some("rejected"));
        assert_eq!(
            Store::get_application(&store.db, &known.id)
                .await
                .unwrap()
                .source_status
                .as_deref(),
            Some("rejected"),
            "a known application is updated at once"
        );
        let (new, created) = &both["br-2"];
        assert!(created);
        assert!(
            Store::find_application_by_source(&store.db, BIZREACH, "br-2")
                .await
                .unwrap()
                .is_none(),
            "a new one is not stored by planning"
        );
        Store::insert_applications(&store.db, std::slice::from_ref(new))
            .await
            .unwrap();
        assert_eq!(
            new,
            &Store::get_application(&store.db, &new.id).await.unwrap()
        );
    }

    /// A new import another writer stored between the plan and the insert fails the insert
    /// (its batch is then handled again, one event at a time, and finds it).
    #[tokio::test]
    async fn a_planned_import_stored_meanwhile_fails_the_insert() {
        let (_dir, store) = store().await;
        let planned = Store::plan_imports(&store.db, &[("cand-1", import_of("br-1", "new"))])
            .await
            .unwrap();
        import_all(&store, &[("cand-9", import_of("br-1", "new"))]).await;
        let err = Store::insert_applications(&store.db, &[planned["br-1"].0.clone()])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }

    /// Labels set together: each listed application gets its own list, with Japanese labels
    /// and a `?` kept as written; an application not listed keeps its labels.
    #[tokio::test]
    async fn labels_set_together_each_get_their_own_list() {
        let (_dir, store) = store().await;
        let apps = import_all(
            &store,
            &[
                ("cand-1", import_of("br-1", "new")),
                ("cand-2", import_of("br-2", "new")),
                ("cand-3", import_of("br-3", "new")),
            ],
        )
        .await;
        let id = |key: &str| apps[key].0.id.clone();
        let lists = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Store::set_labels(
            &store.db,
            &[
                (id("br-1"), lists(&["BizReach不合格済", "why?"])),
                (id("br-3"), lists(&[])),
            ],
        )
        .await
        .unwrap();
        Store::set_labels(&store.db, &[(id("br-3"), lists(&["scout"]))])
            .await
            .unwrap();
        let labels_of = |key: &str| {
            let id = id(key);
            let db = store.db.clone();
            async move { labels(&Store::get_application(&db, &id).await.unwrap()).unwrap() }
        };
        assert_eq!(labels_of("br-1").await, ["BizReach不合格済", "why?"]);
        assert!(labels_of("br-2").await.is_empty());
        assert_eq!(labels_of("br-3").await, ["scout"]);
        Store::set_labels(&store.db, &[]).await.unwrap();
    }
}
