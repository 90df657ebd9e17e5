//! HTTP tests of the account manager: every test boots the real app on a
//! free port, against a fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` names a server) and, when `TEST_REDIS_URL` is set,
//! Redis under a key prefix of its own.

mod audit;
mod bad_input;
mod dialects;
mod forged;
mod google;
mod hardening;
mod helpers;
mod kept_accounts;
mod keys;
mod lifecycle;
mod login;
mod logout;
mod metrics;
mod openapi;
mod recovery;
mod redis_outage;
mod refresh;
mod register;
mod revocation;
mod seed001;
mod seed002;
mod seed003;
mod services;
mod sessions;
mod shutdown;
mod throttle;
