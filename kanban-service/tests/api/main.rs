//! HTTP tests of the kanban service against a real account manager: both
//! boot on free ports with fresh databases (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` names a server) and share Redis when `TEST_REDIS_URL`
//! is set (otherwise kanban follows the account manager's HTTP feed).

mod authorization;
mod avatars;
mod bad_input;
mod card_budget;
mod concurrency;
mod counts;
mod deployment;
mod dialects;
mod google;
mod helpers;
mod invitations;
mod kept_lists;
mod lifecycle;
mod locks;
mod metrics;
mod openapi;
mod ownership;
mod people;
mod ranks;
mod redis_topologies;
mod replicas;
mod request_ids;
mod revocation;
mod tokens;
mod walkthrough;
