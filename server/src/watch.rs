//! Hot reload by polling: the files of a directory tree are read every interval and the ones
//! whose content changed are handed over. Polling is portable (containers, network mounts) and
//! cheap for a few dozen small files.
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Every file under `dir` whose name ends with one of `suffixes`, with its content, sorted by path.
pub fn read_tree(dir: &Path, suffixes: &[&str]) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                out.push((path.clone(), std::fs::read_to_string(&path)?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Calls `on_change` with the whole tree whenever any matching file changed, appeared or went
/// away, checking every `interval` until `shutdown`.
pub fn spawn_tree_watch<F, Fut>(
    dir: PathBuf,
    suffixes: &'static [&'static str],
    interval: Duration,
    shutdown: CancellationToken,
    on_change: F,
) where
    F: Fn(Vec<(PathBuf, String)>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    // The first snapshot is taken now, before returning, so an edit made right after start-up
    // is seen as a change rather than taken for the starting state.
    let mut seen: HashMap<PathBuf, String> = read_tree(&dir, suffixes)
        .unwrap_or_default()
        .into_iter()
        .collect();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.cancelled() => return,
            }
            let dir2 = dir.clone();
            let Ok(Ok(now)) = tokio::task::spawn_blocking(move || read_tree(&dir2, suffixes)).await
            else {
                continue;
            };
            let now_map: HashMap<PathBuf, String> = now.iter().cloned().collect();
            if now_map != seen {
                seen = now_map;
                on_change(now).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_matching_files_recursively() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("x.rhai"), "1").unwrap();
        std::fs::write(dir.path().join("a/y.rhai"), "2").unwrap();
        std::fs::write(dir.path().join("README.md"), "no").unwrap();
        let files = read_tree(dir.path(), &[".rhai"]).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].1, "2");
    }
}
