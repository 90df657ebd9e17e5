//! The rules of boards: who may do what, what valid input is, and how
//! positions stay dense. No HTTP and no SQL here.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::error::{BoardError, BoardResult, Field, Rule, Violation};
use super::model::OrganizationRole;

/// The categories every new organization starts with, in order.
pub const DEFAULT_CATEGORIES: [&str; 4] = ["Backlog", "Todo", "Doing", "Done"];

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 255;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MIN_PASSWORD_CHARS: usize = 6;
pub const MAX_EMAIL_CHARS: usize = 255;
/// How long an invitation can be accepted; inviting the same email again
/// starts a new period.
pub const INVITATION_DAYS: i64 = 14;

/// Members (any role) read an organization's data.
pub fn ensure_member(role: Option<OrganizationRole>) -> BoardResult<OrganizationRole> {
    role.ok_or(BoardError::NotMember)
}

/// Only admins change the organization, its categories, tags and members.
pub fn ensure_admin(role: OrganizationRole) -> BoardResult<()> {
    match role {
        OrganizationRole::Admin => Ok(()),
        OrganizationRole::Member => Err(BoardError::NotAdmin),
    }
}

/// Only a task's owner and its assignees edit, move or delete it.
pub fn ensure_task_editor(user_id: i64, owner_id: i64, assignees: &[i64]) -> BoardResult<()> {
    if user_id == owner_id || assignees.contains(&user_id) {
        Ok(())
    } else {
        Err(BoardError::NotTaskEditor)
    }
}

/// Only the organization's owner transfers ownership or deletes it.
pub fn ensure_owner(user_id: i64, owner_id: i64) -> BoardResult<()> {
    if user_id == owner_id {
        Ok(())
    } else {
        Err(BoardError::NotOwner)
    }
}

/// The owner stays an admin member: nobody (the owner included) demotes
/// (`losing_admin`) or removes (also `losing_admin`) them; ownership moves
/// only by the owner's transfer.
pub fn ensure_owner_stays(owner_id: i64, member: i64, losing_admin: bool) -> BoardResult<()> {
    if member == owner_id && losing_admin {
        Err(BoardError::OwnerProtected)
    } else {
        Ok(())
    }
}

/// Ownership goes from the owner to another member of the organization
/// (`to_role`: the recipient's role, `None` when not a member).
pub fn check_transfer(
    user_id: i64,
    owner_id: i64,
    to_role: Option<OrganizationRole>,
) -> BoardResult<()> {
    ensure_owner(user_id, owner_id)?;
    to_role.map(drop).ok_or(BoardError::MemberNotFound)
}

/// The email an invitation is addressed to: required, well formed, at most
/// [`MAX_EMAIL_CHARS`]; kept trimmed and lower case, so it matches the
/// invitee's account whatever case either was typed in.
pub fn invitation_email(value: Option<&str>) -> BoardResult<String> {
    let email = required_text(Field::UserEmail, value, MAX_EMAIL_CHARS)?;
    if !well_formed_email(&email) {
        return Err(BoardError::invalid(Field::UserEmail, Rule::EmailAddress));
    }
    Ok(email.to_lowercase())
}

/// When an invitation made at `now` stops being usable.
pub fn invitation_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(INVITATION_DAYS)
}

/// Whether an invitation is for the caller, known by their account's email
/// (`None`: an account without one, which no invitation is for), and can
/// still be answered at `now`.
pub fn invitation_for(
    invited_email: &str,
    expires_at: DateTime<Utc>,
    caller_email: Option<&str>,
    now: DateTime<Utc>,
) -> bool {
    let matches = caller_email.is_some_and(|caller| {
        let caller = caller.trim();
        !caller.is_empty() && caller.to_lowercase() == invited_email.trim().to_lowercase()
    });
    matches && now < expires_at
}

/// An organization keeps at least one admin.
pub fn ensure_admin_remains(admins: usize, losing_admin: bool) -> BoardResult<()> {
    if losing_admin && admins <= 1 {
        Err(BoardError::LastAdmin)
    } else {
        Ok(())
    }
}

/// A required, trimmed text of at most `max` characters (as sent, spaces
/// included, as the OpenAPI document's `maxLength` counts).
pub fn required_text(field: Field, value: Option<&str>, max: usize) -> BoardResult<String> {
    if value.is_some_and(|value| value.chars().count() > max) {
        return Err(BoardError::invalid(field, Rule::AtMost(max)));
    }
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(BoardError::invalid(field, Rule::Required));
    }
    optional_text(field, Some(value), max).map(Option::unwrap_or_default)
}

/// An optional text of at most `max` characters.
pub fn optional_text(field: Field, value: Option<&str>, max: usize) -> BoardResult<Option<String>> {
    match value {
        Some(value) if value.chars().count() > max => {
            Err(BoardError::invalid(field, Rule::AtMost(max)))
        }
        Some(value) => Ok(Some(value.trim().to_owned())),
        None => Ok(None),
    }
}

/// A tag color: `#RRGGBB`, stored upper-case.
pub fn parse_color(value: Option<&str>) -> BoardResult<String> {
    let value = value.map(str::trim).unwrap_or_default();
    let hex = value.strip_prefix('#').unwrap_or_default();
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(format!("#{}", hex.to_ascii_uppercase()))
    } else {
        Err(BoardError::invalid(Field::Color, Rule::HexColor))
    }
}

/// A due date: `2020-10-10` or an RFC 3339 instant.
pub fn parse_due_date(value: &str) -> BoardResult<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or(BoardError::invalid(Field::DueDate, Rule::Date))
}

/// An optional due date; empty means none.
pub fn due_date(value: Option<&str>) -> BoardResult<Option<DateTime<Utc>>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse_due_date(value).map(Some),
    }
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

/// The 1-based position a task lands on when placed at `requested` among
/// `others` other tasks of a category: the one [`place`] gives it (the end
/// when `None` or past the end, the first for anything below 1).
pub fn landing(requested: Option<i64>, others: u64) -> i32 {
    let index = match requested {
        Some(position) => (position.max(1) as u64 - 1).min(others),
        None => others,
    };
    index as i32 + 1
}

/// Positions `from..=to` of a category (`to`: `None`, to its end) move by
/// `by`: one range change, whatever the number of tasks it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub category_id: i64,
    pub from: i32,
    pub to: Option<i32>,
    pub by: i32,
}

/// The shifts that keep positions dense when the task at `from` (category,
/// position) goes to `to` (category, position from [`landing`]): within a
/// category the tasks between make room, across categories the source
/// closes its gap and the target opens one.
pub fn shifts_for_move(from: (i64, i32), to: (i64, i32)) -> Vec<Shift> {
    let ((source, old), (target, new)) = (from, to);
    if source != target {
        return vec![
            close_gap(source, old),
            Shift {
                category_id: target,
                from: new,
                to: None,
                by: 1,
            },
        ];
    }
    match new.cmp(&old) {
        std::cmp::Ordering::Less => vec![Shift {
            category_id: source,
            from: new,
            to: Some(old - 1),
            by: 1,
        }],
        std::cmp::Ordering::Greater => vec![Shift {
            category_id: source,
            from: old + 1,
            to: Some(new),
            by: -1,
        }],
        std::cmp::Ordering::Equal => vec![],
    }
}

/// The categories a move from `source` to `target` changes, in the order
/// their locks are taken (ascending ids, each once): two movers locking
/// the same two categories take them in the same order and never wait for
/// each other in a cycle.
pub fn lock_order(source: i64, target: i64) -> Vec<i64> {
    let mut ids = vec![source.min(target), source.max(target)];
    ids.dedup();
    ids
}

/// The shift that closes the gap a task leaves at `position`.
pub fn close_gap(category_id: i64, position: i32) -> Shift {
    Shift {
        category_id,
        from: position + 1,
        to: None,
        by: -1,
    }
}

/// What the seed-000 client shows as a user's name: the name, or the email.
pub fn shown_name(name: &str, email: Option<&str>) -> String {
    if name.trim().is_empty() {
        email.unwrap_or_default().to_owned()
    } else {
        name.trim().to_owned()
    }
}

/// `local@domain.tld`, without whitespace.
fn well_formed_email(email: &str) -> bool {
    email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace)
}

/// The broken rules among `checks`, in order; an error when there is any.
fn all_of(checks: [(bool, Field, Rule); 2]) -> BoardResult<()> {
    let broken: Vec<Violation> = checks
        .into_iter()
        .filter_map(|(broken, field, rule)| broken.then_some(Violation { field, rule }))
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(BoardError::Violations(broken))
    }
}

/// The seed-000 registration rules, in the seed's order: every missing
/// field at once, then the email's form, the names' spaces, the password's
/// length and the names' lengths.
pub fn check_registration(first: &str, last: &str, email: &str, password: &str) -> BoardResult<()> {
    let missing: Vec<Violation> = [
        (first.trim().is_empty(), Field::FirstName),
        (last.trim().is_empty(), Field::SecondName),
        (email.trim().is_empty(), Field::Email),
        (password.is_empty(), Field::Password),
    ]
    .into_iter()
    .filter_map(|(absent, field)| {
        absent.then_some(Violation {
            field,
            rule: Rule::Required,
        })
    })
    .collect();
    if !missing.is_empty() {
        return Err(BoardError::Violations(missing));
    }
    if !well_formed_email(email.trim()) {
        return Err(BoardError::invalid(Field::Email, Rule::EmailAddress));
    }
    all_of([
        (first.trim().contains(' '), Field::FirstName, Rule::NoSpaces),
        (last.trim().contains(' '), Field::SecondName, Rule::NoSpaces),
    ])?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(BoardError::invalid(
            Field::Password,
            Rule::AtLeast(MIN_PASSWORD_CHARS),
        ));
    }
    for (field, value) in [(Field::FirstName, first), (Field::SecondName, last)] {
        optional_text(field, Some(value), MAX_NAME_CHARS)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_lock_their_categories_in_id_order_once() {
        assert_eq!(lock_order(7, 7), vec![7]);
        assert_eq!(lock_order(9, 4), vec![4, 9]);
        assert_eq!(lock_order(4, 9), vec![4, 9]);
    }

    fn broken(result: BoardResult<()>) -> Vec<(Field, Rule)> {
        match result {
            Err(BoardError::Invalid { field, rule }) => vec![(field, rule)],
            Err(BoardError::Violations(all)) => all.iter().map(|v| (v.field, v.rule)).collect(),
            other => panic!("expected a broken input rule, got {other:?}"),
        }
    }

    /// Applies `shifts` to the (category, position) of each task.
    fn apply(tasks: &mut [(i64, i32)], shifts: &[Shift]) {
        for shift in shifts {
            for (category, position) in tasks.iter_mut() {
                let within = *position >= shift.from && shift.to.is_none_or(|to| *position <= to);
                if *category == shift.category_id && within {
                    *position += shift.by;
                }
            }
        }
    }

    /// The range shifts give every task the position `place` gives it, for
    /// every move within and across two small categories.
    #[test]
    fn range_shifts_move_as_place_orders() {
        for (len_a, len_b) in [(0, 0), (1, 0), (1, 3), (4, 0), (5, 2), (3, 6)] {
            let a: Vec<i64> = (1..=len_a).collect();
            let b: Vec<i64> = (100..100 + len_b).collect();
            for (moved_index, &moved) in a.iter().enumerate() {
                for requested in [None, Some(-3), Some(0), Some(1), Some(2), Some(4), Some(99)] {
                    for target in [1, 2] {
                        // Tasks as (category, position): `a` is category 1, `b` category 2.
                        let mut tasks: Vec<(i64, i32)> = a
                            .iter()
                            .enumerate()
                            .map(|(i, _)| (1, i as i32 + 1))
                            .chain(b.iter().enumerate().map(|(i, _)| (2, i as i32 + 1)))
                            .collect();
                        let old = moved_index as i32 + 1;
                        let others = if target == 1 { a.len() - 1 } else { b.len() } as u64;
                        let new = landing(requested, others);
                        apply(&mut tasks, &shifts_for_move((1, old), (target, new)));
                        tasks[moved_index] = (target, new);

                        let (rest_a, rest_b) = if target == 1 {
                            (place(&a, moved, requested), b.clone())
                        } else {
                            let rest: Vec<i64> =
                                a.iter().copied().filter(|&id| id != moved).collect();
                            (rest, place(&b, moved, requested))
                        };
                        let ids: Vec<i64> = a.iter().chain(&b).copied().collect();
                        for (id, (category, position)) in ids.iter().zip(&tasks) {
                            let order = if *category == 1 { &rest_a } else { &rest_b };
                            let expected = order.iter().position(|x| x == id).unwrap() as i32 + 1;
                            assert_eq!(
                                *position, expected,
                                "task {id} moving {moved} to {target}/{requested:?} in {a:?} {b:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn closing_a_gap_moves_the_rest_up() {
        let mut tasks = vec![(1, 1), (1, 3), (2, 3), (1, 4)];
        apply(&mut tasks, &[close_gap(1, 2)]);
        assert_eq!(tasks, vec![(1, 1), (1, 2), (2, 3), (1, 3)]);
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
        assert_eq!(ensure_member(None), Err(BoardError::NotMember));
        assert_eq!(
            ensure_admin(OrganizationRole::Member),
            Err(BoardError::NotAdmin)
        );
        assert!(ensure_admin(OrganizationRole::Admin).is_ok());
        assert!(ensure_task_editor(1, 1, &[]).is_ok());
        assert!(ensure_task_editor(2, 1, &[2]).is_ok());
        assert_eq!(
            ensure_task_editor(3, 1, &[2]),
            Err(BoardError::NotTaskEditor)
        );
        assert_eq!(ensure_admin_remains(1, true), Err(BoardError::LastAdmin));
        assert!(ensure_admin_remains(2, true).is_ok());
    }

    #[test]
    fn the_owner_is_protected_and_only_transfers() {
        let (owner, admin) = (1, 2);
        assert!(ensure_owner(owner, owner).is_ok());
        assert_eq!(ensure_owner(admin, owner), Err(BoardError::NotOwner));
        // Nobody demotes or removes the owner, the owner included.
        assert_eq!(
            ensure_owner_stays(owner, owner, true),
            Err(BoardError::OwnerProtected)
        );
        // Confirming the owner's admin role changes nothing and is allowed.
        assert!(ensure_owner_stays(owner, owner, false).is_ok());
        assert!(ensure_owner_stays(owner, admin, true).is_ok());
        // Only the owner transfers, and only to a member.
        let member = Some(OrganizationRole::Member);
        assert!(check_transfer(owner, owner, member).is_ok());
        assert_eq!(
            check_transfer(admin, owner, Some(OrganizationRole::Admin)),
            Err(BoardError::NotOwner)
        );
        assert_eq!(
            check_transfer(owner, owner, None),
            Err(BoardError::MemberNotFound)
        );
        // Not the owner is refused before anything about the recipient shows.
        assert_eq!(
            check_transfer(admin, owner, None),
            Err(BoardError::NotOwner)
        );
    }

    #[test]
    fn invitations_match_the_invitees_email_until_they_expire() {
        assert_eq!(
            invitation_email(Some("  Jane.Doe@Mail.COM ")).unwrap(),
            "jane.doe@mail.com"
        );
        assert_eq!(
            broken(invitation_email(None).map(drop)),
            [(Field::UserEmail, Rule::Required)]
        );
        assert_eq!(
            broken(invitation_email(Some("jane")).map(drop)),
            [(Field::UserEmail, Rule::EmailAddress)]
        );
        let long = format!("{}@mail.com", "a".repeat(250));
        assert_eq!(
            broken(invitation_email(Some(&long)).map(drop)),
            [(Field::UserEmail, Rule::AtMost(MAX_EMAIL_CHARS))]
        );

        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let expires = invitation_expiry(now);
        assert_eq!(expires - now, Duration::days(INVITATION_DAYS));
        let open = |caller: Option<&str>, at| invitation_for("jane@mail.com", expires, caller, at);
        assert!(open(Some("jane@mail.com"), now));
        assert!(open(Some(" JANE@Mail.com"), now), "case-insensitive");
        assert!(!open(Some("john@mail.com"), now));
        assert!(!open(Some(""), now));
        assert!(!open(None, now), "an account without an email");
        assert!(!open(Some("jane@mail.com"), expires), "expired");
    }

    #[test]
    fn a_length_limit_counts_the_text_as_sent() {
        let padded = format!("a{}", " ".repeat(MAX_NAME_CHARS));
        assert_eq!(
            required_text(Field::Name, Some(&padded), MAX_NAME_CHARS),
            Err(BoardError::invalid(
                Field::Name,
                Rule::AtMost(MAX_NAME_CHARS)
            ))
        );
        assert_eq!(
            required_text(Field::Name, Some("  Backlog  "), MAX_NAME_CHARS),
            Ok("Backlog".to_owned())
        );
    }

    #[test]
    fn registration_follows_the_seed() {
        use Field::*;
        assert_eq!(
            broken(check_registration("", "", "", "")),
            [FirstName, SecondName, Email, Password].map(|f| (f, Rule::Required))
        );
        assert_eq!(
            broken(check_registration("A", "", "a@b.co", "secret")),
            [(SecondName, Rule::Required)]
        );
        assert_eq!(
            broken(check_registration("A", "B", "nope", "secret")),
            [(Email, Rule::EmailAddress)]
        );
        assert_eq!(
            broken(check_registration("A b", "C d", "a@b.co", "secret")),
            [(FirstName, Rule::NoSpaces), (SecondName, Rule::NoSpaces)]
        );
        assert_eq!(
            broken(check_registration("A", "B", "a@b.co", "12345")),
            [(Password, Rule::AtLeast(6))]
        );
        assert_eq!(
            broken(check_registration(
                &"a".repeat(101),
                "B",
                "a@b.co",
                "123456"
            )),
            [(FirstName, Rule::AtMost(100))]
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
        assert_eq!(
            broken(parse_due_date("tomorrow").map(drop)),
            [(Field::DueDate, Rule::Date)]
        );
        assert_eq!(due_date(Some(" ")), Ok(None));
        assert_eq!(
            broken(required_text(Field::Title, Some("  "), 10).map(drop)),
            [(Field::Title, Rule::Required)]
        );
        assert_eq!(
            broken(required_text(Field::Title, Some(&"x".repeat(11)), 10).map(drop)),
            [(Field::Title, Rule::AtMost(10))]
        );
        assert_eq!(required_text(Field::Title, Some(" ok "), 10).unwrap(), "ok");
    }

    #[test]
    fn shown_names() {
        assert_eq!(shown_name(" ", Some("a@b.co")), "a@b.co");
        assert_eq!(shown_name(" Jane Doe ", Some("a@b.co")), "Jane Doe");
    }
}
