//! sea-orm entities of the board tables.

pub mod category;
pub mod invitation;
pub mod membership;
pub mod organization;
pub mod people_version;
pub mod tag;
pub mod task;
pub mod task_assignee;
pub mod task_tag;
pub mod user;
