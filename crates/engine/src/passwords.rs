//! Password hashing on a fixed pool of threads that keep their Argon2 memory.
//!
//! Each Argon2id hash with OWASP's parameters fills 19 MiB. Allocating that per hash, on
//! whichever blocking thread tokio picks, let resident memory grow without bound under a flood of
//! sign-ins: glibc raises its mmap threshold after the first such block is freed, so later blocks
//! come from per-thread arenas that are never given back, and tokio's blocking pool grows to
//! hundreds of threads. Here `HASH_THREADS_MAX` threads each allocate their blocks once and reuse
//! them for every hash, so hashing costs at most `HASH_THREADS_MAX × 19 MiB` whatever the load,
//! and requests beyond the pool wait in a bounded queue (a waiting request holds a few hundred
//! bytes, not a hash's memory).

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

/// Argon2id memory in KiB, passes and lanes (OWASP Password Storage Cheat Sheet, first option).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;
/// Most threads hashing at once: each keeps `ARGON2_MEMORY_KIB` of blocks for good.
pub const HASH_THREADS_MAX: usize = 2;
/// Most hashes waiting for a thread; more callers wait for a place in the queue.
const HASH_QUEUE_LEN_MAX: usize = 256;
/// Largest memory a stored hash may ask for when verified (a hash made with other parameters,
/// read from the database): four times ours.
const STORED_MEMORY_KIB_MAX: u32 = 4 * ARGON2_MEMORY_KIB;
/// Length of a hash's output, in bytes (the argon2 crate's default).
const OUTPUT_LEN: usize = 32;

fn params() -> Params {
    Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_PASSES,
        ARGON2_LANES,
        Some(OUTPUT_LEN),
    )
    .expect("OWASP's parameters are valid")
}

/// Hashes a password as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh 128-bit
/// salt, using `memory` for Argon2's blocks. Takes tens of milliseconds of CPU.
pub fn hash_with(password: &str, memory: &mut Vec<Block>) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let params = params();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let blocks = blocks(memory, params.block_count());
    let mut out = [0u8; OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .expect("Argon2id hashes any password of bounded length");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("our parameters fit a PHC string"),
        salt: Some(
            SaltString::encode_b64(&salt)
                .expect("16 bytes make a valid salt")
                .as_salt(),
        ),
        hash: Some(Output::new(&out).expect("32 bytes make a valid output")),
    }
    .to_string()
}

/// Whether `password` matches the PHC string `stored`, with the parameters it was made with,
/// using `memory` for Argon2's blocks. The outputs are compared in constant time.
pub fn verify_with(password: &str, stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    if params.m_cost() > STORED_MEMORY_KIB_MAX {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let block_count = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            blocks(memory, block_count),
        )
        .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// The first `count` blocks of `memory`, grown once if it is too short (never shrunk: the next
/// hash needs the same).
fn blocks(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

enum Job {
    Hash(String, tokio::sync::oneshot::Sender<String>),
    Verify(String, String, tokio::sync::oneshot::Sender<bool>),
}

struct Pool {
    jobs: Mutex<mpsc::Sender<Job>>,
    queue: tokio::sync::Semaphore,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (send, receive) = mpsc::channel::<Job>();
        let receive = Arc::new(Mutex::new(receive));
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, HASH_THREADS_MAX);
        for index in 0..threads {
            let receive = receive.clone();
            std::thread::Builder::new()
                .name(format!("lunas-argon2-{index}"))
                .spawn(move || work(&receive))
                .expect("the hashing threads start");
        }
        Pool {
            jobs: Mutex::new(send),
            queue: tokio::sync::Semaphore::new(HASH_QUEUE_LEN_MAX),
        }
    })
}

/// A hashing thread: its memory is allocated by the first hash and kept for all the others.
fn work(jobs: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match jobs.lock().expect("hashing queue lock").recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // A caller that went away (its request was dropped) gets nothing; the work is wasted
        // but bounded.
        match job {
            Job::Hash(password, reply) => {
                let _ = reply.send(hash_with(&password, &mut memory));
            }
            Job::Verify(password, stored, reply) => {
                let _ = reply.send(verify_with(&password, &stored, &mut memory));
            }
        }
    }
}

async fn run<T>(job: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Job) -> T {
    let pool = pool();
    let _place = pool
        .queue
        .acquire()
        .await
        .expect("the queue is never closed");
    let (reply, answer) = tokio::sync::oneshot::channel();
    pool.jobs
        .lock()
        .expect("hashing queue lock")
        .send(job(reply))
        .expect("the hashing threads run as long as the process");
    answer.await.expect("a hashing thread answers every job")
}

/// Hashes a password on the pool (see `hash_with`).
pub async fn hash_password(password: String) -> String {
    run(|reply| Job::Hash(password, reply)).await
}

/// Verifies a password on the pool (see `verify_with`).
pub async fn verify_password(password: String, stored: String) -> bool {
    run(|reply| Job::Verify(password, stored, reply)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn pooled_hashes_are_argon2id_phc_strings_the_crate_verifies_and_back() {
        let mut memory = Vec::new();
        let hash = hash_with("kata sandi yang panjang", &mut memory);
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"kata sandi yang panjang", &parsed)
                .is_ok()
        );
        assert!(verify_with("kata sandi yang panjang", &hash, &mut memory));
        assert!(!verify_with("kata sandi yang salah", &hash, &mut memory));
        assert!(!verify_with("anything", "not a hash", &mut memory));
        assert_ne!(
            hash,
            hash_with("kata sandi yang panjang", &mut memory),
            "salted"
        );
        // A hash the crate made with other parameters verifies too.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"kata sandi lama", &salt)
        .unwrap()
        .to_string();
        assert!(verify_with("kata sandi lama", &other, &mut memory));
        assert_eq!(memory.len(), 19 * 1024, "the memory is kept at its largest");
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies() {
        let hash = hash_password("kata sandi yang panjang".into()).await;
        assert!(verify_password("kata sandi yang panjang".into(), hash.clone()).await);
        assert!(!verify_password("salah".into(), hash).await);
    }
}
