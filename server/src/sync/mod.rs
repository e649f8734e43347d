//! Progress sync to BizReach (P1–P5): the `progress-sync` job pushes each covered
//! application's ATS status to BizReach (the ATS always wins), and the preview shows what
//! switching it on would overwrite. The status mapping is `domain::status_mapping`.
pub mod preview;
pub mod progress;

pub use preview::{Preview, PreviewItem};
pub use progress::{ProgressSync, SyncFailure, SyncReport, PROGRESS_SYNC_JOB};
