//! A sent mail keeps no rendered body (issue 18, M9): its HTML and text carry live tokens
//! (tracking, unsubscribe and approval links) and are never needed again. Since then the sender
//! blanks them when it marks a mail sent; this blanks those sent before. Nothing to undo: the
//! bodies are gone, and `down` leaves the rows as they are.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_purge_sent_mail_bodies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let purge = Query::update()
            .table(Alias::new("mail_outbox"))
            .values([
                (Alias::new("html"), "".into()),
                (Alias::new("text_body"), "".into()),
            ])
            .and_where(Expr::col(Alias::new("status")).eq("sent"))
            .to_owned();
        m.exec_stmt(purge).await
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
