//! The machine's own ceiling for logins: raw argon2id hashes per second.

use std::time::{Duration, Instant};

use crate::PASSWORD;

/// The account manager's default argon2id memory (KiB) and iterations
/// (`AUTH_ARGON2_MEMORY_KIB`, `AUTH_ARGON2_ITERATIONS`), which the
/// benchmark leaves as they are.
pub(crate) const ARGON2_MEMORY_KIB: u32 = 7168;
pub(crate) const ARGON2_ITERATIONS: u32 = 5;

/// argon2id hashes per second with the service's default parameters, on
/// every core at once, computed the way the service computes them.
pub(crate) fn argon2_rate(duration: Duration) -> (f64, usize) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let handles: Vec<_> = (0..cores)
        .map(|_| {
            std::thread::spawn(move || {
                let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, 1, Some(32))
                    .unwrap_or_default();
                // One working memory per thread, reused, as the service does.
                let mut memory = vec![argon2::Block::default(); params.block_count()];
                let hasher = argon2::Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    params,
                );
                let (salt, mut out) = ([7u8; 16], [0u8; 32]);
                let mut count = 0u64;
                while Instant::now() < deadline {
                    if hasher
                        .hash_password_into_with_memory(
                            PASSWORD.as_bytes(),
                            &salt,
                            &mut out,
                            &mut memory,
                        )
                        .is_ok()
                    {
                        count += 1;
                    }
                }
                count
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    (total as f64 / started.elapsed().as_secs_f64(), cores)
}
