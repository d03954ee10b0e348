//! Write-behind for the commit path: the sled writes of a commit (its new blobs, then its
//! root record) go to one writer thread, in order, so that the KVS owner does not pay for
//! sled's inserts. Commits are made durable by the journal, not by sled, so nothing
//! waits for these writes but [`WriteBehind::drain`] (a flush, a `--sync` commit).
//!
//! Two invariants keep this equivalent to writing inline:
//! - one thread applies the writes in submission order, so sled, which recovers a prefix
//!   of its writes, never holds a root whose blobs it lost;
//! - a blob is readable from `pending` from the moment it is submitted until the writer
//!   has put it in sled.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::error::{Result, StoreError};

/// Submitted jobs that may wait before the submitter blocks (backpressure on a slow disk).
const QUEUE_DEPTH: usize = 256;

/// One ordered write.
enum Job {
    /// Blobs of one commit into the content tree; `seq` tags their `pending` entries.
    Blobs {
        seq: u64,
        tree: sled::Tree,
        blobs: Vec<(Vec<u8>, sled::IVec)>,
    },
    Insert {
        seq: u64,
        tree: sled::Tree,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Remove {
        seq: u64,
        tree: sled::Tree,
        key: Vec<u8>,
    },
}

impl Job {
    fn seq(&self) -> u64 {
        match self {
            Job::Blobs { seq, .. } | Job::Insert { seq, .. } | Job::Remove { seq, .. } => *seq,
        }
    }
}

#[derive(Default)]
struct Progress {
    submitted: u64,
    applied: u64,
    /// The first sled error the writer met (reported by the next drain).
    error: Option<String>,
}

struct Shared {
    /// digest -> (seq of the job writing it, data)
    pending: Mutex<HashMap<Vec<u8>, (u64, sled::IVec)>>,
    progress: Mutex<Progress>,
    applied: Condvar,
}

/// The writer thread of one database, shared by the clones of its content store.
pub(crate) struct WriteBehind {
    tx: Mutex<Option<SyncSender<Job>>>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind: keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WriteBehind {
    pub fn start() -> Result<Arc<WriteBehind>> {
        let (tx, rx) = sync_channel(QUEUE_DEPTH);
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            progress: Mutex::new(Progress::default()),
            applied: Condvar::new(),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kvs-writer".into())
            .spawn(move || run(rx, &worker))
            .map_err(|e| StoreError::Invalid(format!("cannot start the kvs writer: {e}")))?;
        Ok(Arc::new(WriteBehind {
            tx: Mutex::new(Some(tx)),
            shared,
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Queue `job` (built with its sequence number) after everything queued before.
    fn submit(&self, job: impl FnOnce(u64) -> Job) -> Result<()> {
        // Numbering and sending under one lock keeps the channel in sequence order.
        let tx = lock(&self.tx);
        let Some(sender) = tx.as_ref() else {
            return Err(StoreError::Invalid("the kvs writer has stopped".into()));
        };
        let seq = {
            let mut p = lock(&self.shared.progress);
            p.submitted += 1;
            p.submitted
        };
        let job = job(seq);
        if let Job::Blobs { seq, blobs, .. } = &job {
            let mut pending = lock(&self.shared.pending);
            for (digest, data) in blobs {
                pending.insert(digest.clone(), (*seq, data.clone()));
            }
        }
        sender.send(job).map_err(|_| {
            fail(&self.shared, "the writer thread is gone".into());
            StoreError::Invalid("the kvs writer has stopped".into())
        })
    }

    /// Write `blobs` (digest, data) into `tree`; readable through [`Self::pending`] at once.
    pub fn blobs(&self, tree: &sled::Tree, blobs: Vec<(Vec<u8>, sled::IVec)>) -> Result<()> {
        if blobs.is_empty() {
            return Ok(());
        }
        self.submit(|seq| Job::Blobs {
            seq,
            tree: tree.clone(),
            blobs,
        })
    }

    /// Insert `key` = `value` into `tree`, after the writes queued before it.
    pub fn insert(&self, tree: &sled::Tree, key: &[u8], value: Vec<u8>) -> Result<()> {
        self.submit(|seq| Job::Insert {
            seq,
            tree: tree.clone(),
            key: key.to_vec(),
            value,
        })
    }

    /// Remove `key` from `tree`, after the writes queued before it.
    pub fn remove(&self, tree: &sled::Tree, key: &[u8]) -> Result<()> {
        self.submit(|seq| Job::Remove {
            seq,
            tree: tree.clone(),
            key: key.to_vec(),
        })
    }

    /// A blob queued but not yet in sled.
    pub fn pending(&self, digest: &[u8]) -> Option<sled::IVec> {
        lock(&self.shared.pending)
            .get(digest)
            .map(|(_, d)| d.clone())
    }

    /// Wait until everything submitted before this call is in sled (not what comes
    /// meanwhile, so that a busy KVS cannot starve a flush); the writer's first error.
    pub fn drain(&self) -> Result<()> {
        let mut p = lock(&self.shared.progress);
        let target = p.submitted;
        while p.applied < target && p.error.is_none() {
            p = self
                .shared
                .applied
                .wait(p)
                .unwrap_or_else(|e| e.into_inner());
        }
        match &p.error {
            Some(e) => Err(StoreError::Invalid(format!("kvs writer: {e}"))),
            None => Ok(()),
        }
    }
}

impl Drop for WriteBehind {
    /// Finish the queued writes before the database can close.
    fn drop(&mut self) {
        lock(&self.tx).take();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

/// Records a failure (and wakes drains) if the writer thread ends by panicking, so that a
/// flush reports it instead of waiting for writes that will never come.
struct PanicGuard<'a>(&'a Shared);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            fail(self.0, "the writer thread panicked".into());
        }
    }
}

fn fail(shared: &Shared, why: String) {
    lock(&shared.progress).error.get_or_insert(why);
    shared.applied.notify_all();
}

fn run(rx: Receiver<Job>, shared: &Shared) {
    let _guard = PanicGuard(shared);
    while let Ok(job) = rx.recv() {
        let seq = job.seq();
        let done = match job {
            Job::Blobs { seq, tree, blobs } => {
                let mut batch = sled::Batch::default();
                for (digest, data) in &blobs {
                    batch.insert(digest.as_slice(), data.clone());
                }
                let done = tree.apply_batch(batch);
                if done.is_ok() {
                    let mut pending = lock(&shared.pending);
                    for (digest, _) in blobs {
                        // A later job may have queued the same blob again: leave it.
                        if pending.get(&digest).is_some_and(|(s, _)| *s == seq) {
                            pending.remove(&digest);
                        }
                    }
                }
                done
            }
            Job::Insert {
                tree, key, value, ..
            } => tree.insert(key, value).map(|_| ()),
            Job::Remove { tree, key, .. } => tree.remove(key).map(|_| ()),
        };
        if let Err(e) = done {
            // Applying what follows could put a root in sled whose blobs are not: stop.
            // Blobs not written stay readable from `pending`; every drain reports the
            // error, so nothing more is acknowledged as flushed until a restart, whose
            // journal replay rebuilds what sled lacks.
            fail(shared, e.to_string());
            return;
        }
        lock(&shared.progress).applied = seq;
        shared.applied.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(k: &str, v: &str) -> (Vec<u8>, sled::IVec) {
        (k.as_bytes().to_vec(), sled::IVec::from(v.as_bytes()))
    }

    #[test]
    fn blobs_are_readable_until_written_and_records_follow_them() {
        let db = crate::content::open_db(None).unwrap();
        let tree = db.open_tree("t").unwrap();
        let w = WriteBehind::start().unwrap();
        w.blobs(&tree, vec![blob("k", "v")]).unwrap();
        let seen = w.pending(b"k").or_else(|| tree.get(b"k").unwrap());
        assert_eq!(seen.as_deref(), Some(&b"v"[..]));
        w.insert(&tree, b"root", b"k".to_vec()).unwrap();
        w.drain().unwrap();
        assert_eq!(tree.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(tree.get(b"root").unwrap().as_deref(), Some(&b"k"[..]));
        assert!(w.pending(b"k").is_none());
        w.remove(&tree, b"root").unwrap();
        w.drain().unwrap();
        assert!(tree.get(b"root").unwrap().is_none());
    }

    #[test]
    fn dropping_the_writer_finishes_what_was_queued() {
        let db = crate::content::open_db(None).unwrap();
        let tree = db.open_tree("t").unwrap();
        let w = WriteBehind::start().unwrap();
        for i in 0..1000 {
            w.blobs(&tree, vec![blob(&format!("k{i}"), "v")]).unwrap();
        }
        drop(w);
        assert_eq!(tree.len(), 1000);
    }
}
