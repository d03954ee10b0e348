//! A write-ahead journal: append-only files of checksummed records, in generations.
//!
//! sled makes writes durable only at a flush, which costs a disk sync (milliseconds). The
//! journal lets the KVS acknowledge a commit once its record is written to the journal
//! file (one `write`, in the kernel's page cache: it survives the death of the process,
//! `kill -9` included) and flush sled later, in the background. A flush covers every
//! generation older than the one current when it started; those files are then removed.
//! At start, the records of the remaining generations are replayed, oldest first.
//!
//! File `journal-<gen as 16 hex digits>.log`: the 8-byte header `FLUXJRN1`, then records
//! `[len: u32 LE][first 8 bytes of sha1(payload)][payload]`. A torn or corrupt record ends
//! its file (a crash while writing it: it was never acknowledged).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::sha1::sha1;

/// Magic and version at the start of every journal file.
const HEADER: &[u8; 8] = b"FLUXJRN1";
/// Bytes before each record's payload.
const RECORD_HEAD: usize = 12;

/// The journal of one database.
pub struct Journal {
    dir: PathBuf,
    file: File,
    generation: u64,
    /// Bytes written to the current generation.
    written: u64,
}

impl Journal {
    /// Open the journal in `dir` (created if missing): the records of every existing
    /// generation, oldest first, and a journal writing to a new generation.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Vec<u8>>)> {
        std::fs::create_dir_all(dir)?;
        let mut records = Vec::new();
        let generations = list(dir)?;
        for (_, path) in &generations {
            records.extend(read_records(&std::fs::read(path)?));
        }
        let next = generations.last().map_or(1, |(g, _)| g + 1);
        let journal = Journal {
            dir: dir.to_path_buf(),
            file: create(dir, next)?,
            generation: next,
            written: 0,
        };
        Ok((journal, records))
    }

    /// Append one record with a single write (no sync).
    pub fn append(&mut self, payload: &[u8]) -> Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "journal record over 4 GiB",
            )
        })?;
        let mut buf = Vec::with_capacity(RECORD_HEAD + payload.len());
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&sha1(payload)[..8]);
        buf.extend_from_slice(payload);
        self.file.write_all(&buf)?;
        self.written += buf.len() as u64;
        Ok(())
    }

    /// Bytes written to the current generation.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Start a new generation and return its number: once the database is flushed, every
    /// generation before it may go ([`Journal::remove_before`]).
    pub fn rotate(&mut self) -> Result<u64> {
        let next = self.generation + 1;
        self.file = create(&self.dir, next)?;
        self.generation = next;
        self.written = 0;
        Ok(next)
    }

    /// Remove the generations older than `generation` (covered by a database flush).
    pub fn remove_before(&self, generation: u64) -> Result<()> {
        for (g, path) in list(&self.dir)? {
            if g < generation {
                std::fs::remove_file(path)?;
            }
        }
        Ok(())
    }
}

fn file_name(generation: u64) -> String {
    format!("journal-{generation:016x}.log")
}

fn create(dir: &Path, generation: u64) -> Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(dir.join(file_name(generation)))?;
    file.write_all(HEADER)?;
    Ok(file)
}

/// The journal files in `dir`, by generation.
fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let generation = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("journal-")?.strip_suffix(".log"))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok());
        if let Some(g) = generation {
            out.push((g, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The intact records of one file, up to the first torn or corrupt one.
fn read_records(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(mut rest) = data.strip_prefix(HEADER.as_slice()) else {
        return out;
    };
    while rest.len() >= RECORD_HEAD {
        let (head, body) = rest.split_at(RECORD_HEAD);
        let mut len = [0u8; 4];
        len.copy_from_slice(&head[..4]);
        let len = u32::from_le_bytes(len) as usize;
        if body.len() < len || sha1(&body[..len])[..8] != head[4..] {
            break;
        }
        out.push(body[..len].to_vec());
        rest = &body[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_across_generations() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, old) = Journal::open(dir.path()).unwrap();
            assert!(old.is_empty());
            j.append(b"one").unwrap();
            j.rotate().unwrap();
            j.append(b"two").unwrap();
            j.append(b"").unwrap();
            assert_eq!(j.written(), 12 + 3 + 12);
        }
        let (j, records) = Journal::open(dir.path()).unwrap();
        assert_eq!(records, [b"one".to_vec(), b"two".to_vec(), Vec::new()]);
        assert_eq!(j.generation(), 3);
    }

    #[test]
    fn flushed_generations_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        j.append(b"covered").unwrap();
        let g = j.rotate().unwrap();
        j.append(b"not yet").unwrap();
        j.remove_before(g).unwrap();
        drop(j);
        let (_, records) = Journal::open(dir.path()).unwrap();
        assert_eq!(records, [b"not yet".to_vec()]);
    }

    #[test]
    fn torn_or_corrupt_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = {
            let (mut j, _) = Journal::open(dir.path()).unwrap();
            j.append(b"good").unwrap();
            j.append(b"torn record").unwrap();
            dir.path().join(file_name(j.generation()))
        };
        let data = std::fs::read(&path).unwrap();
        std::fs::write(&path, &data[..data.len() - 3]).unwrap();
        let (_, records) = Journal::open(dir.path()).unwrap();
        assert_eq!(records, [b"good".to_vec()]);

        let mut bad = data.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(read_records(&bad), [b"good".to_vec()]);
        assert!(read_records(b"NOTAJRNL").is_empty());
    }
}
