//! The bounded disk benchmark: what the database's commits and the file uploads will see, in a
//! temporary file on the same filesystem, within a budget of bytes and seconds.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use super::DiskBench;

/// Name prefix of the temporary file, so a leftover (after a power cut) is recognisable.
pub const BENCH_PREFIX: &str = ".schola-capacity-bench-";

const BLOCK: usize = 1 << 20;
const PAGE: usize = 4096;

/// Shares of the time budget: sequential write, fdatasync'd appends, random reads, random
/// writes. The sequential write gets the most because it also lays out the file the random
/// phases work in.
const TIME_SHARES: [f64; 4] = [0.4, 0.2, 0.2, 0.2];
/// Shares of the byte budget for the three phases that write (reads write nothing).
const SEQ_BYTES: f64 = 0.7;
const APPEND_BYTES: f64 = 0.1;
const RANDOM_WRITE_BYTES: f64 = 0.2;

/// SplitMix64: enough randomness for offsets and for data a compressing filesystem (btrfs,
/// ZFS) cannot shrink, without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn per_sec(count: f64, took: Duration) -> f64 {
    let s = took.as_secs_f64();
    if count > 0.0 && s > 0.0 {
        count / s
    } else {
        0.0
    }
}

/// Benchmarks the filesystem of `dir` in a temporary file there, removed afterwards (also on
/// error). Four phases, each stopping at its share of `max_seconds` or of `max_bytes`:
/// sequential write in 1 MiB blocks with fsync at the end, 4 KiB appends each followed by
/// fdatasync (what an SQLite commit costs), random 4 KiB reads, and random 4 KiB writes with a
/// final fdatasync. Every phase does at least one operation when its budget allows any bytes at
/// all, so a slow disk still yields a figure.
pub fn disk_bench(dir: &Path, max_bytes: u64, max_seconds: f64) -> io::Result<DiskBench> {
    let started = Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix(BENCH_PREFIX)
        .tempfile_in(dir)?;
    let seconds = if max_seconds.is_finite() {
        max_seconds.max(0.0)
    } else {
        0.0
    };
    let share = |i: usize| Duration::from_secs_f64(seconds * TIME_SHARES[i]);
    let bytes_share = |s: f64| (max_bytes as f64 * s) as u64;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id());
    let mut rng = Rng(seed);
    let mut data = vec![0u8; BLOCK];
    for chunk in data.chunks_mut(8) {
        let r = rng.next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let file = tmp.as_file();
    let mut bytes_written = 0u64;

    // 1. sequential write, fsync at the end (counted in the time)
    let seq_max = bytes_share(SEQ_BYTES);
    let t = Instant::now();
    let mut seq = 0u64;
    while seq < seq_max && (seq == 0 || t.elapsed() < share(0)) {
        let n = (seq_max - seq).min(BLOCK as u64) as usize;
        file.write_all_at(&data[..n], seq)?;
        seq += n as u64;
    }
    file.sync_all()?;
    let seq_write = per_sec(seq as f64, t.elapsed());
    bytes_written += seq;

    // 2. 4 KiB appends, each made durable with fdatasync: the commit rate a WAL database sees
    let append_max = bytes_share(APPEND_BYTES);
    let t = Instant::now();
    let mut appends = 0u64;
    while (appends + 1) * PAGE as u64 <= append_max && (appends == 0 || t.elapsed() < share(1)) {
        file.write_all_at(&data[..PAGE], seq + appends * PAGE as u64)?;
        file.sync_data()?;
        appends += 1;
    }
    let fsyncs_per_sec = per_sec(appends as f64, t.elapsed());
    bytes_written += appends * PAGE as u64;

    // 3. random 4 KiB reads of what phase 1 wrote. Its pages are clean after the fsync, so
    // DONTNEED drops them from the page cache, RANDOM turns read-ahead off, and each pass reads
    // every page once in shuffled order (a page read twice would come from the cache). Without
    // O_DIRECT (which not every filesystem supports, tmpfs for one) the drive's and the
    // hypervisor's caches can still help, so this is an upper bound.
    let pages = seq / PAGE as u64;
    let mut order: Vec<u64> = (0..pages).collect();
    let mut page = vec![0u8; PAGE];
    let t = Instant::now();
    let mut reads = 0u64;
    if pages > 0 {
        // ends once the time share is used up (after at least one read)
        'reads: loop {
            forget_cache(file);
            for i in (1..order.len()).rev() {
                order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
            }
            for &p in &order {
                if reads > 0 && t.elapsed() >= share(2) {
                    break 'reads;
                }
                file.read_exact_at(&mut page, p * PAGE as u64)?;
                reads += 1;
            }
        }
    }
    let read_iops = per_sec(reads as f64, t.elapsed());

    // 4. random 4 KiB writes into the same region, fdatasync at the end (counted in the time).
    // The page cache gathers them until that fdatasync, as it does for the server's own
    // writes, so this too is an upper bound; what a commit costs is `fsyncs_per_sec`.
    let write_max = bytes_share(RANDOM_WRITE_BYTES);
    let t = Instant::now();
    let mut writes = 0u64;
    while pages > 0
        && (writes + 1) * PAGE as u64 <= write_max
        && (writes == 0 || t.elapsed() < share(3))
    {
        let at = rng.next() % pages * PAGE as u64;
        let from = (rng.next() % (BLOCK - PAGE) as u64) as usize;
        file.write_all_at(&data[from..from + PAGE], at)?;
        writes += 1;
    }
    file.sync_data()?;
    let write_iops = per_sec(writes as f64, t.elapsed());
    bytes_written += writes * PAGE as u64;

    tmp.close()?;
    Ok(DiskBench {
        seq_write,
        fsyncs_per_sec,
        read_iops,
        write_iops,
        bytes_written,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Asks the kernel to forget the file's cached pages and not to read ahead; where it cannot,
/// the reads measure the page cache, which the caller's comment already calls an upper bound.
fn forget_cache(file: &File) {
    use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
    for advice in [
        PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        PosixFadviseAdvice::POSIX_FADV_RANDOM,
    ] {
        if let Err(e) = posix_fadvise(file, 0, 0, advice) {
            tracing::debug!(error = %e, ?advice, "posix_fadvise on the benchmark file failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_the_byte_budget_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let budget = 2 << 20;
        let b = disk_bench(dir.path(), budget, 1.0).unwrap();
        assert!(b.bytes_written <= budget, "{b:?}");
        assert!(b.seq_write > 0.0 && b.fsyncs_per_sec > 0.0, "{b:?}");
        assert!(b.read_iops > 0.0 && b.write_iops > 0.0, "{b:?}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the temporary file is removed"
        );
    }

    #[test]
    fn a_directory_that_does_not_exist_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = disk_bench(&dir.path().join("missing"), 1 << 20, 1.0).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
