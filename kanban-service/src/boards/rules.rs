//! The rules of boards: who may do what, what valid input is, and how
//! tasks are ordered (sparse ranks, dense positions when read). No HTTP and
//! no SQL here.

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

/// How far apart the ordering keys (ranks) of a category's tasks are when
/// it is renumbered and when a task is appended: room for about twenty
/// moves into one gap before it is renumbered again.
pub const RANK_GAP: i64 = 1 << 20;

/// The 0-based index among the category's other tasks (in rank order) that
/// a task placed at `requested` lands on: `None` for the end (when none is
/// requested; an index past the end also lands there), the first for
/// anything below 1, as [`place`] orders.
pub fn landing_index(requested: Option<i64>) -> Option<u64> {
    requested.map(|position| (position.max(1) - 1) as u64)
}

/// Which of a category's ranks to read, in rank order (`descending`: from
/// the last), to find a task's new neighbours ([`neighbours`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankWindow {
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
}

/// The ranks to read for a task placed at the 0-based `index` among the
/// category's other tasks (`None`: the end). `moving`: the task is in the
/// category already (a move within it), so the window reads one rank more
/// and [`neighbours`] leaves the task's own out: no filter on the task's
/// id, so the read stays on the `(category_id, rank)` index alone.
pub fn rank_window(index: Option<u64>, moving: bool) -> RankWindow {
    let own = u64::from(moving);
    match index {
        None => RankWindow {
            descending: true,
            offset: 0,
            limit: 1 + own,
        },
        Some(0) => RankWindow {
            descending: false,
            offset: 0,
            limit: 1 + own,
        },
        Some(index) => RankWindow {
            descending: false,
            offset: index - 1,
            limit: 2 + own,
        },
    }
}

/// The ranks `(before, after)` of the neighbours a task gets at `index`
/// (as [`rank_window`]), from the `window` of ranks read; `moving`: the
/// task's own rank when it is in the category already. `None`: the index
/// is past the end of the other tasks: read the end's window instead.
pub fn neighbours(
    index: Option<u64>,
    window: &[i64],
    moving: Option<i64>,
) -> Option<(Option<i64>, Option<i64>)> {
    let mut others: Vec<i64> = window.to_vec();
    match (index, moving) {
        // Before the window, the task moves every other rank up by one.
        (Some(index), Some(own)) if index > 0 && others.first().is_some_and(|&f| own < f) => {
            others.remove(0);
        }
        _ => others.retain(|&rank| Some(rank) != moving),
    }
    match index {
        None => Some((others.first().copied(), None)),
        Some(0) => Some((None, others.first().copied())),
        Some(_) => {
            let before = *others.first()?;
            Some((Some(before), others.get(1).copied()))
        }
    }
}

/// The rank of a task placed between the neighbours `before` and `after`
/// (their ranks; `None`: there is none on that side): their midpoint, one
/// [`RANK_GAP`] past the last or before the first, [`RANK_GAP`] in an empty
/// category. `None` when no integer is free between them (or past an end
/// without overflowing): the category is to be renumbered
/// (to place × [`RANK_GAP`]) and the neighbours read again.
pub fn rank_between(before: Option<i64>, after: Option<i64>) -> Option<i64> {
    match (before, after) {
        (None, None) => Some(RANK_GAP),
        (Some(before), None) => before.checked_add(RANK_GAP),
        (None, Some(after)) => after.checked_sub(RANK_GAP),
        (Some(before), Some(after)) => {
            let middle = before.midpoint(after);
            (before < middle && middle < after).then_some(middle)
        }
    }
}

/// The 1-based position of a task placed at the 0-based `index` (as
/// [`landing_index`]) when the neighbours read showed it `within` the
/// category's other tasks: `index` + 1. `None`: it is the category's last
/// (no index, or one past the end), whose position is the category's number
/// of tasks ([`last_position`]); no column is counted either way.
pub fn landed_position(index: Option<u64>, within: bool) -> Option<i64> {
    index
        .filter(|_| within)
        .and_then(|index| i64::try_from(index).ok())
        .map(|index| index + 1)
}

/// The position of a category's last task: its number of tasks (the
/// `task_count` it keeps, with the task in it), as a client sees it.
pub fn last_position(task_count: i64) -> i32 {
    shown_position(task_count)
}

/// A 1-based position as clients see it (an `i32`, saturated).
pub fn shown_position(position: i64) -> i32 {
    i32::try_from(position.max(1)).unwrap_or(i32::MAX)
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

    /// The rank of the `n`-th (1-based) task of a renumbered category.
    fn renumbered_rank(n: i64) -> i64 {
        n * RANK_GAP
    }

    /// The category's ranks around the `index`-th place among those of
    /// `ranks` (sorted) other than `except`, as the store reads them.
    fn around(
        ranks: &[(i64, i64)],
        except: Option<i64>,
        index: Option<u64>,
    ) -> (Option<i64>, Option<i64>) {
        let others: Vec<i64> = ranks
            .iter()
            .filter(|(id, _)| Some(*id) != except)
            .map(|(_, rank)| *rank)
            .collect();
        match index {
            Some(0) => (None, others.first().copied()),
            Some(i) if (i as usize) <= others.len() => (
                Some(others[i as usize - 1]),
                others.get(i as usize).copied(),
            ),
            _ => (others.last().copied(), None),
        }
    }

    /// Places `id` in `column` ((id, rank) in rank order) as a move does:
    /// the rank between its new neighbours, renumbering when there is none.
    /// Answers how many renumberings it took (0 or 1).
    fn move_in(column: &mut Vec<(i64, i64)>, id: i64, requested: Option<i64>) -> usize {
        let index = landing_index(requested);
        let mut renumbered = 0;
        let rank = loop {
            let (before, after) = around(column, Some(id), index);
            if let Some(rank) = rank_between(before, after) {
                break rank;
            }
            assert_eq!(renumbered, 0, "one renumbering makes room");
            renumbered += 1;
            for (n, task) in column.iter_mut().enumerate() {
                task.1 = renumbered_rank(n as i64 + 1);
            }
        };
        column.retain(|(other, _)| *other != id);
        column.push((id, rank));
        column.sort_by_key(|(_, rank)| *rank);
        let ranks: Vec<i64> = column.iter().map(|(_, rank)| *rank).collect();
        assert!(
            ranks.windows(2).all(|w| w[0] < w[1]),
            "ranks unique: {ranks:?}"
        );
        renumbered
    }

    /// The window of a sorted column the store reads.
    fn read(ranks: &[i64], window: RankWindow) -> Vec<i64> {
        let mut ranks = ranks.to_vec();
        if window.descending {
            ranks.reverse();
        }
        ranks
            .into_iter()
            .skip(window.offset as usize)
            .take(window.limit as usize)
            .collect()
    }

    /// Reading a window (with the moving task's own rank in it, or before
    /// or after it) finds the neighbours the other tasks give, for every
    /// index and every task of small columns, and of moves into them.
    #[test]
    fn windows_find_the_neighbours() {
        for len in 0..7 {
            let column: Vec<(i64, i64)> = (1..=len).map(|id| (id, id * 10)).collect();
            let ranks: Vec<i64> = column.iter().map(|(_, rank)| *rank).collect();
            for moving in (1..=len).map(Some).chain([None]) {
                for index in [None, Some(0), Some(1), Some(2), Some(3), Some(5), Some(9)] {
                    let own = moving.map(|id| id * 10);
                    let window = rank_window(index, moving.is_some());
                    let found =
                        neighbours(index, &read(&ranks, window), own).unwrap_or_else(|| {
                            let end = rank_window(None, moving.is_some());
                            neighbours(None, &read(&ranks, end), own).unwrap()
                        });
                    assert_eq!(
                        found,
                        around(&column, moving, index),
                        "{moving:?} to {index:?} in {ranks:?}"
                    );
                }
            }
        }
    }

    /// Ranks order a column as `place` does, for every move within a small
    /// column and into it, and dense positions are the rank order.
    #[test]
    fn ranks_order_as_place_does() {
        for len in 0..6 {
            for requested in [None, Some(-3), Some(0), Some(1), Some(2), Some(4), Some(99)] {
                for moved in (1..=len).chain([100]) {
                    let mut column: Vec<(i64, i64)> =
                        (1..=len).map(|id| (id, renumbered_rank(id))).collect();
                    let order: Vec<i64> = column.iter().map(|(id, _)| *id).collect();
                    move_in(&mut column, moved, requested);
                    let ids: Vec<i64> = column.iter().map(|(id, _)| *id).collect();
                    assert_eq!(
                        ids,
                        place(&order, moved, requested),
                        "{moved} to {requested:?}"
                    );
                }
            }
        }
    }

    /// Moving task after task into the same gap halves it each time, until
    /// the column is renumbered once; the order stays the one `place` gives.
    #[test]
    fn a_gap_used_up_is_renumbered() {
        let mut column: Vec<(i64, i64)> = (1..=50).map(|id| (id, renumbered_rank(id))).collect();
        let mut order: Vec<i64> = (1..=50).collect();
        let mut renumberings = 0;
        for id in 10..50 {
            renumberings += move_in(&mut column, id, Some(2));
            order = place(&order, id, Some(2));
            let ids: Vec<i64> = column.iter().map(|(id, _)| *id).collect();
            assert_eq!(ids, order);
        }
        assert!(
            (1..=3).contains(&renumberings),
            "{renumberings} renumberings"
        );
    }

    #[test]
    fn ranks_between_neighbours() {
        assert_eq!(rank_between(None, None), Some(RANK_GAP));
        assert_eq!(rank_between(Some(5), None), Some(5 + RANK_GAP));
        assert_eq!(rank_between(None, Some(5)), Some(5 - RANK_GAP));
        assert_eq!(rank_between(Some(2), Some(10)), Some(6));
        assert_eq!(
            rank_between(Some(-7), Some(-2)),
            Some(-4),
            "rounded towards zero"
        );
        assert_eq!(rank_between(Some(2), Some(4)), Some(3));
        // No integer between: renumber.
        assert_eq!(rank_between(Some(2), Some(3)), None);
        assert_eq!(rank_between(Some(i64::MAX - 1), None), None);
        assert_eq!(rank_between(None, Some(i64::MIN + 1)), None);
        // Far apart, without overflowing.
        assert!(rank_between(Some(i64::MIN), Some(i64::MAX)).is_some());
        assert_eq!(landing_index(None), None);
        assert_eq!(landing_index(Some(-4)), Some(0));
        assert_eq!(landing_index(Some(1)), Some(0));
        assert_eq!(landing_index(Some(3)), Some(2));
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

    #[test]
    fn landed_positions() {
        // Within the other tasks: index + 1.
        assert_eq!(landed_position(Some(0), true), Some(1));
        assert_eq!(landed_position(Some(4), true), Some(5));
        // Past the end, or no position: the last, the category's count.
        assert_eq!(landed_position(Some(9), false), None);
        assert_eq!(landed_position(None, false), None);
        assert_eq!(landed_position(None, true), None);
        assert_eq!(last_position(1), 1);
        assert_eq!(last_position(5_500), 5_500);
        assert_eq!(shown_position(i64::MAX), i32::MAX);
    }

    /// The position a write answers (from the landing index, the
    /// neighbours read and the count kept) is the one [`place`] gives, for
    /// every requested position in columns of every small length, with the
    /// task coming from another column or moving within its own.
    #[test]
    fn landed_positions_match_place() {
        for len in 0..6_i64 {
            for from_elsewhere in [true, false] {
                let ids: Vec<i64> = (1..=len).collect();
                let ranks: Vec<i64> = ids.iter().map(|id| id * RANK_GAP).collect();
                let moving_id = if from_elsewhere { 100 } else { 1 };
                if !from_elsewhere && len == 0 {
                    continue;
                }
                let moving = (!from_elsewhere).then_some(RANK_GAP);
                let count = if from_elsewhere { len + 1 } else { len };
                for requested in [None, Some(-1), Some(0), Some(1), Some(2), Some(3), Some(7)] {
                    let index = landing_index(requested);
                    let window = read(&ranks, rank_window(index, moving.is_some()));
                    let within = index.is_some() && neighbours(index, &window, moving).is_some();
                    let answered =
                        landed_position(index, within).map_or(last_position(count), shown_position);
                    let order = place(&ids, moving_id, requested);
                    let expected = order.iter().position(|&id| id == moving_id).unwrap() + 1;
                    assert_eq!(
                        answered as usize, expected,
                        "len {len}, from elsewhere {from_elsewhere}, requested {requested:?}"
                    );
                }
            }
        }
    }
}
