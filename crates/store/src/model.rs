//! The options a backend is opened with.

/// Limits and tuning of a backend, with documented defaults.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the database file and apply migrations if needed.
    pub migrate: bool,
    /// Read-only connections kept beside the writer.
    pub readers_max: usize,
    /// Writes waiting for the writer; callers wait for room beyond this.
    pub write_queue_len_max: usize,
    /// Most operations committed together in one transaction.
    pub group_commit_len_max: usize,
    /// How long a connection waits for a lock held by another process.
    pub busy_timeout_ms: u64,
    /// PostgreSQL: most connections open at once (each runs one transaction at a time).
    pub pool_size: usize,
    /// PostgreSQL: longest a statement may run, or wait for a lock, before it is cancelled.
    pub statement_timeout_ms: u64,
    /// PostgreSQL: longest wait for a new connection.
    pub connect_timeout_ms: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            migrate: true,
            readers_max: 4,
            write_queue_len_max: 4096,
            group_commit_len_max: 256,
            busy_timeout_ms: 5000,
            pool_size: 16,
            statement_timeout_ms: 5000,
            connect_timeout_ms: 5000,
        }
    }
}
