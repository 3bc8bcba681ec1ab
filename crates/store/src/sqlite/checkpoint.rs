//! Copying the write-ahead log into the database file: mostly on a thread and connection of its
//! own, beside the writer, and by the writer itself when the log has grown long, so that the log
//! starts again from its beginning instead of growing without end.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{connect, map_error};
use crate::{OpenOptions, StoreError};

/// WAL pages after which the log is copied into the database file (SQLite's own automatic
/// checkpoint threshold).
pub(super) const CHECKPOINT_PAGES: i32 = 1_000;

/// WAL pages after which the writer finishes the copy itself (16 MiB of 4 KiB pages). A
/// checkpoint running beside a busy writer never catches up with it — the writer appends while it
/// copies — and SQLite starts the log again from its beginning only when every page in it has been
/// copied. Without this, 100,000 placements and their expiry left a log of 2.2 GB, each new page
/// of it allocated and zeroed by the file system; with it, the log stays near this size and its
/// pages are rewritten in the OS cache.
pub(super) const LOG_PAGES_MAX: i32 = 4 * CHECKPOINT_PAGES;

/// Copies the write-ahead log into the database file on a thread and connection of its own,
/// instead of on the writer after the commit that crossed `CHECKPOINT_PAGES` (SQLite's automatic
/// checkpoint, which a writer's WAL hook replaces). A profile of 100,000 placements and their
/// expiry put 2.1 s of the writer's CPU in those checkpoints, every placement behind one waiting
/// for it; a passive checkpoint runs beside the writer and readers (WAL mode allows it) and never
/// waits for them, copying what it can. Once the log holds `LOG_PAGES_MAX` pages, the writer
/// copies what is left after its commit (most of the log is copied already), so that its next
/// transaction starts the log again. Durability is the commit's (`synchronous=FULL` syncs the
/// log); a checkpoint only moves committed pages. The thread ends when the writer's connection
/// closes.
pub(super) fn start_checkpointer(
    path: &std::path::Path,
    options: &OpenOptions,
    writer: &mut Connection,
) -> Result<(JoinHandle<()>, Arc<Checkpoints>), StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = connect(path, flags, options)?;
    let checkpoints = Arc::new(Checkpoints::default());
    // One pending wake-up is enough: a checkpoint copies everything committed before it starts.
    // Woken once per `CHECKPOINT_PAGES` pages the log grew by, not after every commit while the
    // log is long (as SQLite's own checkpoint is, when readers keep the log from restarting):
    // each checkpoint syncs the database file, on the disk the commits sync the log on.
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    let mut woken_at: std::ffi::c_int = 0;
    let mut caught_up_at: std::ffi::c_int = 0;
    let wait_max = Duration::from_millis(options.busy_timeout_ms);
    let for_writer = checkpoints.clone();
    writer
        .wal_hook(Some(
            move |wal: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
                if pages < woken_at.max(caught_up_at) {
                    // The log restarted from its beginning.
                    woken_at = 0;
                    caught_up_at = 0;
                }
                if pages >= LOG_PAGES_MAX && pages >= caught_up_at + CHECKPOINT_PAGES {
                    // Readers still in the older part of the log keep it from restarting; the
                    // writer then tries again only after the log grew by another
                    // `CHECKPOINT_PAGES`, as the thread would.
                    caught_up_at = pages;
                    for_writer.catch_up(wait_max, || {
                        wal.checkpoint_v2(rusqlite::wal::CheckpointMode::PASSIVE)
                            .map(|_| ())
                    });
                } else if pages >= woken_at + CHECKPOINT_PAGES {
                    woken_at = pages;
                    let _ = wake.try_send(());
                }
                // The commit is done whatever the checkpoint did: an error here would be
                // reported to the statement that committed.
                Ok(())
            },
        ))
        .map_err(|e| map_error(&e))?;
    let thread_checkpoints = checkpoints.clone();
    let thread = std::thread::Builder::new()
        .name("lunas-sqlite-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                thread_checkpoints.run_beside(|| {
                    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                });
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the checkpoint thread: {e}")))?;
    Ok((thread, checkpoints))
}

/// Who is copying the log: only one checkpoint runs at a time (a second one would be refused
/// with `SQLITE_BUSY`), and the writer's waits for the thread's to end.
#[derive(Default)]
pub(super) struct Checkpoints {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The thread is copying.
    running: bool,
    /// The writer waits to copy, or copies: the thread does not start meanwhile.
    writer_waits: bool,
    /// Checkpoints run by the thread.
    ran: u64,
    /// Checkpoints run by the writer.
    caught_up: u64,
}

impl Checkpoints {
    /// The thread's checkpoint, unless the writer is copying the log itself right now.
    fn run_beside(&self, checkpoint: impl FnOnce() -> rusqlite::Result<()>) {
        {
            let mut state = self.state.lock().expect("checkpoints lock");
            if state.writer_waits {
                return;
            }
            state.running = true;
        }
        if let Err(e) = checkpoint() {
            tracing::warn!(error = %e, "a checkpoint of the write-ahead log failed; the next commit tries again");
        }
        let mut state = self.state.lock().expect("checkpoints lock");
        state.running = false;
        state.ran += 1;
        self.changed.notify_all();
    }

    /// The writer's checkpoint, once the thread's (if one runs) has ended, waiting at most
    /// `wait_max` for it.
    fn catch_up(&self, wait_max: Duration, checkpoint: impl FnOnce() -> rusqlite::Result<()>) {
        {
            let mut state = self.state.lock().expect("checkpoints lock");
            state.writer_waits = true;
            let (state, _) = self
                .changed
                .wait_timeout_while(state, wait_max, |state| state.running)
                .expect("checkpoints lock");
            drop(state);
        }
        if let Err(e) = checkpoint() {
            tracing::warn!(error = %e, "the writer's checkpoint of the write-ahead log failed; a later commit tries again");
        }
        let mut state = self.state.lock().expect("checkpoints lock");
        state.writer_waits = false;
        state.caught_up += 1;
        self.changed.notify_all();
    }
}

#[cfg(test)]
impl Checkpoints {
    /// Whether the thread ran `count` checkpoints within `within`.
    pub(super) fn wait_for(&self, count: u64, within: Duration) -> bool {
        let state = self.state.lock().expect("checkpoints lock");
        let (state, _) = self
            .changed
            .wait_timeout_while(state, within, |state| state.ran < count)
            .expect("checkpoints lock");
        state.ran >= count
    }

    /// How many times the writer copied the log itself.
    pub(super) fn caught_up(&self) -> u64 {
        self.state.lock().expect("checkpoints lock").caught_up
    }
}
