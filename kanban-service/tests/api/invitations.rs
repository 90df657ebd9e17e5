//! Adding a member by email is an invitation (issue 12, finding 4): the
//! answer is the same whether or not the email has an account, nothing of
//! the invitee shows in the organization, and the organization shows
//! nothing to the invitee, until the invitee accepts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Stack, User, expect, expect_msg, id, spawn_stack};

const HIDDEN: &str = "Organization not found or you are not authorized to see this organization";
const NOT_MEMBER: &str = "Authorization failed, you are not a member of this organization";
const NO_INVITATION: &str = "Invitation not found";

async fn post_empty(stack: &Stack, path: &str, user: &User) -> reqwest::Response {
    stack
        .send(Method::POST, path, Some(&user.token), None)
        .await
}

/// The answer's status and body, for comparing two answers whole.
async fn whole(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The members' (id, name, email, role).
async fn members(stack: &Stack, org: i64, asker: &User) -> Vec<(i64, String, String, String)> {
    let path = format!("/organizations/{org}/members");
    let listed = expect(stack.get(&path, asker).await, StatusCode::OK).await;
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                id(m),
                m["name"].as_str().unwrap().to_owned(),
                m["email"].as_str().unwrap_or_default().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What an invitee sees of an organization they have not joined: the same
/// answers as any outsider.
async fn assert_hidden_from(stack: &Stack, org: i64, user: &User) {
    let listed = expect(stack.get("/organizations", user).await, StatusCode::OK).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["id"].as_i64() != Some(org)),
        "the organization is in the invitee's list: {listed}"
    );
    for path in [
        format!("/organizations/{org}"),
        format!("/organizations/{org}/members"),
    ] {
        expect_msg(
            stack.get(&path, user).await,
            StatusCode::UNAUTHORIZED,
            HIDDEN,
        )
        .await;
    }
    let path = format!("/tasks?OrganizationId={org}");
    expect_msg(
        stack.get(&path, user).await,
        StatusCode::UNAUTHORIZED,
        NOT_MEMBER,
    )
    .await;
}

/// The attack: a fresh admin "adds" any email. A known email and an
/// unknown one get the same answer; the victim's name and id never appear
/// in the member list, and the organization never appears to the victim,
/// who can decline and is left exactly as before.
#[tokio::test]
async fn adding_by_email_reveals_no_account_and_joins_no_one() {
    let stack = spawn_stack().await;
    let mallory = stack.user("Mal", "Lory", "mallory@mail.com").await;
    let victim = stack.user("Vic", "Tim", "victim@mail.com").await;
    let org = id(&stack.organization(&mallory, "Totally legit").await);
    let add = format!("/organizations/{org}/members");

    let known = whole(
        stack
            .post(&add, &mallory, json!({"UserEmail": "victim@mail.com"}))
            .await,
    )
    .await;
    let unknown = whole(
        stack
            .post(&add, &mallory, json!({"UserEmail": "nobody@mail.com"}))
            .await,
    )
    .await;
    assert_eq!(known.0, StatusCode::CREATED, "{known:?}");
    assert_eq!(known, unknown, "an account's existence shows in the answer");
    assert_eq!(known.1, json!({"msg": "User has been invited"}));

    // Nothing of the victim shows in the organization.
    let listed = members(&stack, org, &mallory).await;
    assert_eq!(
        listed,
        [(
            mallory.id,
            "Mal Lory".to_owned(),
            "mallory@mail.com".to_owned(),
            "Owner".to_owned()
        )]
    );
    let pending = expect(
        stack
            .get(&format!("/organizations/{org}/invitations"), &mallory)
            .await,
        StatusCode::OK,
    )
    .await;
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 2);
    for invitation in pending {
        let mut keys: Vec<&str> = invitation
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "InvitedById",
                "createdAt",
                "email",
                "expiresAt",
                "id",
                "role",
                "status"
            ],
            "{invitation}"
        );
        assert_eq!(invitation["status"], "Pending");
        assert_eq!(invitation["InvitedById"].as_i64(), Some(mallory.id));
        assert!(!invitation.to_string().contains("Vic"), "{invitation}");
    }
    let mut emails: Vec<&str> = pending
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(emails, ["nobody@mail.com", "victim@mail.com"]);

    // Nothing of the organization shows to the victim but the invitation.
    assert_hidden_from(&stack, org, &victim).await;
    let received = expect(stack.get("/invitations", &victim).await, StatusCode::OK).await;
    let received = received.as_array().unwrap();
    assert_eq!(received.len(), 1, "{received:?}");
    let invitation = &received[0];
    assert_eq!(invitation["OrganizationId"].as_i64(), Some(org));
    assert_eq!(invitation["organization"], "Totally legit");
    assert_eq!(invitation["role"], "Member");
    assert_eq!(invitation["invitedBy"]["name"], "Mal Lory");
    assert_eq!(invitation["invitedBy"]["id"].as_i64(), Some(mallory.id));
    assert!(invitation["createdAt"].is_string() && invitation["expiresAt"].is_string());

    // The victim declines: the invitation is gone, and nothing else changed.
    let decline = format!("/invitations/{}/decline", id(invitation));
    expect_msg(
        post_empty(&stack, &decline, &victim).await,
        StatusCode::OK,
        "Invitation has been declined",
    )
    .await;
    let received = expect(stack.get("/invitations", &victim).await, StatusCode::OK).await;
    assert_eq!(received, json!([]));
    assert_hidden_from(&stack, org, &victim).await;
    assert_eq!(members(&stack, org, &mallory).await.len(), 1);
    let pending = expect(
        stack
            .get(&format!("/organizations/{org}/invitations"), &mallory)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["email"], "nobody@mail.com");
}

/// An invitation to an email with no account yet is the account's once it
/// registers, whatever case either was typed in; accepting makes the
/// membership with the invitation's role.
#[tokio::test]
async fn an_invitation_waits_for_the_account_registered_later() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "Admin", "ann@mail.com").await;
    let org = id(&stack.organization(&ann, "Board").await);
    stack
        .invite(&ann, org, "  Late.Comer@Mail.COM ", "admin")
        .await;

    let late = stack.user("Late", "Comer", "late.comer@mail.com").await;
    assert_hidden_from(&stack, org, &late).await;
    let received = expect(stack.get("/invitations", &late).await, StatusCode::OK).await;
    assert_eq!(received.as_array().unwrap().len(), 1, "{received}");
    assert_eq!(received[0]["role"], "Admin");

    let board = stack.accept_invitation(&late, org).await;
    assert_eq!(id(&board), org);
    assert_eq!(board["Categories"].as_array().unwrap().len(), 4);
    let listed = expect(stack.get("/organizations", &late).await, StatusCode::OK).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    expect(
        stack.get(&format!("/organizations/{org}"), &late).await,
        StatusCode::OK,
    )
    .await;
    let roles: Vec<(i64, String)> = members(&stack, org, &ann)
        .await
        .into_iter()
        .map(|(id, _, _, role)| (id, role))
        .collect();
    assert_eq!(roles, [(ann.id, "Owner".into()), (late.id, "Admin".into())]);
    // Used up: neither listed nor accepted again.
    let received = expect(stack.get("/invitations", &late).await, StatusCode::OK).await;
    assert_eq!(received, json!([]));
    let pending = expect(
        stack
            .get(&format!("/organizations/{org}/invitations"), &ann)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pending, json!([]));
}

/// Only the invitee answers an invitation; re-inviting renews it; a member
/// is not invited; an admin revokes; deleting the organization ends its
/// invitations.
#[tokio::test]
async fn invitations_are_their_invitees_alone_and_end_with_revocation_or_the_organization() {
    let stack = spawn_stack().await;
    let ann = stack.user("Ann", "Admin", "ann@mail.com").await;
    let bea = stack.user("Bea", "Invitee", "bea@mail.com").await;
    let eve = stack.user("Eve", "Other", "eve@mail.com").await;
    let org = id(&stack.organization(&ann, "Board").await);
    let add = format!("/organizations/{org}/members");

    // Inviting again renews the one invitation, with the new role.
    stack.invite(&ann, org, "bea@mail.com", "member").await;
    stack.invite(&ann, org, "BEA@mail.com", "admin").await;
    let received = expect(stack.get("/invitations", &bea).await, StatusCode::OK).await;
    assert_eq!(received.as_array().unwrap().len(), 1, "{received}");
    assert_eq!(received[0]["role"], "Admin");
    let invitation = id(&received[0]);

    // Nobody else answers it, not even the admin who sent it.
    for user in [&eve, &ann] {
        for action in ["accept", "decline"] {
            let path = format!("/invitations/{invitation}/{action}");
            expect_msg(
                post_empty(&stack, &path, user).await,
                StatusCode::NOT_FOUND,
                NO_INVITATION,
            )
            .await;
        }
    }
    // An unknown invitation answers the same.
    expect_msg(
        post_empty(&stack, "/invitations/999999/accept", &bea).await,
        StatusCode::NOT_FOUND,
        NO_INVITATION,
    )
    .await;
    assert_hidden_from(&stack, org, &eve).await;

    // A malformed email is refused; a current member's email too.
    let bad = stack.post(&add, &ann, json!({"UserEmail": "bea"})).await;
    expect_msg(
        bad,
        StatusCode::BAD_REQUEST,
        "Please fill email with correct format (yourmail@mail.com)",
    )
    .await;
    let missing = stack.post(&add, &ann, json!({})).await;
    expect_msg(missing, StatusCode::BAD_REQUEST, "UserEmail is required").await;
    let member = stack
        .post(&add, &ann, json!({"UserEmail": "Ann@mail.com"}))
        .await;
    expect_msg(
        member,
        StatusCode::BAD_REQUEST,
        "User is already a member of this organization",
    )
    .await;

    // Revoked: gone for the invitee, and no longer accepted.
    let revoke = format!("/organizations/{org}/invitations/{invitation}");
    expect_msg(
        stack.delete(&revoke, &ann).await,
        StatusCode::OK,
        "Invitation has been revoked",
    )
    .await;
    expect_msg(
        stack.delete(&revoke, &ann).await,
        StatusCode::NOT_FOUND,
        NO_INVITATION,
    )
    .await;
    let received = expect(stack.get("/invitations", &bea).await, StatusCode::OK).await;
    assert_eq!(received, json!([]));
    let accept = format!("/invitations/{invitation}/accept");
    expect_msg(
        post_empty(&stack, &accept, &bea).await,
        StatusCode::NOT_FOUND,
        NO_INVITATION,
    )
    .await;
    assert_hidden_from(&stack, org, &bea).await;

    // An invitation of another organization is not revoked through this one.
    let other = id(&stack.organization(&ann, "Other").await);
    stack.invite(&ann, other, "bea@mail.com", "member").await;
    let elsewhere = stack.invitation_id(&bea, other).await;
    expect_msg(
        stack
            .delete(
                &format!("/organizations/{org}/invitations/{elsewhere}"),
                &ann,
            )
            .await,
        StatusCode::NOT_FOUND,
        NO_INVITATION,
    )
    .await;

    // Deleting the organization ends its invitations.
    expect(
        stack.delete(&format!("/organizations/{other}"), &ann).await,
        StatusCode::OK,
    )
    .await;
    let received = expect(stack.get("/invitations", &bea).await, StatusCode::OK).await;
    assert_eq!(received, json!([]));
    let accept = format!("/invitations/{elsewhere}/accept");
    expect_msg(
        post_empty(&stack, &accept, &bea).await,
        StatusCode::NOT_FOUND,
        NO_INVITATION,
    )
    .await;
    let listed = expect(stack.get("/organizations", &bea).await, StatusCode::OK).await;
    assert_eq!(listed, json!([]));
}
