//! Which schema a database has, against the migrations this binary ships (issue 15, item 6):
//! a binary older than its database's schema refuses to run on it, rather than write rows the
//! newer schema does not expect.
use migrations::{Migrator, MigratorTrait};

/// The migrations in `applied` this binary does not know: the database was migrated by a
/// newer hirelay, whose schema this one must not run on.
pub fn unknown_migrations(applied: &[String]) -> Vec<String> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    applied
        .iter()
        .filter(|name| !known.contains(name))
        .cloned()
        .collect()
}

/// The newest migration this binary knows.
pub fn newest_known() -> String {
    Migrator::migrations()
        .last()
        .map(|m| m.name().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_migration_is_known_and_others_are_not() {
        let known = newest_known();
        assert!(known.starts_with("m00"), "{known}");
        assert!(unknown_migrations(std::slice::from_ref(&known)).is_empty());
        let future = "m9999_from_a_newer_hirelay".to_owned();
        assert_eq!(unknown_migrations(&[known, future.clone()]), vec![future]);
    }
}
