//! The command line and the size of a run.

use std::time::Duration;

use anyhow::{Context, bail};

pub(crate) struct Options {
    pub(crate) auth_bin: String,
    pub(crate) kanban_bin: String,
    pub(crate) database_url: String,
    pub(crate) redis_url: String,
    pub(crate) out: String,
    pub(crate) short: bool,
    /// Also measure boards of 200, 1,000 and 5,000 cards and a database of
    /// 200,000 tasks (see `growth`).
    pub(crate) growth: bool,
    /// Runs only the scenarios whose name contains this text (and the
    /// `/healthz` ceilings), for measuring one change; not for the README.
    pub(crate) only: Option<String>,
}

pub(crate) fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let (mut auth_bin, mut kanban_bin, mut database_url, mut redis_url) = (None, None, None, None);
    let (mut out, mut short, mut growth) = ("bench-results.json".to_owned(), false, false);
    let mut only = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--auth-bin" => auth_bin = args.next(),
            "--kanban-bin" => kanban_bin = args.next(),
            "--database-url" => database_url = args.next(),
            "--redis-url" => redis_url = args.next(),
            "--out" => out = args.next().context("--out needs a file")?,
            "--short" => short = true,
            "--growth" => growth = true,
            "--only" => only = Some(args.next().context("--only needs a scenario name")?),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Options {
        auth_bin: auth_bin.context("--auth-bin is required")?,
        kanban_bin: kanban_bin.context("--kanban-bin is required")?,
        database_url: database_url.context("--database-url is required")?,
        redis_url: redis_url.context("--redis-url is required")?,
        out,
        short,
        growth,
        only,
    })
}

/// How big the seeded board is and how long each scenario runs.
#[derive(Clone, Copy)]
pub(crate) struct Scale {
    pub(crate) users: usize,
    pub(crate) organizations: usize,
    pub(crate) members_per_organization: usize,
    pub(crate) tasks: usize,
    /// Cards of the organization whose whole task list is read.
    pub(crate) organization_cards: usize,
    pub(crate) concurrency: usize,
    pub(crate) duration: Duration,
}

pub(crate) const FULL: Scale = Scale {
    users: 1000,
    organizations: 50,
    members_per_organization: 20,
    tasks: 20_000,
    organization_cards: 200,
    concurrency: 32,
    duration: Duration::from_secs(10),
};

pub(crate) const SHORT: Scale = Scale {
    users: 12,
    organizations: 3,
    members_per_organization: 3,
    tasks: 60,
    organization_cards: 40,
    concurrency: 4,
    duration: Duration::from_millis(1500),
};
