//! argon2id hashing on a fixed set of dedicated threads, so a login storm
//! neither stalls the async workers nor grows memory: each hash needs
//! `memory_kib` of working memory, and the allocator keeps what a thread
//! freed for that thread's next use, so a bounded set of threads is what
//! bounds the memory (the blocking pool would hand the work to ever new
//! threads). Requests beyond the pool's size wait in its queue, which is
//! bounded: when it is full the request is refused at once ([`Busy`]), so
//! a flood of logins cannot make every later one wait behind it, and a
//! queued job whose request is gone (the client hung up) is skipped.

use std::sync::{Arc, Mutex, mpsc};

use anyhow::Context;
use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::config::PasswordSettings;

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash used other parameters than the configured ones.
    pub needs_rehash: bool,
}

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// The argon2 working memory of this hashing thread, reused by every
    /// hash it computes (7 MiB with the default parameters).
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Computes argon2 into `out` in this thread's reused working memory.
fn compute(
    argon2: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    WORKING_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// Compares without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) for `password`.
fn hash_with(params: &Params, password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| anyhow::anyhow!("no randomness: {err}"))?;
    let mut out = [0u8; 32];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    compute(&argon2, params.block_count(), password, &salt, &mut out)
        .map_err(|err| anyhow::anyhow!("hashing failed: {err}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|err| anyhow::anyhow!("{err}"))?,
        salt: Some(Salt::new(&salt).map_err(|err| anyhow::anyhow!("{err}"))?),
        hash: Some(Output::new(&out).map_err(|err| anyhow::anyhow!("{err}"))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string; `None` when the string is not a
/// usable argon2 hash. Also says whether it was made with other parameters.
fn verify_with(params: &Params, password: &[u8], stored: &str) -> Option<Verification> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let expected = parsed.hash.as_ref()?.as_bytes().to_vec();
    let salt = parsed.salt.as_ref()?;
    let stored_params = Params::try_from(&parsed).ok()?;
    let with_length = Params::new(
        stored_params.m_cost(),
        stored_params.t_cost(),
        stored_params.p_cost(),
        Some(expected.len()),
    )
    .ok()?;
    let argon2 = Argon2::new(algorithm, version, with_length.clone());
    let mut out = vec![0u8; expected.len()];
    compute(
        &argon2,
        with_length.block_count(),
        password,
        salt.as_ref(),
        &mut out,
    )
    .ok()?;
    let needs_rehash = algorithm != Algorithm::Argon2id
        || stored_params.m_cost() != params.m_cost()
        || stored_params.t_cost() != params.t_cost()
        || stored_params.p_cost() != params.p_cost();
    Some(Verification {
        matches: same_bytes(&out, &expected),
        needs_rehash,
    })
}

/// Every hashing thread is busy and the queue is full: try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct Busy;

/// The hashing threads; they stop when the last handle is dropped.
#[derive(Clone)]
struct HashingThreads {
    queue: mpsc::SyncSender<Job>,
}

impl HashingThreads {
    fn start(count: usize, queue_len: usize) -> anyhow::Result<Self> {
        let (queue, jobs) = mpsc::sync_channel::<Job>(queue_len.max(1));
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..count.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    loop {
                        let job = match jobs.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .context("cannot start a hashing thread")?;
        }
        Ok(Self { queue })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // Nobody waits for it any more (the request was dropped).
            if answer.is_closed() {
                return;
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = answer.send(result);
        });
        self.queue.try_send(job).map_err(|err| match err {
            mpsc::TrySendError::Full(_) => anyhow::Error::new(Busy),
            mpsc::TrySendError::Disconnected(_) => {
                anyhow::anyhow!("the hashing threads have stopped")
            }
        })?;
        answered
            .await
            .context("hashing job dropped")?
            .map_err(|_| anyhow::anyhow!("hashing panicked"))
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    threads: HashingThreads,
    /// Verified against when the account does not exist, so that an unknown
    /// email takes as long to refuse as a wrong password.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub async fn new(settings: &PasswordSettings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|err| anyhow::anyhow!("invalid argon2 parameters: {err}"))?;
        let mut hasher = Self {
            params,
            threads: HashingThreads::start(settings.max_concurrent, settings.queue_len)?,
            dummy_hash: Arc::new(String::new()),
        };
        let dummy = hasher
            .hash("not a real password, only a timing decoy".to_owned())
            .await?;
        hasher.dummy_hash = Arc::new(dummy);
        Ok(hasher)
    }

    /// Runs `work` on a hashing thread (queued while all are busy).
    async fn offload<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        self.threads.run(work).await
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.offload(move || hash_with(&params, password.as_bytes()))
            .await?
    }

    /// Checks `password` against `stored`, or against a decoy when there is
    /// no stored hash (unknown account), which never matches.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> anyhow::Result<Verification> {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let params = self.params.clone();
        self.offload(move || {
            let verification =
                verify_with(&params, password.as_bytes(), &stored).unwrap_or(Verification {
                    matches: false,
                    needs_rehash: false,
                });
            Verification {
                matches: verification.matches && real,
                ..verification
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(memory_kib: u32) -> PasswordSettings {
        PasswordSettings {
            memory_kib,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
            queue_len: 64,
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_detect_parameter_changes() {
        let hasher = PasswordHasher::new(&settings(1024)).await.unwrap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let ok = hasher
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        let wrong = hasher
            .verify("wrong".into(), Some(hash.clone()))
            .await
            .unwrap();
        assert!(!wrong.matches);

        let stronger = PasswordHasher::new(&settings(2048)).await.unwrap();
        let old = stronger
            .verify("correct horse".into(), Some(hash))
            .await
            .unwrap();
        assert_eq!(
            old,
            Verification {
                matches: true,
                needs_rehash: true
            }
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_abandoned_jobs_are_skipped() {
        let mut tight = settings(8 * 1024);
        tight.max_concurrent = 1;
        tight.queue_len = 2;
        let hasher = PasswordHasher::new(&tight).await.unwrap();
        // Abandoned requests: started, then dropped before they were hashed.
        for _ in 0..2 {
            let pending = hasher.hash("abandoned".into());
            let _ = tokio::time::timeout(std::time::Duration::from_millis(1), pending).await;
        }
        // Many at once: the thread and the queue take three, the rest are busy.
        let attempts: Vec<_> = (0..8).map(|_| hasher.hash("flood".into())).collect();
        let results = futures::future::join_all(attempts).await;
        let busy = results
            .iter()
            .filter(|r| {
                r.as_ref()
                    .is_err_and(|e| e.downcast_ref::<Busy>().is_some())
            })
            .count();
        assert!(busy >= 5, "{busy} of 8 refused");
        // Once the queue drains, hashing works again.
        assert!(hasher.hash("later".into()).await.is_ok());
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_match() {
        let hasher = PasswordHasher::new(&settings(1024)).await.unwrap();
        let decoy = "not a real password, only a timing decoy";
        assert!(!hasher.verify(decoy.into(), None).await.unwrap().matches);
        assert!(
            !hasher
                .verify("x".into(), Some("garbage".into()))
                .await
                .unwrap()
                .matches
        );
    }
}
