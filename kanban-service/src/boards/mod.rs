//! The rules of boards: roles, who may do what, what valid input is, and how
//! positions stay dense. No HTTP and no SQL here.

pub mod service;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{KanbanError, KanbanResult};

/// The categories every new organization starts with, in order.
pub const DEFAULT_CATEGORIES: [&str; 4] = ["Backlog", "Todo", "Doing", "Done"];
pub const KIND_DEFAULT: &str = "Default";
pub const KIND_CUSTOM: &str = "Custom";

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 255;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationRole {
    Admin,
    Member,
}

impl OrganizationRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationRole::Admin => "admin",
            OrganizationRole::Member => "member",
        }
    }

    /// Parses `admin` / `member` in any case.
    pub fn parse(value: &str) -> Option<OrganizationRole> {
        match value.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(OrganizationRole::Admin),
            "member" => Some(OrganizationRole::Member),
            _ => None,
        }
    }

    /// The role as the seed-000 client shows it: the creator is `Owner`.
    pub fn label(self, is_creator: bool) -> &'static str {
        match (is_creator, self) {
            (true, _) => "Owner",
            (false, OrganizationRole::Admin) => "Admin",
            (false, OrganizationRole::Member) => "Member",
        }
    }
}

/// Members (any role) read an organization's data.
pub fn ensure_member(role: Option<OrganizationRole>) -> KanbanResult<OrganizationRole> {
    role.ok_or(KanbanError::NotMember)
}

/// Only admins change the organization, its categories, tags and members.
pub fn ensure_admin(role: Option<OrganizationRole>) -> KanbanResult<()> {
    match ensure_member(role)? {
        OrganizationRole::Admin => Ok(()),
        OrganizationRole::Member => Err(KanbanError::NotAdmin),
    }
}

/// Only a task's owner and its assignees edit, move or delete it.
pub fn ensure_task_editor(user_id: i64, owner_id: i64, assignees: &[i64]) -> KanbanResult<()> {
    if user_id == owner_id || assignees.contains(&user_id) {
        Ok(())
    } else {
        Err(KanbanError::NotTaskEditor)
    }
}

/// An organization keeps at least one admin.
pub fn ensure_admin_remains(admins: usize, losing_admin: bool) -> KanbanResult<()> {
    if losing_admin && admins <= 1 {
        Err(KanbanError::LastAdmin)
    } else {
        Ok(())
    }
}

/// A required, trimmed text of at most `max` characters.
pub fn required_text(field: &str, value: Option<&str>, max: usize) -> KanbanResult<String> {
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(KanbanError::Invalid(format!("{field} is required")));
    }
    optional_text(field, Some(value), max).map(Option::unwrap_or_default)
}

/// An optional text of at most `max` characters.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> KanbanResult<Option<String>> {
    match value {
        Some(value) if value.chars().count() > max => Err(KanbanError::Invalid(format!(
            "{field} must be at most {max} characters"
        ))),
        Some(value) => Ok(Some(value.trim().to_owned())),
        None => Ok(None),
    }
}

/// A tag color: `#RRGGBB`, stored upper-case.
pub fn parse_color(value: Option<&str>) -> KanbanResult<String> {
    let value = value.map(str::trim).unwrap_or_default();
    let hex = value.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(format!("#{}", hex.to_ascii_uppercase()))
    } else {
        Err(KanbanError::Invalid(
            "Color must be a hex color like #FF0000".into(),
        ))
    }
}

/// A due date: `2020-10-10` or an RFC 3339 instant.
pub fn parse_due_date(value: &str) -> KanbanResult<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| KanbanError::Invalid("due_date must be a date like 2020-10-10".into()))
}

/// Moves `id` to the 1-based `position` in `order` (the end when `None` or
/// past the end); `id` is added when absent. Returns the new order; an
/// item's position is its index + 1, so positions stay dense.
pub fn place(order: &[i64], id: i64, position: Option<i64>) -> Vec<i64> {
    let mut order: Vec<i64> = order.iter().copied().filter(|&other| other != id).collect();
    let index = match position {
        Some(position) => (position.max(1) as usize - 1).min(order.len()),
        None => order.len(),
    };
    order.insert(index, id);
    order
}

/// The seed-000 avatar for a name (no request is made to that site).
pub fn profile_picture(name: &str) -> String {
    let words: Vec<String> = name.split_whitespace().map(url_escape).collect();
    format!(
        "https://ui-avatars.com/api/?name={}&background=random&rounded=true",
        words.join("+")
    )
}

fn url_escape(word: &str) -> String {
    word.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// What the seed-000 client shows as a user's name: the name, or the email.
pub fn display_name(name: &str, email: Option<&str>) -> String {
    if name.trim().is_empty() {
        email.unwrap_or_default().to_owned()
    } else {
        name.trim().to_owned()
    }
}

/// The seed-000 registration rules, in the seed's order and wording.
pub fn check_registration(
    first: &str,
    last: &str,
    email: &str,
    password: &str,
) -> KanbanResult<()> {
    let missing: Vec<&str> = [
        (first.trim().is_empty(), "First name is required"),
        (last.trim().is_empty(), "Second name is required"),
        (email.trim().is_empty(), "Email is required"),
        (password.is_empty(), "Password is required"),
    ]
    .into_iter()
    .filter_map(|(absent, message)| absent.then_some(message))
    .collect();
    if !missing.is_empty() {
        return Err(KanbanError::Invalid(missing.join(", ")));
    }
    let email = email.trim();
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if !well_formed {
        return Err(KanbanError::Invalid(
            "Please fill email with correct format (yourmail@mail.com)".into(),
        ));
    }
    let spaced: Vec<&str> = [
        (
            first.trim().contains(' '),
            "First name cannot contain space",
        ),
        (
            last.trim().contains(' '),
            "Second name cannot contain space",
        ),
    ]
    .into_iter()
    .filter_map(|(bad, message)| bad.then_some(message))
    .collect();
    if !spaced.is_empty() {
        return Err(KanbanError::Invalid(spaced.join(", ")));
    }
    if password.chars().count() < 6 {
        return Err(KanbanError::Invalid(
            "Password should be minimum 6 characters".into(),
        ));
    }
    for (field, value) in [("First name", first), ("Second name", last)] {
        optional_text(field, Some(value), MAX_NAME_CHARS)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: KanbanResult<()>) -> String {
        match result {
            Err(KanbanError::Invalid(message)) => message,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn placing_keeps_positions_dense() {
        assert_eq!(place(&[1, 2, 3], 3, Some(1)), vec![3, 1, 2]);
        assert_eq!(place(&[1, 2, 3], 1, Some(3)), vec![2, 3, 1]);
        assert_eq!(place(&[1, 2, 3], 1, Some(99)), vec![2, 3, 1]);
        assert_eq!(place(&[1, 2, 3], 2, Some(-5)), vec![2, 1, 3]);
        assert_eq!(place(&[1, 2], 7, None), vec![1, 2, 7]);
        assert_eq!(place(&[], 7, Some(4)), vec![7]);
    }

    #[test]
    fn roles_and_permissions() {
        assert!(matches!(ensure_member(None), Err(KanbanError::NotMember)));
        assert!(matches!(
            ensure_admin(Some(OrganizationRole::Member)),
            Err(KanbanError::NotAdmin)
        ));
        assert!(ensure_admin(Some(OrganizationRole::Admin)).is_ok());
        assert!(ensure_task_editor(1, 1, &[]).is_ok());
        assert!(ensure_task_editor(2, 1, &[2]).is_ok());
        assert!(matches!(
            ensure_task_editor(3, 1, &[2]),
            Err(KanbanError::NotTaskEditor)
        ));
        assert!(matches!(
            ensure_admin_remains(1, true),
            Err(KanbanError::LastAdmin)
        ));
        assert!(ensure_admin_remains(2, true).is_ok());
        assert_eq!(
            OrganizationRole::parse("ADMIN"),
            Some(OrganizationRole::Admin)
        );
        assert_eq!(OrganizationRole::Member.label(true), "Owner");
    }

    #[test]
    fn registration_messages_follow_the_seed() {
        assert_eq!(
            message(check_registration("", "", "", "")),
            "First name is required, Second name is required, Email is required, Password is required"
        );
        assert_eq!(
            message(check_registration("A", "", "a@b.co", "secret")),
            "Second name is required"
        );
        assert_eq!(
            message(check_registration("A", "B", "nope", "secret")),
            "Please fill email with correct format (yourmail@mail.com)"
        );
        assert_eq!(
            message(check_registration("A b", "C d", "a@b.co", "secret")),
            "First name cannot contain space, Second name cannot contain space"
        );
        assert_eq!(
            message(check_registration("A", "B", "a@b.co", "12345")),
            "Password should be minimum 6 characters"
        );
        assert!(check_registration("A", "B", "a@b.co", "123456").is_ok());
    }

    #[test]
    fn inputs_are_checked() {
        assert_eq!(parse_color(Some("#ff00aa")).unwrap(), "#FF00AA");
        assert!(parse_color(Some("red")).is_err());
        assert!(parse_color(None).is_err());
        assert_eq!(
            parse_due_date("2020-10-10").unwrap().to_rfc3339(),
            "2020-10-10T00:00:00+00:00"
        );
        assert!(parse_due_date("2020-10-10T12:00:00Z").is_ok());
        assert!(parse_due_date("tomorrow").is_err());
        assert!(required_text("Title", Some("  "), 10).is_err());
        assert!(required_text("Title", Some(&"x".repeat(11)), 10).is_err());
        assert_eq!(required_text("Title", Some(" ok "), 10).unwrap(), "ok");
    }

    #[test]
    fn avatars_and_names() {
        assert_eq!(
            profile_picture("Jane Doe"),
            "https://ui-avatars.com/api/?name=Jane+Doe&background=random&rounded=true"
        );
        assert_eq!(
            profile_picture("Zoë"),
            "https://ui-avatars.com/api/?name=Zo%C3%AB&background=random&rounded=true"
        );
        assert_eq!(display_name(" ", Some("a@b.co")), "a@b.co");
    }
}
